"""Benchmark: one year (365 days, hourly) of the orderly and efficiency phases.

Prints wall time, user-intervals per second and peak memory (max RSS of a
fresh process per case) for 1,000 and 10,000 users, and the naive reference
(each user a Mesa agent stepping every interval in Python, given its plan) on
1,000 users, with the throughput ratios — overall, and without the weekly
orderly-plan solves (which the naive reference does not do). Goal: 10,000
users × 365 days in under 60 s and 4 GB, and at least 50× the naive
reference's throughput.

Usage:
    .venv/bin/python benchmarks/bench_orderly_phase.py            # 365 days
    .venv/bin/python benchmarks/bench_orderly_phase.py --quick    # 30 days
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {here!r})
kind, n, days = {kind!r}, {n}, {days}
t0 = time.perf_counter()
plan_s = 0.0
if kind == "naive":
    from naive_reference import NaiveModel
    model = NaiveModel(n)
    t1 = time.perf_counter()
    for _ in range(days):
        model.step()
else:
    from simulation.config import validate
    from simulation.model import ParkModel
    from simulation.run import compose_config
    cfg = compose_config(["park=large", f"park.n_users={{n}}", f"days={{days}}",
                          f"phase={{kind}}", "output.users_per_day=false"])
    validate(cfg)
    model = ParkModel(cfg)
    t1 = time.perf_counter()
    model.run()
    plan_s = sum(s["solve_time_s"] for s in model.module("grid").plan_stats)  # all weeks
t2 = time.perf_counter()
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"setup_s": t1 - t0, "run_s": t2 - t1, "plan_s": plan_s, "rss_mb": rss_mb}}))
"""


def run_case(kind: str, n: int, days: int) -> dict:
    code = CHILD.format(here=str(HERE), kind=kind, n=n, days=days)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=HERE.parent
    )
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res.update(kind=kind, n=n, days=days)
    res["user_intervals_per_s"] = n * days * 24 / res["run_s"]
    res["engine_per_s"] = n * days * 24 / (res["run_s"] - res["plan_s"])
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="30 days instead of 365")
    args = ap.parse_args()
    days = 30 if args.quick else 365
    cases = [
        ("orderly", 1_000, days),
        ("orderly", 10_000, days),
        ("efficiency", 10_000, days),
        ("naive", 1_000, 30),
    ]
    print(
        f"{'case':<12}{'users':>8}{'days':>6}{'setup s':>9}{'run s':>9}{'plan s':>8}"
        f"{'user-int/s':>14}{'engine/s':>14}{'peak MB':>9}"
    )
    results = []
    for kind, n, d in cases:
        r = run_case(kind, n, d)
        results.append(r)
        print(
            f"{kind:<12}{n:>8}{d:>6}{r['setup_s']:>9.2f}{r['run_s']:>9.2f}{r['plan_s']:>8.2f}"
            f"{r['user_intervals_per_s']:>14,.0f}{r['engine_per_s']:>14,.0f}{r['rss_mb']:>9.0f}",
            flush=True,
        )
    naive = next(r for r in results if r["kind"] == "naive")
    for r in results:
        if r["kind"] == "naive":
            continue
        print(
            f"{r['kind']} {r['n']:,} users vs naive 1,000: "
            f"{r['user_intervals_per_s'] / naive['user_intervals_per_s']:.1f}x overall, "
            f"{r['engine_per_s'] / naive['engine_per_s']:.1f}x without the weekly plan solves"
        )
    print(
        "run s: simulated days after setup; plan s: weekly orderly-plan solves within it "
        "(the naive reference is handed its plan); engine/s excludes plan s."
    )


if __name__ == "__main__":
    main()
