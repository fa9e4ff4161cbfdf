"""The grid company: capacity, the weekly orderly-use plan, dispatch and billing.

Capacity per interval is the installed supply (forecast unconstrained weekday
peak × (1 + margin)), cut by peak-regulation limits on configured days and
hours (known a week ahead) and by random equipment failures (known at best on
the day). On the first day of each week the company forecasts the following
week's load and solves the orderly plan with ``markets.orderly.schedule``;
it publishes the plan on the platform 7 days ahead, reminds 1 day ahead and
notifies 15 minutes ahead. On the day it enforces the plan: users that do
not comply are shed at 15-minute notice and pay a penalty, and any remaining
excess over capacity is shed in merit order at 15-minute notice.

With the wholesale market on (``phase.market``, the mature phase) there is no
weekly plan: the day's instructions are the market operator's day-ahead
interruptible-load calls and fallback plan (:meth:`GridCompany.dispatch_day`
reads them with ``market.instructions(day)``); a real-time excess over capacity
is met first by the interruptible blocks not yet called (``market.call_real_time``),
then, for a failure known at 00:00, by a same-day fallback plan, and what remains
is shed at 15-minute notice. The draws (failure, compliance) come in the same
order in both paths, so a seed gives the same shortages in every phase.

References:
    NDRC (2011) 《有序用电管理办法》 (orderly electricity-use measures):
    plans prepared in advance, published to users, interruptible classes.
"""

from __future__ import annotations

import copy
import functools
from typing import TYPE_CHECKING, Any, ClassVar

import mesa
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from agents.day_dispatch import DayDispatch
from agents.market_dispatch import dispatch_market_day
from agents.orderly_planner import OrderlyPlanner
from agents.park_user import ParkUser
from markets._arrays import Runs, runs

if TYPE_CHECKING:
    from agents._model import ModelView

__all__ = ["DayDispatch", "GridCompany"]

_H = np.timedelta64(3600 * 10**9, "ns")
_DAY = np.timedelta64(86_400 * 10**9, "ns")


