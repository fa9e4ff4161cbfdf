"""The mature phase's wholesale side end to end on the small park (PHASES.md §2).

Runs of 35 days from Monday 2025-01-06: peak regulation cuts capacity to 88 %
of the forecast weekday peak from 10:00 to 15:00 on weekdays of the peak
seasons (``grid.peak_regulation.months``: January is one, February is not), so
every January weekday has five scarce hours (the day-ahead demand bid exceeds
the offered capacity), and February 1st closes the first month.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation.config import ConfigError, validate
from simulation.run import compose_config

DAYS = ["days=35"]
MATURE = ["phase=mature", *DAYS]
#: More failures, so the same-seed test compares many failure days.
FAILURES = ["grid.failures.prob_per_day=0.3"]
TWO_RETAILERS = [
    *MATURE,
    "market.retailers=[market_manager,independent]",
    "market.retailer_customer_share=[0.6,0.4]",
    "market.rt_mode=single",
]


@pytest.fixture(scope="module")
def mature(run_small):
    kpis, out = run_small(MATURE)
    return (
        kpis,
        pd.read_parquet(out / "day_ahead.parquet"),
        pd.read_parquet(out / "intervals.parquet"),
        pd.read_parquet(out / "ledger.parquet"),
        pd.read_parquet(out / "events.parquet"),
    )


def test_residuals_zero_and_flows_present(mature):
    kpis, _, _, ledger, _ = mature
    assert kpis["ledger_residual_cny"] < 1e-6
    assert kpis["energy_residual_kwh"] < 1e-6
    purposes = set(ledger.purpose.astype(str))
    for p in (
        "da_energy",
        "mlt_cfd",
        "rt_imbalance",
        "reserve_capacity",
        "reserve_activation",
        "il_event_payment",
        "balancing_uplift",
        "network_fee",
        "retail_bill",
    ):
        assert p in purposes, p
    assert (ledger.amount_cny > 0).all()  # amounts >= 0: the direction names the payer


def test_every_clearing_balances_and_respects_price_bounds(mature):
    _, da, _, _, _ = mature
    tol = 1e-6 * da.demand_bid_kw.max()
    # supply = demand: scheduled + energy shortfall = bid; never above the offered capacity
    assert np.allclose(da.scheduled_kw + da.energy_shortfall_kw, da.demand_bid_kw, atol=tol)
    assert (da.scheduled_kw <= da.offered_kw + tol).all()
    # reserve: held + shortfall = requirement (3 % of the bid, WECC), within capacity
    assert np.allclose(da.reserve_requirement_kw, 0.03 * da.demand_bid_kw)
    assert np.allclose(da.reserve_kw + da.reserve_shortfall_kw, da.reserve_requirement_kw, atol=tol)
    assert (da.scheduled_kw + da.reserve_kw <= da.offered_kw + tol).all()
    assert ((da.price_cny_per_mwh >= 0.0) & (da.price_cny_per_mwh <= 1500.0)).all()


def test_prices_reach_the_cap_only_in_scarce_intervals(mature):
    kpis, da, _, _, _ = mature
    at_cap = da.price_cny_per_mwh >= 1500.0 - 1e-9
    short = da.energy_shortfall_kw > 0
    assert short.sum() == 5 * 20  # 10:00-15:00 on the 20 January weekdays of the 35 days
    assert (at_cap == short).all()
    # otherwise the marginal unit's offer 1000·c_var·1.05 sets the price (≤ 0.85·1050)
    assert da.price_cny_per_mwh[~short].max() <= 0.85 * 1050 + 1e-9
    assert kpis["da_price_max_cny_per_mwh"] == 1500.0
    assert kpis["scarcity_intervals_count"] >= short.sum()


def test_interruptible_load_is_called_before_the_fallback(mature):
    kpis, da, _, _, events = mature
    assert kpis["il_energy_kwh"] > 0 and kpis["orderly_fallback_kwh"] > 0
    fallback = events[events.kind.astype(str) == "fallback_plan"]
    assert len(fallback)
    # the fallback plans only intervals IL left uncovered, and there all IL was called
    eff = pd.to_datetime(fallback.effective_at)
    start = pd.Timestamp("2025-01-06")
    days = (eff - start).dt.days.to_numpy()
    hours = eff.dt.hour.to_numpy()
    keyed = da.set_index(["day", "interval"])
    uncovered = keyed.loc[list(zip(days, hours, strict=True)), "il_uncovered_kw"].to_numpy()
    assert (uncovered > 0).all()
    short = da[da.il_uncovered_kw > 0]
    assert np.allclose(short.il_called_kw, short.il_accepted_kw)
    # IL was sent at the day-ahead gate: 12 h before the day starts
    calls = events[events.kind.astype(str) == "il_call"]
    lead_h = (pd.to_datetime(calls.effective_at) - pd.to_datetime(calls.sent_at)).dt.total_seconds()
    assert (lead_h / 3600 >= 12.0).all()


def test_served_energy_is_day_ahead_plus_real_time(mature):
    _, da, iv, _, _ = mature
    assert np.allclose(iv.supply_day_ahead_kw + iv.supply_real_time_kw, iv.served_kw)
    assert np.allclose(iv.supply_day_ahead_kw.to_numpy(), da.scheduled_kw.to_numpy())
    assert (iv.supply_grid_catalog_kw == 0).all()


def test_operator_account_is_zero_at_every_month_end(mature):
    kpis, _, _, ledger, _ = mature
    op = ledger.payer.astype(str).eq("operator") | ledger.payee.astype(str).eq("operator")
    rows = ledger[op].copy()
    sign = np.where(rows.payee.astype(str) == "operator", 1.0, -1.0)
    rows["flow"] = sign * rows.amount_cny
    balance = rows.groupby("time").flow.sum().cumsum()
    # month ends: 1 February 00:00 and the closing 10 February 00:00
    for when in ("2025-02-01", "2025-02-10"):
        assert abs(balance[balance.index <= pd.Timestamp(when)].iloc[-1]) < 1e-6, when
    assert abs(balance.iloc[-1]) < 1e-6
    assert kpis["operator_month_end_balance_max_cny"] < 1e-6
    assert rows.purpose.astype(str).eq("balancing_uplift").any()


def test_same_seed_same_shortage_draws_in_orderly_and_mature(run_small):
    _, out_o = run_small(["phase=orderly", *DAYS, *FAILURES])
    kpis, out_m = run_small([*MATURE, *FAILURES])
    o = pd.read_parquet(out_o / "intervals.parquet")
    m = pd.read_parquet(out_m / "intervals.parquet")
    assert (o.failure_kw > 0).sum() >= 6  # at least two 3-hour failures to compare
    assert (o.failure_kw.to_numpy() == m.failure_kw.to_numpy()).all()
    assert (o.capacity_kw.to_numpy() == m.capacity_kw.to_numpy()).all()
    assert kpis["ledger_residual_cny"] < 1e-6 and kpis["energy_residual_kwh"] < 1e-6


def test_two_retailers_single_pricing_charges_sum_to_price_times_system_imbalance(run_small):
    kpis, out = run_small(TWO_RETAILERS)
    imb = pd.read_parquet(out / "imbalance.parquet")
    assert set(imb.retailer) == {"market_manager", "independent"}
    g = imb.groupby(["day", "interval"])
    price = g.price_cny_per_kwh.agg(["min", "max"])
    assert np.allclose(price["min"], price["max"])  # one price per interval
    assert np.allclose(g.charge_cny.sum(), price["min"] * g.imbalance_kwh.sum())
    assert kpis["ledger_residual_cny"] < 1e-6
    assert kpis["operator_month_end_balance_max_cny"] < 1e-6


def test_no_interruptible_load_sends_everything_to_the_fallback(run_small, mature):
    kpis_il = mature[0]
    kpis, _ = run_small([*MATURE, "market.il_target_share_of_peak=0"])
    assert kpis["il_energy_kwh"] == 0 and kpis["il_payment_cny"] == 0
    assert kpis["orderly_fallback_kwh"] > kpis_il["orderly_fallback_kwh"]


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("market.price_cap_cny_per_mwh=-1", "market.price_cap_cny_per_mwh"),
        ("market.reserve_load_share=-0.01", "market.reserve_load_share"),
        ("market.plant_capacity_share_of_peak=[0.3,0.25,0.2,0.15,0.1,0]", "share_of_peak[5]"),
        ("market.plant_var_cost_cny_per_kwh=[0.3]", "market.plant_var_cost_cny_per_kwh"),
        ("market.mlt_annual_share=0.95", "market.mlt_annual_share"),
        ("market.rt_mode=both", "market.rt_mode"),
        ("market.retailer_customer_share=[0.5]", "market.retailer_customer_share"),
        ("phase.market=false", "phase.mlt"),
        ("phase.agency=true", "phase.agency"),
    ],
)
def test_bad_inputs_name_the_key(override, key):
    cfg = compose_config(["park=small", "phase=mature", override])
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        validate(cfg)


def test_presets_keep_the_orderly_plan_switch():
    cfg = compose_config(["park=small", "phase=orderly", "phase.orderly_plan=false"])
    validate(cfg)
    assert not cfg.phase.orderly_plan and not cfg.phase.market
    mature = compose_config(["park=small", "phase=mature"])
    validate(mature)
    assert mature.phase.orderly_fallback and mature.phase.market and mature.phase.efficiency


def test_the_fallback_plans_are_in_day_plans(run_small, mature):
    # One "fallback" row per delivery day with a shortage IL left uncovered, each
    # certified by its bound; the days that published fallback calls are among them.
    kpis, da, _, _, events = mature
    _, out = run_small(MATURE)
    day = pd.read_parquet(out / "day_plans.parquet")
    fallback = day[day.kind == "fallback"]
    start = pd.Timestamp("2025-01-06")
    short = {(start + pd.Timedelta(days=int(d))).date() for d in da.day[da.il_uncovered_kw > 0]}
    assert short and set(fallback.date) == short and fallback.date.is_unique
    assert (fallback.lower_bound_cny <= fallback.objective_cny * (1 + 1e-9) + 1e-9).all()
    published = events[events.kind.astype(str) == "fallback_plan"]
    assert set(pd.to_datetime(published.effective_at).dt.date) <= set(
        fallback.date[fallback.planned_kwh > 0]
    )
    assert kpis["orderly_day_plans"] == len(day)
    planned = day[day.kind != "emergency"]
    assert kpis["orderly_day_plan_gap_max"] == pytest.approx(planned.gap.max())
