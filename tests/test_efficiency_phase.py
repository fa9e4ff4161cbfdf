"""One year of the efficiency phase on the small park."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

YEAR = ["phase=efficiency", "days=365"]


@pytest.fixture(scope="module")
def year_on(run_small):
    return run_small(YEAR)


@pytest.fixture(scope="module")
def year_off(run_small):
    return run_small([*YEAR, "efficiency.diagnostics=false"])


def test_intensity_falls_and_conserved(year_on):
    kpis, _ = year_on
    assert kpis["measures_adopted"] > 0
    assert (
        kpis["energy_intensity_last_month_tce_per_10k_cny"]
        < kpis["energy_intensity_base_tce_per_10k_cny"]
    )
    assert abs(kpis["ledger_residual_cny"]) <= 1e-6
    assert abs(kpis["energy_residual_kwh"]) <= 1e-6
    # target after one year on the linear -20 %/5 y path: base · (1 − 0.2 · 1/5)
    assert kpis["energy_intensity_target_tce_per_10k_cny"] == pytest.approx(
        kpis["energy_intensity_base_tce_per_10k_cny"] * 0.96
    )


def test_adopters_load_falls_from_installation_date(year_on):
    _, out = year_on
    plans = pd.read_parquet(out / "saving_plans.parquet")
    users = pd.read_parquet(out / "users.parquet")
    adopted = plans[plans.adopted]
    assert len(adopted) > 0
    checked = 0
    for row in adopted.itertuples():
        u = users[users.user == row.user].set_index("date").demand_kwh
        before = u[(u.index < row.date) & (u.index >= row.date - pd.Timedelta(days=28))]
        after = u[(u.index >= row.date) & (u.index < row.date + pd.Timedelta(days=28))]
        if len(before) == 28 and len(after) == 28:
            assert after.mean() < before.mean(), row
            checked += 1
    assert checked > 0


def test_capex_and_surcharges_in_ledger(year_on):
    kpis, out = year_on
    ledger = pd.read_parquet(out / "ledger.parquet")
    capex = ledger[ledger.purpose == "measure_capex"]
    assert (capex.payee == "esco").all()
    assert capex.amount_cny.sum() == pytest.approx(kpis["efficiency_capex_cny"], rel=1e-9)
    # restricted industries pay 0.10 CNY/kWh on served energy (default park: continuous_process)
    users = pd.read_parquet(out / "users.parquet")
    restricted = users[users.industry == "continuous_process"].served_kwh.sum()
    surcharge = ledger[ledger.purpose == "differential_surcharge"].amount_cny.sum()
    assert surcharge == pytest.approx(0.10 * restricted, rel=1e-9)
    assert surcharge == pytest.approx(kpis["differential_surcharge_cny"], rel=1e-9)


def test_diagnostics_speed_adoption(year_on, year_off):
    on, out_on = year_on
    off, _ = year_off
    assert on["diagnostic_reports"] > 0 and off["diagnostic_reports"] == 0
    assert on["measures_adopted"] > off["measures_adopted"]
    ev = pd.read_parquet(out_on / "events.parquet")
    reports = ev[ev.kind == "report"]
    # one report per user per month after the first full month (11 first-of-months in 2025)
    assert len(reports) == 20 * reports.sent_at.nunique()
    payload = json.loads(reports.payload.iloc[0])
    assert {"benchmark_ratio", "base_load_ratio", "flag_base_load", "payback_months"} <= set(
        payload
    )


def test_orderly_phase_has_free_diagnostics_but_no_measures(run_small):
    kpis, out = run_small(["days=40"])
    assert kpis["diagnostic_reports"] == 20
    assert kpis["measures_adopted"] == 0 and kpis["differential_surcharge_cny"] == 0
    assert not (out / "saving_plans.parquet").exists()
    assert np.isfinite(kpis["energy_intensity_tce_per_10k_cny"])
