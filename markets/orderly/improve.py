"""Fix-and-optimize: a block selection improved one block at a time, each block exactly.

A greedy plan that its bound does not certify is usually a few user-blocks off the
optimum: the last users taken to cover a block's deficit overshoot it, and which
users spend their 20 h on which event is decided block by block. One step here frees
the selections of one block ``x[:, k]`` (every eligible user) and fixes every other
block at the incumbent; what is left is the block MILP of :mod:`markets.orderly.milp`
with those columns' bounds fixed (HiGHS's presolve removes them): a covering
knapsack over one block, with each user's remaining hour and call caps and the
rotation share the other blocks leave it, and the fairness term ``λ·z`` whole. It is
solved on ``highspy`` to a relative gap of :data:`STEP_REL_GAP` of the whole week's
objective, in 10-60 ms on the default park's weeks (:data:`STEP_OPTIONS`). The
blocks are taken round robin, a step's plan kept only if its objective
(:func:`~markets.orderly.greedy._objective_cny`) is lower, until ``n_blocks`` steps in
a row improve nothing (no single-block change improves the plan) or the time budget
is spent.

On the four default-park weeks whose greedy plan missed the 0.5 % certificate in
one-year runs (efficiency 7 July and 8 December, agency's two; 164 users × 5 blocks,
a 20 h cap), it ends 0.16-0.24 % above the LP bound after 7-12 steps in 0.18-0.26 s,
where the whole MILP at a 1 % gap ends 0.13-0.44 % above it in 0.8-1.3 s (and scipy's
import), as the runs' ``plans.parquet`` (``solve_time_s``) reports them.

References:
    Helber, S. & Sahling, F. (2010) A fix-and-optimize approach for the multi-level
    capacitated lot sizing problem. Int. J. Production Economics 123, 247-256.
    Huangfu, Q. & Hall, J. A. J. (2018) Parallelizing the dual revised simplex method.
    Math. Prog. Comp. 10, 119-142 (HiGHS).
"""

from __future__ import annotations

import time
from typing import Final

import numpy as np
from numpy.typing import NDArray

from markets._highs import solve_mip
from markets.orderly.greedy import _objective_cny
from markets.orderly.milp import _build_model, _solver_stdout_silenced
from markets.orderly.problem import _Problem

#: Relative MIP gap of one step's sub-MILP (of the whole week's objective). At 1e-3
#: the four weeks above end at 0.19-0.35 % instead of 0.16-0.24 %, hardly faster.
STEP_REL_GAP: Final = 1e-4

#: HiGHS options of a step: no RINS, RENS or feasibility-jump heuristics. A step's
#: sub-MILP is solved at its root node (one node in every step of the weeks above);
#: those heuristics' sub-MIPs took about three quarters of its 20-300 ms (HiGHS's
#: log), to find plans the incumbent, one block away, already bounds. Without them
#: the four weeks' fix-and-optimize takes about 40 % less time (``plans.parquet``'s
#: ``solve_time_s``) and ends at the same plans (those runs' KPIs are identical).
#: Each step still stops anywhere within its gap, so a plan may differ slightly: the
#: mature year's one fix-and-optimize plan (a two-block day-ahead fallback) ends
#: 0.006 % lower without them (81,412 against 81,417 CNY).
STEP_OPTIONS: Final = {
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_feasibility_jump": False,
}


def _fix_and_optimize(
    p: _Problem, x: NDArray[np.bool_], time_limit_s: float
) -> tuple[NDArray[np.bool_], int, bool]:
    """Improve a selection by re-optimising one block's column at a time, the rest fixed.

    Args:
        p: The prepared problem.
        x: The start, ``(n_eligible, n_blocks)`` selections (e.g. the greedy plan).
        time_limit_s: Budget of all steps together, s (each step's HiGHS time limit is
            what is left of it).

    Returns:
        The best selection found (``x`` itself if no step improves it), the number of
        sub-MILPs solved, and whether it converged: every block was re-optimised after
        the last improvement without improving it (a local optimum of the one-block
        neighbourhood, each step to :data:`STEP_REL_GAP`), not stopped by the budget.
    """
    n_e, n_b = p.blk_cost.shape
    if n_e == 0 or n_b == 0:
        return x, 0, True
    m = _build_model(p)
    cols = np.arange(n_e * n_b).reshape(n_e, n_b)
    best, obj = x, _objective_cny(p, x)
    deadline = time.perf_counter() + time_limit_s
    steps, stale, k = 0, 0, 0
    while stale < n_b and (left := deadline - time.perf_counter()) > 0:
        lower, upper = m.col_lower.copy(), m.col_upper.copy()
        others = np.arange(n_b) != k
        fixed = cols[:, others].ravel()
        lower[fixed] = upper[fixed] = best[:, others].ravel()
        with _solver_stdout_silenced():
            res = solve_mip(
                m.cost,
                m.matrix,
                m.row_lower,
                m.row_upper,
                lower,
                upper,
                m.integer,
                time_limit_s=left,
                mip_rel_gap=STEP_REL_GAP,
                options=STEP_OPTIONS,
            )
        steps += 1
        stale += 1
        if res.x is not None:
            cand = res.x[m.xs].reshape(n_e, n_b) > 0.5
            cand_obj = _objective_cny(p, cand)
            if cand_obj < obj - 1e-9 * max(abs(obj), 1.0):
                best, obj, stale = cand, cand_obj, 1  # this block is at its optimum now
        k = (k + 1) % n_b
    return best, steps, stale >= n_b
