"""Every experiment and figure config composes and runs on a tiny horizon."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from experiments.cli import _register, figure_jobs, reproduce
from experiments.collect import collect_runs
from simulation.config import register_configs, validate
from simulation.modules import all_kpi_names
from simulation.outputs import KPI_NAMES
from simulation.run import CONF_DIR, compose_config, run_simulation

EXPERIMENTS = sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml"))
FIGURES = sorted(p.stem for p in (CONF_DIR / "figure").glob("*.yaml"))
#: Figures run on a tiny horizon in the default suite (`make run`'s route); the
#: others run in `make test-all` (each takes several seconds of simulation).
FAST_FIGURES = {"phase_comparison"}
TINY = ["park=small", "days=2", "output.figures=false"]


def test_configs_found():
    assert {"platform_value", "efficiency_year"} <= set(EXPERIMENTS)
    assert {"phase_comparison", "platform_value", "diagnostics_value"} <= set(FIGURES)
    # the gallery: PHASES.md §5 Q1–Q11 and the fairness weight each have a figure
    gallery = {
        "agency_mix",  # Q1
        "agency_alpha",  # Q2
        "agency_data_advantage",  # Q3
        "agency_allocation",  # Q4
        "agency_deviation",  # Q5
        "credit_reports",  # Q6
        "dg_penetration",  # Q7
        "fund_risk",  # Q8
        "orderly_vs_mature",  # Q9
        "recommendation",  # Q10
        "ev_value",  # Q11
        "fairness_weight",
    }
    assert gallery <= set(FIGURES)


def _figure_cfg(name: str, overrides: list[str] = ()):
    register_configs()
    _register()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="figure_app", overrides=[f"figure={name}", *overrides])


@pytest.mark.parametrize("name", FIGURES)
def test_figure_config_is_well_formed(name, tmp_path):
    """Header, title from the runs, known KPIs, labels, seeds for CIs, every run valid."""
    path = CONF_DIR / "figure" / f"{name}.yaml"
    assert (
        path.read_text()
        .splitlines()[0]
        .startswith(f"# Reproduce with: parksim-figure figure={name}")
    )
    cfg = OmegaConf.load(path)
    assert cfg.name == name
    # the horizon, park and seed count in a title are filled from the runs, never typed
    for placeholder in ("{days}", "{park}", "{n_seeds}"):
        assert placeholder in cfg.title, f"{name}: title lacks {placeholder}"
    known = set(KPI_NAMES) | set(all_kpi_names())
    assert set(cfg.kpis) <= known, set(cfg.kpis) - known
    assert set(cfg.get("labels", {})) <= set(cfg.kpis)
    if len(cfg.variants) > 1:  # a comparison: a confidence interval needs seeds
        assert len(cfg.seeds) >= 3
        assert cfg.get("error_bars", "ci95") == "ci95"
    fig = _figure_cfg(name).figure
    jobs = figure_jobs(fig, tmp_path)
    assert len(jobs) == len(fig.variants) * len(fig.seeds)
    for _, seed, overrides, _ in jobs:  # every variant composes and validates (seed 0 of each)
        if seed == fig.seeds[0]:
            validate(compose_config(overrides))


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_composes_and_runs(name, tmp_path):
    first_lines = (CONF_DIR / "experiment" / f"{name}.yaml").read_text().splitlines()[:2]
    assert first_lines[0] == "# @package _global_"
    assert first_lines[1].startswith("# Run with: parksim")
    cfg = compose_config([f"experiment={name}"])
    validate(cfg)
    kpis = run_simulation(compose_config([f"experiment={name}", *TINY]), tmp_path, progress=False)
    assert abs(kpis["ledger_residual_cny"]) <= 1e-6
    assert json.loads((tmp_path / "kpis.json").read_text()) == pytest.approx(kpis)


@pytest.mark.parametrize(
    "name",
    [n if n in FAST_FIGURES else pytest.param(n, marks=pytest.mark.slow) for n in FIGURES],
)
def test_figure_reproduces_on_tiny_horizon(name, tmp_path):
    cfg = _figure_cfg(name, ["figure.seeds=[0]", "figure.n_jobs=1"])
    table = reproduce(cfg.figure, tmp_path, ["park=small", "days=2"])
    assert len(table) == len(cfg.figure.variants)
    assert (tmp_path / f"{name}.png").stat().st_size > 1000
    md = (tmp_path / f"{name}.md").read_text().splitlines()
    assert "small park, 2 days, 1 seeds" in md[0]  # the title names the runs made
    assert sum(ln.startswith("| ") for ln in md) == 1 + len(cfg.figure.kpis)
    if cfg.figure.money_flows:
        assert (tmp_path / f"{name}_money_flows.png").stat().st_size > 1000
        assert (tmp_path / "money_flows.csv").exists()
    collected = collect_runs(tmp_path / "runs")
    assert len(collected) == len(table)
    assert set(cfg.figure.kpis) <= set(collected.columns)


def test_collect_runs_reads_config_keys(tmp_path: Path):
    run_simulation(compose_config(TINY), tmp_path / "a", progress=False)
    table = collect_runs(tmp_path)
    assert table.loc[0, "park"] == "small" and table.loc[0, "days"] == 2
