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

References:
    NDRC (2011) 《有序用电管理办法》 (orderly electricity-use measures):
    plans prepared in advance, published to users, interruptible classes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import mesa
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from agents.park_user import ParkUser
from markets._arrays import Runs, runs
from markets.orderly import loss_cny_per_kwh, restart_cost_applies, schedule

if TYPE_CHECKING:
    from agents._model import ModelView

__all__ = ["DayDispatch", "GridCompany", "WeekPlan"]

_log = logging.getLogger("parksim")
_H = np.timedelta64(3600 * 10**9, "ns")
_DAY = np.timedelta64(86_400 * 10**9, "ns")


@dataclass(frozen=True)
class WeekPlan:
    """A published weekly plan.

    Attributes:
        first_day: Model day index of the week's first day.
        curtail: Boolean ``(n_users, 7 · intervals_per_day)``.
        block_kw: Curtailed kW per user (ΔP at plan time).
        stats: Solver figures for the outputs (method, status, gap, time).
    """

    first_day: int
    curtail: NDArray[np.bool_]
    block_kw: NDArray[np.float64]
    stats: dict[str, Any]


@dataclass(frozen=True)
class DayDispatch:
    """What the grid company did on one day, as sparse curtailed cells.

    Curtailment is sparse (few users, few intervals), so it is kept as one entry
    per curtailed (user, interval) cell; cells are unique.

    Attributes:
        capacity_kw: Supply capacity per interval.
        failure_kw: Capacity lost to a failure today, per interval.
        rows: User row of each curtailed cell.
        cols: Interval of each curtailed cell.
        curtailed_kw: Curtailed load of each cell, kW (> 0 where demand > 0).
        shed: The cell was shed by the grid company at 15-minute notice (user
            ignored its instruction, or emergency shedding); else the user
            followed a plan.
        lead_h: Notice lead time of the call covering the cell, h.
        start: The cell is the first interval of a call.
        penalty_kwh: Energy each non-compliant user was told to shed, kWh ``(n_users,)``.
    """

    capacity_kw: NDArray[np.float64]
    failure_kw: NDArray[np.float64]
    rows: NDArray[np.int64]
    cols: NDArray[np.int64]
    curtailed_kw: NDArray[np.float64]
    shed: NDArray[np.bool_]
    lead_h: NDArray[np.float64]
    start: NDArray[np.bool_]
    penalty_kwh: NDArray[np.float64]


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
        self.plans: dict[int, WeekPlan] = {}
        self.plan_stats: list[dict[str, Any]] = []
        self.curtailed_kwh_total = np.zeros(pop.n_users)
        self.demand_kwh_total = np.zeros(pop.n_users)
        hours = np.arange(ipd) * 24 // ipd
        self.tariff_cny_per_kwh = np.asarray(model.cfg.grid.tariff_cny_per_kwh_by_hour, float)[
            hours
        ]

    # ------------------------------------------------------------------ stages
    def start(self, today: Any) -> None:
        """Issue the first week's plan, published ``plan_lead_days`` before the run starts."""
        lead = self.model.cfg.platform.plan_lead_days * _DAY
        self.plan_week(0, sent_at=self.model.clock.time_of(0, 0) - lead)

    def week_plan(self, today: Any) -> None:
        """On the first day of a week, plan the next week (published ``plan_lead_days`` ahead)."""
        m = self.model
        first = today.day + 7
        if first < m.n_days:
            lead = m.cfg.platform.plan_lead_days * _DAY
            self.plan_week(first, sent_at=m.clock.time_of(first, 0) - lead)

    def publish(self, today: Any) -> None:
        """Reminders for tomorrow's planned calls."""
        self.publish_day(today.day)

    def dispatch(self, today: Any) -> None:
        """Enforce the plan on today's demand and shed what remains over capacity."""
        disp = self.dispatch_day(today.day, today.demand_kw)
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
        own = m.pop.supplier == 0
        tariff = self.tariff_cny_per_kwh
        if own.all():
            tariff_cny = served_kw @ tariff * m.interval_h
        else:
            tariff_cny = np.where(own, served_kw @ tariff * m.interval_h, 0.0)
        m.billing.accrue("grid", self.account, "tariff", tariff_cny)
        if not own.all():  # other suppliers' customers pay the network fee for the wires
            fee = m.cfg.agency.network_fee_cny_per_kwh
            network = np.where(own, 0.0, today.metered.served_kwh * fee)
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
        self.record_history(met.demand_kwh, met.curtailed_kwh)
        self.prune(today.day + 1)

    # ------------------------------------------------------------------ outputs
    def kpis(self) -> dict[str, float]:
        """Orderly-plan, penalty and profit KPIs."""
        stats = self.plan_stats
        return {
            "penalty_cny": float(self.model.rec.user_totals("penalty_cny").sum()),
            "grid_company_profit_cny": self.model.ledger.balance("grid"),
            "orderly_plan_weeks": float(len(stats)),
            "orderly_plan_gap_max": float(max((s["gap"] for s in stats), default=0.0)),
            "orderly_plan_time_limited_weeks": float(
                sum(s["status"] == "time_limit" for s in stats)
            ),
        }

    def tables(self) -> dict[str, pd.DataFrame]:
        """``plans``: one row per weekly plan (method, status, gap, objective, time)."""
        plans = pd.DataFrame(self.plan_stats)
        if plans.empty:
            plans = pd.DataFrame(columns=["week_start", "method", "status", "gap", "solve_time_s"])
        return {"plans": plans}

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

    def draw_failure(self) -> tuple[NDArray[np.float64], bool, int]:
        """Draw today's equipment failure from the model's generator.

        Returns:
            ``(lost_kw per interval, known at 00:00, first interval)``.
        """
        cfg = self.model.cfg.grid.failures
        ipd = self.model.ipd
        lost = np.zeros(ipd)
        rng = self.model.rng
        happens, same_day, start_u = rng.random(3)
        if happens >= cfg.prob_per_day:
            return lost, False, -1
        steps = ipd // 24
        start_h = int(start_u * (24 - cfg.duration_h + 1))
        first = start_h * steps
        lost[first : first + cfg.duration_h * steps] = cfg.depth_fraction * self.reference_peak_kw
        return lost, bool(same_day < cfg.same_day_notice_prob), first

    # ------------------------------------------------------------------ planning
    def _loss_for_notice(self, notice_h: float) -> NDArray[np.float64]:
        pop = self.model.pop
        return loss_cny_per_kwh(pop.voll_cny_per_kwh, pop.rho, notice_h)

    def _restart_for_notice(self, notice_h: float) -> NDArray[np.float64]:
        pop = self.model.pop
        return np.where(restart_cost_applies(notice_h, pop.shutdown_h), pop.restart_cost_cny, 0.0)

    def _schedule(
        self,
        loads_kw: NDArray[np.float64],
        capacity_kw: NDArray[np.float64],
        notice_h: float,
        *,
        method: str | None = None,
        weekly_caps: bool = True,
        block_kw: NDArray[np.float64] | None = None,
        min_duration: int | None = None,
    ) -> Any:
        m = self.model
        o = m.cfg.orderly
        steps = m.ipd // 24
        return schedule(
            loads_kw,
            capacity_kw,
            m.pop.block_kw if block_kw is None else block_kw,
            self._loss_for_notice(notice_h),
            restart_cost_cny=self._restart_for_notice(notice_h),
            protected=m.pop.protected,
            max_hours=o.max_hours_per_week if weekly_caps else np.inf,
            max_calls=o.max_calls_per_week if weekly_caps else np.inf,
            min_duration=(
                max(1, round(o.min_duration_h * steps)) if min_duration is None else min_duration
            ),
            fairness_weight_cny=o.fairness_weight_cny,
            prior_curtailed_kwh=self.curtailed_kwh_total,
            prior_demand_kwh=self.demand_kwh_total,
            interval_h=m.interval_h,
            intervals_per_day=m.ipd,
            method=o.method if method is None else method,
            milp_max_users=o.milp_max_users,
            time_limit_s=o.time_limit_s,
            mip_rel_gap=o.mip_rel_gap,
            unserved_penalty_cny_per_kwh=o.unserved_penalty_cny_per_kwh,
            greedy_bound=o.greedy_bound,
            lagrangian_iters=o.lagrangian_iters,
        )

    def plan_week(self, first_day: int, sent_at: np.datetime64) -> None:
        """Forecast a week, solve the orderly plan and publish it on the platform.

        Args:
            first_day: Model day index of the planned week's first day.
            sent_at: Publication time of the plan.
        """
        m = self.model
        if not m.cfg.phase.orderly_plan:
            return
        days = [first_day + d for d in range(7)]
        margin = 1.0 + m.cfg.orderly.forecast_margin
        loads = np.concatenate(
            [m.pop.expected_load_kw(m.clock.is_weekend(d)) * margin for d in days], axis=1
        )
        capacity = np.concatenate([self.planned_capacity_kw(d) for d in days])
        notice_h = (
            24.0 * m.cfg.platform.plan_lead_days
            if m.platform.enabled
            else m.cfg.platform.notice_lead_min / 60.0
        )
        plan = self._schedule(loads, capacity, notice_h)
        stats = {
            "week_start": m.clock.date_of(first_day),
            "method": plan.method,
            "status": plan.status,
            "gap": float(plan.gap),
            "objective_cny": float(plan.objective_cny),
            "lower_bound_cny": float(plan.lower_bound_cny),
            "loss_cny": float(plan.loss_cny),
            "solve_time_s": float(plan.solve_time_s),
            "planned_kwh": float(plan.curtailed_kw.sum() * m.interval_h),
            "unserved_kwh": float(plan.unserved_kw.sum() * m.interval_h),
            "jain": float(plan.jain),
        }
        self.plan_stats.append(stats)
        if plan.status == "time_limit":
            _log.warning(
                "orderly plan for the week of %s stopped at the HiGHS time limit "
                "(orderly.time_limit_s=%s): the plan, and so the results, depend on "
                "this machine's speed",
                stats["week_start"],
                m.cfg.orderly.time_limit_s,
            )
        week = WeekPlan(first_day, plan.curtail.copy(), m.pop.block_kw.copy(), stats)
        self.plans[first_day] = week
        r = runs(plan.curtail)
        if len(r) == 0:
            return
        starts = m.clock.time_of(first_day, r.start)
        ends = m.clock.time_of(first_day, r.stop)
        m.platform.publish(
            sent_at, starts, "grid", r.user, "plan", quantity=week.block_kw[r.user], until=ends
        )

    def plan_of_day(self, day: int) -> NDArray[np.bool_]:
        """Planned curtailment mask of one day ``(n_users, ipd)`` (all False if none)."""
        m = self.model
        week_start = m.clock.week_start(day)
        plan = self.plans.get(week_start)
        if plan is None:
            return np.zeros((m.pop.n_users, m.ipd), dtype=bool)
        k = day - week_start
        return plan.curtail[:, k * m.ipd : (k + 1) * m.ipd]

    def publish_day(self, day: int) -> None:
        """Send reminders for tomorrow's planned calls (and today's on day 0).

        Reminders go ``reminder_lead_h`` before each call starts; the final
        15-minute notices are sent by :meth:`dispatch_day`.
        """
        m = self.model
        lead = np.timedelta64(int(m.cfg.platform.reminder_lead_h * 3600 * 10**9), "ns")
        for d in ([day] if day == 0 else []) + [day + 1]:
            r = runs(self.plan_of_day(d))
            if len(r):
                starts = m.clock.time_of(d, r.start)
                m.platform.publish(
                    starts - lead,
                    starts,
                    "grid",
                    r.user,
                    "reminder",
                    quantity=m.pop.block_kw[r.user],
                    until=m.clock.time_of(d, r.stop),
                )

    def prune(self, day: int) -> None:
        """Drop plans of weeks that have ended."""
        current = self.model.clock.week_start(day)
        for start in [s for s in self.plans if s < current]:
            del self.plans[start]

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

    def dispatch_day(self, day: int, demand_kw: NDArray[np.float64]) -> DayDispatch:
        """Enforce the plan on today's metered demand and shed what remains over capacity.

        Args:
            day: Model day index.
            demand_kw: Today's unconstrained demand ``(n_users, ipd)``, kW.

        Returns:
            The day's curtailment, shedding and notice lead times.
        """
        m = self.model
        pop = m.pop
        n, ipd = demand_kw.shape
        dt_h = m.interval_h
        notice_h = m.cfg.platform.notice_lead_min / 60.0
        capacity = self.planned_capacity_kw(day)
        lost, known, first = self.draw_failure()
        capacity = np.maximum(capacity - lost, 0.0)
        planned = (
            self.plan_of_day(day).copy()
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
            sd = self._schedule(free_loads, cap_free, first * dt_h, weekly_caps=False)
            same_day = sd.curtail & ~planned
            r_sd = runs(same_day)
            if len(r_sd):
                m.platform.publish(
                    m.clock.time_of(day, 0),
                    m.clock.time_of(day, r_sd.start),
                    "grid",
                    r_sd.user,
                    "same_day_plan",
                    quantity=pop.block_kw[r_sd.user],
                    until=m.clock.time_of(day, r_sd.stop),
                )
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
        penalty_kwh = np.bincount(rows[~comp], block[rows[~comp]] * dt_h, minlength=n)
        # Notice lead: read back from the platform for followed calls; 15 minutes
        # for the calls the grid company had to shed.
        tau_run = m.platform.lead_time_h(r_inst.user, m.clock.time_of(day, r_inst.start))
        lead = np.where(comp, tau_run[k], notice_h)
        shed = ~comp
        # Emergency shedding of any remaining excess, 15-minute notice.
        excess = demand_kw.sum(axis=0) - np.bincount(cols, kw, minlength=ipd) - capacity
        if (excess > 1e-9 * np.maximum(capacity, 1.0)).any():
            served = demand_kw.copy()
            served[rows, cols] -= kw
            free = np.where(instructed, 0.0, served)
            cap_free = capacity - np.where(instructed, served, 0.0).sum(axis=0)
            em = self._schedule(
                free,
                np.maximum(cap_free, 0.0),
                notice_h,
                method="greedy",
                weekly_caps=False,
                min_duration=1,
            )
            r_em = runs(em.curtail & ~instructed)
            self._notify(day, r_em, kind="notice")
            er, ec, ek = r_em.cells()
            rows = np.concatenate([rows, er])
            cols = np.concatenate([cols, ec])
            kw = np.concatenate([kw, np.minimum(block[er], served[er, ec])])
            shed = np.concatenate([shed, np.ones(len(er), dtype=bool)])
            lead = np.concatenate([lead, np.full(len(er), notice_h)])
            first_cell = np.concatenate([first_cell, ec == r_em.start[ek]])
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

    def record_history(self, demand_kwh: NDArray, curtailed_kwh: NDArray) -> None:
        """Carry each user's cumulative curtailed share into the next plans (rotation)."""
        self.demand_kwh_total += demand_kwh
        self.curtailed_kwh_total += curtailed_kwh

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
        lines = report.to_json(orient="records", lines=True, double_precision=6)
        payload = np.asarray(lines.splitlines(), dtype=object)
        return m.platform.publish(
            sent_at,
            sent_at,
            "grid",
            report.index.to_numpy(),
            "report",
            quantity=report["benchmark_ratio"].to_numpy(),
            payload=payload,
        )
