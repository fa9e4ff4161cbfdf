"""``parksim-figure figure=NAME``: reproduce one figure from its config.

A figure config (``conf/figure/NAME.yaml``) names the runs it needs as
variants of override lists and seeds. The runs execute in parallel on this
machine (joblib, bounded by the core count), each into its own directory;
their KPIs are collected into ``table.csv``, summarised per variant as the
mean and Student-t 95 % confidence interval over seeds (``summary.csv`` and the
markdown table ``NAME.md``, also printed), and drawn into ``NAME.png``. With
``money_flows: true`` the flows between account groups (from every run's
``ledger.parquet``) go to ``money_flows.csv`` and ``NAME_money_flows.png``.

Titles come from the config; ``{days}``, ``{park}`` and ``{n_seeds}`` in a
title are filled from the runs actually made (so ``overrides=["days=7"]``
retitles the figure instead of mislabelling it).
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

from experiments.figures import kpi_bars, money_flow_figure
from experiments.flows import run_money_flows
from experiments.summary import markdown_table, summarise
from simulation.config import ConfigError
from simulation.run import CONF_DIR

__all__ = ["FigureConfig", "figure_jobs", "figure_title", "main", "reproduce"]


@dataclass
class FigureConfig:
    """A figure and the runs that make it.

    Attributes:
        name: Figure name (file stem).
        title: Figure title; ``{days}``, ``{park}`` and ``{n_seeds}`` are
            filled from the runs made (see :func:`figure_title`).
        base_overrides: Overrides applied to every run.
        variants: Variant label → its overrides.
        seeds: Seeds run for every variant.
        kpis: KPIs to tabulate and draw.
        labels: Display label per KPI (panel titles, table rows).
        error_bars: ``ci95`` (Student-t 95 % interval of the mean over seeds)
            or ``minmax``.
        money_flows: Also draw the money flows between account groups.
        flows_title: Title of the money-flow figure (same placeholders as ``title``).
        n_jobs: Parallel runs (joblib; -1 = one per core).
    """

    name: str = MISSING
    title: str = ""
    base_overrides: list[str] = field(default_factory=list)
    variants: dict[str, list[str]] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=lambda: [0])
    kpis: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    error_bars: str = "ci95"
    money_flows: bool = False
    flows_title: str = "Money flows between account groups ({park} park, {days} days)"
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


def figure_title(template: str, days: int, park: str, n_seeds: int) -> str:
    """The figure's title with ``{days}``, ``{park}`` and ``{n_seeds}`` filled in.

    Args:
        template: Title from the config (other braces are left as they are).
        days: Simulated days of the runs.
        park: Park name of the runs.
        n_seeds: Seeds per variant.

    Returns:
        The title, e.g. ``"Phases (default park, 365 days, 3 seeds)"``.
    """
    out = template
    for key, value in {"days": days, "park": park, "n_seeds": n_seeds}.items():
        out = out.replace("{" + key + "}", str(value))
    return out


def figure_jobs(
    fig: Any, out_dir: Path, extra: list[str] | None = None
) -> list[tuple[str, int, list[str], str]]:
    """The runs of a figure: ``(variant, seed, overrides, run_dir)`` per variant × seed.

    Args:
        fig: A ``FigureConfig`` node.
        out_dir: Directory of the figure (runs go to ``out_dir/runs/<variant>_seed<k>``).
        extra: Overrides appended to every run.

    Returns:
        The runs in variant order, then seed order.
    """
    jobs = []
    for label, ovr in fig.variants.items():
        for seed in fig.seeds:
            overrides = [*fig.base_overrides, *ovr, f"seed={seed}", *(extra or [])]
            jobs.append((label, seed, overrides, str(out_dir / "runs" / f"{label}_seed{seed}")))
    return jobs


def reproduce(fig: Any, out_dir: Path, extra: list[str] | None = None) -> pd.DataFrame:
    """Run a figure's variants × seeds, write the tables and the PNGs.

    Args:
        fig: A ``FigureConfig`` node.
        out_dir: Directory for the runs, the table and the figure.
        extra: Overrides appended to every run (e.g. a shorter horizon).

    Returns:
        One row per run: variant, seed and the figure's KPIs.

    Raises:
        ConfigError: If a run's config is invalid (checked before any run starts).
    """
    from joblib import Parallel, delayed

    jobs = figure_jobs(fig, out_dir, extra)
    # validate every run's config before spending time on any
    from simulation.config import validate
    from simulation.run import compose_config

    if fig.error_bars not in ("ci95", "minmax"):
        raise ConfigError(f"figure.error_bars: {fig.error_bars!r} is not ci95 or minmax")
    cfgs = [compose_config(overrides) for _, _, overrides, _ in jobs]
    for cfg in cfgs:
        validate(cfg)
    facts = (int(cfgs[0].days), str(cfgs[0].park.name), len(fig.seeds))
    title = figure_title(fig.title or fig.name, *facts)
    results = Parallel(n_jobs=fig.n_jobs)(delayed(_run_one)(o, d) for _, _, o, d in jobs)
    table = pd.DataFrame(
        [{"variant": lab, "seed": s, **k} for (lab, s, _, _), k in zip(jobs, results, strict=True)]
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    cols = ["variant", "seed", *fig.kpis]
    table[cols].to_csv(out_dir / "table.csv", index=False)
    labels = dict(fig.labels)
    summary = summarise(table, list(fig.kpis))
    summary.to_csv(out_dir / "summary.csv", index=False)
    ci = "mean ± 95 % CI (Student t) over seeds"
    md = f"### {title}\n\n{ci} {list(fig.seeds)}.\n\n{markdown_table(summary, labels)}"
    (out_dir / f"{fig.name}.md").write_text(md)
    kpi_bars(
        table,
        list(fig.kpis),
        out_dir / f"{fig.name}.png",
        title,
        error=fig.error_bars,
        labels=labels,
    )
    if fig.money_flows:
        flows = run_money_flows((lab, s, Path(d)) for lab, s, _, d in jobs)
        flows.to_csv(out_dir / "money_flows.csv", index=False)
        flows_png = out_dir / f"{fig.name}_money_flows.png"
        money_flow_figure(flows, flows_png, figure_title(fig.flows_title, *facts))
    return table


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="figure_app")
def _app(cfg: DictConfig) -> None:
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    fig = cfg.figure
    try:
        reproduce(fig, out_dir, list(cfg.overrides))
    except ConfigError as err:
        print(f"parksim-figure: error: {err}", file=sys.stderr)
        sys.exit(2)
    print((out_dir / f"{fig.name}.md").read_text())
    print(f"figure: {out_dir / (fig.name + '.png')}")
    if fig.money_flows:
        print(f"flows:  {out_dir / (fig.name + '_money_flows.png')}")
    print(f"table:  {out_dir / 'table.csv'} (per run), {out_dir / (fig.name + '.md')}")
    OmegaConf.save(cfg, out_dir / "figure_config.yaml")


def main() -> None:
    """Entry point of the ``parksim-figure`` console script."""
    from simulation.config import register_configs

    register_configs()
    _register()
    _app()


if __name__ == "__main__":
    main()
