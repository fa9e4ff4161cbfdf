"""Benchmark of markets.day_ahead.clear on large random bid books.

Run from the repository root:

    .venv/bin/python benchmarks/bench_day_ahead.py

Each case builds ``n_products x bids_per_product`` random bids (half supply, half
demand, prices uniform in [0, 1500] CNY/MWh rounded to 0.01 so that ties occur,
quantities uniform in [0.1, 10] MWh) with ``np.random.default_rng(0)`` and clears
the book ``REPEATS`` times, reporting the mean and best wall time.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from markets.day_ahead import clear

PRICE_FLOOR_CNY_PER_MWH = 0.0
PRICE_CAP_CNY_PER_MWH = 1500.0
REPEATS = 5
CASES = ((24, 10_000), (96, 10_000))


def random_book(n_products: int, bids_per_product: int, rng: np.random.Generator) -> pd.DataFrame:
    n = n_products * bids_per_product
    return pd.DataFrame(
        {
            "product": np.repeat(np.arange(n_products), bids_per_product),
            "side": rng.choice(np.array(["supply", "demand"]), size=n),
            "price_cny_per_mwh": np.round(
                rng.uniform(PRICE_FLOOR_CNY_PER_MWH, PRICE_CAP_CNY_PER_MWH, size=n), 2
            ),
            "quantity_mwh": rng.uniform(0.1, 10.0, size=n),
            "bidder": rng.integers(0, 500, size=n),
        }
    )


def main() -> None:
    rng = np.random.default_rng(0)
    print(f"markets.day_ahead.clear — mean/best of {REPEATS} runs (incl. input validation)")
    print(
        f"{'products':>8} {'bids/product':>12} {'total bids':>10} {'mean [s]':>9} {'best [s]':>9}"
    )
    for n_products, per_product in CASES:
        book = random_book(n_products, per_product, rng)
        clear(book, PRICE_FLOOR_CNY_PER_MWH, PRICE_CAP_CNY_PER_MWH)  # warm-up
        times = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            result = clear(book, PRICE_FLOOR_CNY_PER_MWH, PRICE_CAP_CNY_PER_MWH)
            times.append(time.perf_counter() - start)
        assert len(result.prices) == n_products
        print(
            f"{n_products:>8} {per_product:>12,} {len(book):>10,} "
            f"{np.mean(times):>9.4f} {np.min(times):>9.4f}"
        )


if __name__ == "__main__":
    main()
