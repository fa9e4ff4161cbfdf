"""What agents may use of the model: a small protocol, never ``simulation.model``.

Agents reach shared state through ``self.model`` (Mesa's ownership rule) and
type it against :class:`ModelView`, so the agents layer never imports the
simulation layer (``markets`` ← ``agents`` ← ``simulation`` ← ``experiments``).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

__all__ = ["ModelView"]


class ModelView(Protocol):
    """The model's attributes and services available to agents.

    Attributes:
        cfg: The validated run config.
        rng: The model's one seeded generator.
        clock: Calendar (``date_of``, ``time_of``, ``is_weekend``, ``is_month_start``,
            ``week_start``, ``interval_h``, ``n_days``).
        pop: Population struct of arrays (one row per user; ``supplier`` says who
            bills each user).
        ledger: Double-entry ledger (``account``, ``post``, ``balance``).
        platform: Information platform (``publish``, ``lead_time_h``).
        billing: Daily accruals and monthly posting (``accrue``, ``post``).
        meter: Shared monthly meter (``last`` month's totals, ``keep_curves``).
        energy: Energy book (supply by source, ``move``, ``add_export``).
        rec: The recorder (recorded fields, ``user_totals``).
        ipd: Intervals per day.
        interval_h: Interval length, h.
        n_days: Days in the run.
        day: Current model day.
        agents_by_type: Mesa's agent sets by class.
    """

    cfg: Any
    rng: np.random.Generator
    clock: Any
    pop: Any
    ledger: Any
    platform: Any
    billing: Any
    meter: Any
    energy: Any
    rec: Any
    ipd: int
    interval_h: float
    n_days: int
    day: int
    agents_by_type: Any

    def module(self, name: str) -> Any:
        """The active module named ``name`` (``KeyError`` if it is off)."""
        ...

    def has_module(self, name: str) -> bool:
        """Whether a module is on."""
        ...
