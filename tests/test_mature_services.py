"""The mature market's retail services end to end on the small park.

DG (D1–D2), EV booking (E1), the prepayment fund (F2), packages (R1–R3) and
online payment, each switched into an existing phase; runs are shared
through the session's ``run_small`` cache.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation.config import ConfigError, validate
from simulation.model import ParkModel
from simulation.run import compose_config

DG = ["phase=efficiency", "phase.dg=true", "dg.online_delay_days=0", "days=14"]
EV = ["phase=orderly", "phase.ev=true", "ev.bookings_per_user_day=5", "days=14"]


def _intervals(out):
    return pd.read_parquet(out / "intervals.parquet")


def test_dg_lowers_the_net_peak_on_sunny_days_and_the_grid_bills_net_load(run_small):
    kpis, out = run_small(DG)
    assert kpis["dg_capacity_kwp"] > 0 and kpis["dg_hosts_count"] > 0
    iv = _intervals(out)
    served = iv.served_kw.to_numpy().reshape(14, 24)
    net = served - iv.supply_dg_self_kw.to_numpy().reshape(14, 24)
    gen = iv.dg_generation_kw.to_numpy().reshape(14, 24)
    k = served.argmax(axis=1)
    sunny = gen[np.arange(14), k] > 1.0  # PV runs in the interval of the day's gross peak
    assert sunny.sum() >= 3
    # self-consumption = min(G, L) > 0 wherever G > 0 and the host has load, so the
    # net peak of a sunny day is below its gross peak
    assert np.all(net.max(axis=1)[sunny] < served.max(axis=1)[sunny])
    assert kpis["peak_kw"] == pytest.approx(net.max())  # KPI on net grid purchase
    # D1: self-consumption + export = generation; saving/fee = δ/(1 − δ) on the same price
    assert kpis["dg_self_consumed_kwh"] + kpis["dg_export_kwh"] == pytest.approx(
        kpis["dg_energy_kwh"]
    )
    assert kpis["dg_user_saving_cny"] == pytest.approx(
        kpis["dg_service_fee_cny"] * 0.15 / 0.85, rel=1e-9
    )
    # every user is a catalog customer: the grid's tariff rows = tariff × net load
    ledger = pd.read_parquet(out / "ledger.parquet")
    tariff = ledger.loc[ledger.purpose == "tariff", "amount_cny"].sum()
    assert tariff == pytest.approx(float((net.ravel() * iv.tariff_cny_per_kwh).sum()), rel=1e-9)
    fees = ledger.loc[ledger.purpose == "dg_service_fee", "amount_cny"].sum()
    assert fees == pytest.approx(kpis["dg_service_fee_cny"], rel=1e-9)
    assert kpis["ledger_residual_cny"] == pytest.approx(0.0, abs=1e-6)
    assert kpis["energy_residual_kwh"] == pytest.approx(0.0, abs=1e-6)


def test_dg_builds_nothing_when_the_payback_threshold_cannot_be_met(run_small):
    kpis, _ = run_small([*DG[:-1], "days=7", "dg.max_payback_yr=0.1"])
    # capex 3 CNY/W ≈ 3000 CNY/kWp earns at most ~1063 kWh × 1.05 CNY ≈ 1100 CNY/yr:
    # payback ≥ 2.7 yr > 0.1 yr
    assert kpis["dg_capacity_kwp"] == 0.0 and kpis["dg_energy_kwh"] == 0.0


def test_managed_ev_charging_keeps_the_park_under_capacity_where_unmanaged_breaks_it(
    run_small,
):
    managed, _ = run_small([*EV, "ev.mode=managed"])
    wild, _ = run_small([*EV, "ev.mode=unmanaged"])
    assert managed["ev_bookings_count"] == wild["ev_bookings_count"] > 0
    # managed: headroom = planned capacity − 1.05 × forecast; the peak-regulation
    # hours (capacity 0.88 × peak) have none, so charging avoids them
    assert managed["ev_capacity_breach_intervals"] == 0
    assert managed["energy_shed_kwh"] == 0.0
    assert managed["ev_bookings_rejected_count"] > 0
    assert wild["ev_capacity_breach_intervals"] > 0
    assert wild["energy_shed_kwh"] > 0.0
    for k in (managed, wild):
        # no market: the operator buys at the price it sells, so it keeps the fee
        assert k["ev_operator_profit_cny"] == pytest.approx(0.8 * k["ev_energy_kwh"], rel=1e-9)
        assert k["ledger_residual_cny"] == pytest.approx(0.0, abs=1e-6)
        assert k["energy_residual_kwh"] == pytest.approx(0.0, abs=1e-6)


def test_v2g_discharges_at_peak_and_is_paid(run_small):
    kpis, out = run_small([*EV, "ev.mode=v2g"])
    assert kpis["v2g_energy_kwh"] > 0
    assert kpis["v2g_payment_cny"] == pytest.approx(1.22 * kpis["v2g_energy_kwh"], rel=1e-9)
    ledger = pd.read_parquet(out / "ledger.parquet")
    paid = ledger.loc[ledger.purpose == "v2g_payment", "amount_cny"].sum()
    assert paid == pytest.approx(kpis["v2g_payment_cny"], rel=1e-9)
    assert kpis["energy_residual_kwh"] == pytest.approx(0.0, abs=1e-6)


def _model(overrides):
    cfg = compose_config(["park=small", "output.figures=false", *overrides])
    validate(cfg)
    return ParkModel(cfg)


def test_fund_invariant_holds_every_month_through_negative_returns():
    model = _model(["phase=efficiency", "phase.fund=true", "fund.return_std_annual=0.3", "days=40"])
    fund = model.module("fund")
    n = model.pop.n_users
    bills = np.linspace(1e4, 3e4, n)
    negative = 0
    for _ in range(8):
        res = fund.period(0, bills, 30)
        negative += res.investment_return_cny < 0
        claims = fund.balances_cny.sum() + fund.operator_profit_cny
        assert model.ledger.balance("fund") == pytest.approx(claims, rel=1e-12, abs=1e-6)
        assert np.all(fund.balances_cny >= 0)
        # participants top up to 2Ĉ (Ĉ = 30.4/30 of the bill) and then pay one bill:
        # ≈ 1.03 × bill, ± their share of a return on at most 0.8·ΣĈ (|r| < 30 %)
        held = fund.balances_cny[fund.participating] / bills[fund.participating]
        assert held == pytest.approx(2 * 30.4 / 30 - 1, rel=0.35)
    assert negative >= 1  # σ = 0.3/yr → 8.7 %/month: a loss is all but certain in 8 draws
    # F2: ρ·r̄ + v = 0.6·0.018 + 0.005 = 1.58 %/yr beats only the cash-rich 0.35 %
    assert np.array_equal(fund.participating, fund.cash_rich)
    assert model.ledger.residual_cny == pytest.approx(0.0, abs=1e-6)


def test_fund_in_a_run_pays_bills_and_ends_empty(run_small):
    kpis, out = run_small(["phase=efficiency", "phase.fund=true", "days=35"])
    months = pd.read_parquet(out / "fund_months.parquet")
    assert len(months) == 1 and months.bills_paid_cny.iloc[0] > 0
    assert months.fund_ledger_cny.iloc[0] == pytest.approx(
        months.balances_cny.iloc[0] + months.operator_profit_cny.iloc[0]
    )
    ledger = pd.read_parquet(out / "ledger.parquet")
    fund_in = ledger.loc[ledger.payee == "fund", "amount_cny"].sum()
    fund_out = ledger.loc[ledger.payer == "fund", "amount_cny"].sum()
    assert fund_in == pytest.approx(fund_out)  # everything withdrawn or paid out at the end
    assert kpis["fund_invariant_residual_cny"] == pytest.approx(0.0, abs=1e-6)
    assert kpis["ledger_residual_cny"] == pytest.approx(0.0, abs=1e-6)


def test_recommendations_lower_the_bills_of_users_who_switch(run_small):
    kpis, out = run_small(
        [
            "phase=efficiency",
            "phase.packages=true",
            "packages.inertia_prob_per_month=0",
            "packages.switching_cost_cny=0",
            "days=60",
        ]
    )
    assert kpis["recommendation_count"] > 0 and kpis["package_switch_count"] > 0
    # realised at the next month close: bill under the package left − bill under the new one
    assert kpis["package_switcher_saving_cny"] > 0
    events = pd.read_parquet(out / "events.parquet")
    assert (events.kind == "package_recommendation").sum() == kpis["recommendation_count"]
    assert kpis["ledger_residual_cny"] == pytest.approx(0.0, abs=1e-6)


def test_online_payment_lifts_the_banks_on_time_record():
    model = _model(["phase=efficiency", "phase.bank=true", "phase.online_payment=true", "days=2"])
    before = model.module("bank").on_time_share.copy()
    assert before.mean() == pytest.approx(0.95, abs=0.03)
    model.step()  # start: auto-debit for every user (payment.auto_debit_share = 1)
    assert np.all(model.module("bank").on_time_share == 0.99)


def test_every_service_switches_into_the_orderly_phase(run_small):
    kpis, _ = run_small(
        [
            "phase=orderly",
            "phase.dg=true",
            "dg.online_delay_days=0",
            "phase.ev=true",
            "phase.fund=true",
            "phase.packages=true",
            "phase.online_payment=true",
            "days=35",
        ]
    )
    assert kpis["dg_energy_kwh"] > 0 and kpis["ev_energy_kwh"] > 0
    assert kpis["fund_balance_cny"] > 0
    assert kpis["ledger_residual_cny"] == pytest.approx(0.0, abs=1e-6)
    assert kpis["energy_residual_kwh"] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ("dg.discount_share=-0.1", r"dg\.discount_share=-0\.1: must be .* in \[0, 1\]"),
        ("dg.discount_share=1.2", r"dg\.discount_share=1\.2: must be .* in \[0, 1\]"),
        ("dg.yield_kwh_per_kwp=0", r"dg\.yield_kwh_per_kwp=0.*: must be .* in \(0"),
        ("ev.dwell_h_min=0", r"ev\.dwell_h_min=0: must be"),
        ("ev.dwell_h_max=1", "departure before its arrival"),
        ("fund.user_share=1.5", "fund.user_share"),
        ("packages.recommender=best", "packages.recommender"),
    ],
)
def test_bad_service_inputs_give_a_clear_error(override, match):
    cfg = compose_config(["park=small", override])
    with pytest.raises(ConfigError, match=match):
        validate(cfg)


class _StubMarketDay:
    price_cny_per_mwh = np.array([300.0, 450.0])


class _StubMarket:
    def result_of(self, day):
        if day > 3:
            raise KeyError(day)
        return _StubMarketDay()


class _StubGrid:
    tariff_cny_per_kwh = np.array([0.35, 1.05])


class _StubModel:
    def __init__(self, market):
        self._mods = {"grid": _StubGrid(), **({"market": _StubMarket()} if market else {})}

    def has_module(self, name):
        return name in self._mods

    def module(self, name):
        return self._mods[name]


def test_price_signal_is_the_day_ahead_price_else_the_catalog():
    from agents.price_signal import price_cny_per_kwh

    np.testing.assert_array_equal(price_cny_per_kwh(_StubModel(False), 0), [0.35, 1.05])
    # 300 CNY/MWh = 0.30 CNY/kWh; day 4 is not cleared yet: day 3's price forecasts it
    np.testing.assert_allclose(price_cny_per_kwh(_StubModel(True), 3), [0.30, 0.45])
    np.testing.assert_allclose(price_cny_per_kwh(_StubModel(True), 4), [0.30, 0.45])
    np.testing.assert_array_equal(price_cny_per_kwh(_StubModel(True), 9), [0.35, 1.05])
