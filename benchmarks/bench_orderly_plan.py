"""Benchmark the orderly electricity-use scheduler (markets.orderly.schedule).

Synthetic week (seeded, ``np.random.default_rng(0)``): industrial users with three-shift,
two-shift and day-shift load shapes (lighter weekends), and a 5 h shortage (13:00-18:00)
on every weekday at 15 % of the park's peak.  Reports wall time, gap and status for the
block MILP (200 and 1,000 users) and the greedy merit order (10,000 users, with its
lower bound), the hybrid plan the simulation uses (greedy, then fix-and-optimize, then
the MILP, each only while the gap exceeds 0.5 %; its ``status (bound)`` column names the
step that ended it), and, for comparison, the plain per-interval MILP (y[i,t], u[i,t]) on
200 users x 168 h with a 30 s time limit.

Run from the checkout root:

    .venv/bin/python benchmarks/bench_orderly_plan.py            # full
    .venv/bin/python benchmarks/bench_orderly_plan.py --quick    # skip the 30 s reference
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from markets.orderly import loss_cny_per_kwh, restart_cost_applies, schedule

HOURS = 168
SHORTAGE_HOURS = (13, 18)  # [start, stop) local hour on weekdays
SHORTAGE_FRACTION = 0.15  # of the park's peak load
PLAN_LEAD_H = 6.0  # the weekly plan is issued on Sunday 18:00


@dataclass(frozen=True)
class Week:
    loads_kw: NDArray[np.float64]
    capacity_kw: NDArray[np.float64]
    block_kw: NDArray[np.float64]
    loss_cny_per_kwh: NDArray[np.float64]
    restart_cost_cny: NDArray[np.float64]
    protected: NDArray[np.bool_]
    max_hours: float
    max_calls: float
    min_duration: int
    fairness_weight_cny: float
    prior_curtailed_kwh: NDArray[np.float64]
    prior_demand_kwh: NDArray[np.float64]

    def kwargs(self) -> dict:
        return {
            "restart_cost_cny": self.restart_cost_cny,
            "protected": self.protected,
            "max_hours": self.max_hours,
            "max_calls": self.max_calls,
            "min_duration": self.min_duration,
            "fairness_weight_cny": self.fairness_weight_cny,
            "prior_curtailed_kwh": self.prior_curtailed_kwh,
            "prior_demand_kwh": self.prior_demand_kwh,
        }


def synthetic_week(n_users: int, rng: np.random.Generator) -> Week:
    hour = np.arange(HOURS) % 24
    day = np.arange(HOURS) // 24
    weekday = day < 5
    # Shapes: 0 = three-shift (flat), 1 = two-shift 06-22, 2 = day shift 08-18.
    kind = rng.choice(3, size=n_users, p=[0.3, 0.4, 0.3])
    base = rng.uniform(0.15, 0.35, n_users)
    on = np.stack(
        [
            np.ones(HOURS, bool),
            (hour >= 6) & (hour < 22),
            (hour >= 8) & (hour < 18),
        ]
    )[kind]
    weekend_level = np.array([0.95, 0.55, 0.25])[kind]
    level = np.where(on, 1.0, base[:, None])
    level = np.where(weekday[None, :], level, np.minimum(level, weekend_level[:, None]))
    lunch = (hour == 12) & weekday
    level[kind == 2] *= np.where(lunch, 0.8, 1.0)
    peak_kw = np.clip(rng.lognormal(np.log(400.0), 0.9, n_users), 20.0, 20_000.0)
    loads = peak_kw[:, None] * level * rng.normal(1.0, 0.04, (n_users, HOURS)).clip(0.8, 1.2)

    total = loads.sum(axis=0)
    short = weekday & (hour >= SHORTAGE_HOURS[0]) & (hour < SHORTAGE_HOURS[1])
    capacity = np.where(short, total - SHORTAGE_FRACTION * total.max(), 1.05 * total)

    block = rng.uniform(0.2, 0.6, n_users) * peak_kw
    voll = np.array([60.0, 25.0, 12.0])[kind] * rng.lognormal(0.0, 0.4, n_users)
    rho = rng.uniform(0.2, 0.8, n_users)
    notice_h = PLAN_LEAD_H + np.arange(HOURS, dtype=float)
    loss = loss_cny_per_kwh(voll[:, None], rho[:, None], notice_h[None, :])
    shutdown_h = rng.uniform(2.0, 48.0, n_users)
    restart = rng.uniform(0.5, 3.0, n_users) * block * restart_cost_applies(24.0, shutdown_h)
    protected = rng.random(n_users) < 0.03
    prior_demand = loads.sum(axis=1) * 4.0  # four earlier weeks
    prior_curt = prior_demand * rng.uniform(0.0, 0.01, n_users)
    return Week(
        loads_kw=loads,
        capacity_kw=capacity,
        block_kw=block,
        loss_cny_per_kwh=loss,
        restart_cost_cny=restart,
        protected=protected,
        max_hours=15.0,
        max_calls=3.0,
        min_duration=2,
        fairness_weight_cny=1e7,  # 100,000 CNY per percentage point of the largest share
        prior_curtailed_kwh=prior_curt,
        prior_demand_kwh=prior_demand,
    )


def per_interval_milp(w: Week, time_limit_s: float) -> tuple[float, float, float, float, str]:
    """Plain per-interval MILP (reference): binaries y[i,t], u[i,t] for every interval.

    Same objective and constraints as markets.orderly (cover with unserved slack, starts,
    minimum duration, hour/call caps, rotation), without the block restriction.
    Returns (wall time s, objective CNY, dual bound CNY, relative gap, HiGHS message).
    """
    loads = w.loads_kw
    n, n_t = loads.shape
    dt = 1.0
    deficit = loads.sum(axis=0) - w.capacity_kw
    dp = np.minimum(w.block_kw[:, None], loads)
    c_it = w.loss_cny_per_kwh * dp * dt
    m = w.min_duration
    def_idx = np.flatnonzero(deficit > 1e-9)
    n_s = def_idx.size
    iy = np.arange(n * n_t).reshape(n, n_t)
    iu = n * n_t + iy
    iz = 2 * n * n_t
    i_s = iz + 1 + np.arange(n_s)
    n_var = iz + 1 + n_s
    cost = np.zeros(n_var)
    cost[iy] = c_it
    cost[iu] = w.restart_cost_cny[:, None]
    cost[iz] = w.fairness_weight_cny
    cost[i_s] = 1e4 * dt
    rows, cols, vals, lo, hi = [], [], [], [], []
    r0 = 0

    def add(r, c, v):
        rows.append(np.ravel(r))
        cols.append(np.ravel(c))
        vals.append(np.ravel(np.broadcast_to(v, np.shape(r))))

    # Cover.
    rr = np.broadcast_to(np.arange(n_s), (n, n_s))
    add(r0 + rr, iy[:, def_idx], dp[:, def_idx])
    add(r0 + np.arange(n_s), i_s, 1.0)
    lo.append(deficit[def_idx])
    hi.append(np.full(n_s, np.inf))
    r0 += n_s
    # Starts: y[t] - y[t-1] - u[t] <= 0 (y[-1] = 0).
    rr = r0 + np.arange(n * n_t).reshape(n, n_t)
    add(rr, iy, 1.0)
    add(rr[:, 1:], iy[:, :-1], -1.0)
    add(rr, iu, -1.0)
    lo.append(np.full(n * n_t, -np.inf))
    hi.append(np.zeros(n * n_t))
    r0 += n * n_t
    # Minimum duration: sum_{tau=t-m+1..t} u[tau] - y[t] <= 0.
    rr = r0 + np.arange(n * n_t).reshape(n, n_t)
    for lag in range(m):
        add(rr[:, lag:], iu[:, : n_t - lag], 1.0)
    add(rr, iy, -1.0)
    lo.append(np.full(n * n_t, -np.inf))
    hi.append(np.zeros(n * n_t))
    r0 += n * n_t
    # Hour and call caps.
    rr = np.broadcast_to(r0 + np.arange(n)[:, None], (n, n_t))
    add(rr, iy, dt)
    lo.append(np.full(n, -np.inf))
    hi.append(np.full(n, w.max_hours))
    r0 += n
    rr = np.broadcast_to(r0 + np.arange(n)[:, None], (n, n_t))
    add(rr, iu, 1.0)
    lo.append(np.full(n, -np.inf))
    hi.append(np.full(n, w.max_calls))
    r0 += n
    # Rotation.
    den = w.prior_demand_kwh + loads.sum(axis=1) * dt
    free = np.flatnonzero(~w.protected)
    rr = np.broadcast_to(r0 + np.arange(free.size)[:, None], (free.size, n_t))
    add(rr, iy[free], dp[free] * dt / den[free, None])
    add(r0 + np.arange(free.size), np.full(free.size, iz), -1.0)
    lo.append(np.full(free.size, -np.inf))
    hi.append(-w.prior_curtailed_kwh[free] / den[free])
    r0 += free.size

    a = sparse.csr_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r0, n_var)
    )
    lb = np.zeros(n_var)
    ub = np.ones(n_var)
    ub[iy[w.protected]] = 0.0
    ub[iz] = np.inf
    ub[i_s] = deficit[def_idx]
    integrality = np.zeros(n_var)
    integrality[: 2 * n * n_t] = 1
    t0 = time.perf_counter()
    res = milp(
        cost,
        constraints=LinearConstraint(a, np.concatenate(lo), np.concatenate(hi)),
        bounds=Bounds(lb, ub),
        integrality=integrality,
        options={"time_limit": time_limit_s, "mip_rel_gap": 0.01, "disp": False},
    )
    wall = time.perf_counter() - t0
    obj = float(res.fun) if res.fun is not None else float("nan")
    bound = res.mip_dual_bound if res.mip_dual_bound is not None else float("nan")
    gap = float(res.mip_gap) if res.mip_gap is not None else float("nan")
    return wall, obj, float(bound), gap, str(res.message)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the per-interval MILP")
    parser.add_argument("--reference-limit-s", type=float, default=30.0)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    weeks = {n: synthetic_week(n, rng) for n in (200, 1_000, 10_000)}
    print(
        f"{'case':<30}{'users':>7}{'blocks':>7}{'wall_s':>9}{'objective_cny':>15}"
        f"{'bound_cny':>15}{'gap':>9}{'unserved_kwh':>13}  status (bound)"
    )
    cases = [
        ("block MILP, whole events", 200, "milp", None),
        ("block MILP, 2 h sub-blocks", 200, "milp", 2),
        ("block MILP, whole events", 1_000, "milp", None),
        ("block MILP, 2 h sub-blocks", 1_000, "milp", 2),
        ("greedy, LP bound", 1_000, "greedy", None),
        ("hybrid (the default)", 200, "hybrid", None),
        ("hybrid (the default)", 1_000, "hybrid", None),
        ("hybrid, 0.1 % gap (FO, MILP)", 200, "hybrid", 0.001),  # greedy 0.36 %
        ("greedy, Lagrangian bound", 10_000, "greedy", None),
        ("greedy, LP bound", 10_000, "greedy", "lp"),
    ]
    for label, n, method, extra in cases:
        w = weeks[n]
        kw = w.kwargs()
        if method == "milp":
            kw["sub_block_intervals"] = extra
        elif method == "hybrid" and extra is not None:
            kw["hybrid_gap"] = extra
        elif extra == "lp":
            kw["greedy_bound"] = "lp"
        t0 = time.perf_counter()
        plan = schedule(
            w.loads_kw,
            w.capacity_kw,
            w.block_kw,
            w.loss_cny_per_kwh,
            method=method,
            time_limit_s=60.0,
            **kw,
        )
        wall = time.perf_counter() - t0
        print(
            f"{label:<30}{n:>7}{plan.n_blocks:>7}{wall:>9.3f}{plan.objective_cny:>15.0f}"
            f"{plan.lower_bound_cny:>15.0f}{plan.gap:>9.4f}{plan.unserved_kwh:>13.1f}"
            f"  {plan.status} ({plan.bound_method})"
        )
    if not args.quick:
        wall, obj, bound, gap, msg = per_interval_milp(weeks[200], args.reference_limit_s)
        print(
            f"{'per-interval MILP (reference)':<30}{200:>7}{'-':>7}{wall:>9.3f}{obj:>15.0f}"
            f"{bound:>15.0f}{gap:>9.4f}{'':>13}  {msg}"
        )


if __name__ == "__main__":
    main()
