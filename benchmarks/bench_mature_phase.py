"""Benchmark: one year (365 days, hourly) of the mature phase's wholesale side.

Prints wall time and peak memory (max RSS of a fresh process per case) of
``phase=mature`` on the large park at 10,000 users and on the default park
(about 200 users), with the time spent in the day-ahead clearing LPs (one
HiGHS call per day). Goal: 10,000 users × 365 days in under 60 s.

Usage:
    .venv/bin/python benchmarks/bench_mature_phase.py            # 365 days
    .venv/bin/python benchmarks/bench_mature_phase.py --quick    # 30 days
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r"""
import json, resource, time
import markets.reserve_day as rd
import agents.market_operator as mo
from simulation.config import validate
from simulation.model import ParkModel
from simulation.run import compose_config
lp_s = [0.0]
inner = mo.co_optimize_day
def timed(*a, **k):
    t = time.perf_counter()
    try:
        return inner(*a, **k)
    finally:
        lp_s[0] += time.perf_counter() - t
mo.co_optimize_day = timed
t0 = time.perf_counter()
cfg = compose_config({overrides!r})
validate(cfg)
model = ParkModel(cfg)
t1 = time.perf_counter()
model.run()
t2 = time.perf_counter()
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"setup_s": t1 - t0, "run_s": t2 - t1, "lp_s": lp_s[0], "rss_mb": rss_mb}}))
"""


def run_case(overrides: list[str]) -> dict:
    code = CHILD.format(overrides=overrides)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=HERE.parent
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="30 days instead of 365")
    args = ap.parse_args()
    days = 30 if args.quick else 365
    common = ["phase=mature", f"days={days}", "output.users_per_day=false"]
    cases = [
        ("large 10,000", ["park=large", "park.n_users=10000", *common]),
        ("default park", ["park=default", *common]),
    ]
    load = os.getloadavg()
    print(
        f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)"
    )
    print(
        f"{'case':<14}{'days':>6}{'setup s':>9}{'run s':>9}{'LP s':>8}{'total s':>9}{'peak MB':>9}"
    )
    for name, ov in cases:
        r = run_case(ov)
        total = r["setup_s"] + r["run_s"]
        print(
            f"{name:<14}{days:>6}{r['setup_s']:>9.2f}{r['run_s']:>9.2f}{r['lp_s']:>8.2f}"
            f"{total:>9.2f}{r['rss_mb']:>9.0f}",
            flush=True,
        )
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("LP s: the daily day-ahead clearing LPs (one HiGHS call per day) within run s.")


if __name__ == "__main__":
    main()
