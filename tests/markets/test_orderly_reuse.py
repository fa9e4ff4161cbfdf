"""Warm start of markets.orderly.schedule: a plan reused when only the priors changed.

The rotation history (prior curtailed and demand energy, kWh) enters the block model only
through the fairness term λ·z, z = the largest cumulative share ≤ 1.  So for inputs that
are identical except the priors, every plan has the same loss (CNY), and
``cost_bound_cny + λ·z_min`` (``cost_bound_cny = lower_bound − λ``) is a valid lower bound
on the new optimum: for any plan x, loss(x) + λ·z_old(x) ≥ bound_old and z_old(x) ≤ 1.
"""

from __future__ import annotations

import dataclasses

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


def _assert_same_plan(a_plan: object, b_plan: object) -> None:
    """Every field of two plans equal (arrays element-wise, NaN equal to NaN), but timing."""
    for f in dataclasses.fields(a_plan):  # type: ignore[arg-type]
        if f.name in ("solve_time_s", "problem", "raw_inputs"):
            continue
        a, b = getattr(a_plan, f.name), getattr(b_plan, f.name)
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg=f.name)
        elif isinstance(a, float) and np.isnan(a):
            assert np.isnan(b), f.name
        else:
            assert a == b, f.name


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


@pytest.mark.parametrize("seed", range(4))
def test_fast_path_matches_a_fresh_preparation(seed: int) -> None:
    """Identical raw inputs skip validation and block building (the previous plan's
    problem with the new priors): every field of the plan equals the one prepared afresh."""
    inst = {**_instance(seed), "mip_rel_gap": 0.05}
    first = schedule(**inst, hybrid_gap=0.05)
    prior_c, prior_d = _priors(seed + 7, inst["loads_kw"])
    fast = schedule(**inst, prior_curtailed_kwh=prior_c, prior_demand_kwh=prior_d, previous=first)
    slow_prev = dataclasses.replace(first, problem=None, raw_inputs=None)
    slow = schedule(
        **inst, prior_curtailed_kwh=prior_c, prior_demand_kwh=prior_d, previous=slow_prev
    )
    _assert_same_plan(fast, slow)
    # Priors are still validated on the fast path.
    with pytest.raises(ValueError, match="prior_curtailed_kwh"):
        schedule(
            **inst, prior_curtailed_kwh=prior_d + 1.0, prior_demand_kwh=prior_d, previous=first
        )


def test_a_changed_load_leaves_the_fast_path() -> None:
    """One load value changed by 1 kW: prepared afresh (another key), not the old problem."""
    inst = _instance(5)
    first = schedule(**inst)
    loads = inst["loads_kw"].copy()
    loads[0, 10] += 1.0
    plan = schedule(**{**inst, "loads_kw": loads}, previous=first)
    assert plan.problem is not None and plan.problem is not first.problem
    assert plan.input_key != first.input_key
    np.testing.assert_array_equal(plan.problem.dp_kw, np.minimum(inst["block_kw"][:, None], loads))


def test_reused_plan_shares_the_previous_arrays_and_equals_an_evaluation() -> None:
    """A reused plan takes the previous plan's (read-only) curtailment arrays; every
    field equals the plan of the same blocks evaluated afresh under the new priors."""
    from markets.orderly.plan import _finalise

    inst = {**_instance(3), "mip_rel_gap": 0.05, "fairness_weight_cny": 0.5}
    first = schedule(**inst, method="milp", hybrid_gap=0.05)
    prior_c, prior_d = _priors(2, inst["loads_kw"])
    again = schedule(**inst, prior_curtailed_kwh=prior_c, prior_demand_kwh=prior_d, previous=first)
    assert again.status == "reused"
    for name in ("curtail", "curtailed_kw", "calls", "hours", "unserved_kw"):
        assert getattr(again, name) is getattr(first, name), name
        assert not getattr(again, name).flags.writeable, name
    assert again.problem is not None
    sel = first.curtail[:, again.problem.blocks.start]
    fresh = _finalise(
        again.problem, sel, again.lower_bound_cny, "reused", again.method,
        again.bound_method, 0.0, again.solver_gap, key=again.input_key,
        cost_bound=again.cost_bound_cny,
    )  # fmt: skip
    _assert_same_plan(again, fresh)


def test_read_only_loads_are_kept_not_copied() -> None:
    """Read-only loads (down to the array owning the memory) are kept by reference for
    the next call's comparison; writable ones, or read-only views of writable ones, are
    copied, so changing them afterwards leaves the fast path."""
    inst = _instance(6)
    loads = inst["loads_kw"].copy()
    loads.flags.writeable = False
    first = schedule(**{**inst, "loads_kw": loads})
    assert first.raw_inputs is not None and first.raw_inputs[0] is loads
    again = schedule(**{**inst, "loads_kw": loads}, previous=first)
    assert again.raw_inputs is not None and again.raw_inputs[0] is loads
    assert again.problem is not None and first.problem is not None
    assert again.problem.dp_kw is first.problem.dp_kw  # the fast path
    base = inst["loads_kw"].copy()
    view = base[:, :]
    view.flags.writeable = False
    plan = schedule(**{**inst, "loads_kw": view})
    assert plan.raw_inputs is not None and plan.raw_inputs[0] is not view
    base[0, 0] += 1.0
    changed = schedule(**{**inst, "loads_kw": view}, previous=plan)
    assert changed.input_key != plan.input_key
