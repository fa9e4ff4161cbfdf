"""The orderly plan: :func:`schedule` and :class:`OrderlyPlan` (kW, kWh, CNY).

References:
    NDRC (2011) 《有序用电管理办法》; Jain, Chiu & Hawe (1984) for the fairness index;
    Huangfu & Hall (2018) for HiGHS.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Final

import numpy as np
from numpy.typing import NDArray

from markets._checks import check_int, nonnegative_scalar
from markets.orderly.greedy import _greedy_plan
from markets.orderly.improve import _fix_and_optimize
from markets.orderly.milp import _solve_milp
from markets.orderly.plan import OrderlyPlan, _finalise, _full_selection
from markets.orderly.problem import (
    _input_key,
    _prepare,
    _Problem,
    _raw_inputs,
    _raw_view,
    _same,
    _with_priors,
)

__all__ = ["OrderlyPlan", "schedule"]

_METHODS: Final = ("auto", "milp", "greedy", "hybrid")
_BOUNDS: Final = ("auto", "lp", "lagrangian")


def schedule(
    loads_kw: NDArray[np.float64],
    capacity_kw: NDArray[np.float64],
    block_kw: NDArray[np.float64],
    loss_cny_per_kwh: NDArray[np.float64],
    *,
    restart_cost_cny: NDArray[np.float64] | None = None,
    protected: NDArray[np.bool_] | None = None,
    max_hours: float | NDArray[np.float64] = np.inf,
    max_calls: float | NDArray[np.float64] = np.inf,
    min_duration: int = 1,
    fairness_weight_cny: float = 0.0,
    prior_curtailed_kwh: NDArray[np.float64] | None = None,
    prior_demand_kwh: NDArray[np.float64] | None = None,
    interval_h: float = 1.0,
    intervals_per_day: int = 24,
    method: str = "auto",
    milp_max_users: int = 2000,
    time_limit_s: float = 20.0,
    mip_rel_gap: float = 0.01,
    unserved_penalty_cny_per_kwh: float = 1e4,
    sub_block_intervals: int | None = None,
    greedy_bound: str = "auto",
    lp_bound_max_vars: int = 20_000,
    lagrangian_iters: int = 80,
    hybrid_gap: float = 0.005,
    previous: OrderlyPlan | None = None,
) -> OrderlyPlan:
    """Plan orderly electricity use: who sheds which block in which shortage interval.

    Solves the block model of the module docstring exactly (MILP, HiGHS) or by the
    greedy merit order, and certifies the plan with a lower bound.  With no positive
    deficit the empty plan is returned without calling a solver.  If HiGHS returns no
    incumbent within the time limit, the greedy plan is returned with
    ``status="time_limit"`` and ``method="greedy"``.

    ``method="hybrid"`` runs the greedy with its bound first and keeps its plan when its
    gap to the bound is at most ``hybrid_gap``; otherwise it improves that plan by
    fix-and-optimize (one block re-optimised at a time on HiGHS, the others fixed:
    :mod:`markets.orderly.improve`) and keeps the result when that gap is at most
    ``hybrid_gap``; otherwise it solves the MILP too and returns the better of the two
    plans (the MILP's on a tie), with the larger of the two bounds.  The plan's
    ``method`` says which one was returned.  ``method="auto"`` is
    ``"hybrid"`` up to ``milp_max_users`` users and ``"greedy"`` above.

    Warm start: if ``previous`` (an earlier plan, e.g. last week's) has the same
    ``input_key`` (every input identical except the rotation history), its blocks are
    evaluated again under the new priors and certified by ``previous.cost_bound_cny +
    λ·z_min`` (a valid bound, see :class:`OrderlyPlan`); the plan is returned with
    ``status="reused"`` when that gap is at most ``min(mip_rel_gap, hybrid_gap)``, and
    solved afresh otherwise.

    Args:
        loads_kw: Forecast load per user and interval (kW), ``(n_users, n_intervals)``.
        capacity_kw: Park supply capacity per interval (kW), ``(n_intervals,)``.
        block_kw: Curtailable block ``ΔP`` per user (kW), ``(n_users,)``; the block
            actually shed is ``min(block_kw, load)``.
        loss_cny_per_kwh: Loss per curtailed kWh (CNY/kWh), ``(n_users,)`` or
            ``(n_users, n_intervals)`` (e.g. from :func:`loss_cny_per_kwh` per notice).
        restart_cost_cny: Cost per call, i.e. per start of a run (CNY), ``(n_users,)``;
            default 0.
        protected: Users never curtailed (hospitals, safety loads), ``(n_users,)`` bool.
        max_hours: Cap on curtailed hours per user over the horizon (h); scalar or
            ``(n_users,)``; ``inf`` = no cap.
        max_calls: Cap on calls per user over the horizon; scalar or ``(n_users,)``.
        min_duration: Minimum curtailment run (intervals), ``1 ≤ m ≤ intervals_per_day``.
        fairness_weight_cny: ``λ`` (CNY per unit of the largest cumulative share).
        prior_curtailed_kwh: Curtailed energy carried from earlier horizons (kWh).
        prior_demand_kwh: Demand carried from earlier horizons (kWh), ``≥`` prior
            curtailed energy.
        interval_h: Interval length ``Δt`` (h).
        intervals_per_day: Intervals per day; events never cross a day boundary.
        method: ``"milp"``, ``"greedy"``, ``"hybrid"`` (greedy, then fix-and-optimize and
            the MILP only while the gap exceeds ``hybrid_gap``) or ``"auto"`` (hybrid up to
            ``milp_max_users``, greedy above).
        milp_max_users: ``"auto"`` switches from hybrid to greedy above this many users.
        time_limit_s: HiGHS time limit (s).
        mip_rel_gap: Relative gap tolerance: HiGHS's MIP gap; greedy stops improving its
            plan and bound once certified within it.
        unserved_penalty_cny_per_kwh: ``M``, penalty per kWh of deficit left uncovered
            (CNY/kWh); a soft price, see the module docstring.
        sub_block_intervals: Cut events into sub-blocks of at least
            ``max(min_duration, this)`` intervals; ``None`` keeps whole events.
        greedy_bound: ``"lp"``, ``"lagrangian"`` or ``"auto"``: lower bound of greedy
            plans (module docstring).
        lp_bound_max_vars: ``"auto"`` uses the LP bound up to this many binaries.
        lagrangian_iters: Subgradient iterations of the Lagrangian bound/prices (``≥ 1``).
        hybrid_gap: ``"hybrid"`` improves the greedy plan, and then solves the MILP, only
            while the plan's relative gap to its bound exceeds this (dimensionless,
            ``≥ 0``; 0.005 = 0.5 %).
        previous: An earlier plan to reuse if its ``input_key`` matches (warm start).

    Returns:
        The plan with loss, objective, bound, gap, shares, Jain's index and unserved
        deficit.

    Raises:
        ValueError: On shape mismatches, NaN, negative loads/capacity/blocks/costs/caps,
            bad ``method``/``greedy_bound``, ``min_duration < 1`` or other bad scalars;
            the message names the argument.

    References:
        NDRC (2011) 《有序用电管理办法》; Jain, Chiu & Hawe (1984) for the fairness
        index; Huangfu & Hall (2018) for HiGHS.
    """
    t0 = time.perf_counter()
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    if greedy_bound not in _BOUNDS:
        raise ValueError(f"greedy_bound must be one of {_BOUNDS}, got {greedy_bound!r}")
    milp_max_users = check_int(milp_max_users, "milp_max_users", 0)
    lp_bound_max_vars = check_int(lp_bound_max_vars, "lp_bound_max_vars", 0)
    lagrangian_iters = check_int(lagrangian_iters, "lagrangian_iters", 1)
    time_limit_s = nonnegative_scalar(time_limit_s, "time_limit_s", positive=True, real=True)
    mip_rel_gap = nonnegative_scalar(mip_rel_gap, "mip_rel_gap", real=True)
    hybrid_gap = nonnegative_scalar(hybrid_gap, "hybrid_gap", real=True)
    raw = _raw_view(
        loads_kw,
        capacity_kw,
        block_kw,
        loss_cny_per_kwh,
        restart_cost_cny,
        protected,
        max_hours,
        max_calls,
        (min_duration, fairness_weight_cny, interval_h, intervals_per_day),
        (unserved_penalty_cny_per_kwh, sub_block_intervals),
    )
    if previous is not None and previous.problem is not None and _same(previous.raw_inputs, raw):
        # Same inputs but the rotation history: skip validation, blocks, digest and copies.
        prob = _with_priors(previous.problem, prior_curtailed_kwh, prior_demand_kwh)
        key = previous.input_key
        kept = previous.raw_inputs
    else:
        prob = _prepare(
            loads_kw,
            capacity_kw,
            block_kw,
            loss_cny_per_kwh,
            restart_cost_cny=restart_cost_cny,
            protected=protected,
            max_hours=max_hours,
            max_calls=max_calls,
            min_duration=min_duration,
            fairness_weight_cny=fairness_weight_cny,
            prior_curtailed_kwh=prior_curtailed_kwh,
            prior_demand_kwh=prior_demand_kwh,
            interval_h=interval_h,
            intervals_per_day=intervals_per_day,
            unserved_penalty_cny_per_kwh=unserved_penalty_cny_per_kwh,
            sub_block_intervals=sub_block_intervals,
        )
        key = _input_key(prob)
        kept = _raw_inputs(*raw)
    plan = _plan(
        prob,
        key,
        previous,
        method,
        milp_max_users,
        time_limit_s,
        mip_rel_gap,
        greedy_bound,
        lp_bound_max_vars,
        lagrangian_iters,
        hybrid_gap,
        t0,
    )
    return replace(plan, problem=prob, raw_inputs=kept)


def _plan(
    prob: _Problem,
    key: str,
    previous: OrderlyPlan | None,
    method: str,
    milp_max_users: int,
    time_limit_s: float,
    mip_rel_gap: float,
    greedy_bound: str,
    lp_bound_max_vars: int,
    lagrangian_iters: int,
    hybrid_gap: float,
    t0: float,
) -> OrderlyPlan:
    """Solve a prepared problem: reuse, the empty plan, hybrid, MILP or greedy."""
    n_users = prob.dp_kw.shape[0]
    if prob.blocks.n_blocks == 0:
        sel = np.zeros((n_users, 0), dtype=bool)
        same = previous if previous is not None and previous.input_key == key else None
        return _finalise(prob, sel, 0.0, "no_shortage", "none", "none", t0, key=key, same=same)
    if previous is not None and previous.input_key == key:
        again = _reuse(prob, previous, t0, key)
        if again.gap <= min(mip_rel_gap, hybrid_gap):
            return again

    if method == "hybrid" or (method == "auto" and n_users <= milp_max_users):
        return _hybrid(
            prob,
            greedy_bound,
            lp_bound_max_vars,
            lagrangian_iters,
            time_limit_s,
            mip_rel_gap,
            hybrid_gap,
            t0,
            key,
        )
    if method == "milp":
        x, bound, status, solver_gap = _solve_milp(prob, time_limit_s, mip_rel_gap)
        if x is not None:
            sel = _full_selection(prob, x)
            return _finalise(prob, sel, bound, status, "milp", "milp_dual", t0, solver_gap, key=key)
        status, method_used = "time_limit", "greedy"
    else:
        bound, status, method_used = -np.inf, "greedy", "greedy"
    xg, bound_g, bound_name = _greedy_plan(
        prob, greedy_bound, lp_bound_max_vars, lagrangian_iters, time_limit_s, mip_rel_gap
    )
    return _finalise(
        prob,
        _full_selection(prob, xg),
        max(bound, bound_g),
        status,
        method_used,
        bound_name,
        t0,
        key=key,
    )


def _reuse(p: _Problem, previous: OrderlyPlan, t0: float, key: str) -> OrderlyPlan:
    """The ``previous`` plan's blocks under the new priors, with its prior-free bound."""
    sel = previous.curtail[:, p.blocks.start]  # a block is curtailed whole
    return _finalise(
        p,
        sel,
        previous.cost_bound_cny + p.lam * p.z_min,
        "reused",
        previous.method,
        previous.bound_method,
        t0,
        previous.solver_gap,
        key=key,
        cost_bound=previous.cost_bound_cny,
        same=previous,
    )


def _hybrid(
    prob: _Problem,
    greedy_bound: str,
    lp_bound_max_vars: int,
    lagrangian_iters: int,
    time_limit_s: float,
    mip_rel_gap: float,
    hybrid_gap: float,
    t0: float,
    key: str,
) -> OrderlyPlan:
    """Greedy plan if certified within ``hybrid_gap``, else improved, else the MILP's too.

    An uncertified greedy plan is first improved by fix-and-optimize
    (:func:`~markets.orderly.improve._fix_and_optimize`, within the time limit); if
    that certifies it within ``hybrid_gap`` it is returned (``method`` ``"fix_and_optimize"``,
    ``status`` ``"local_optimum"``, or ``"time_limit"`` if the time limit stopped the
    improvement first), otherwise the MILP is solved as well and the better
    plan is returned with the larger bound.
    """
    xg, bound_g, bound_name = _greedy_plan(
        prob,
        greedy_bound,
        lp_bound_max_vars,
        lagrangian_iters,
        time_limit_s,
        min(mip_rel_gap, hybrid_gap),
    )
    greedy = _finalise(
        prob, _full_selection(prob, xg), bound_g, "greedy", "greedy", bound_name, t0, key=key
    )
    if greedy.gap <= hybrid_gap:
        return greedy
    if np.isfinite(bound_g):  # only a bound can certify the improved plan
        xf, _, converged = _fix_and_optimize(
            prob, xg, max(time_limit_s - (time.perf_counter() - t0), 0.0)
        )
        if xf is not xg:
            fo_status = "local_optimum" if converged else "time_limit"
            improved = _finalise(
                prob,
                _full_selection(prob, xf),
                bound_g,
                fo_status,
                "fix_and_optimize",
                bound_name,
                t0,
                key=key,
            )
            if improved.gap <= hybrid_gap:
                return improved
            xg, greedy = xf, improved  # the incumbent against the MILP
    x, bound, status, solver_gap = _solve_milp(prob, time_limit_s, mip_rel_gap)
    best_bound = max(bound, greedy.lower_bound_cny)
    if x is not None:
        plan = _finalise(
            prob,
            _full_selection(prob, x),
            best_bound,
            status,
            "milp",
            "milp_dual",
            t0,
            solver_gap,
            key=key,
        )
        if plan.objective_cny <= greedy.objective_cny:
            return plan
    name = "milp_dual" if bound > greedy.lower_bound_cny else bound_name
    status = greedy.status if x is not None else "time_limit"
    return _finalise(
        prob, _full_selection(prob, xg), best_bound, status, greedy.method, name, t0, key=key
    )
