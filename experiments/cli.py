"""``parksim-figure figure=NAME``: reproduce one figure from its config.

A figure config (``conf/figure/NAME.yaml``) names the runs it needs as
variants of override lists and seeds. The runs execute in parallel on this
machine (joblib, bounded by the core count), each into its own directory;
their KPIs are collected into ``table.csv``, printed as a comparison table,
and drawn into ``NAME.png``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hydra
import pandas as pd
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from omegaconf import MISSING, DictConfig, OmegaConf

from experiments.figures import kpi_bars
from simulation.config import ConfigError
from simulation.run import CONF_DIR

__all__ = ["FigureConfig", "main", "reproduce"]


@dataclass
class FigureConfig:
    """A figure and the runs that make it.

    Attributes:
        name: Figure name (file stem).
        title: Figure title.
        base_overrides: Overrides applied to every run.
        variants: Variant label → its overrides.
        seeds: Seeds run for every variant.
        kpis: KPIs to tabulate and draw.
        n_jobs: Parallel runs (joblib; -1 = one per core).
    """

    name: str = MISSING
    title: str = ""
    base_overrides: list[str] = field(default_factory=list)
    variants: dict[str, list[str]] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=lambda: [0])
    kpis: list[str] = field(default_factory=list)
    n_jobs: int = -1


@dataclass
class FigureAppConfig:
    """Root of ``parksim-figure``: the figure, and extra overrides for every run."""

    figure: FigureConfig = MISSING
    overrides: list[str] = field(default_factory=list)


def _register() -> None:
    cs = ConfigStore.instance()
    cs.store(name="figure_app_schema", node=FigureAppConfig)
    cs.store(group="figure", name="figure_schema", node=FigureConfig)


def _run_one(overrides: list[str], out_dir: str) -> dict[str, float]:
    from simulation.run import compose_config, run_simulation

    cfg = compose_config(overrides)
    return run_simulation(cfg, Path(out_dir), progress=False)


def reproduce(fig: Any, out_dir: Path, extra: list[str] | None = None) -> pd.DataFrame:
    """Run a figure's variants × seeds, write ``table.csv`` and the PNG.

    Args:
        fig: A ``FigureConfig`` node.
        out_dir: Directory for the runs, the table and the figure.
        extra: Overrides appended to every run (e.g. a shorter horizon).

    Returns:
        One row per run: variant, seed and the figure's KPIs.
    """
    from joblib import Parallel, delayed

    jobs = []
    for label, ovr in fig.variants.items():
        for seed in fig.seeds:
            overrides = [*fig.base_overrides, *ovr, f"seed={seed}", *(extra or [])]
            jobs.append((label, seed, overrides, str(out_dir / "runs" / f"{label}_seed{seed}")))
    # validate every run's config before spending time on any
    from simulation.config import validate
    from simulation.run import compose_config

    for _, _, overrides, _ in jobs:
        validate(compose_config(overrides))
    results = Parallel(n_jobs=fig.n_jobs)(delayed(_run_one)(o, d) for _, _, o, d in jobs)
    table = pd.DataFrame(
        [{"variant": lab, "seed": s, **k} for (lab, s, _, _), k in zip(jobs, results, strict=True)]
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    cols = ["variant", "seed", *fig.kpis]
    table[cols].to_csv(out_dir / "table.csv", index=False)
    kpi_bars(table, list(fig.kpis), out_dir / f"{fig.name}.png", fig.title or fig.name)
    return table


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="figure_app")
def _app(cfg: DictConfig) -> None:
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    fig = cfg.figure
    try:
        table = reproduce(fig, out_dir, list(cfg.overrides))
    except ConfigError as err:
        print(f"parksim-figure: error: {err}", file=sys.stderr)
        sys.exit(2)
    summary = table.groupby("variant", sort=False)[list(fig.kpis)].mean().T
    with pd.option_context("display.float_format", "{:,.4f}".format, "display.width", 120):
        print(f"{fig.title or fig.name} (mean over seeds {list(fig.seeds)})")
        print(summary.to_string())
    print(f"figure: {out_dir / (fig.name + '.png')}\ntable:  {out_dir / 'table.csv'}")
    OmegaConf.save(cfg, out_dir / "figure_config.yaml")


def main() -> None:
    """Entry point of the ``parksim-figure`` console script."""
    from simulation.config import register_configs

    register_configs()
    _register()
    _app()


if __name__ == "__main__":
    main()
