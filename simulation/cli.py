"""The ``parksim`` command: one run, or a sweep with ``-m`` (Hydra app)."""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from simulation.config import ConfigError, register_configs
from simulation.outputs import KPI_NAMES
from simulation.run import CONF_DIR, format_kpis, run_simulation

__all__ = ["main"]


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def _app(cfg: DictConfig) -> float:
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        kpis = run_simulation(cfg, out_dir)
    except ConfigError as err:
        print(f"parksim: error: {err}", file=sys.stderr)
        sys.exit(2)
    print(f"parksim: {cfg.phase.name} phase, {cfg.park.name} park, seed {cfg.seed} -> {out_dir}")
    print(format_kpis(kpis, KPI_NAMES))
    return float(kpis["user_cost_cny"])


def main() -> None:
    """Entry point of the ``parksim`` console script."""
    register_configs()
    _app()


if __name__ == "__main__":
    main()
