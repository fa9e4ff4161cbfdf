"""Config group ``output``: what a run writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["OutputConfig", "check"]


@dataclass
class OutputConfig:
    """What a run writes.

    Attributes:
        users_per_day: ``users.parquet`` has one row per user per day (else per run).
            (assumption: run setting)
        figures: Write the run's figures into ``figures/``. (assumption: run setting)
    """

    users_per_day: bool = True
    figures: bool = True


def check(cfg: Any) -> None:
    """Check the ``output`` group (nothing beyond its types yet).

    Args:
        cfg: The whole composed config.
    """
