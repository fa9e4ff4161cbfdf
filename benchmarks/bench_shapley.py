"""Wall time of exact and sampled Shapley cost allocation (markets.allocation.shapley).

Run from the checkout root: .venv/bin/python benchmarks/bench_shapley.py
"""

from __future__ import annotations

import time

import numpy as np

from markets.allocation import shapley

CAPACITY_RATE_CNY_PER_KW = 38.0  # per kW of aggregate monthly peak
ENERGY_RATE_CNY_PER_KWH = 0.35


def synthetic_loads_kw(rng: np.random.Generator, n_users: int, n_hours: int) -> np.ndarray:
    """Industrial-like hourly loads: user scale × (base + shifted daily shape) × noise."""
    hours = np.arange(n_hours) % 24
    scale = rng.lognormal(mean=5.0, sigma=1.0, size=(n_users, 1))
    shift = rng.integers(0, 24, size=(n_users, 1))
    base = rng.uniform(0.2, 0.8, size=(n_users, 1))
    shape = base + (1 - base) * (np.sin(2 * np.pi * (hours[None, :] - shift) / 24) > 0)
    noise = rng.lognormal(0.0, 0.1, size=(n_users, n_hours))
    return scale * shape * noise


def main() -> None:
    rng = np.random.default_rng(0)
    a, b = CAPACITY_RATE_CNY_PER_KW, ENERGY_RATE_CNY_PER_KWH
    print(f"numpy {np.__version__}; a = {a} CNY/kW, b = {b} CNY/kWh")
    print(
        f"{'method':<8} {'users':>6} {'hours':>6} {'perms':>6} {'wall_s':>9} "
        f"{'mean_value_cny':>15} {'mean_se_cny':>12} {'mean_rel_se':>12}"
    )
    for n in (8, 10, 12):
        loads = synthetic_loads_kw(rng, n, 24)
        start = time.perf_counter()
        result = shapley(loads, a, b)
        wall = time.perf_counter() - start
        print(
            f"{'exact':<8} {n:>6} {24:>6} {'-':>6} {wall:>9.4f} "
            f"{result.values_cny.mean():>15.2f} {0.0:>12.4f} {0.0:>12.2e}"
        )
    for n in (200, 1000):
        loads = synthetic_loads_kw(rng, n, 720)
        for m in (200, 1000):
            start = time.perf_counter()
            result = shapley(loads, a, b, rng, n_permutations=m)
            wall = time.perf_counter() - start
            rel = (result.std_error_cny / result.values_cny).mean()
            print(
                f"{'sampled':<8} {n:>6} {720:>6} {m:>6} {wall:>9.3f} "
                f"{result.values_cny.mean():>15.2f} {result.std_error_cny.mean():>12.4f} "
                f"{rel:>12.2e}"
            )


if __name__ == "__main__":
    main()
