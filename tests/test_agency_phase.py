"""The agency phase end to end on the small park (PHASES.md §1, source paper Figure 2).

Runs of 65 days from Monday 2025-01-06 cover three contract months: the
partial first month (6–31 January, opened at the start), February, and the
partial March settled at the run's closing month_close.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation.config import ConfigError, validate
from simulation.run import compose_config, run_simulation

AGENCY = ["phase=agency", "days=65"]
FIGURE_2 = (
    "agency_announce",
    "purchase_info",
    "actual_cost",
    "load_rate_contribution",
    "distributed_benefit",
    "settled_price_and_bill",
    "refund",
)
#: The money each announcement precedes.
ANNOUNCES = {
    "agency_announce": ("agency_prepay",),
    "purchase_info": ("agency_prepay",),
    "actual_cost": ("bilateral_capacity", "bilateral_energy"),
    "load_rate_contribution": ("agency_refund", "agency_balance_due"),
    "distributed_benefit": ("agency_refund", "agency_balance_due"),
    "settled_price_and_bill": ("agency_refund", "agency_balance_due"),
    "refund": ("agency_refund", "agency_balance_due"),
}


@pytest.fixture(scope="module")
def agency_run(run_small):
    kpis, out = run_small(AGENCY)
    return (
        kpis,
        pd.read_parquet(out / "settlements.parquet"),
        pd.read_parquet(out / "events.parquet"),
        pd.read_parquet(out / "ledger.parquet"),
    )


def test_conserved_and_members_exist(agency_run):
    kpis, settlements, _, _ = agency_run
    assert kpis["ledger_residual_cny"] < 1e-6
    assert kpis["energy_residual_kwh"] < 1e-6
    assert kpis["agency_member_count_mean"] > 0
    assert settlements.month_start.nunique() == 3


def test_every_figure_2_step_is_published_each_month_before_its_money(agency_run):
    _, _, events, ledger = agency_run
    agent_events = events[events.sender.astype(str).str.startswith("agent:")]
    for kind in FIGURE_2:
        assert kind in set(agent_events.kind), kind
    days = sorted(pd.to_datetime(agent_events.sent_at).dt.normalize().unique())
    # Month opens: 6 Jan, 1 Feb, 1 Mar; settlements: 1 Feb, 1 Mar, 12 Mar (closing).
    for day in days:
        on_day = agent_events[pd.to_datetime(agent_events.sent_at).dt.normalize() == day]
        money = ledger[pd.to_datetime(ledger.time).dt.normalize() == day]
        for kind in set(on_day.kind):
            purposes = ANNOUNCES[kind]
            paid = money[money.purpose.isin(purposes)]
            assert len(paid), (day, kind)
            assert on_day[on_day.kind == kind].sent_at.min() < paid.time.min(), (day, kind)
    opened = agent_events[agent_events.kind == "agency_announce"]
    assert len(pd.to_datetime(opened.effective_at).dt.normalize().unique()) == 3
    settled = agent_events[agent_events.kind == "refund"]
    assert len(pd.to_datetime(settled.sent_at).dt.normalize().unique()) == 3


def test_prepay_refunds_and_dues_add_up_to_the_bills_each_month(agency_run):
    _, settlements, _, _ = agency_run
    for _, month in settlements.groupby("month_start"):
        net = month.refund_cny  # > 0 refunded, < 0 due
        refunds = net.clip(lower=0).sum()
        dues = (-net).clip(lower=0).sum()
        assert month.prepay_cny.sum() - refunds + dues == pytest.approx(month.bill_cny.sum())


def test_no_member_pays_more_than_f2_per_kwh(agency_run):
    _, settlements, events, _ = agency_run
    announce = events[events.kind == "agency_announce"]
    f2 = announce.groupby(pd.to_datetime(announce.effective_at)).quantity.first()
    for start, month in settlements.groupby("month_start"):
        cap = f2.loc[pd.Timestamp(start)]
        assert (month.bill_cny <= cap * month.energy_kwh * (1 + 1e-12) + 1e-9).all()


def test_agent_profit_is_what_it_kept_less_what_it_paid(agency_run):
    kpis, settlements, _, ledger = agency_run
    agent = "agent:grid"
    received = ledger[ledger.payee == agent].amount_cny.sum()
    paid = ledger[ledger.payer == agent].amount_cny.sum()
    assert kpis["sales_agent_profit_cny"] == pytest.approx(received - paid)
    kept = settlements.bill_cny.sum()
    to_plants = ledger[ledger.purpose.isin(["bilateral_capacity", "bilateral_energy"])]
    others = ledger[
        (ledger.payer == agent) & ledger.purpose.isin(["deviation_penalty", "agent_service_cost"])
    ]
    expected = kept - to_plants.amount_cny.sum() - others.amount_cny.sum()
    assert kpis["sales_agent_profit_cny"] == pytest.approx(expected)


def test_members_save_against_the_catalog_on_average(agency_run):
    kpis, settlements, _, _ = agency_run
    saving = settlements.catalog_cost_cny - settlements.bill_cny - settlements.network_fee_cny
    assert saving.sum() == pytest.approx(kpis["agency_member_saving_cny"])
    assert saving.mean() > 0


def test_standalone_load_factor_uses_the_aggregate_definition_on_own_peaks(run_small):
    """agency_standalone_load_factor recomputed from the outputs: each contract month, the
    members' energy (settlements) over the sum of their own served peaks (the largest daily
    peak_kw of users.parquet in the month) × the month's hours, energy-weighted over months.
    The aggregate load factor uses the peak of the sum, which is never above the sum of the
    peaks, so it is at least the standalone one."""
    kpis, out = run_small(AGENCY)
    st = pd.read_parquet(out / "settlements.parquet")
    users = pd.read_parquet(out / "users.parquet", columns=["date", "user", "peak_kw"])
    starts = sorted(st.month_start.unique())
    ends = [*starts[1:], users.date.max() + pd.Timedelta(days=1)]
    num = den = 0.0
    for start, end in zip(starts, ends, strict=True):
        month = st[st.month_start == start]
        days = users[(users.date >= start) & (users.date < end)]
        peaks = days[days.user.isin(month.user)].groupby("user").peak_kw.max()
        energy = float(month.energy_kwh.sum())
        hours = days.date.nunique() * 24.0
        num += energy * energy / (float(peaks.sum()) * hours)
        den += energy
    assert kpis["agency_standalone_load_factor"] == pytest.approx(num / den, rel=1e-9)
    assert 0.0 < kpis["agency_standalone_load_factor"] <= kpis["agency_load_factor"] <= 1.0


def test_members_energy_is_supplied_by_contract(run_small):
    _, out = run_small(AGENCY)
    iv = pd.read_parquet(out / "intervals.parquet")
    users = pd.read_parquet(out / "users.parquet")
    assert iv.supply_contract_kw.sum() > 0 and iv.supply_grid_catalog_kw.sum() > 0
    np.testing.assert_allclose(
        iv.supply_contract_kw + iv.supply_grid_catalog_kw, iv.served_kw, rtol=1e-12
    )
    assert users.served_kwh.sum() > 0


def test_independent_agent_forecasts_worse_than_the_grid_agent(run_small):
    mape = {"grid": [], "independent": []}
    penalty = {"grid": 0.0, "independent": 0.0}
    for seed in (0, 1, 2):
        for kind in mape:
            kpis, _ = run_small([*AGENCY, f"seed={seed}", f"agency.agent_type={kind}"])
            mape[kind].append(kpis["agency_forecast_mape_energy_share"])
            penalty[kind] += kpis["agency_deviation_penalty_cny"]
    assert np.mean(mape["independent"]) > np.mean(mape["grid"])
    assert penalty["independent"] > penalty["grid"]


@pytest.mark.parametrize("rule", ["shapley", "pro_rata_energy"])
def test_other_allocation_rules_allocate_the_whole_cost(run_small, rule):
    kpis, out = run_small([*AGENCY, f"agency.allocation_rule={rule}"])
    s = pd.read_parquet(out / "settlements.parquet")
    ledger = pd.read_parquet(out / "ledger.parquet")
    f1 = ledger[ledger.purpose.isin(["bilateral_capacity", "bilateral_energy"])]
    assert s.allocated_cost_cny.sum() == pytest.approx(f1.amount_cny.sum())
    assert kpis["ledger_residual_cny"] < 1e-6


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("agency.alpha=1.5", "agency.alpha"),
        ("agency.f2_headroom_share=-0.1", "agency.f2_headroom_share"),
        ("agency.allocation_rule=nucleolus", "agency.allocation_rule"),
        ("plants.names=[]", "plants.names"),
        ("agency.agent_type=broker", "agency.agent_type"),
    ],
)
def test_bad_agency_values_name_the_key(override, key):
    cfg = compose_config(["phase=agency", override])
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        validate(cfg)


def test_agency_requires_plants():
    cfg = compose_config(["phase=agency", "phase.plants=false", "park=small", "days=3"])
    with pytest.raises(ConfigError, match="requires"):
        run_simulation(cfg, None, progress=False)


def test_bank_with_reports_rejects_the_risky_grades(run_small):
    kpis, out = run_small([*AGENCY, "bank.apply_prob_per_month=0.9"])
    loans = pd.read_parquet(out / "loans.parquet")
    assert kpis["credit_reports_count"] == len(loans[loans.reported]) > 0
    # With a report, approval follows the grade's PD: PD·LGD above the interest margin
    # never gets a loan (0.05·(1 − PD) − 0.6·PD > 0 ⇔ PD < 0.0769).
    assert (loans[loans.approved].pd_estimate < 0.05 / 0.65).all()
    ledger = pd.read_parquet(out / "ledger.parquet")
    disbursed = ledger[ledger.purpose == "loan_disbursement"].amount_cny.sum()
    assert disbursed == pytest.approx(kpis["loans_issued_cny"])
    # Loans are financing: the users' cost is what they paid net of what they were
    # paid, leaving the loan flows out.
    financing = {"loan_disbursement", "loan_repayment", "loan_recovery"}
    op = ledger[~ledger.purpose.isin(financing)]
    users = op.payer.astype(str).str.startswith("user:")
    to_users = op.payee.astype(str).str.startswith("user:")
    cost = op[users].amount_cny.sum() - op[to_users].amount_cny.sum()
    assert kpis["user_cost_cny"] == pytest.approx(cost)
    assert disbursed > 0
