"""Every experiment and figure config composes and runs on a tiny horizon."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from experiments.cli import _register, reproduce
from experiments.collect import collect_runs
from simulation.config import register_configs, validate
from simulation.run import CONF_DIR, compose_config, run_simulation

EXPERIMENTS = sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml"))
FIGURES = sorted(p.stem for p in (CONF_DIR / "figure").glob("*.yaml"))
TINY = ["park=small", "days=2", "output.figures=false"]


def test_configs_found():
    assert {"platform_value", "efficiency_year"} <= set(EXPERIMENTS)
    assert {"phase_comparison", "platform_value", "diagnostics_value"} <= set(FIGURES)


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


@pytest.mark.parametrize("name", FIGURES)
def test_figure_reproduces_on_tiny_horizon(name, tmp_path):
    register_configs()
    _register()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            config_name="figure_app",
            overrides=[f"figure={name}", "figure.seeds=[0]", "figure.n_jobs=1"],
        )
    table = reproduce(cfg.figure, tmp_path, ["park=small", "days=2"])
    assert len(table) == len(cfg.figure.variants)
    assert (tmp_path / f"{name}.png").stat().st_size > 1000
    collected = collect_runs(tmp_path / "runs")
    assert len(collected) == len(table)
    assert set(cfg.figure.kpis) <= set(collected.columns)


def test_collect_runs_reads_config_keys(tmp_path: Path):
    run_simulation(compose_config(TINY), tmp_path / "a", progress=False)
    table = collect_runs(tmp_path)
    assert table.loc[0, "park"] == "small" and table.loc[0, "days"] == 2
