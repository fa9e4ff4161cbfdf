"""The orderly plan and its evaluation from a block selection (kW, kWh, CNY).

A helper module of :mod:`markets.orderly.schedule`, which re-exports :class:`OrderlyPlan`.

References:
    NDRC (2011) 《有序用电管理办法》; Jain, Chiu & Hawe (1984) for the fairness index.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from markets.fairness import jain_index
from markets.orderly.problem import _Problem


@dataclass(frozen=True)
class OrderlyPlan:
    """An orderly electricity-use plan and its quality certificate.

    Attributes:
        curtail: Curtailment instruction per user and interval, bool
            ``(n_users, n_intervals)``.
        curtailed_kw: Load shed (kW): ``ΔP = min(block_kw, load)`` where curtailed, else 0.
        loss_cny: Users' loss ``Σ c·ΔP·Δt + Σ K·calls`` (CNY); excludes the fairness term
            and the unserved penalty.
        objective_cny: ``loss_cny + λ·max_share + M·unserved_kwh`` (CNY).
        lower_bound_cny: Valid lower bound on the optimal block-model objective (CNY):
            HiGHS's dual bound (MILP) or a relaxation (greedy, see ``bound_method``).
        gap: ``(objective − bound) / max(|objective|, 1e-9)``, ``≥ 0``.
        solver_gap: HiGHS's own ``mip_gap`` (its incumbent vs its dual bound); NaN for
            greedy and no-shortage plans.
        shares: Cumulative curtailed share per user incl. prior weeks
            ``(prior_curtailed + curtailed) / (prior_demand + demand)``; 0 without demand.
        max_share: Largest share over non-protected users (0 if there are none).
        jain: Jain's index of the non-protected users' shares, in ``[1/n, 1]``.
        calls: Calls (curtailment runs, counted per day) per user.
        hours: Curtailed hours per user (h).
        unserved_kw: Deficit left uncovered per interval (kW), ``≥ 0``.
        unserved_kwh: ``Σ unserved_kw·Δt`` (kWh).
        deficit_kw: Forecast deficit ``Σ_i load − capacity`` per interval (kW).
        status: ``"optimal"``, ``"gap_limit"``, ``"time_limit"``, ``"greedy"``,
            ``"local_optimum"`` (fix-and-optimize: no change of one block's selections
            improves it), ``"reused"`` (the ``previous`` plan's blocks, certified
            again) or ``"no_shortage"``.
        method: ``"milp"``, ``"greedy"``, ``"fix_and_optimize"`` or ``"none"``.
        bound_method: ``"milp_dual"``, ``"lp"``, ``"lagrangian"`` or ``"none"``.
        n_blocks: Number of decision blocks.
        solve_time_s: Wall time of the whole :func:`schedule` call (s).
        input_key: Digest of every input except the prior curtailed and demand energy
            (the rotation history): two calls with the same key have the same blocks,
            feasible plans and loss of every plan.
        cost_bound_cny: Lower bound (CNY) on ``objective − λ·max_share`` of every
            feasible plan of these inputs, whatever the priors: ``lower_bound_cny − λ``
            (each share is at most 1); lets a later call with the same ``input_key``
            certify a plan as ``cost_bound_cny + λ·z_min`` without a solver.
        problem: The validated problem this plan solved (internal; lets the next call
            with identical raw inputs skip validation and block building).
        raw_inputs: Copies of the caller's inputs except the priors (internal, for that
            comparison).

    References:
        NDRC (2011) 《有序用电管理办法》; Jain, Chiu & Hawe (1984) for ``jain``.
    """

    curtail: NDArray[np.bool_]
    curtailed_kw: NDArray[np.float64]
    loss_cny: float
    objective_cny: float
    lower_bound_cny: float
    gap: float
    solver_gap: float
    shares: NDArray[np.float64]
    max_share: float
    jain: float
    calls: NDArray[np.int64]
    hours: NDArray[np.float64]
    unserved_kw: NDArray[np.float64]
    unserved_kwh: float
    deficit_kw: NDArray[np.float64]
    status: str
    method: str
    bound_method: str
    n_blocks: int
    solve_time_s: float
    input_key: str = ""
    cost_bound_cny: float = -np.inf
    problem: _Problem | None = field(default=None, repr=False, compare=False)
    raw_inputs: tuple[Any, ...] | None = field(default=None, repr=False, compare=False)


def _full_selection(p: _Problem, x: NDArray[np.bool_]) -> NDArray[np.bool_]:
    sel = np.zeros((p.dp_kw.shape[0], p.blocks.n_blocks), dtype=bool)
    sel[p.elig] = x
    return sel


def _finalise(
    p: _Problem,
    sel: NDArray[np.bool_],
    bound: float,
    status: str,
    method: str,
    bound_method: str,
    t0: float,
    solver_gap: float = np.nan,
    *,
    key: str = "",
    cost_bound: float | None = None,
    same: OrderlyPlan | None = None,
) -> OrderlyPlan:
    """Turn a block selection into an :class:`OrderlyPlan`.

    Only the blocks' intervals are visited for the curtailment, its loss and its calls
    (the other cells are not curtailed); the sums of the curtailed load run over the
    whole ``(n, T)`` array as ever, so the figures are the same.  ``same`` is an earlier
    plan with this problem's ``input_key`` and this selection: its curtailment (the
    same read-only arrays), loss, calls, hours and unserved deficit are this plan's
    too and are taken from it; only what depends on the priors is computed again.
    """
    if same is not None:
        arrays = (
            same.curtail,
            same.curtailed_kw,
            same.loss_cny,
            same.calls,
            same.hours,
            same.curtailed_kw.sum(axis=1),  # the same sum of the same array
            same.unserved_kw,
        )
    else:
        arrays = _evaluate(p, sel)
    return _priced(p, *arrays, bound, status, method, bound_method, t0, solver_gap, key, cost_bound)


def _evaluate(
    p: _Problem, sel: NDArray[np.bool_]
) -> tuple[
    NDArray[np.bool_],
    NDArray[np.float64],
    float,
    NDArray[np.int64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
]:
    """Curtailment (kW), loss (CNY), calls, hours (h) and unserved deficit (kW) of a selection.

    Returns:
        ``(curtail, curtailed_kw, loss_cny, calls, hours, row_kw, unserved_kw)``, the
        arrays read-only (later reused plans share them).
    """
    n, n_t = p.dp_kw.shape
    curtail = np.zeros((n, n_t), dtype=bool)
    curtailed = np.zeros((n, n_t))
    boi = p.blocks.block_of_interval
    cols = np.flatnonzero(boi >= 0) if sel.shape[1] else np.zeros(0, dtype=np.int64)
    calls = np.zeros(n, dtype=np.int64)
    counts = np.zeros(n, dtype=np.int64)
    loss_kwh_cny = 0.0
    if cols.size:
        sub = sel[:, boi[cols]]  # curtail[:, cols]
        curtail[:, cols] = sub
        curtailed[:, cols] = np.where(sub, p.dp_kw[:, cols], 0.0)
        loss_kwh_cny = p.cost_cny[:, cols][sub].sum()  # cost[curtail], in the same order
        # A call continues from the interval just before, on the same day.
        day = cols // p.ipd
        link = np.zeros(cols.size, dtype=bool)
        link[1:] = (cols[1:] == cols[:-1] + 1) & (day[1:] == day[:-1])
        cont = np.zeros_like(sub)
        cont[:, 1:] = sub[:, :-1] & link[None, 1:]
        calls = (sub & ~cont).sum(axis=1).astype(np.int64)
        counts = sub.sum(axis=1)
        row_kw = curtailed.sum(axis=1)
        col_kw = curtailed.sum(axis=0)
    else:  # nothing curtailed: every sum is 0
        row_kw = np.zeros(n)
        col_kw = np.zeros(n_t)
    hours = counts.astype(np.float64) * p.dt
    loss = float(loss_kwh_cny + np.dot(p.restart_cny, calls))
    resid = p.deficit_kw - col_kw
    unserved = np.where(p.def_mask & (resid > p.tol_kw), resid, 0.0)
    for arr in (curtail, curtailed, calls, hours, unserved):
        arr.flags.writeable = False  # later reused plans share them
    return curtail, curtailed, loss, calls, hours, row_kw, unserved


def _priced(
    p: _Problem,
    curtail: NDArray[np.bool_],
    curtailed: NDArray[np.float64],
    loss: float,
    calls: NDArray[np.int64],
    hours: NDArray[np.float64],
    row_kw: NDArray[np.float64],
    unserved: NDArray[np.float64],
    bound: float,
    status: str,
    method: str,
    bound_method: str,
    t0: float,
    solver_gap: float,
    key: str,
    cost_bound: float | None,
) -> OrderlyPlan:
    """The plan of an evaluated curtailment: shares, objective, bound and gap (CNY)."""
    n = p.dp_kw.shape[0]
    unserved_kwh = float(unserved.sum() * p.dt)
    shares = np.divide(
        p.prior_kwh + row_kw * p.dt,
        p.denom_kwh,
        out=np.zeros(n),
        where=p.denom_kwh > 0,
    )
    free = shares[~p.protected]
    max_share = float(free.max(initial=0.0))
    objective = loss + p.lam * max_share + p.penalty * unserved_kwh
    if method == "none":
        bound = objective
    bound = float(min(bound, objective))
    gap = max(0.0, (objective - bound) / max(abs(objective), 1e-9))
    return OrderlyPlan(
        curtail=curtail,
        curtailed_kw=curtailed,
        loss_cny=loss,
        objective_cny=float(objective),
        lower_bound_cny=bound,
        gap=float(gap),
        solver_gap=float(solver_gap),
        shares=shares,
        max_share=max_share,
        jain=jain_index(free),
        calls=calls,
        hours=hours,
        unserved_kw=unserved,
        unserved_kwh=unserved_kwh,
        deficit_kw=p.deficit_kw,
        status=status,
        method=method,
        bound_method=bound_method,
        n_blocks=p.blocks.n_blocks,
        solve_time_s=time.perf_counter() - t0,
        input_key=key,
        cost_bound_cny=bound - p.lam if cost_bound is None else cost_bound,
    )
