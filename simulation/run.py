"""Running one simulation: compose a config, run the model, write the outputs."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from simulation.config import register_configs, to_container, validate
from simulation.model import ParkModel
from simulation.outputs import compute_kpis, write_outputs

__all__ = ["CONF_DIR", "compose_config", "run_simulation"]

#: The repository's config directory.
CONF_DIR: Path = Path(__file__).resolve().parent.parent / "conf"


def compose_config(overrides: Sequence[str] = (), config_name: str = "config") -> DictConfig:
    """Compose a config from ``conf/`` with command-line style overrides.

    Works both inside a running Hydra app and from plain Python (tests,
    notebooks, benchmarks).

    Args:
        overrides: Overrides such as ``["park=small", "days=14"]``.
        config_name: Primary config name.

    Returns:
        The composed config (not yet validated).
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register_configs()
    if GlobalHydra.instance().is_initialized():
        return compose(config_name=config_name, overrides=list(overrides))
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name=config_name, overrides=list(overrides))


def run_simulation(
    cfg: DictConfig, out_dir: Path | str | None = None, progress: bool | None = None
) -> dict[str, float]:
    """Validate a config, run the model and write its outputs.

    Args:
        cfg: A composed config.
        out_dir: Run directory for the output files; ``None`` writes nothing.
        progress: Show a progress bar; default: ``cfg.progress`` and stderr is a terminal.

    Returns:
        The run's KPIs.

    Raises:
        ConfigError: If a value is out of its allowed range.
    """
    validate(cfg)
    # Mesa logs every step at INFO, and Hydra's job logging shows INFO: keep the
    # console and the run log to parksim's own messages.
    logging.getLogger("MESA").setLevel(logging.WARNING)
    if progress is None:
        progress = bool(cfg.progress) and sys.stderr.isatty()
    model = ParkModel(cfg)
    model.run(progress=progress)
    kpis = compute_kpis(model)
    if out_dir is not None:
        write_outputs(model, Path(out_dir), kpis, to_container(cfg))
    return kpis


def format_kpis(kpis: dict[str, Any], names: Sequence[str] | None = None) -> str:
    """Render KPIs as an aligned two-column table."""
    keys = list(names) if names is not None else sorted(kpis)
    width = max(len(k) for k in keys)
    return "\n".join(f"{k:<{width}}  {kpis[k]:>16,.4f}" for k in keys)
