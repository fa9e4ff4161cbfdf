"""The grid company's dispatch when the wholesale market is on, and the fallback plan.

:func:`day_ahead_fallback_plan` is the administrative plan of the day-ahead
shortage that interruptible load leaves uncovered (the market operator calls
it at the gate); :func:`dispatch_market_day` enforces a day.

There is no weekly plan: the day's instructions are the market operator's
day-ahead interruptible-load calls and fallback plan
(``market.instructions(day)``, each cell with its own kW). A real-time excess
over capacity calls the interruptible blocks not yet called
(``market.call_real_time``), then, for a failure known at 00:00 and with the
orderly fallback on, a same-day fallback plan; what remains is shed at
15-minute notice; if even that is not enough, instructed users shed the
rest of their block (an interruptible block may be smaller than it) at
15-minute notice. With DG on, the capacity a plan on the gross load
allows is the import limit plus the DG self-consumption (:func:`dg_relief_kw`).

Common random numbers: the failures are drawn from a copy of the model's
generator taken when the grid company is built (right after the population),
which replays the orderly phase's draws of each day — the day's load noise
``(n_users, ipd)`` float32 normals, the failure's three uniforms, the
compliance uniforms — so ``phase=orderly`` and ``phase=mature`` with the same
seed see the same failures on the same days, whatever other modules (the
efficiency ESCO, the market) draw from ``model.rng`` (Law, A. M., "Simulation
Modeling and Analysis", 5th ed., 2015, §11.2, common random numbers).

References:
    PHASES.md §2.2 rule I2 and §2.4 (the orderly plan as fallback); NDRC (2011)
    《有序用电管理办法》.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from agents.park_user import ParkUser
from markets._arrays import runs

if TYPE_CHECKING:
    from agents.interruptible_load import IlDayCall

__all__ = [
    "day_ahead_fallback_plan",
    "dg_relief_kw",
    "dispatch_market_day",
    "replay_orderly_stream",
]


def replay_orderly_stream(grid: Any, n_users: int, ipd: int) -> np.random.Generator:
    """Advance the grid's copy of the generator as the orderly phase would, up to the failure.

    The orderly phase draws, each day: the load noise (``core.demand``:
    ``standard_normal((n_users, ipd), float32)``), then in ``dispatch`` the
    failure (three uniforms) and, if compliance is uncertain, one uniform per
    user. This skips the load noise of today (and leaves the compliance draw to
    :func:`dispatch_market_day`), so the next draw is the orderly failure draw.

    Args:
        grid: The grid company (``shortage_rng``).
        n_users: Number of users.
        ipd: Intervals per day.

    Returns:
        The copy, positioned at today's failure draw.
    """
    rng = grid.shortage_rng
    rng.standard_normal((n_users, ipd), dtype=np.float32)
    return rng


def dg_relief_kw(m: Any, day: int, load_kw: NDArray[np.float64]) -> NDArray[np.float64]:
    """DG self-consumption that relieves the park's import limit, kW per interval.

    Behind-the-meter DG serves part of the hosts' load, so a plan on the
    gross load must allow the capacity plus this (0 without the ``dg``
    module): ``DGProvider.forecast_self_kw`` on the load without sub-metered
    EV charging (the ``ev`` module's ``demand`` hook has run by dispatch).

    Args:
        m: The park model.
        day: Model day.
        load_kw: Gross load per user and interval, kW.

    Returns:
        ``(ipd,)`` kW.
    """
    if not m.has_module("dg"):
        return np.zeros(load_kw.shape[1])
    if m.has_module("ev"):
        load_kw = np.maximum(load_kw - m.module("ev").unbilled_kw, 0.0)
    return np.asarray(m.module("dg").forecast_self_kw(day, load_kw).sum(axis=0))


def dispatch_market_day(grid: Any, day: int, demand_kw: NDArray[np.float64]) -> dict[str, Any]:
    """The day's dispatch with the wholesale market on (mature phase).

    Instructions are the market's day-ahead calls (interruptible load and
    the fallback plan, each cell with its own kW); a real-time excess over
    capacity calls the remaining interruptible blocks, then (failure known
    at 00:00, orderly fallback on) a same-day fallback plan, then sheds at
    15-minute notice. Failure and compliance are drawn as in
    :meth:`agents.grid_company.GridCompany.dispatch_day`.

    Args:
        grid: The grid company (capacity, failure draws, planner, notices).
        day: Model day index.
        demand_kw: Today's unconstrained demand ``(n_users, ipd)``, kW.

    Returns:
        The fields of the day's ``DayDispatch``, with the interruptible-load
        cells marked (``il``).
    """
    m = grid.model
    pop = m.pop
    n, ipd = demand_kw.shape
    dt_h = m.interval_h
    notice_h = m.cfg.platform.notice_lead_min / 60.0
    capacity = grid.planned_capacity_kw(day)
    lost, known, first = grid.draw_failure(replay_orderly_stream(grid, n, ipd))
    capacity = np.maximum(capacity - lost, 0.0) + dg_relief_kw(m, day, demand_kw)
    market = grid.model.module("market")
    inst = market.instructions(day)
    instructed = inst.mask.copy()
    inst_kw = inst.kw_per_cell.copy()
    il_mask = inst.il.copy()
    prob = float(m.cfg.grid.compliance_prob)
    if prob < 1.0:
        grid.shortage_rng.random(n)  # the orderly phase's compliance draw
    complied = ParkUser.decide_compliance(n, prob, m.rng)
    tol = 1e-9 * np.maximum(capacity, 1.0)
    cut = np.where(instructed, np.minimum(inst_kw, demand_kw), 0.0).sum(axis=0)
    excess = demand_kw.sum(axis=0) - cut - capacity
    if (excess > tol).any():
        # Real time: interruptible blocks first (a known failure at 00:00, else 15 min).
        rt = market.call_real_time(
            day, np.clip(excess, 0.0, None), ~instructed.any(axis=1), known and first >= 0
        )
        if rt is not None:
            instructed |= rt.mask
            il_mask |= rt.mask
            inst_kw = np.where(rt.mask, rt.kw_per_cell, inst_kw)
    if first >= 0 and known and m.cfg.phase.orderly_fallback:
        # Same-day fallback plan on the forecast, for the failure known at 00:00.
        forecast = pop.expected_load_kw(m.clock.is_weekend(day)) * (
            1.0 + m.cfg.orderly.forecast_margin
        )
        kept = np.where(instructed, forecast - np.minimum(inst_kw, forecast), 0.0)
        free_loads = np.where(instructed, 0.0, forecast)
        cap_free = np.maximum(capacity - kept.sum(axis=0), 0.0)
        if (free_loads.sum(axis=0) > cap_free + 1e-9 * np.maximum(cap_free, 1.0)).any():
            sd = grid.planner.schedule(
                free_loads, cap_free, first * dt_h, weekly_caps=False, record=(day, "same_day")
            )
            same_day = sd.curtail & ~instructed
            if grid.publish_same_day(day, same_day):
                instructed |= same_day
                inst_kw = np.where(same_day, pop.block_kw[:, None], inst_kw)
    r_inst = runs(instructed)
    grid._notify(day, r_inst)
    block = pop.block_kw
    rows, cols, k = r_inst.cells()
    cell_kw = inst_kw[rows, cols]
    kw = np.minimum(cell_kw, demand_kw[rows, cols])
    comp = complied[rows]
    first_cell = cols == r_inst.start[k]
    first_frac = max(0.0, 1.0 - notice_h / dt_h)
    kw = np.where(~comp & first_cell, kw * first_frac, kw)
    penalty_kwh = np.bincount(rows[~comp], cell_kw[~comp] * dt_h, minlength=n)
    tau_run = m.platform.lead_time_h(r_inst.user, m.clock.time_of(day, r_inst.start))
    lead = np.where(comp, tau_run[k], notice_h)
    shed = ~comp
    il_cells = il_mask[rows, cols]
    excess = demand_kw.sum(axis=0) - np.bincount(cols, kw, minlength=ipd) - capacity
    if (excess > tol).any():
        er, ec, ekw, efirst = grid.emergency_shed(
            day, demand_kw, rows, cols, kw, instructed, capacity, notice_h
        )
        rows = np.concatenate([rows, er])
        cols = np.concatenate([cols, ec])
        kw = np.concatenate([kw, ekw])
        shed = np.concatenate([shed, np.ones(len(er), dtype=bool)])
        lead = np.concatenate([lead, np.full(len(er), notice_h)])
        first_cell = np.concatenate([first_cell, efirst])
        il_cells = np.concatenate([il_cells, np.zeros(len(er), dtype=bool)])
    excess = demand_kw.sum(axis=0) - np.bincount(cols, kw, minlength=ipd) - capacity
    if (excess > tol).any():
        # Last resort: instructed users shed the rest of their block (an IL block
        # may be smaller than it) at 15-minute notice; such a cell counts as shed.
        room = np.clip(np.minimum(block[rows], demand_kw[rows, cols]) - kw, 0.0, None)
        for t in np.flatnonzero(excess > tol):
            sel = np.flatnonzero((cols == t) & (room > 0))
            order = sel[np.argsort(-room[sel], kind="stable")]
            before = np.cumsum(room[order]) - room[order]
            take = np.clip(excess[t] - before, 0.0, room[order])
            hit = order[take > 0]
            kw[order] += take
            shed[hit] = True
            il_cells[hit] = False
            lead[hit] = notice_h
    return dict(
        capacity_kw=capacity,
        failure_kw=lost,
        rows=rows,
        cols=cols,
        curtailed_kw=kw,
        shed=shed,
        lead_h=lead,
        start=first_cell,
        penalty_kwh=penalty_kwh,
        il=il_cells,
    )


def day_ahead_fallback_plan(
    m: Any,
    day: int,
    capacity_kw: NDArray[np.float64],
    uncovered_kw: NDArray[np.float64],
    il_call: IlDayCall | None,
    sent: Any,
) -> NDArray[np.bool_] | None:
    """The administrative plan of the day-ahead shortage IL did not cover (PHASES.md §2.4).

    Planned with the grid's ``OrderlyPlanner.schedule`` (same loss and rotation
    model as the weekly plan, notice = ``market.gate_lead_h``) on the forecast
    load × (1 + ``orderly.forecast_margin``) of the users not called for IL,
    only over the window spanning the short intervals; published at the gate.

    Args:
        m: The park model.
        day: Delivery day.
        capacity_kw: Capacity the market offered per interval, kW.
        uncovered_kw: Shortfall IL did not cover per interval, kW.
        il_call: The day-ahead IL calls (None if none).
        sent: Publication time (the day-ahead gate).

    Returns:
        The fallback cells ``(n_users, ipd)``, or None if the plan curtails nothing.
    """
    pop = m.pop
    forecast = pop.expected_load_kw(m.clock.is_weekend(day)) * (1.0 + m.cfg.orderly.forecast_margin)
    market_users = (pop.supplier >= 2)[:, None]
    if il_call is not None:
        il = il_call.mask
        kept = np.where(il, forecast - np.minimum(il_call.kw_per_cell, forecast), 0.0)
    else:
        il = np.zeros_like(forecast, dtype=bool)
        kept = np.zeros_like(forecast)
    free = np.where(il | ~market_users, 0.0, forecast)
    cap = np.maximum(capacity_kw - kept.sum(axis=0), 0.0)
    # only the short intervals are planned, on the window that spans them
    cap = np.where(uncovered_kw > 0, cap, free.sum(axis=0) + 1.0)
    short = np.flatnonzero(uncovered_kw > 0)
    ipd = m.ipd
    md = max(1, round(m.cfg.orderly.min_duration_h * ipd / 24))
    lo, hi = int(short[0]), int(short[-1]) + 1
    if hi - lo < md:
        hi = min(ipd, lo + md)
        lo = max(0, hi - md)
    lead_h = float(m.cfg.market.gate_lead_h)
    plan = m.module("grid").planner.schedule(
        free[:, lo:hi],
        cap[lo:hi],
        lead_h,
        weekly_caps=False,
        greedy_bound="lagrangian",
        intervals_per_day=hi - lo,
        record=(day, "fallback"),
    )
    fallback = np.zeros_like(il)
    fallback[:, lo:hi] = plan.curtail
    fallback &= ~il
    rr = runs(fallback)
    if len(rr) == 0:
        return None
    m.platform.publish(
        sent,
        m.clock.time_of(day, rr.start),
        "grid",
        rr.user,
        "fallback_plan",
        quantity=pop.block_kw[rr.user],
        until=m.clock.time_of(day, rr.stop),
    )
    return np.asarray(fallback)
