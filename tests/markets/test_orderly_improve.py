"""Fix-and-optimize (markets.orderly.improve) and its place in the hybrid plan.

A step re-optimises one block's column with the others fixed, so the result must be
a local optimum of that neighbourhood: checked here by enumerating every column of
every block (2^8 per block) on small instances with binding caps and a fairness
term, independently of HiGHS.
"""

from __future__ import annotations

import importlib
import itertools

import numpy as np
import pytest
import scipy.optimize
from orderly_cases import lumpy_instance, three_day_peak

from markets.orderly import schedule

greedy_mod = importlib.import_module("markets.orderly.greedy")
improve_mod = importlib.import_module("markets.orderly.improve")
schedule_mod = importlib.import_module("markets.orderly.schedule")


def _instance(seed: int, n: int = 8) -> dict:
    """Three days, a 10-hour peak 15 % above capacity; caps of 20 h and 2 calls, λ = 1,000."""
    return three_day_peak(seed, n, restart=False)


def _feasible(p: object, x: np.ndarray) -> bool:
    """Caps of the block model without sub-blocks: x ≤ ub, Σ len·x ≤ H, Σ x ≤ C."""
    elig = p.elig  # type: ignore[attr-defined]
    return bool(
        (x <= p.ub).all()  # type: ignore[attr-defined]
        and (x @ p.len_h <= p.max_hours[elig] + 1e-9).all()  # type: ignore[attr-defined]
        and (x.sum(axis=1) <= p.max_calls[elig] + 1e-9).all()  # type: ignore[attr-defined]
    )


# Seeds whose greedy plan one block change improves (by 7.2, 6.6, 8.0 and 4.2 %).
@pytest.mark.parametrize("seed", [0, 3, 14, 22])
def test_no_single_block_change_improves_the_result(seed: int) -> None:
    plan = schedule(**_instance(seed))
    p = plan.problem
    assert p is not None and p.blocks.first.all()  # one block per day: a block is a call
    n_e, n_b = p.blk_cost.shape
    assert (n_e, n_b) == (8, 3)
    start = plan.curtail[:, p.blocks.start][p.elig]
    x, steps, converged = improve_mod._fix_and_optimize(p, start, 20.0)
    assert converged
    obj = greedy_mod._objective_cny(p, x)
    assert _feasible(p, x)
    assert obj < greedy_mod._objective_cny(p, start)  # the greedy plan was improved
    assert steps >= n_b  # it stops after n_b steps in a row without improvement
    columns = np.array(list(itertools.product((False, True), repeat=n_e)))
    for k in range(n_b):
        best = np.inf
        for col in columns:
            y = x.copy()
            y[:, k] = col
            if _feasible(p, y):
                best = min(best, greedy_mod._objective_cny(p, y))
        # Each step is solved to a 1e-4 relative gap of the week's objective.
        assert best >= obj * (1 - improve_mod.STEP_REL_GAP) - 1e-9


def test_without_time_or_blocks_the_start_is_returned() -> None:
    plan = schedule(**_instance(0))
    p = plan.problem
    assert p is not None
    start = plan.curtail[:, p.blocks.start][p.elig]
    x, steps, converged = improve_mod._fix_and_optimize(p, start, 0.0)
    assert x is start and steps == 0 and not converged


def test_hybrid_keeps_an_improved_plan_certified_without_the_milp(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("MILP called")

    monkeypatch.setattr(scipy.optimize, "milp", boom)
    plan = schedule(**lumpy_instance(), method="hybrid", hybrid_gap=0.15)
    assert plan.method == "fix_and_optimize" and plan.status == "local_optimum"
    assert plan.loss_cny == pytest.approx(12.0)
    assert plan.gap == pytest.approx((12.0 - 10.4) / 12.0)
    assert plan.curtail[:, 0].tolist() == [False, False, True]
    # Above the greedy's 17.5 % the greedy plan is kept, as before.
    loose = schedule(**lumpy_instance(), method="hybrid", hybrid_gap=0.18)
    assert loose.method == "greedy" and loose.loss_cny == pytest.approx(12.6)


def test_hybrid_still_solves_the_milp_when_the_improved_plan_is_not_certified(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[object] = []
    real = improve_mod._fix_and_optimize

    def spy(*args: object) -> object:
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(schedule_mod, "_fix_and_optimize", spy)
    plan = schedule(**lumpy_instance(), method="hybrid", hybrid_gap=0.1, mip_rel_gap=0.0)
    assert len(calls) == 1  # 13.3 % > 10 %: the MILP too, which finds no better plan
    assert plan.method == "milp" and plan.loss_cny == pytest.approx(12.0)


def test_an_improvement_the_time_limit_stopped_is_not_called_a_local_optimum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = improve_mod._fix_and_optimize

    def cut_short(*args: object) -> object:
        x, steps, _ = real(*args)
        return x, steps, False  # as if the budget ran out before the last check

    monkeypatch.setattr(schedule_mod, "_fix_and_optimize", cut_short)
    plan = schedule(**lumpy_instance(), method="hybrid", hybrid_gap=0.15)
    assert plan.method == "fix_and_optimize" and plan.status == "time_limit"
    assert plan.loss_cny == pytest.approx(12.0)
