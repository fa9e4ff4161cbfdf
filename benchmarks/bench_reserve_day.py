"""Benchmark of markets.reserve_day.co_optimize_day against per-interval co_optimize.

Run from the repository root:

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_reserve_day.py

The market is PHASES.md §3's six-plant stack (variable costs 0.28–0.85 CNY/kWh with
a 5 % markup, capacities 30/25/20/15/10/10 % of a 100 MW peak, reserve caps 20 % of
capacity, reserve offers 10 CNY/MW·h) facing a random daily demand shape between 40
and 95 MW (``np.random.default_rng(0)``) and the WECC requirement 3 % of demand.
It reports one day of 24 and of 96 intervals (best of ``REPEATS``) as one LP and as
one ``co_optimize`` call per interval, and then 365 days of 24 intervals.
"""

from __future__ import annotations

import time

import numpy as np

from markets.reserve import co_optimize
from markets.reserve_day import co_optimize_day, reserve_requirement_mw

REPEATS = 5
PEAK_MW = 100.0
VAR_COST_CNY_PER_KWH = np.array([0.28, 0.30, 0.33, 0.38, 0.55, 0.85])
CAPACITY_SHARE = np.array([0.30, 0.25, 0.20, 0.15, 0.10, 0.10])
MARKUP = 0.05


def _market(n_t: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    dt = 24.0 / n_t
    hours = np.arange(n_t) * dt
    shape = 0.675 + 0.275 * np.sin((hours - 8.0) / 24.0 * 2.0 * np.pi)
    demand = PEAK_MW * np.clip(shape + rng.normal(0.0, 0.02, n_t), 0.40, 0.95)
    capacity = CAPACITY_SHARE * PEAK_MW * 1.1
    return {
        "energy_cost_cny_per_mwh": 1000.0 * VAR_COST_CNY_PER_KWH * (1.0 + MARKUP),
        "capacity_mw": capacity,
        "reserve_cap_mw": 0.2 * capacity,
        "reserve_cost_cny_per_mw": np.full(6, 10.0 * dt),
        "demand_mw": demand,
        "requirement_mw": reserve_requirement_mw(demand),
        "interval_h": dt,
    }


def _best(fn, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    rng = np.random.default_rng(0)
    print("markets.reserve_day.co_optimize_day (one HiGHS LP per day), 6 plants")
    print(f"{'intervals':>9} {'one LP [s]':>11} {'per-interval [s]':>17} {'max |Δcost| CNY':>16}")
    for n_t in (24, 96):
        m = _market(n_t, rng)
        day = co_optimize_day(**m)
        singles = [
            co_optimize(
                m["energy_cost_cny_per_mwh"],
                m["capacity_mw"],
                m["reserve_cap_mw"],
                m["reserve_cost_cny_per_mw"],
                m["demand_mw"][k],
                m["requirement_mw"][k],
                interval_h=m["interval_h"],
            )
            for k in range(n_t)
        ]
        diff = np.abs(
            day.energy_cost_cny + day.reserve_cost_cny - np.array([s.cost_cny for s in singles])
        ).max()
        t_day = _best(lambda m=m: co_optimize_day(**m))
        t_single = _best(
            lambda m=m, n_t=n_t: [
                co_optimize(
                    m["energy_cost_cny_per_mwh"],
                    m["capacity_mw"],
                    m["reserve_cap_mw"],
                    m["reserve_cost_cny_per_mw"],
                    m["demand_mw"][k],
                    m["requirement_mw"][k],
                    interval_h=m["interval_h"],
                )
                for k in range(n_t)
            ]
        )
        print(f"{n_t:>9} {t_day:>11.4f} {t_single:>17.4f} {diff:>16.2e}")
    markets = [_market(24, rng) for _ in range(365)]
    start = time.perf_counter()
    for m in markets:
        co_optimize_day(**m)
    total = time.perf_counter() - start
    print(f"365 days × 24 intervals: {total:.2f} s ({1000.0 * total / 365:.2f} ms per day)")


if __name__ == "__main__":
    main()
