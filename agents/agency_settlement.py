"""The sales agent's month-end settlement (the source paper's Figure 2, steps 3–7).

References:
    Source paper §3 and Figure 2; PHASES.md §1.2 P3, S4, S5.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from markets.allocation import allocate, load_factors, unit_load_rate_contribution
from markets.bilateral import settle_contract
from markets.settlement import agency_settle

__all__ = ["settle_month"]

_MIN = np.timedelta64(60 * 10**9, "ns")


def settle_month(self: Any, day: int) -> None:
    """Settle the month just closed with the plant and the members (Figure 2).

    The plant contract (rule P3), the allocation of F1 (S4), benefit sharing
    and refunds or balances due (S5), each step published on the platform
    before its money moves; the month's figures go into the agent's records.

    Args:
        self: The sales agent (``agents.sales_agent.SalesAgent``) whose contract of
            the closed month is settled.
        day: Model day of the month close.

    References:
        Source paper Figure 2; PHASES.md §1.2 P3, S4, S5.
    """
    m = self.model
    cfg = self.cfg
    c = self.contract
    assert c is not None
    month = m.meter.last
    assert month is not None and month.curves_kw is not None
    dt_h = m.interval_h
    rows = c.rows
    curves = month.curves_kw[rows]
    energy = curves.sum(axis=1) * dt_h
    load = curves.sum(axis=0)
    peak = float(load.max()) if load.size else 0.0
    total_kwh = float(energy.sum())
    share = month.days / m.clock.days_in_month_of(c.start_day)
    exempt = float(month.curtailed_kwh[rows].sum()) if cfg.curtailment_exempt else 0.0
    res = settle_contract(
        peak,
        total_kwh,
        c.capacity_rate_cny_per_kw * share,
        c.energy_rate_cny_per_kwh,
        c.contracted_kw,
        c.contracted_kwh,
        exempt_kwh=exempt,
        tolerance_share=float(cfg.deviation_tolerance_share),
        penalty_share=float(cfg.deviation_penalty_share),
        overrun_threshold_share=float(cfg.overrun_threshold_share),
        overrun_factor=float(cfg.overrun_factor),
    )
    dc, ec, pen = res.demand_charge_cny, res.energy_charge_cny, res.penalty_cny
    f1 = dc + ec + (pen if cfg.penalty_pass_through else 0.0)
    t0 = m.clock.time_of(day, 0)
    pay = t0 + _MIN
    plant = self.fleet.by_name(c.plant)
    publish = m.platform.publish
    publish(t0, t0, self.name, rows, "actual_cost", quantity=f1, notice=False)
    m.ledger.post(pay, self.account, plant.account, dc, "bilateral_capacity")
    m.ledger.post(pay, self.account, plant.account, ec, "bilateral_energy")
    plant.paid(dc + ec)
    plant.deliver(pay, total_kwh, c.contracted_kw, share)
    m.ledger.post(pay, self.account, self.grid_account, pen, "deviation_penalty")
    # S4: allocate F1 by the configured rule; a_eff·D = DC.
    a_eff = dc / peak if peak > 0 else 0.0
    x = allocate(
        curves,
        a_eff,
        c.energy_rate_cny_per_kwh,
        str(cfg.allocation_rule),
        m.rng,
        n_permutations=int(cfg.shapley_permutations),
        interval_h=dt_h,
    )
    if cfg.penalty_pass_through and total_kwh > 0:
        x = x + pen * energy / total_kwh
    lf = unit_load_rate_contribution(curves)
    factors = load_factors(curves) if len(rows) else None
    # S5: settle at f2 with benefit sharing (a forecast miss caps bills at f2·E_i).
    covered = c.f2_cny_per_kwh * total_kwh
    scaled = x * (covered / f1) if f1 > covered and f1 > 0 else x
    st = agency_settle(energy, scaled, c.f2_cny_per_kwh, c.alpha)
    bill = st.bill_cny
    net = c.prepay_cny - bill
    refund = np.maximum(net, 0.0)
    due = np.maximum(-net, 0.0)
    publish(t0, t0, self.name, rows, "load_rate_contribution", quantity=lf, notice=False)
    publish(t0, t0, self.name, rows, "distributed_benefit", quantity=st.refund_cny, notice=False)
    with np.errstate(invalid="ignore", divide="ignore"):
        price = np.where(energy > 0, bill / energy, 0.0)
    publish(t0, t0, self.name, rows, "settled_price_and_bill", quantity=bill, notice=False)
    publish(t0, t0, self.name, rows, "refund", quantity=net, notice=False)
    m.ledger.post(pay, self.account, rows, refund, "agency_refund")
    m.ledger.post(pay, rows, self.account, due, "agency_balance_due")
    service = cfg.service_cost_cny_per_member_month * len(rows) * share
    m.ledger.post(pay, self.account, self.external, service, "agent_service_cost")
    self.refunds_cny += float(refund.sum())
    # The members' counterfactual: the catalog bill of the same metered curves.
    catalog = curves @ np.tile(self.tariff, month.days) * dt_h
    fee = cfg.network_fee_cny_per_kwh * energy
    with np.errstate(invalid="ignore", divide="ignore"):
        paid_price = np.where(energy > 0, (bill + fee) / energy, np.nan)
    self.settled_price = np.roll(self.settled_price, 1, axis=0)
    self.settled_price[0] = np.nan
    self.settled_price[0, rows] = paid_price
    self.own_months[rows] += 1
    margin = float(bill.sum()) - f1
    profit = margin - (0.0 if cfg.penalty_pass_through else pen) - service
    self._profits.append(profit)
    with np.errstate(invalid="ignore", divide="ignore"):
        mape = np.abs(c.forecast_kwh - energy) / np.where(energy > 0, energy, np.nan)
    forecast_peak = c.contracted_kw / (1 + cfg.demand_margin_share)
    self.months.append(
        {
            "members": float(len(rows)),
            "energy_kwh": total_kwh,
            "f1_cny": f1,
            "bill_cny": float(bill.sum()),
            "benefit_cny": float(st.refund_cny.sum()),
            "catalog_cny": float(catalog.sum()),
            "network_fee_cny": float(fee.sum()),
            "penalty_cny": pen,
            "overrun_cny": res.overrun_charge_cny,
            "profit_cny": profit,
            "load_factor": factors.aggregate if factors else 0.0,
            "standalone_load_factor": factors.standalone if factors else 0.0,
            "mape": float(np.nanmean(mape)) if np.isfinite(mape).any() else 0.0,
            "peak_error": abs(forecast_peak - peak) / peak if peak > 0 else 0.0,
        }
    )
    self.rows.append(
        pd.DataFrame(
            {
                "month_start": np.repeat(m.clock.time_of(c.start_day, 0), len(rows)),
                "user": rows,
                "energy_kwh": energy,
                "forecast_kwh": c.forecast_kwh,
                "prepay_cny": c.prepay_cny,
                "allocated_cost_cny": x,
                "load_rate_contribution": lf,
                "benefit_cny": st.refund_cny,
                "refund_cny": net,
                "bill_cny": bill,
                "settled_price_cny_per_kwh": price,
                "catalog_cost_cny": catalog,
                "network_fee_cny": fee,
                "saving_cny": catalog - bill - fee,
            }
        )
    )
    self.contract = None
