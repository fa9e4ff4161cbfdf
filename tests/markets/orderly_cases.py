"""Small orderly-plan instances shared by the orderly tests (not collected: no test_)."""

from __future__ import annotations

import numpy as np


def three_day_peak(
    seed: int, n: int = 25, frac: float = 0.5, hcap_h: float = 20.0, *, restart: bool = True
) -> dict:
    """Three days, a 10-hour peak 15 % above capacity, caps of ``hcap_h`` h and 2 calls.

    Args:
        seed: Seed of the instance's generator.
        n: Users.
        frac: Each user's block as a share of its base load.
        hcap_h: Hour cap per user, h.
        restart: Draw restart costs (0-200 CNY) after the losses.

    Returns:
        ``schedule`` keyword arguments: the greedy with its LP bound, λ = 1,000 CNY.
    """
    rng = np.random.default_rng(seed)
    days = 3
    base = rng.uniform(50, 150, n)
    shape = np.tile(np.r_[np.full(8, 0.6), np.full(10, 1.0), np.full(6, 0.7)], days)
    loads = base[:, None] * shape[None, :] * rng.uniform(0.9, 1.1, (n, 24 * days))
    inst = {
        "loads_kw": loads,
        "capacity_kw": np.full(24 * days, loads.sum(axis=0).max() * 0.85),
        "block_kw": base * frac,
        "loss_cny_per_kwh": rng.uniform(2, 20, n),
    }
    if restart:
        inst["restart_cost_cny"] = rng.uniform(0, 200, n)
    return inst | {
        "max_hours": hcap_h,
        "max_calls": 2,
        "fairness_weight_cny": 1000.0,
        "method": "greedy",
        "greedy_bound": "lp",
    }


def lumpy_instance() -> dict:
    """3 users, one 1-h interval, deficit 10 kW; the greedy is 5 % off the optimum.

    Per useful kWh: A (6 kW, 1.0 CNY/kWh) 1.0 < B (6 kW, 1.1) 1.1 < C (10 kW, 1.2) 1.2.
    The merit order takes A then B (12 kW ≥ 10; neither fits in the 2 kW surplus):
    6 + 6.6 = 12.6 CNY; the optimum is C alone, 12 CNY.  LP bound: A whole plus 4/6 of B,
    6 + 4.4 = 10.4 CNY, so the greedy gap is (12.6 − 10.4) / 12.6 = 17.5 %; with one
    block, one fix-and-optimize step solves the whole problem: (12 − 10.4) / 12 = 13.3 %.
    """
    loads = np.array([[6.0], [6.0], [10.0]])
    return {
        "loads_kw": loads,
        "capacity_kw": loads.sum(axis=0) - 10.0,
        "block_kw": np.array([6.0, 6.0, 10.0]),
        "loss_cny_per_kwh": np.array([1.0, 1.1, 1.2]),
    }