class GridCompany(mesa.Agent):
    """The park's grid company (one agent; the ``grid`` module, always on).

    Stages: ``start`` (the first week's plan, issued before the run),
    ``week_plan``, ``publish`` (reminders), ``dispatch`` (enforcement and
    shedding), ``settle`` (catalog-tariff accruals of the users it supplies,
    penalties, its energy purchases), ``month_close`` (posts its bills and its
    purchases), ``collect`` (rotation history).

    Args:
        model: The park model.
    """

    KPIS: ClassVar[tuple[str, ...]] = (
        "penalty_cny",
        "grid_company_profit_cny",
        "orderly_plan_weeks",
        "orderly_plan_gap_max",
        "orderly_plan_time_limited_weeks",
        "orderly_day_plans",
        "orderly_day_plan_gap_max",
    )
    INTERVAL_FIELDS: ClassVar[tuple[str, ...]] = ("tariff_cny_per_kwh",)

    model: ModelView

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        self.external = model.ledger.account("external")
        self.account = model.ledger.account("grid")
        self._purchase_kwh = np.zeros(1)
        pop = model.pop
        ipd = model.ipd
        weekday = pop.expected_load_kw(weekend=False).sum(axis=0)
        #: Forecast unconstrained weekday park peak at the start, kW (reference for limits).
        self.reference_peak_kw = float(weekday.max())
        self.installed_kw = self.reference_peak_kw * (1.0 + model.cfg.grid.capacity_margin)
        self.planner = OrderlyPlanner(model, self.planned_capacity_kw, "grid")
        #: Market phase: a copy of the generator at this point, replaying the
        #: orderly phase's draws so both phases get the same failures
        #: (:class:`agents.market_dispatch.OrderlyStreamReplay`).
        self.shortage_rng = copy.deepcopy(model.rng) if model.cfg.phase.market else None
        hours = np.arange(ipd) * 24 // ipd
        self.tariff_cny_per_kwh = np.asarray(model.cfg.grid.tariff_cny_per_kwh_by_hour, float)[
            hours
        ]

    # ------------------------------------------------------------------ stages
    def start(self, today: Any) -> None:
        """Issue the first week's plan, published ``plan_lead_days`` before the run starts."""
        lead = self.model.cfg.platform.plan_lead_days * _DAY
        self.planner.plan_week(0, sent_at=self.model.clock.time_of(0, 0) - lead)

    def week_plan(self, today: Any) -> None:
        """On the first day of a week, plan the next week (published ``plan_lead_days`` ahead)."""
        m = self.model
        first = today.day + 7
        if first < m.n_days:
            lead = m.cfg.platform.plan_lead_days * _DAY
            self.planner.plan_week(first, sent_at=m.clock.time_of(first, 0) - lead)

    def publish(self, today: Any) -> None:
        """Reminders for tomorrow's planned calls."""
        self.planner.publish_day(today.day)

    def dispatch(self, today: Any) -> None:
        """Enforce the plan on today's demand and shed what remains over capacity."""
        disp = self.dispatch_day(today.day, today.demand_kw, today.park_demand_kw())
        today.dispatch = disp
        today.record_intervals(capacity_kw=disp.capacity_kw, failure_kw=disp.failure_kw)

    def settle(self, today: Any) -> None:
        """Accrue the catalog bills of the users it supplies; post penalties; buy energy.

        References:
            Catalog time-of-use tariff (conf ``grid.tariff_cny_per_kwh_by_hour``);
            penalties for ignored instructions (NDRC 2011 orderly-use measures).
        """
        m = self.model
        served_kw = today.served_kw
        served_kwh = today.metered.served_kwh
        for name in ("dg", "ev"):  # bill the net load: behind-the-meter DG, sub-metered EV
            if m.has_module(name):
                behind_kw = m.module(name).unbilled_kw
                served_kw = served_kw - behind_kw
                served_kwh = served_kwh - behind_kw.sum(axis=1) * m.interval_h
        own = m.pop.supplier == 0
        tariff = self.tariff_cny_per_kwh
        if own.all():
            tariff_cny = served_kw @ tariff * m.interval_h
        else:
            tariff_cny = np.where(own, served_kw @ tariff * m.interval_h, 0.0)
        m.billing.accrue("grid", self.account, "tariff", tariff_cny)
        if not own.all():  # other suppliers' customers pay the network fee for the wires
            fee = m.cfg.agency.network_fee_cny_per_kwh
            network = np.where(own, 0.0, served_kwh * fee)
            m.billing.accrue("grid", self.account, "network_fee", network)
        self._purchase_kwh += m.energy.supply_kw("grid_catalog").sum() * m.interval_h
        penalty_cny = today.dispatch.penalty_kwh * m.cfg.grid.penalty_cny_per_kwh
        if penalty_cny.any():
            payers = np.flatnonzero(penalty_cny)
            m.ledger.post(
                m.clock.time_of(today.day, m.ipd - 1),
                payers,
                self.account,
                penalty_cny[payers],
                "penalty",
            )
        today.record_users(penalty_cny=penalty_cny)
        today.record_intervals(tariff_cny_per_kwh=tariff)

    def month_close(self, today: Any) -> None:
        """Post the month's bills it collects and its energy purchases."""
        m = self.model
        when = m.clock.time_of(today.day, 0)
        m.billing.post(when, "grid")
        m.ledger.post(
            when,
            self.account,
            self.external,
            self._purchase_kwh[0] * m.cfg.grid.purchase_cny_per_kwh,
            "energy_purchase",
        )
        self._purchase_kwh[:] = 0.0

    def collect(self, today: Any) -> None:
        """Carry the day's curtailed shares into the rotation; drop finished weeks."""
        met = today.metered
        self.planner.record_history(met.demand_kwh, met.curtailed_kwh)
        self.planner.prune(today.day + 1)

    # ------------------------------------------------------------------ outputs
    @property
    def plan_stats(self) -> list[dict[str, Any]]:
        """Solver figures of every weekly plan (one dict per week)."""
        return self.planner.plan_stats

    def kpis(self) -> dict[str, float]:
        """Orderly-plan, penalty and profit KPIs."""
        stats = self.plan_stats
        day = self.planner.day_plan_stats
        return {
            "penalty_cny": float(self.model.rec.user_totals("penalty_cny").sum()),
            "grid_company_profit_cny": self.model.ledger.balance("grid"),
            "orderly_plan_weeks": float(len(stats)),
            "orderly_plan_gap_max": float(max((s["gap"] for s in stats), default=0.0)),
            "orderly_plan_time_limited_weeks": float(
                sum(s["status"] == "time_limit" for s in stats)
            ),
            "orderly_day_plans": float(len(day)),
            # emergency shedding is the greedy merit order by rule: its gap is not a target
            "orderly_day_plan_gap_max": float(
                max((s["gap"] for s in day if s["kind"] != "emergency"), default=0.0)
            ),
        }

    def tables(self) -> dict[str, pd.DataFrame]:
        """The grid company's tables: its weekly plans and the plans made within a day.

        ``plans``: one row per weekly plan (method, status, gap, objective, time);
        ``day_plans``: one row per plan made within a day (its date and kind first).
        """
        plans = pd.DataFrame(self.plan_stats)
        if plans.empty:
            plans = pd.DataFrame(columns=["week_start", "method", "status", "gap", "solve_time_s"])
        day_plans = pd.DataFrame(self.planner.day_plan_stats)
        if day_plans.empty:
            day_plans = pd.DataFrame(
                columns=["date", "kind", "method", "status", "gap", "solve_time_s"]
            )
        return {"plans": plans, "day_plans": day_plans}

    # ------------------------------------------------------------------ capacity
    def planned_capacity_kw(self, day: int) -> NDArray[np.float64]:
        """Capacity of a day known in advance (peak-regulation limits), kW per interval."""
        cfg = self.model.cfg.grid.peak_regulation
        ipd = self.model.ipd
        cap = np.full(ipd, self.installed_kw)
        date = self.model.clock.date_of(day)
        if (
            cfg.enabled
            and date.weekday() in cfg.weekdays
            and (not cfg.months or date.month in cfg.months)
        ):
            steps = ipd // 24
            limit = (1.0 - cfg.shortage_fraction) * self.reference_peak_kw
            cap[cfg.start_h * steps : cfg.end_h * steps] = limit
        return cap

    def draw_failure(
        self, rng: np.random.Generator | None = None
    ) -> tuple[NDArray[np.float64], bool, int]:
        """Draw today's equipment failure (from the model's generator by default).

        Args:
            rng: The generator to draw from (default ``model.rng``).

        Returns:
            ``(lost_kw per interval, known at 00:00, first interval)``.
        """
        cfg = self.model.cfg.grid.failures
        ipd = self.model.ipd
        lost = np.zeros(ipd)
        rng = self.model.rng if rng is None else rng
        happens, same_day, start_u = rng.random(3)
        if happens >= cfg.prob_per_day:
            return lost, False, -1
        steps = ipd // 24
        start_h = int(start_u * (24 - cfg.duration_h + 1))
        first = start_h * steps
        lost[first : first + cfg.duration_h * steps] = cfg.depth_fraction * self.reference_peak_kw
        return lost, bool(same_day < cfg.same_day_notice_prob), first

    # ------------------------------------------------------------------ dispatch
    def _notify(self, day: int, r: Runs, kind: str = "notice") -> None:
        m = self.model
        if len(r) == 0:
            return
        lead = np.timedelta64(int(m.cfg.platform.notice_lead_min * 60 * 10**9), "ns")
        starts = m.clock.time_of(day, r.start)
        m.platform.publish(
            starts - lead,
            starts,
            "grid",
            r.user,
            kind,
            quantity=m.pop.block_kw[r.user],
            until=m.clock.time_of(day, r.stop),
        )

    def dispatch_day(
        self,
        day: int,
        demand_kw: NDArray[np.float64],
        demand_int_kw: NDArray[np.float64] | None = None,
    ) -> DayDispatch:
        """Enforce the plan on today's metered demand and shed what remains over capacity.

        Args:
            day: Model day index.
            demand_kw: Today's unconstrained demand ``(n_users, ipd)``, kW.
            demand_int_kw: ``demand_kw.sum(axis=0)`` if already summed, kW per interval.

        Returns:
            The day's curtailment, shedding and notice lead times.
        """
        m = self.model
        if m.cfg.phase.market:
            return self._dispatch_market_day(day, demand_kw)
        pop = m.pop
        n, ipd = demand_kw.shape
        dt_h = m.interval_h
        notice_h = m.cfg.platform.notice_lead_min / 60.0
        capacity = self.planned_capacity_kw(day)
        lost, known, first = self.draw_failure()
        capacity = np.maximum(capacity - lost, 0.0)
        planned = (
            self.planner.plan_of_day(day).copy()
            if m.cfg.phase.orderly_plan
            else np.zeros_like(demand_kw, dtype=bool)
        )
        same_day = np.zeros_like(planned)
        if first >= 0 and known and m.cfg.phase.orderly_plan:
            # Same-day plan on the forecast, for the failure known at 00:00.
            forecast = pop.expected_load_kw(m.clock.is_weekend(day)) * (
                1.0 + m.cfg.orderly.forecast_margin
            )
            kept = np.where(planned, forecast - np.minimum(pop.block_kw[:, None], forecast), 0.0)
            free_loads = np.where(planned, 0.0, forecast)
            cap_free = np.maximum(capacity - kept.sum(axis=0), 0.0)
            sd = self.planner.schedule(
                free_loads, cap_free, first * dt_h, weekly_caps=False, record=(day, "same_day")
            )
            same_day = sd.curtail & ~planned
            self.publish_same_day(day, same_day)
        instructed = planned | same_day if same_day.any() else planned
        r_inst = runs(instructed)
        self._notify(day, r_inst)
        complied = ParkUser.decide_compliance(n, float(m.cfg.grid.compliance_prob), m.rng)
        block = pop.block_kw
        rows, cols, k = r_inst.cells()
        kw = np.minimum(block[rows], demand_kw[rows, cols])
        comp = complied[rows]
        first_cell = cols == r_inst.start[k]
        # Non-compliant users are shed once the 15-minute notice runs out: the first
        # min(notice, interval) of each of their calls is still served.
        first_frac = max(0.0, 1.0 - notice_h / dt_h)
        kw = np.where(~comp & first_cell, kw * first_frac, kw)
        penalty_kwh = np.asarray(
            np.bincount(rows[~comp], block[rows[~comp]] * dt_h, minlength=n), dtype=np.float64
        )
        # Notice lead: read back from the platform for followed calls; 15 minutes
        # for the calls the grid company had to shed.
        tau_run = m.platform.lead_time_h(r_inst.user, m.clock.time_of(day, r_inst.start))
        lead = np.where(comp, tau_run[k], notice_h)
        shed = ~comp
        # Emergency shedding of any remaining excess, 15-minute notice.
        park_kw = demand_kw.sum(axis=0) if demand_int_kw is None else demand_int_kw
        excess = park_kw - np.bincount(cols, kw, minlength=ipd) - capacity
        if (excess > 1e-9 * np.maximum(capacity, 1.0)).any():
            er, ec, ekw, efirst = self.emergency_shed(
                day, demand_kw, rows, cols, kw, instructed, capacity, notice_h
            )
            rows = np.concatenate([rows, er])
            cols = np.concatenate([cols, ec])
            kw = np.concatenate([kw, ekw])
            shed = np.concatenate([shed, np.ones(len(er), dtype=bool)])
            lead = np.concatenate([lead, np.full(len(er), notice_h)])
            first_cell = np.concatenate([first_cell, efirst])
        return DayDispatch(
            capacity_kw=capacity,
            failure_kw=lost,
            rows=rows,
            cols=cols,
            curtailed_kw=kw,
            shed=shed,
            lead_h=lead,
            start=first_cell,
            penalty_kwh=penalty_kwh,
        )

    def _dispatch_market_day(self, day: int, demand_kw: NDArray[np.float64]) -> DayDispatch:
        """The day's dispatch with the wholesale market on (:mod:`agents.market_dispatch`)."""
        return DayDispatch(**dispatch_market_day(self, day, demand_kw))

    def publish_same_day(self, day: int, same_day: NDArray[np.bool_]) -> int:
        """Publish a same-day plan's calls at 00:00 (a failure known at the start of the day).

        Args:
            day: Model day index.
            same_day: Users × intervals newly called today.

        Returns:
            The number of calls published.
        """
        m = self.model
        r_sd = runs(same_day)
        if len(r_sd):
            m.platform.publish(
                m.clock.time_of(day, 0),
                m.clock.time_of(day, r_sd.start),
                "grid",
                r_sd.user,
                "same_day_plan",
                quantity=m.pop.block_kw[r_sd.user],
                until=m.clock.time_of(day, r_sd.stop),
            )
        return len(r_sd)

    def emergency_shed(
        self,
        day: int,
        demand_kw: NDArray[np.float64],
        rows: NDArray[np.int64],
        cols: NDArray[np.int64],
        kw: NDArray[np.float64],
        instructed: NDArray[np.bool_],
        capacity_kw: NDArray[np.float64],
        notice_h: float,
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.bool_]]:
        """Shed what is still over capacity in merit order, at the final notice.

        The users not already instructed today are curtailed by the greedy plan
        (calls of any length, no weekly caps) against the capacity left after
        the instructed users' served load; each gets the 15-minute notice.

        Args:
            day: Model day index.
            demand_kw: Today's demand ``(n_users, ipd)``, kW.
            rows: Users of the cells already curtailed.
            cols: Intervals of those cells.
            kw: Curtailed kW of those cells.
            instructed: Users × intervals already instructed today.
            capacity_kw: Capacity per interval, kW.
            notice_h: The final notice lead, h.

        Returns:
            The shed cells ``(rows, cols, kW, first cell of a call)``.
        """
        served = demand_kw.copy()
        served[rows, cols] -= kw
        free = np.where(instructed, 0.0, served)
        cap_free = capacity_kw - np.where(instructed, served, 0.0).sum(axis=0)
        em = self.planner.schedule(
            free,
            np.maximum(cap_free, 0.0),
            notice_h,
            method="greedy",
            weekly_caps=False,
            min_duration=1,
            record=(day, "emergency"),
        )
        r_em = runs(em.curtail & ~instructed)
        self._notify(day, r_em, kind="notice")
        er, ec, ek = r_em.cells()
        ekw = np.minimum(self.model.pop.block_kw[er], served[er, ec])
        return er, ec, ekw, ec == r_em.start[ek]

    # ------------------------------------------------------------------ diagnostics
    def publish_reports(self, sent_at: np.datetime64, report: pd.DataFrame) -> int:
        """Publish one efficiency-diagnostics report per user on the platform.

        Args:
            sent_at: When the reports are sent.
            report: One row per user (index = user row) with the report's fields.

        Returns:
            Number of reports delivered (0 when the platform is off).
        """
        m = self.model
        return m.platform.publish(
            sent_at,
            sent_at,
            "grid",
            report.index.to_numpy(),
            "report",
            quantity=report["benchmark_ratio"].to_numpy(),
            payload=functools.partial(_json_lines, report),  # formatted when written
        )


def _json_lines(report: pd.DataFrame) -> NDArray[np.object_]:
    """One JSON object per row of ``report`` (6 significant decimals), as strings."""
    lines = report.to_json(orient="records", lines=True, double_precision=6)
    return np.asarray(lines.splitlines(), dtype=object)
