"""The whole mature phase end to end on the small park: market and every service.

One run of 35 days from Monday 2025-01-06 (February 1st closes the first
month) with the preset's services on — DG (online at once, so it generates
in the run; spot export), EV booking, the prepayment fund, packages with the
neutral recommender, online payment and the bank — and two retailers (the
grid-affiliated market manager and an independent one), so every wiring
between the wholesale and the retail side is exercised.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

ALL_ON = [
    "phase=mature",
    "days=35",
    "dg.online_delay_days=0",
    "dg.export_mode=spot",
    "packages.recommender=neutral",
    "market.retailers=[market_manager,independent]",
    "market.retailer_customer_share=[0.6,0.4]",
    "bank.min_bills_cny=0",
    "bank.apply_prob_per_month=1.0",
]
RETAILERS = {"retailer:market_manager", "retailer:independent"}


@pytest.fixture(scope="module")
def run(run_small):
    kpis, out = run_small(ALL_ON)
    read = {name: pd.read_parquet(out / f"{name}.parquet") for name in ("intervals", "ledger")}
    read["imbalance"] = pd.read_parquet(out / "imbalance.parquet")
    read["fund_months"] = pd.read_parquet(out / "fund_months.parquet")
    return kpis, read


def _rows(ledger: pd.DataFrame, purpose: str) -> pd.DataFrame:
    return ledger[ledger.purpose.astype(str) == purpose]


def test_every_service_is_on_and_the_residuals_are_zero(run):
    kpis, _ = run
    assert kpis["ledger_residual_cny"] == pytest.approx(0.0, abs=1e-6)
    assert kpis["energy_residual_kwh"] == pytest.approx(0.0, abs=1e-6)
    assert kpis["dg_self_consumed_kwh"] > 0 and kpis["ev_energy_kwh"] > 0
    assert kpis["fund_balance_cny"] > 0 and kpis["recommendation_count"] > 0
    assert kpis["credit_reports_count"] > 0 and kpis["on_time_share_mean"] == pytest.approx(0.99)


def test_dg_lowers_the_retailers_net_purchase_and_the_energy_split_holds(run):
    _, t = run
    iv, imb = t["intervals"], t["imbalance"]
    per_interval = imb.groupby(["day", "interval"])[["scheduled_kwh", "metered_kwh"]].sum()
    served = iv.served_kw.to_numpy()  # interval_h = 1: kW = kWh per interval
    dg_self = iv.supply_dg_self_kw.to_numpy()
    # the retailers' metered purchase is the net load: served − DG self-consumption
    assert np.allclose(per_interval.metered_kwh.to_numpy(), served - dg_self)
    assert dg_self.sum() > 0.01 * served.sum()
    assert per_interval.metered_kwh.sum() < served.sum() - dg_self.sum() * 0.999
    # ev/dg meter before the market: day-ahead = schedule, real time = net − schedule
    assert np.allclose(iv.supply_day_ahead_kw.to_numpy(), per_interval.scheduled_kwh.to_numpy())
    assert np.allclose(
        iv.supply_real_time_kw.to_numpy(),
        (per_interval.metered_kwh - per_interval.scheduled_kwh).to_numpy(),
    )


def test_the_operator_pays_the_spot_export_and_ends_every_month_at_zero(run):
    kpis, t = run
    ledger = t["ledger"]
    export = _rows(ledger, "dg_export")
    assert len(export) > 0
    assert set(export.payer.astype(str)) | set(export.payee.astype(str)) == {
        "operator",
        "dg:provider",
    }
    sign = np.where(export.payer.astype(str) == "operator", 1.0, -1.0)
    assert float((sign * export.amount_cny).sum()) == pytest.approx(kpis["dg_export_revenue_cny"])
    op = ledger.payer.astype(str).eq("operator") | ledger.payee.astype(str).eq("operator")
    rows = ledger[op]
    flow = np.where(rows.payee.astype(str) == "operator", 1.0, -1.0) * rows.amount_cny
    balance = flow.groupby(rows.time).sum().cumsum()
    for when in ("2025-02-01", "2025-02-10"):  # the month close and the run's closing
        assert abs(balance[balance.index <= pd.Timestamp(when)].iloc[-1]) < 1e-6, when
    assert kpis["operator_month_end_balance_max_cny"] < 1e-6


def test_retail_money_goes_to_the_retailers(run):
    _, t = run
    ledger = t["ledger"]
    ev = _rows(ledger, "ev_energy")
    assert set(ev.payee.astype(str)) <= RETAILERS and len(ev) > 0  # not the grid
    bills = _rows(ledger, "retail_bill")
    assert set(bills.payee.astype(str)) <= RETAILERS and bills.amount_cny.sum() > 0
    assert len(_rows(ledger, "package_rebate")) == 0  # no catalog difference with retailers
    fees = _rows(ledger, "credit_report_fee")
    # reports from the grid-affiliated retailer, or (< 12 months of data) the grid
    assert set(fees.payee.astype(str)) == {"retailer:market_manager", "grid"}


def test_the_fund_invariant_holds_every_month(run):
    kpis, t = run
    months = t["fund_months"]
    assert len(months) >= 1
    assert kpis["fund_invariant_residual_cny"] == pytest.approx(0.0, abs=1e-6)
    cols = set(months.columns)
    assert {"fund_ledger_cny", "balances_cny", "operator_profit_cny"} <= cols, cols
    residual = months.fund_ledger_cny - months.balances_cny - months.operator_profit_cny
    assert np.allclose(residual, 0.0, atol=1e-6)


def test_the_bids_forecast_the_net_load_so_dg_is_not_an_imbalance(run):
    """A bid without the DG forecast would leave metered − scheduled ≈ −S in sunny hours.

    The retailers bid expected load − DG forecast self-consumption + booked EV,
    so in the intervals with DG the system imbalance stays a small fraction of
    the self-consumption S (here < 25 %; without the DG term it would be ≈ 100 %).
    """
    _, t = run
    iv, imb = t["intervals"], t["imbalance"]
    system = imb.groupby(["day", "interval"]).imbalance_kwh.sum().to_numpy()
    dg_self = iv.supply_dg_self_kw.to_numpy()
    sunny = dg_self > 0.05 * iv.served_kw.to_numpy()
    assert sunny.sum() >= 35  # at least one such hour a day on average
    assert abs(system[sunny].sum()) < 0.25 * dg_self[sunny].sum()
