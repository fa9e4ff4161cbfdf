"""Warm start of markets.orderly.schedule: a plan reused when only the priors changed.

The rotation history (prior curtailed and demand energy, kWh) enters the block model only
through the fairness term λ·z, z = the largest cumulative share ≤ 1.  So for inputs that
are identical except the priors, every plan has the same loss (CNY), and
``cost_bound_cny + λ·z_min`` (``cost_bound_cny = lower_bound − λ``) is a valid lower bound
on the new optimum: for any plan x, loss(x) + λ·z_old(x) ≥ bound_old and z_old(x) ≤ 1.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from markets.orderly import schedule


def _instance(seed: int) -> dict:
    """Two days of 24 h, 8 users, one 3 h shortage a day (integer kW)."""
    rng = np.random.default_rng(seed)
    n, ipd = 8, 24
    loads = rng.integers(5, 21, (n, 2 * ipd)).astype(float)
    block = rng.integers(3, 10, n).astype(float)
    deficit = np.zeros(2 * ipd)
    deficit[10:13] = deficit[34:37] = float(rng.integers(5, 15))
    return {
        "loads_kw": loads,
        "capacity_kw": loads.sum(axis=0) - deficit,
        "block_kw": block,
        "loss_cny_per_kwh": rng.uniform(1.0, 5.0, n),
        "restart_cost_cny": rng.uniform(0.0, 10.0, n),
        "max_hours": 6.0,
        "max_calls": 2,
        "min_duration": 2,
        "fairness_weight_cny": 50.0,
        "mip_rel_gap": 0.0,
    }


def _priors(seed: int, loads_kw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    demand = loads_kw.sum(axis=1) * rng.uniform(1.0, 3.0, loads_kw.shape[0])
    return demand * rng.uniform(0.0, 0.2, loads_kw.shape[0]), demand


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), prior_seed=st.integers(0, 2**32 - 1))
def test_reused_bound_is_valid_and_loss_unchanged(seed: int, prior_seed: int) -> None:
    """The reused plan's bound never exceeds the exact optimum under the new priors, and
    its blocks and loss (CNY) are the previous plan's."""
    inst = _instance(seed)
    first = schedule(**inst, method="milp")
    prior_c, prior_d = _priors(prior_seed, inst["loads_kw"])
    again = schedule(
        **inst,
        method="milp",
        prior_curtailed_kwh=prior_c,
        prior_demand_kwh=prior_d,
        previous=first,
        hybrid_gap=1.0,  # accept any certified gap, to test the bound itself
    )
    exact = schedule(**inst, method="milp", prior_curtailed_kwh=prior_c, prior_demand_kwh=prior_d)
    assert again.input_key == first.input_key == exact.input_key
    if again.status == "reused":  # gap ≤ min(mip_rel_gap=0, 1.0) only when exact
        np.testing.assert_array_equal(again.curtail, first.curtail)
    assert again.lower_bound_cny <= exact.objective_cny + 1e-6 * max(1.0, exact.objective_cny)


def test_reuse_when_certified_and_cost_bound_carried() -> None:
    """With a loose tolerance the plan is reused; its cost bound is carried, not lowered
    again by λ (else a chain of reuses would weaken the certificate week after week)."""
    inst = {**_instance(3), "mip_rel_gap": 0.05, "fairness_weight_cny": 0.5}
    first = schedule(**inst, method="milp", hybrid_gap=0.05)
    assert first.cost_bound_cny == pytest.approx(first.lower_bound_cny - 0.5)
    prior_c, prior_d = _priors(1, inst["loads_kw"])
    plan = first
    for _ in range(3):
        plan = schedule(
            **inst,
            prior_curtailed_kwh=prior_c,
            prior_demand_kwh=prior_d,
            previous=plan,
            hybrid_gap=0.05,
        )
        assert plan.status == "reused"
        assert plan.cost_bound_cny == first.cost_bound_cny
        assert plan.loss_cny == pytest.approx(first.loss_cny)
        # bound = cost bound + λ·z_min, z_min = the largest prior share
        z_min = float((prior_c / (prior_d + inst["loads_kw"].sum(axis=1))).max())
        assert plan.lower_bound_cny == pytest.approx(first.cost_bound_cny + 0.5 * z_min)


def test_changed_inputs_are_solved_afresh() -> None:
    """Another capacity (so another deficit) changes the key: no reuse."""
    inst = _instance(4)
    first = schedule(**inst)
    other = {**inst, "capacity_kw": inst["capacity_kw"] - 1.0}
    plan = schedule(**other, previous=first)
    assert plan.input_key != first.input_key
    assert plan.status != "reused"
