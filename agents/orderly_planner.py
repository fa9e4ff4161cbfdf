"""The orderly-use planner: the weekly plan, its reminders and the rotation history.

The grid company composes one planner. On the first day of each week it
forecasts the following week's load and solves the orderly plan with
``markets.orderly.schedule`` (a block MILP, or the greedy with its bound on
large parks), publishes it on the platform ``plan_lead_days`` ahead and sends
reminders ``reminder_lead_h`` before each call; users' cumulative curtailed
shares carry into the next plans (the rotation bound). In the mature phase
(``phase.orderly_fallback``) there is no weekly plan: the market operator asks
:meth:`OrderlyPlanner.schedule` for the day-ahead fallback plan of the shortage
left after the market and interruptible load, and the rotation history is the same.

References:
    NDRC (2011) 《有序用电管理办法》 (orderly electricity-use measures):
    plans prepared in advance, published to users, interruptible classes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from markets._arrays import runs
from markets.orderly import loss_cny_per_kwh, restart_cost_applies, schedule

if TYPE_CHECKING:
    from agents._model import ModelView

__all__ = ["DAY_PLAN_KINDS", "OrderlyPlanner", "WeekPlan"]

_log = logging.getLogger("parksim")

#: Plans made within a day, as ``day_plans.parquet``'s ``kind`` names them:
#: ``same_day`` (a failure known at 00:00, planned on the forecast), ``fallback``
#: (the mature market's day-ahead fallback for the shortage left after the market
#: and interruptible load) and ``emergency`` (the merit-order shedding of what is
#: still over capacity, a greedy plan of calls of any length).
DAY_PLAN_KINDS: tuple[str, ...] = ("same_day", "fallback", "emergency")


def _solver_figures(plan: Any, planned_kw: float, interval_h: float) -> dict[str, Any]:
    """A plan's solver figures for the outputs (CNY; kWh; s; gap and Jain dimensionless).

    Args:
        plan: The plan (``markets.orderly.OrderlyPlan``).
        planned_kw: Its curtailed kW summed over users and intervals.
        interval_h: Interval length, h.
    """
    return {
        "method": plan.method,
        "status": plan.status,
        "gap": float(plan.gap),
        "objective_cny": float(plan.objective_cny),
        "lower_bound_cny": float(plan.lower_bound_cny),
        "bound_method": plan.bound_method,
        "loss_cny": float(plan.loss_cny),
        "solve_time_s": float(plan.solve_time_s),
        "planned_kwh": planned_kw * interval_h,
        "unserved_kwh": float(plan.unserved_kw.sum() * interval_h),
        "jain": float(plan.jain),
    }


@dataclass(frozen=True)
class WeekPlan:
    """A published weekly plan.

    Attributes:
        first_day: Model day index of the week's first day.
        curtail: Boolean ``(n_users, 7 · intervals_per_day)``.
        block_kw: Curtailed kW per user (ΔP at plan time).
        stats: Solver figures for the outputs (method, status, gap, time).
        has_calls: Any call is planned in the week.
    """

    first_day: int
    curtail: NDArray[np.bool_]
    block_kw: NDArray[np.float64]
    stats: dict[str, Any]
    has_calls: bool = True


class OrderlyPlanner:
    """Weekly orderly plans of one grid company.

    Args:
        model: The park model.
        capacity_kw: The day's capacity known in advance, kW per interval (by day).
        sender: Sender name on the platform.
    """

    def __init__(
        self, model: ModelView, capacity_kw: Callable[[int], NDArray[np.float64]], sender: str
    ) -> None:
        self.model = model
        self.capacity_kw = capacity_kw
        self.sender = sender
        n = model.pop.n_users
        self.plans: dict[int, WeekPlan] = {}
        self.plan_stats: list[dict[str, Any]] = []
        #: Solver figures of every plan made within a day (:data:`DAY_PLAN_KINDS`).
        self.day_plan_stats: list[dict[str, Any]] = []
        self.curtailed_kwh_total = np.zeros(n)
        self.demand_kwh_total = np.zeros(n)
        self._last_plan: Any = None  # last weekly plan: a warm start for the next week
        # The last week's forecast, by its weekend pattern, margin and the population's
        # cached day loads (new arrays after ``Population.changed``), read-only.
        self._week_loads: tuple[Any, ...] | None = None
        # The last plan's curtailment mask, its total (kW) and its calls (Runs): a
        # reused plan shares the mask, so neither is computed again.
        self._week_mask: tuple[Any, ...] | None = None

    def _loss_for_notice(self, notice_h: float) -> NDArray[np.float64]:
        pop = self.model.pop
        return loss_cny_per_kwh(pop.voll_cny_per_kwh, pop.rho, notice_h)

    def _restart_for_notice(self, notice_h: float) -> NDArray[np.float64]:
        pop = self.model.pop
        return np.where(restart_cost_applies(notice_h, pop.shutdown_h), pop.restart_cost_cny, 0.0)

    def schedule(
        self,
        loads_kw: NDArray[np.float64],
        capacity_kw: NDArray[np.float64],
        notice_h: float,
        *,
        method: str | None = None,
        weekly_caps: bool = True,
        block_kw: NDArray[np.float64] | None = None,
        min_duration: int | None = None,
        previous: Any = None,
        greedy_bound: str | None = None,
        intervals_per_day: int | None = None,
        record: tuple[int, str] | None = None,
    ) -> Any:
        """Solve an orderly plan for loads against a capacity (``markets.orderly.schedule``).

        Args:
            loads_kw: Forecast loads ``(n_users, intervals)``, kW.
            capacity_kw: Capacity per interval, kW.
            notice_h: Notice the plan's calls will have, h (sets the loss per kWh).
            method: Solver method (default: ``orderly.method``).
            weekly_caps: Apply the per-week caps on hours and calls.
            block_kw: Curtailable block per user, kW (default: the population's).
            min_duration: Minimum call length in intervals (default from conf).
            previous: An earlier plan, reused if its inputs were the same (warm start).
            greedy_bound: Lower bound of a greedy plan (default: ``orderly.greedy_bound``;
                the market's daily fallback passes ``lagrangian``, which skips the
                LP relaxation).
            intervals_per_day: Intervals of a planning day (default: the model's;
                a window of one day passes its length: calls never cross it).
            record: ``(day, kind)`` of a plan made within a day (a kind of
                :data:`DAY_PLAN_KINDS`): its solver figures are kept in
                :attr:`day_plan_stats` (``day_plans.parquet``).

        Returns:
            The plan (``markets.orderly.OrderlyPlan``).

        Raises:
            ValueError: If ``record`` names an unknown kind.
        """
        m = self.model
        o = m.cfg.orderly
        steps = m.ipd // 24
        if record is not None and record[1] not in DAY_PLAN_KINDS:
            raise ValueError(f"day plan kind must be one of {DAY_PLAN_KINDS}, got {record[1]!r}")
        plan = schedule(
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
            intervals_per_day=m.ipd if intervals_per_day is None else intervals_per_day,
            method=o.method if method is None else method,
            milp_max_users=o.milp_max_users,
            time_limit_s=o.time_limit_s,
            mip_rel_gap=o.mip_rel_gap,
            unserved_penalty_cny_per_kwh=o.unserved_penalty_cny_per_kwh,
            greedy_bound=o.greedy_bound if greedy_bound is None else greedy_bound,
            lagrangian_iters=o.lagrangian_iters,
            previous=previous,
        )
        if record is not None:
            day, kind = record
            row = {"date": m.clock.date_of(day), "kind": kind}
            row.update(_solver_figures(plan, float(plan.curtailed_kw.sum()), m.interval_h))
            self.day_plan_stats.append(row)
        return plan

    def plan_week(self, first_day: int, sent_at: np.datetime64) -> None:
        """Forecast a week, solve the orderly plan and publish it on the platform.

        Args:
            first_day: Model day index of the planned week's first day.
            sent_at: Publication time of the plan.
        """
        m = self.model
        if not m.cfg.phase.orderly_plan or m.cfg.phase.orderly_fallback:
            return  # no plan, or the plan only as the market's day-ahead fallback
        days = [first_day + d for d in range(7)]
        loads = self.week_loads_kw(first_day)
        capacity = np.concatenate([self.capacity_kw(d) for d in days])
        notice_h = (
            24.0 * m.cfg.platform.plan_lead_days
            if m.platform.enabled
            else m.cfg.platform.notice_lead_min / 60.0
        )
        plan = self.schedule(loads, capacity, notice_h, previous=self._last_plan)
        self._last_plan = plan
        last = self._week_mask
        if last is not None and last[0] is plan.curtail and last[1] is plan.curtailed_kw:
            planned_kw, r = last[2], last[3]  # a reused plan: the same (read-only) arrays
        else:
            planned_kw, r = plan.curtailed_kw.sum(), runs(plan.curtail)
            self._week_mask = (plan.curtail, plan.curtailed_kw, planned_kw, r)
        stats = {"week_start": m.clock.date_of(first_day)}
        stats.update(_solver_figures(plan, float(planned_kw), m.interval_h))
        self.plan_stats.append(stats)
        if plan.status == "time_limit":
            _log.warning(
                "orderly plan for the week of %s stopped at the HiGHS time limit "
                "(orderly.time_limit_s=%s): the plan, and so the results, depend on "
                "this machine's speed",
                stats["week_start"],
                m.cfg.orderly.time_limit_s,
            )
        # The plan's mask is read-only (shared with later reused plans): kept as it is.
        week = WeekPlan(first_day, plan.curtail, m.pop.block_kw.copy(), stats, len(r) > 0)
        self.plans[first_day] = week
        if len(r) == 0:
            return
        starts = m.clock.time_of(first_day, r.start)
        ends = m.clock.time_of(first_day, r.stop)
        m.platform.publish(
            sent_at, starts, "grid", r.user, "plan", quantity=week.block_kw[r.user], until=ends
        )

    def week_loads_kw(self, first_day: int) -> NDArray[np.float64]:
        """Forecast loads of the week from ``first_day``, kW ``(n_users, 7 · ipd)``, read-only.

        Each day is the population's expected load of its day type times
        ``1 + orderly.forecast_margin``. The array is kept and returned again while
        the weekend pattern, the margin and the population's cached day loads
        (:meth:`Population.expected_load_kw`, rebuilt after ``Population.changed``)
        are the same, so a week like the last costs no copy.
        """
        m = self.model
        weekend = tuple(m.clock.is_weekend(first_day + d) for d in range(7))
        margin = 1.0 + m.cfg.orderly.forecast_margin
        day_kw = {w: m.pop.expected_load_kw(w) for w in sorted(set(weekend))}
        last = self._week_loads
        if (
            last is not None
            and last[0] == weekend
            and last[1] == margin
            and last[2].keys() == day_kw.keys()
            and all(last[2][w] is day_kw[w] for w in day_kw)
        ):
            cached: NDArray[np.float64] = last[3]
            return cached
        loads = np.concatenate([day_kw[w] * margin for w in weekend], axis=1)
        loads.flags.writeable = False
        self._week_loads = (weekend, margin, day_kw, loads)
        return loads

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
            week = self.plans.get(m.clock.week_start(d))
            if week is None or not week.has_calls:
                continue  # no plan, or a week without calls: nothing to remind of
            r = runs(self.plan_of_day(d))
            if len(r):
                starts = m.clock.time_of(d, r.start)
                m.platform.publish(
                    starts - lead,
                    starts,
                    self.sender,
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

    def record_history(self, demand_kwh: NDArray, curtailed_kwh: NDArray) -> None:
        """Carry each user's cumulative curtailed share into the next plans (rotation)."""
        self.demand_kwh_total += demand_kwh
        self.curtailed_kwh_total += curtailed_kwh
