"""The market operator: day-ahead energy with reserve, real time, CfDs, IL, uplift.

The ``market`` module (needs ``retail`` and ``market_plants``). On day D−1
(``clear``; for day 0 in ``start``) it clears day D in ONE HiGHS LP
(``markets.reserve_day.co_optimize_day``): the retailers' quantity-only bids
(rule M3) against the plants' energy and reserve offers (M2), with the
requirement R_t = max(R_cont, a·D_t + b·G_t) (M4), prices clipped to
[floor, cap]. Relief order (documented in ``co_optimize_day``): reserve is cut
first (recorded as reserve shortfall); an energy shortfall is priced at the cap
and met by interruptible load (I2, pay-as-bid), and what IL does not cover
falls back to the administrative plan (``phase.orderly_fallback``, planned with
``OrderlyPlanner.schedule`` at lead τ ≥ ``market.gate_lead_h``). Prices,
schedules, IL calls and the fallback plan are published on the platform
``gate_lead_h`` before day D starts; the grid company enforces the calls on the
day (``instructions``) and asks for real-time IL calls on an excess over capacity
(``call_real_time``).

On day D (``meter``) it settles real time (M5): each retailer's metered minus
scheduled energy at ``real_time.imbalance_prices`` with ``real_time.settle``;
the plants' reserve meets the system imbalance (up-activation paid the up
price, down-activation pays the down price). It keeps the CfD registry (M1:
annual share from the first day and each January, monthly top-up) and settles
the CfDs against the day-ahead price. At each month end (M6) it passes its net
(imbalance receipts − activation − reserve − IL payments) to the retailers pro
rata to their metered energy, so its account is 0 at every month end.

Money it posts (PHASES.md §4): ``da_energy`` operator → plants,
``reserve_capacity``, ``reserve_activation``, ``il_event_payment``,
``il_capacity_payment``, ``balancing_uplift``; the retailers post theirs.

References:
    PHASES.md §2.2 rules M1–M6, I1–I2, §2.3 (sequence), §2.4; Kirschen & Strbac,
    "Fundamentals of Power System Economics", 2nd ed., 2019, ch. 3 and 5;
    WECC BAL-002-WECC-2; Commission Regulation (EU) 2017/2195 Art. 52–55.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import mesa
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from agents.cfd_registry import CfdRegistry
from agents.interruptible_load import IlDayCall, InterruptibleLoad
from agents.market_day import DayInstructions, MarketDay
from agents.market_dispatch import day_ahead_fallback_plan, dg_relief_kw
from markets.real_time import imbalance_prices, settle
from markets.reserve_day import co_optimize_day, reserve_requirement_mw

if TYPE_CHECKING:
    from agents._model import ModelView

__all__ = ["DayInstructions", "MarketDay", "MarketOperator"]

_H_NS = 3600 * 10**9


class MarketOperator(mesa.Agent):
    """The trading centre and dispatch of the mature market (one agent).

    Args:
        model: The park model.
    """

    KPIS: ClassVar[tuple[str, ...]] = (
        "da_price_max_cny_per_mwh",
        "scarcity_intervals_count",
        "rt_imbalance_kwh",
        "reserve_shortfall_mwh",
        "reserve_activation_cny",
        "mlt_cfd_net_cny",
        "il_capacity_kw",
        "il_energy_kwh",
        "il_payment_cny",
        "orderly_fallback_kwh",
        "balancing_uplift_cny",
        "operator_month_end_balance_max_cny",
    )
    INTERVAL_FIELDS: ClassVar[tuple[str, ...]] = (
        "da_price_cny_per_mwh",
        "reserve_price_cny_per_mw_h",
        "il_curtailed_kw",
    )

    model: ModelView

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        self.name = "operator"
        self.account = model.ledger.account("operator")
        self.retail = model.module("retail")
        self.fleet = model.module("market_plants")
        self.il = InterruptibleLoad(model, self.name) if model.cfg.phase.interruptible else None
        self.days: dict[int, MarketDay] = {}
        n_r = len(self.retail.retailers)
        self._month_energy_kwh = np.zeros(n_r)
        self.cfds = CfdRegistry(model, [r.name for r in self.retail.retailers])
        self.month_end_balances_cny: list[float] = []
        self._iv_rows: list[dict[str, NDArray]] = []
        self._rt_rows: list[dict[str, NDArray]] = []
        self.totals = dict.fromkeys(
            (
                "rt_charges",
                "rt_kwh",
                "reserve",
                "activation",
                "il_kwh",
                "il_cny",
                "fallback_kwh",
                "uplift",
            ),
            0.0,
        )

    # ------------------------------------------------------------------ look-ups
    def result_of(self, day: int) -> MarketDay:
        """The market's record of a delivery day (``KeyError`` if not cleared)."""
        return self.days[day]

    def instructions(self, day: int) -> DayInstructions:
        """The day-ahead curtailment of a day for the grid company (IL and fallback)."""
        m = self.model
        n, ipd = m.pop.n_users, m.ipd
        res = self.days[day]
        il = res.il.mask if res.il is not None else np.zeros((n, ipd), dtype=bool)
        fb = res.fallback if res.fallback is not None else np.zeros((n, ipd), dtype=bool)
        kw = np.zeros((n, ipd))
        if res.il is not None:
            kw = np.where(il, res.il.kw_per_cell, kw)
        kw = np.where(fb, m.pop.block_kw[:, None], kw)
        return DayInstructions(il | fb, kw, il)

    def call_real_time(
        self,
        day: int,
        excess_kw: NDArray[np.float64],
        available: NDArray[np.bool_],
        known_at_midnight: bool,
    ) -> IlDayCall | None:
        """Call IL blocks on a real-time excess over capacity (rule I2).

        Args:
            day: Model day.
            excess_kw: Excess of demand over capacity per interval, kW.
            available: Users not instructed yet today.
            known_at_midnight: The shortage is a failure known at 00:00 (notice
                from 00:00), else the 15-minute notice.

        Returns:
            The calls, or None without IL.
        """
        if self.il is None or not (self.il.accepted_kw > 0).any():
            return None
        m = self.model
        sent = m.clock.time_of(day, 0) if known_at_midnight else None
        call = self.il.call(day, excess_kw, available, sent, "il_call_rt")
        self.days[day].rt_il = call
        return call

    # ------------------------------------------------------------------ stages
    def start(self, today: Any) -> None:
        """Procure IL and sign the first CfDs; clear the first day."""
        if self.il is not None:
            self.il.procure()
        if self.model.cfg.phase.mlt:
            self.cfds.sign(0, annual=True)
        self.clear_day(0)

    def clear(self, today: Any) -> None:
        """Clear tomorrow's day-ahead market with reserve (rule M4)."""
        if today.day + 1 < self.model.n_days:
            self.clear_day(today.day + 1)

    def meter(self, today: Any) -> None:
        """Settle real time (rule M5) and re-split served energy into DA and RT."""
        m = self.model
        res = self.days[today.day]
        dt = m.interval_h
        metered = self.retail.metered_kw(today.served_kw)
        res.metered_kw = metered
        p_kwh = res.price_cny_per_mwh / 1000.0
        system_kwh = (metered - res.schedule_kw).sum(axis=0) * dt
        premium = float(m.cfg.market.rt_premium_share_of_da) * np.abs(p_kwh)
        prices = imbalance_prices(p_kwh, system_kwh, premium, premium)
        rt = settle(res.schedule_kw * dt, metered * dt, prices, m.cfg.market.rt_mode)
        res.rt = rt
        m.energy.move("day_ahead", "real_time", (metered - res.schedule_kw).sum(axis=0))
        # the plants' reserve meets the system imbalance (pro rata to reserve, else headroom)
        weights = res.reserve_kw.copy()
        headroom = np.maximum(res.offered_kw - res.dispatch_kw, 0.0)
        for fallback in (headroom, res.offered_kw, np.ones_like(weights)):
            empty = weights.sum(axis=1) <= 0
            if not empty.any():
                break
            weights[empty] = fallback[empty]
        weights = weights / weights.sum(axis=1, keepdims=True)
        act = system_kwh[:, None] * weights
        price = np.where(system_kwh > 0, prices.up_cny_per_kwh, prices.down_cny_per_kwh)
        res.activation_kwh = act
        res.activation_cny = (act * price[:, None]).sum(axis=0)
        self._month_energy_kwh += metered.sum(axis=1) * dt
        disp = today.dispatch
        kwh = disp.curtailed_kw * dt
        il_cells = disp.il if disp.il is not None else np.zeros(len(kwh), dtype=bool)
        il_int = np.bincount(disp.cols[il_cells], disp.curtailed_kw[il_cells], minlength=m.ipd)
        t = self.totals
        t["rt_charges"] += rt.total_cny
        t["rt_kwh"] += float(np.abs(rt.imbalance_kwh).sum())
        t["il_kwh"] += float(kwh[il_cells].sum())
        t["fallback_kwh"] += float(kwh[~il_cells & ~disp.shed].sum())
        today.record_intervals(
            da_price_cny_per_mwh=res.price_cny_per_mwh,
            reserve_price_cny_per_mw_h=res.reserve_price_cny_per_mw_h,
            il_curtailed_kw=il_int,
        )
        self._rt_rows.append(
            {
                "day": np.repeat(today.day, rt.imbalance_kwh.size),
                "retailer": np.repeat(np.arange(metered.shape[0]), m.ipd),
                "interval": np.tile(np.arange(m.ipd), metered.shape[0]),
                "scheduled_kwh": (res.schedule_kw * dt).ravel(),
                "metered_kwh": (metered * dt).ravel(),
                "imbalance_kwh": rt.imbalance_kwh.ravel(),
                "price_cny_per_kwh": rt.price_cny_per_kwh.ravel(),
                "charge_cny": rt.charges_cny.ravel(),
            }
        )

    def settle(self, today: Any) -> None:
        """Pay the plants (energy, reserve, activation) and the called IL users."""
        m = self.model
        res = self.days[today.day]
        when = m.clock.time_of(today.day, m.ipd - 1)
        ledger = m.ledger
        plants = np.array([p.account for p in self.fleet.plants], dtype=np.int64)
        energy_cny = (res.dispatch_kw * res.price_cny_per_mwh[:, None] / 1000.0).sum(axis=0)
        ledger.post(when, self.account, plants, energy_cny * m.interval_h, "da_energy")
        ledger.post(when, self.account, plants, res.reserve_payment_cny, "reserve_capacity")
        act = res.activation_cny
        assert act is not None
        ledger.post(when, self.account, plants, np.maximum(act, 0.0), "reserve_activation")
        ledger.post(when, plants, self.account, np.maximum(-act, 0.0), "reserve_activation")
        self.totals["reserve"] += float(res.reserve_payment_cny.sum())
        self.totals["activation"] += float(act.sum())
        self._pay_dg_export(when)
        for call in (res.il, res.rt_il):
            if call is not None and call.payment_cny.any():
                users = np.flatnonzero(call.payment_cny)
                ledger.post(when, self.account, users, call.payment_cny[users], "il_event_payment")
                self.totals["il_cny"] += float(call.payment_cny.sum())
        del self.days[today.day]

    def _pay_dg_export(self, when: Any) -> None:
        """Pay the DG provider's spot export of the day (``dg.export_mode=spot``).

        The export is energy sold into the market at the day-ahead price; the
        operator pays it and passes its net on in the monthly uplift (M6).
        """
        m = self.model
        if not m.has_module("dg") or not m.module("dg").market_pays_export():
            return
        dg = m.module("dg")
        cny = float(dg.spot_export_cny)
        if cny > 0:
            m.ledger.post(when, self.account, dg.account, cny, "dg_export")
        elif cny < 0:  # a negative price: the provider pays for its export
            m.ledger.post(when, dg.account, self.account, -cny, "dg_export")
        self.totals["dg_export"] = self.totals.get("dg_export", 0.0) + cny

    def month_close(self, today: Any) -> None:
        """IL capacity payments, the uplift (rule M6); next month's IL and CfD top-up."""
        m = self.model
        when = m.clock.time_of(today.day, 0)
        ledger = m.ledger
        pi = float(m.cfg.market.il_capacity_payment_cny_per_kw_month)
        if self.il is not None and pi > 0:
            users = np.flatnonzero(self.il.accepted_kw)
            pay = pi * self.il.accepted_kw[users]
            ledger.post(when, self.account, users, pay, "il_capacity_payment")
            self.totals["il_cny"] += float(pay.sum())
        self._uplift(when)
        if not today.final:
            if self.il is not None:
                self.il.procure()
            if m.cfg.phase.mlt:
                self.cfds.sign(today.day, annual=m.clock.date_of(today.day).month == 1)

    # ------------------------------------------------------------------ clearing
    def clear_day(self, day: int) -> MarketDay:
        """Clear a delivery day with reserve in one LP; call IL; plan the fallback; publish.

        Args:
            day: The delivery day.

        Returns:
            The day's market record.
        """
        m = self.model
        mc = m.cfg.market
        dt = m.interval_h
        bids = self.retail.bids(day)
        offers = self.fleet.offers(day)
        demand_kw = bids.sum(axis=0)
        offered = np.stack([o.capacity_kw for o in offers], axis=1)
        rcap = np.stack([o.reserve_cap_kw for o in offers], axis=1)
        c_e = np.array([o.energy_price_cny_per_mwh for o in offers])
        c_r = np.array([o.reserve_price_cny_per_mw_h for o in offers]) * dt
        req_mw = reserve_requirement_mw(
            demand_kw / 1000.0,
            0.0,
            load_share=float(mc.reserve_load_share),
            gen_share=float(mc.reserve_gen_share),
            contingency_mw=float(mc.reserve_contingency_mw),
        )
        r = co_optimize_day(
            c_e,
            offered / 1000.0,
            rcap / 1000.0,
            c_r,
            demand_kw / 1000.0,
            req_mw,
            interval_h=dt,
            price_cap_cny_per_mwh=float(mc.price_cap_cny_per_mwh),
            price_floor_cny_per_mwh=float(mc.price_floor_cny_per_mwh),
            time_limit_s=float(mc.time_limit_s),
        )
        served_kw = r.served_demand_mw * 1000.0
        ratio = np.divide(served_kw, demand_kw, out=np.zeros_like(demand_kw), where=demand_kw > 0)
        schedule = bids * ratio[None, :]
        short_kw = r.energy_shortfall_mw * 1000.0
        short_kw = np.where(short_kw > 1e-9 * np.maximum(demand_kw, 1.0), short_kw, 0.0)
        sent = m.clock.time_of(day, 0) - np.timedelta64(int(mc.gate_lead_h * _H_NS), "ns")
        il_call = None
        uncovered = short_kw
        if self.il is not None and short_kw.any():
            il_call = self.il.call(day, short_kw, np.ones(m.pop.n_users, bool), sent, "il_call")
            uncovered = il_call.uncovered_kw
        fallback = None
        if m.cfg.phase.orderly_fallback and uncovered.any():
            expected = m.pop.expected_load_kw(m.clock.is_weekend(day))
            relief = dg_relief_kw(m, day, expected) if m.has_module("dg") else 0.0
            fallback = day_ahead_fallback_plan(
                m, day, offered.sum(axis=1) + relief, uncovered, il_call, sent
            )
        res = MarketDay(
            day=day,
            price_cny_per_mwh=r.energy_price_cny_per_mwh,
            reserve_price_cny_per_mw_h=r.reserve_price_cny_per_mw / dt,
            bid_kw=bids,
            schedule_kw=schedule,
            dispatch_kw=r.dispatch_mw * 1000.0,
            reserve_kw=r.reserve_mw * 1000.0,
            offered_kw=offered,
            reserve_payment_cny=(r.reserve_price_cny_per_mw[:, None] * r.reserve_mw).sum(axis=0),
            energy_shortfall_kw=short_kw,
            requirement_kw=req_mw * 1000.0,
            reserve_shortfall_kw=r.reserve_shortfall_mw * 1000.0,
            scarcity=r.scarcity,
            il=il_call,
            fallback=fallback,
            cfd_cny=self.cfds.settle_day(
                day, bids, self.fleet.capacity_kw, c_e, r.energy_price_cny_per_mwh
            ),
            interval_h=dt,
        )
        self.days[day] = res
        self._publish(day, res, sent)
        self._iv_rows.append(
            {
                "day": np.full(m.ipd, day),
                "interval": np.arange(m.ipd),
                "price_cny_per_mwh": res.price_cny_per_mwh,
                "reserve_price_cny_per_mw_h": res.reserve_price_cny_per_mw_h,
                "demand_bid_kw": demand_kw,
                "scheduled_kw": served_kw,
                "offered_kw": offered.sum(axis=1),
                "energy_shortfall_kw": short_kw,
                "reserve_requirement_kw": res.requirement_kw,
                "reserve_kw": res.reserve_kw.sum(axis=1),
                "reserve_shortfall_kw": res.reserve_shortfall_kw,
                "il_called_kw": (
                    il_call.kw_per_cell.sum(axis=0) if il_call is not None else np.zeros(m.ipd)
                ),
                "il_accepted_kw": np.full(
                    m.ipd, float(self.il.accepted_kw.sum()) if self.il is not None else 0.0
                ),
                "il_uncovered_kw": uncovered,
                "scarcity": res.scarcity,
            }
        )
        return res

    def _publish(self, day: int, res: MarketDay, sent: Any) -> None:
        """Publish the day's prices and schedules (statements, not notices)."""
        m = self.model
        starts = m.clock.time_of(day, np.arange(m.ipd))
        m.platform.publish(
            sent, starts, self.name, -1, "da_price", quantity=res.price_cny_per_mwh, notice=False
        )
        for k, r in enumerate(self.retail.retailers):
            m.platform.publish(
                sent,
                starts,
                self.name,
                -1,
                "da_schedule",
                quantity=res.schedule_kw[k],
                payload=r.name,
                notice=False,
            )

    # ------------------------------------------------------------------ uplift (M6)
    def _uplift(self, when: Any) -> None:
        """Pass the operator's net to the retailers pro rata to metered energy (rule M6)."""
        m = self.model
        balance = m.ledger.balance(self.name)
        energy = self._month_energy_kwh
        share = energy / energy.sum() if energy.sum() > 0 else np.full(energy.size, 1 / energy.size)
        amount = balance * share
        accounts = np.array([r.account for r in self.retail.retailers], dtype=np.int64)
        m.ledger.post(when, self.account, accounts, np.maximum(amount, 0.0), "balancing_uplift")
        m.ledger.post(when, accounts, self.account, np.maximum(-amount, 0.0), "balancing_uplift")
        for r, a in zip(self.retail.retailers, amount, strict=True):
            r.add_cost(-float(a))
        self.totals["uplift"] += float(np.abs(amount).sum())
        self.month_end_balances_cny.append(m.ledger.balance(self.name))
        self._month_energy_kwh = np.zeros(energy.size)

    # ------------------------------------------------------------------ outputs
    def _day_ahead_frame(self) -> pd.DataFrame:
        if not self._iv_rows:
            return pd.DataFrame(columns=["day", "interval", "price_cny_per_mwh", "scarcity"])
        rows = self._iv_rows
        frame = pd.DataFrame({k: np.concatenate([r[k] for r in rows]) for k in rows[0]})
        return frame[frame.day < self.model.rec.days_recorded].reset_index(drop=True)

    def kpis(self) -> dict[str, float]:
        """Day-ahead, real-time, reserve, CfD, IL, fallback and uplift KPIs."""
        da = self._day_ahead_frame()
        t = self.totals
        dt = self.model.interval_h
        price = da["price_cny_per_mwh"].to_numpy() if len(da) else np.zeros(1)
        balances = np.abs(self.month_end_balances_cny) if self.month_end_balances_cny else [0.0]
        return {
            "da_price_mean_cny_per_mwh": float(price.mean()),
            "da_price_max_cny_per_mwh": float(price.max()),
            "scarcity_intervals_count": float(da["scarcity"].sum()) if len(da) else 0.0,
            "rt_imbalance_cost_cny": t["rt_charges"],
            "rt_imbalance_kwh": t["rt_kwh"],
            "reserve_cost_cny": t["reserve"],
            "reserve_shortfall_mwh": (
                float(da["reserve_shortfall_kw"].sum() * dt / 1000.0) if len(da) else 0.0
            ),
            "reserve_activation_cny": t["activation"],
            "mlt_cfd_net_cny": self.cfds.net_cny,
            "il_capacity_kw": self.il.mean_capacity_kw if self.il is not None else 0.0,
            "il_energy_kwh": t["il_kwh"],
            "il_payment_cny": t["il_cny"],
            "orderly_fallback_kwh": t["fallback_kwh"],
            "balancing_uplift_cny": t["uplift"],
            "operator_month_end_balance_max_cny": float(np.max(balances)),
        }

    def tables(self) -> dict[str, pd.DataFrame]:
        """``day_ahead`` (per interval), ``imbalance`` (per retailer and interval), ``cfd``."""
        rows = self._rt_rows
        rt = (
            pd.DataFrame({k: np.concatenate([r[k] for r in rows]) for k in rows[0]})
            if rows
            else pd.DataFrame(columns=["day", "retailer", "interval", "imbalance_kwh"])
        )
        names = np.array([r.name for r in self.retail.retailers])
        if len(rt):
            rt["retailer"] = names[rt["retailer"].to_numpy()]
        return {
            "day_ahead": self._day_ahead_frame(),
            "imbalance": rt,
            "cfd": pd.DataFrame(
                self.cfds.contracts,
                columns=["retailer", "kind", "share", "strike_cny_per_kwh", "start_day", "end_day"],
            ),
        }
