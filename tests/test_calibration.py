"""Calibration: evidence bands, the figures computed from run directories, and the default's fit."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import experiments.calibration as cal
import experiments.calibration_figures as figs


def _plans(rows: list[tuple[str, int, str, float, bool]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": pd.to_datetime([r[0] for r in rows]),
            "user": [r[1] for r in rows],
            "recommended_measure": [r[2] for r in rows],
            "payback_months": [r[3] for r in rows],
            "adopted": [r[4] for r in rows],
        }
    )


def test_every_band_has_a_figure_a_source_and_an_ordered_range() -> None:
    """The bands file loads (scenarios and figure functions exist) and each band cites a source."""
    scenarios, bands = cal.load_bands()
    assert set(bands) == set(cal.FIGURES)
    for b in bands.values():
        assert b.lo <= b.hi, b.name
        assert len(b.source) > 5, b.name
        assert b.scenario in scenarios


def test_adoption_share_counts_first_report_measures_adopted_within_a_year(
    tmp_path: Path,
) -> None:
    """Four measures recommended at the first report (2025-02-01): user 0's is adopted a month
    later, user 1's in the same month, user 2's after 400 days (too late), user 3's never; a
    measure first recommended later (user 0, month 3) is not in the denominator → 2 / 4 = 0.5.
    The median payback of the three adoptions (6, 12, 30 months) is 12 months = 1 year."""
    run = tmp_path / "eff"
    run.mkdir()
    _plans(
        [
            ("2025-02-01", 0, "a", 6.0, False),
            ("2025-02-01", 1, "b", 12.0, True),
            ("2025-02-01", 2, "a", 30.0, False),
            ("2025-02-01", 3, "c", 20.0, False),
            ("2025-03-01", 0, "a", 6.0, True),
            ("2025-04-01", 0, "b", 9.0, False),
            ("2026-03-08", 2, "a", 30.0, True),
        ]
    ).to_parquet(run / "saving_plans.parquet")
    runs = {"efficiency": run}
    assert figs.adoption_share_12m(runs) == pytest.approx(0.5)
    assert figs.median_payback_yr(runs) == pytest.approx(1.0)


def test_kpi_ratios_from_kpis_json(tmp_path: Path) -> None:
    """Loss per curtailed kWh 3000 / 200 = 15 CNY/kWh; with notice ÷ without 15 / 20 = 0.75;
    margin 1000 / (0.5 × 100,000) = 0.02 CNY/kWh; DA price 380 CNY/MWh = 0.38 CNY/kWh."""
    dirs = {}
    for name, k in {
        "orderly": {"loss_of_load_cost_cny": 3000.0, "energy_curtailed_kwh": 200.0},
        "orderly_no_notice": {"loss_of_load_cost_cny": 4000.0, "energy_curtailed_kwh": 200.0},
        "agency": {
            "sales_agent_profit_cny": 1000.0,
            "agency_member_energy_share": 0.5,
            "energy_served_kwh": 100_000.0,
        },
        "mature": {"da_price_mean_cny_per_mwh": 380.0},
    }.items():
        d = tmp_path / name
        d.mkdir()
        (d / "kpis.json").write_text(json.dumps(k))
        (d / "config.json").write_text(json.dumps({"days": 10, "intervals_per_day": 24}))
        dirs[name] = d
    assert figs.loss_per_curtailed(dirs) == pytest.approx(15.0)
    assert figs.notice_loss_ratio(dirs) == pytest.approx(0.75)
    assert figs.agent_margin(dirs) == pytest.approx(0.02)
    assert figs.da_price(dirs) == pytest.approx(0.38)


def test_cap_share_counts_intervals_priced_at_the_cap(tmp_path: Path) -> None:
    """Two days × 24 intervals, cap 1500 CNY/MWh: three intervals at 1500 (energy shortfall)
    count; one at 1499 (a reserve-only shortfall, scarcity but not at the cap) does not →
    3 / 48 = 0.0625."""
    d = tmp_path / "mature"
    d.mkdir()
    price = np.full(48, 400.0)
    price[[10, 11, 35]] = 1500.0
    price[12] = 1499.0
    pd.DataFrame({"price_cny_per_mwh": price}).to_parquet(d / "day_ahead.parquet")
    cfg = {"days": 2, "intervals_per_day": 24, "market": {"price_cap_cny_per_mwh": 1500.0}}
    (d / "config.json").write_text(json.dumps(cfg))
    assert figs.cap_share({"mature": d}) == pytest.approx(3 / 48)


def test_pv_payback_scales_income_per_kwh_to_a_years_yield(tmp_path: Path) -> None:
    """100 kWp online for part of the run made 50,000 kWh and earned 30,000 CNY (0.6 CNY/kWh);
    a year at 1000 kWh/kWp earns 0.6 × 100,000 = 60,000 less O&M 0.05 × 100,000 = 5,000 CNY;
    capex 3.0 CNY/W × 100,000 W = 300,000 CNY → 300,000 / 55,000 = 5.4545 years."""
    d = tmp_path / "services"
    d.mkdir()
    k = {
        "dg_capacity_kwp": 100.0,
        "dg_energy_kwh": 50_000.0,
        "dg_service_fee_cny": 29_000.0,
        "dg_export_revenue_cny": 1_000.0,
    }
    (d / "kpis.json").write_text(json.dumps(k))
    dg = {"capex_cny_per_w": 3.0, "om_cny_per_w_yr": 0.05, "yield_kwh_per_kwp": 1000.0}
    (d / "config.json").write_text(json.dumps({"days": 365, "dg": dg}))
    assert figs.pv_payback({"services": d}) == pytest.approx(300_000 / 55_000)


def test_load_factor_gain_is_the_difference_of_the_agents_two_kpis(tmp_path: Path) -> None:
    """Members' aggregate LF 0.82 and mean standalone LF 0.70 (both from kpis.json, one
    definition) → a gain of 0.12 share points."""
    d = tmp_path / "agency"
    d.mkdir()
    (d / "kpis.json").write_text(
        json.dumps({"agency_load_factor": 0.82, "agency_standalone_load_factor": 0.70})
    )
    assert figs.load_factor_gain({"agency": d}) == pytest.approx(0.12)


def test_summary_uses_a_student_t_interval() -> None:
    """Values 1, 2, 3: mean 2, s = 1, half-width t(0.975, 2) · 1/√3 = 4.3027 / 1.7321 = 2.4841."""
    band = cal.Band("x", "s", (), 0.0, 2.5, False, False, "", "x", "src")
    values = pd.DataFrame({"figure": ["x"] * 3, "seed": [0, 1, 2], "value": [1.0, 2.0, 3.0]})
    (row,) = cal.summarise(values, {"x": band})
    assert row.mean == pytest.approx(2.0)
    assert row.ci_hi - row.mean == pytest.approx(2.4841, abs=1e-4)
    assert row.inside
    assert "| yes |" in cal.markdown_table([row])
    assert not band.contains(math.nan) and not band.contains(2.6)


@pytest.mark.slow
def test_default_efficiency_stays_in_its_adoption_band(tmp_path: Path) -> None:
    """Small park, efficiency phase, one year, seeds 0–3 (about 2 min on two cores): the mean
    share of first-audit measures adopted within 12 months lies in the audit programmes'
    band (40–55 %, Anderson & Newell 2004), widened by the 95 % CI of the four seeds, and
    the median payback of adopted measures is within a year of the 1–2 year band."""
    scenarios, bands = cal.load_bands()
    chosen = {
        k: bands[k] for k in ("efficiency_adoption_share_12m", "efficiency_median_payback_yr")
    }
    values = cal.run_calibration(
        tmp_path, chosen, scenarios, seeds=[0, 1, 2, 3], park="small", days=365, n_jobs=2
    )
    rows = {r.band.name: r for r in cal.summarise(values, chosen)}
    share = rows["efficiency_adoption_share_12m"]
    assert share.ci_lo <= 0.55 and share.ci_hi >= 0.40, share
    assert 0.30 <= share.mean <= 0.65, share
    payback = rows["efficiency_median_payback_yr"]
    assert 0.5 <= payback.mean <= 3.0, payback
    assert np.isfinite(payback.ci_lo)
