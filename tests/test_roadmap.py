"""Confidence intervals, markdown tables, money flows and the roadmap table script."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.cli import figure_title
from experiments.flows import account_group, money_flows, run_money_flows
from experiments.roadmap_table import BEGIN, END, main, roadmap_markdown, update_file
from experiments.summary import format_value, markdown_table, mean_ci95, summarise


def test_mean_ci95_hand_calculation():
    # x = 1, 2, 3: mean 2, s = 1, t(0.975, 2) = 4.302653 → half = 4.302653 / √3 = 2.484138
    mean, half = mean_ci95([1.0, 2.0, 3.0])
    assert mean == 2.0
    assert half == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    # two seeds 10, 14: s = 2√2, t(0.975, 1) = 12.7062 → half = 12.7062·2√2/√2 = 25.4124
    assert mean_ci95([10.0, 14.0])[1] == pytest.approx(25.4124, rel=1e-5)


def test_mean_ci95_one_seed_has_no_interval():
    mean, half = mean_ci95([5.0])
    assert mean == 5.0 and math.isnan(half)
    assert all(math.isnan(v) for v in mean_ci95([]))


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=8),
    st.floats(-1e6, 1e6),
    st.floats(0.01, 100.0),
)
def test_mean_ci95_is_affine_equivariant(xs, shift, scale):
    # the interval of a·x + b is a·(interval of x) + b: mean moves, half scales by a
    m0, h0 = mean_ci95(xs)
    m1, h1 = mean_ci95([scale * x + shift for x in xs])
    assert m1 == pytest.approx(scale * m0 + shift, rel=1e-9, abs=1e-3)
    assert h1 == pytest.approx(scale * h0, rel=1e-6, abs=1e-3)
    assert h0 >= 0.0


def test_summarise_and_markdown_table():
    table = pd.DataFrame(
        {
            "variant": ["a", "a", "a", "b", "b", "b"],
            "seed": [0, 1, 2, 0, 1, 2],
            "cost": [1.0, 2.0, 3.0, 0.0, 0.0, 0.0],
        }
    )
    s = summarise(table, ["cost"])
    assert list(s["variant"]) == ["a", "b"] and list(s["n"]) == [3, 3]
    md = markdown_table(s, {"cost": "cost, CNY"})
    lines = md.splitlines()
    assert lines[0] == "| KPI | a (n=3) | b (n=3) |"
    assert lines[1] == "|---|---|---|"
    # 2 ± 2.484 (three significant digits); all-zero variant written as a plain 0
    assert lines[2] == "| cost, CNY | 2.00 ± 2.48 | 0 |"


def test_format_value():
    assert format_value(1234567.8) == "1,234,568"
    assert format_value(0.012345) == "0.0123"
    assert format_value(float("nan")) == "–"


def test_account_group():
    assert account_group("user:00012") == "users"
    assert account_group("agent:grid") == "sales agent"
    assert account_group("plant:coal_a") == "plants"
    assert account_group("retailer:r1") == "retailers"
    assert account_group("dg:provider") == "DG"
    assert account_group("external") == "external"
    assert account_group("martian") == "other"


def _ledger(rows: list[tuple[str, str, float, str]]) -> pd.DataFrame:
    payer, payee, amount, purpose = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "time": pd.Timestamp("2025-01-06"),
            "payer": pd.Categorical(payer),
            "payee": pd.Categorical(payee),
            "amount_cny": amount,
            "purpose": pd.Categorical(purpose),
        }
    )


def test_money_flows_sum_per_group_and_purpose():
    ledger = _ledger(
        [
            ("user:00000", "grid", 100.0, "tariff"),
            ("user:00001", "grid", 50.0, "tariff"),
            ("user:00001", "grid", 7.0, "penalty"),
            ("grid", "external", 90.0, "energy_purchase"),
        ]
    )
    flows = money_flows(ledger)
    got = {(r.payer, r.payee, r.purpose): r.amount_cny for r in flows.itertuples()}
    assert got == {
        ("users", "grid", "tariff"): 150.0,
        ("grid", "external", "energy_purchase"): 90.0,
        ("users", "grid", "penalty"): 7.0,
    }
    # every CNY of the ledger is in exactly one flow
    assert flows["amount_cny"].sum() == pytest.approx(ledger["amount_cny"].sum())


def test_run_money_flows_mean_over_seeds(tmp_path: Path):
    # seed 0 pays a 10 CNY penalty, seed 1 none: the mean is 5, not 10
    for seed, rows in {
        0: [("user:00000", "grid", 100.0, "tariff"), ("user:00000", "grid", 10.0, "penalty")],
        1: [("user:00000", "grid", 300.0, "tariff")],
    }.items():
        (tmp_path / str(seed)).mkdir()
        _ledger(rows).to_parquet(tmp_path / str(seed) / "ledger.parquet")
    flows = run_money_flows(("p", s, tmp_path / str(s)) for s in (0, 1))
    got = {r.purpose: r.amount_cny for r in flows.itertuples()}
    assert got == {"tariff": 200.0, "penalty": 5.0}


def test_figure_title_fills_the_runs_facts():
    t = figure_title(
        "Phases ({park} park, {days} days, {n_seeds} seeds, {other})", 91, "default", 3
    )
    assert t == "Phases (default park, 91 days, 3 seeds, {other})"


def test_roadmap_table_script(tmp_path: Path, capsys):
    table = pd.DataFrame(
        {
            "variant": np.repeat(["orderly", "mature"], 3),
            "seed": [0, 1, 2] * 2,
            "user_cost_cny_per_kwh": [0.70, 0.71, 0.72, 0.65, 0.66, 0.67],
            "peak_kw": [100.0, 100.0, 100.0, 90.0, 90.0, 90.0],
        }
    )
    csv = tmp_path / "table.csv"
    table.to_csv(csv, index=False)
    text = roadmap_markdown(csv)
    # labels and KPI order from conf/figure/phase_comparison.yaml; 0.71 ± t(0.975,2)·0.01/√3
    assert "| users' cost, CNY/kWh | 0.710 ± 0.0248 | 0.660 ± 0.0248 |" in text
    assert "| peak, kW | 100 ± 0 | 90.0 ± 0 |" in text
    assert text.index("users' cost") < text.index("peak, kW")
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{BEGIN}\nold table\n{END}\noutro\n")
    assert main([str(csv), "--update", str(readme)]) == 0
    new = readme.read_text()
    assert "old table" not in new and new.startswith("intro\n") and new.endswith("outro\n")
    assert text in new
    assert main([str(csv)]) == 0
    assert capsys.readouterr().out == text
    with pytest.raises(ValueError, match="markers"):
        update_file(csv, text)
    assert main(["--outputs", str(tmp_path / "none")]) == 2


def test_gallery_doc_is_generated_and_lists_every_figure(tmp_path: Path):
    from experiments.gallery import gallery_markdown
    from experiments.gallery import main as gallery_main
    from simulation.run import CONF_DIR

    text = gallery_markdown()
    for path in (CONF_DIR / "figure").glob("*.yaml"):
        assert f"`parksim-figure figure={path.stem}`" in text
        png = CONF_DIR.parent / "docs" / "figures" / f"{path.stem}.png"
        # a committed PNG is shown; a missing one is announced, never a broken link
        assert (f"![{path.stem}](figures/{path.stem}.png)" in text) == png.exists()
    empty = gallery_markdown(docs=tmp_path)
    assert "![" not in empty and empty.count("No PNG in the gallery yet") == len(
        list((CONF_DIR / "figure").glob("*.yaml"))
    )
    # the committed page is the generator's output (regenerate: python -m experiments.gallery)
    assert gallery_main(["--check"]) == 0
    stale = tmp_path / "gallery.md"
    stale.write_text("old")
    assert gallery_main(["--check", "--out", str(stale)]) == 1
    assert gallery_main(["--out", str(stale)]) == 0 and stale.read_text() == text
