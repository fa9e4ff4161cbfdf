"""The block MILP of the orderly scheduler on HiGHS (objective in CNY, cover in kW).

The LP relaxation is solved through ``highspy`` (:func:`markets._highs.solve_mip`,
the options ``scipy.optimize.milp`` passes), so a run whose weeks the greedy passes
certify never imports ``scipy.optimize`` and ``scipy.sparse`` (about 0.4 s a process);
the MILP itself stays on ``scipy.optimize.milp`` (:func:`_run_milp` says why).

References:
    Huangfu, Q. & Hall, J. A. J. (2018) Parallelizing the dual revised simplex method.
    Math. Prog. Comp. 10, 119-142 (HiGHS).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from markets._highs import MipResult, csc_from_triplets, solve_mip
from markets.orderly.problem import _Problem


@dataclass(frozen=True, eq=False)
class _Model:
    """The block MILP's arrays (objective in CNY; rows in kW, calls, h or shares).

    Attributes:
        cost: Column costs.
        matrix: The constraint matrix column-wise (start, row index, value).
        row_lower: Row lower bounds.
        row_upper: Row upper bounds.
        col_lower: Column lower bounds.
        col_upper: Column upper bounds.
        integer: Which columns are binary block selections.
        xs: The columns of the selections ``x``.
    """

    cost: NDArray[np.float64]
    matrix: tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.float64]]
    row_lower: NDArray[np.float64]
    row_upper: NDArray[np.float64]
    col_lower: NDArray[np.float64]
    col_upper: NDArray[np.float64]
    integer: NDArray[np.bool_]
    xs: slice


def _build_model(p: _Problem) -> _Model:
    """Objective, constraints, bounds and integrality of the block MILP."""
    b = p.blocks
    n_e, n_b = p.blk_cost.shape
    nf = np.flatnonzero(~b.first)
    n_x, n_u = n_e * n_b, n_e * nf.size
    def_idx = np.flatnonzero(p.def_mask)
    n_s = def_idx.size
    ix = np.arange(n_x).reshape(n_e, n_b)
    iu = n_x + np.arange(n_u).reshape(n_e, nf.size)
    iz = n_x + n_u
    i_s = iz + 1 + np.arange(n_s)
    n_var = iz + 1 + n_s
    k_e = p.restart_cny[p.elig]

    c = np.zeros(n_var)
    c[ix] = p.blk_cost + k_e[:, None] * b.first[None, :]
    c[iu] = k_e[:, None]
    c[iz] = p.lam
    c[i_s] = p.penalty * p.dt

    rows: list[NDArray[np.int64]] = []
    cols: list[NDArray[np.int64]] = []
    vals: list[NDArray[np.float64]] = []
    lo: list[NDArray[np.float64]] = []
    hi: list[NDArray[np.float64]] = []
    r0 = 0

    def add(r: NDArray[np.int64], cc: NDArray[np.int64], v: NDArray[np.float64]) -> None:
        rows.append(r.ravel())
        cols.append(cc.ravel())
        vals.append(v.ravel())

    # Cover: Σ_i ΔP[i,t]·x[i,k(t)] + s[t] ≥ d[t].
    a = p.dp_kw[p.elig][:, def_idx]
    cc = ix[:, b.block_of_interval[def_idx]]
    rr = np.broadcast_to(np.arange(n_s), a.shape)
    nz = a > 0
    add(rr[nz] + r0, cc[nz], a[nz])
    add(np.arange(n_s) + r0, i_s, np.ones(n_s))
    lo.append(p.deficit_kw[def_idx])
    hi.append(np.full(n_s, np.inf))
    r0 += n_s

    # Starts of later sub-blocks: x[i,k] − x[i,k−1] − u[i,k] ≤ 0.
    if n_u:
        rr = r0 + np.arange(n_u).reshape(n_e, nf.size)
        add(rr, ix[:, nf], np.ones(rr.shape))
        add(rr, ix[:, b.prev[nf]], -np.ones(rr.shape))
        add(rr, iu, -np.ones(rr.shape))
        lo.append(np.full(n_u, -np.inf))
        hi.append(np.zeros(n_u))
        r0 += n_u

    # Call caps: Σ starts ≤ C[i], only where binding is possible.
    cap_c = p.max_calls[p.elig]
    rows_c = np.flatnonzero(cap_c < n_b)
    if rows_c.size:
        nr = rows_c.size
        rr = r0 + np.arange(nr)[:, None]
        fi = np.flatnonzero(b.first)
        add(np.broadcast_to(rr, (nr, fi.size)), ix[rows_c][:, fi], np.ones((nr, fi.size)))
        if n_u:
            add(np.broadcast_to(rr, (nr, nf.size)), iu[rows_c], np.ones((nr, nf.size)))
        lo.append(np.full(nr, -np.inf))
        hi.append(np.floor(cap_c[rows_c] + 1e-9))
        r0 += nr

    # Hour caps: Σ_k len_k·Δt·x[i,k] ≤ H[i], only where binding is possible.
    cap_h = p.max_hours[p.elig]
    rows_h = np.flatnonzero(cap_h < p.len_h.sum())
    if rows_h.size:
        nr = rows_h.size
        rr = np.broadcast_to(r0 + np.arange(nr)[:, None], (nr, n_b))
        add(rr, ix[rows_h], np.broadcast_to(p.len_h, (nr, n_b)))
        lo.append(np.full(nr, -np.inf))
        hi.append(cap_h[rows_h])
        r0 += nr

    # Rotation: Σ_k E[i,k]/D[i]·x[i,k] − z ≤ −P[i]/D[i].
    if p.lam > 0:
        den = p.denom_kwh[p.elig]
        rows_r = np.flatnonzero(den > 0)
        nr = rows_r.size
        if nr:
            rr = np.broadcast_to(r0 + np.arange(nr)[:, None], (nr, n_b))
            add(rr, ix[rows_r], p.blk_kwh[rows_r] / den[rows_r, None])
            add(r0 + np.arange(nr), np.full(nr, iz), -np.ones(nr))
            lo.append(np.full(nr, -np.inf))
            hi.append(-p.prior_share[p.elig][rows_r])
            r0 += nr

    matrix = csc_from_triplets(
        np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), (r0, n_var)
    )
    lb = np.zeros(n_var)
    ub = np.ones(n_var)
    ub[ix] = p.ub
    lb[iz] = p.z_min if p.lam > 0 else 0.0
    ub[iz] = np.inf if p.lam > 0 else 0.0
    ub[i_s] = p.deficit_kw[def_idx]
    integer = np.zeros(n_var, dtype=bool)
    integer[ix] = True
    return _Model(c, matrix, np.concatenate(lo), np.concatenate(hi), lb, ub, integer, slice(0, n_x))


@contextlib.contextmanager
def _solver_stdout_silenced() -> Iterator[None]:
    """Silence HiGHS's C-level prints to stdout (``disp=False`` does not reach them all).

    Some HiGHS builds print MIP debug lines straight to file descriptor 1; they
    would interleave with the simulation's own output. Nothing else is written.
    """
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # no real stdout (e.g. captured)
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), fd)
            try:
                yield
            finally:
                os.dup2(saved, fd)
    finally:
        os.close(saved)


def _run_milp(
    p: _Problem, *, integer: bool, time_limit_s: float, mip_rel_gap: float | None = None
) -> tuple[MipResult, _Model]:
    """Solve the block model on HiGHS, its prints silenced.

    The LP relaxation (solved for every uncertified week's bound) goes to ``highspy``
    directly (:func:`markets._highs.solve_mip`). The MILP goes through
    ``scipy.optimize.milp``: scipy's HiGHS (1.12 in scipy 1.17) and highspy's (1.16)
    stop at different incumbents within the same gap, so the MILP stays on the solver
    the published figures were made with; only a week that needs the MILP pays
    scipy's import.

    Args:
        p: The prepared problem.
        integer: Keep the block selections binary (else the LP relaxation).
        time_limit_s: HiGHS time limit, s.
        mip_rel_gap: HiGHS relative MIP gap (dimensionless), for the MILP.

    Returns:
        HiGHS's result and the model.
    """
    m = _build_model(p)
    with _solver_stdout_silenced():
        if integer:
            return _scipy_milp(m, time_limit_s, mip_rel_gap), m
        res = solve_mip(
            m.cost,
            m.matrix,
            m.row_lower,
            m.row_upper,
            m.col_lower,
            m.col_upper,
            None,
            time_limit_s=time_limit_s,
        )
    return res, m


def _scipy_milp(m: _Model, time_limit_s: float, mip_rel_gap: float | None) -> MipResult:
    """The block MILP on ``scipy.optimize.milp`` (HiGHS), as :class:`MipResult`.

    Args:
        m: The model.
        time_limit_s: HiGHS time limit, s.
        mip_rel_gap: HiGHS relative MIP gap (dimensionless); None keeps HiGHS's.

    Returns:
        ``milp``'s status, solution, objective, dual bound (the objective when no
        column is integral: ``milp`` then solves an LP) and gap.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csc_array

    start, index, value = m.matrix
    a = csc_array((value, index, start), shape=(m.row_lower.size, m.cost.size))
    options: dict[str, float | bool] = {"time_limit": time_limit_s, "disp": False}
    if mip_rel_gap is not None:
        options["mip_rel_gap"] = mip_rel_gap
    res = milp(
        m.cost,
        constraints=LinearConstraint(a, m.row_lower, m.row_upper),
        bounds=Bounds(m.col_lower, m.col_upper),
        integrality=m.integer.astype(np.int64),
        options=options,
    )
    optimal = res.status == 0
    has_x = res.x is not None
    objective = float(res.fun) if has_x and res.fun is not None else np.nan
    bound = getattr(res, "mip_dual_bound", None)
    if bound is None:
        dual_bound = objective if optimal and not m.integer.any() else -np.inf
    else:
        dual_bound = float(bound)
    gap = getattr(res, "mip_gap", None)
    return MipResult(
        optimal,
        np.asarray(res.x, dtype=np.float64) if has_x else None,
        objective,
        dual_bound,
        float(gap) if gap is not None else np.nan,
    )


def _solve_milp(
    p: _Problem, time_limit_s: float, mip_rel_gap: float
) -> tuple[NDArray[np.bool_] | None, float, str, float]:
    """Solve the block MILP (its LP relaxation: :func:`_lp_relaxation`).

    Returns the selection (None without incumbent), the dual bound, the status and
    HiGHS's own relative gap (NaN if it reports none).
    """
    res, m = _run_milp(p, integer=True, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap)
    n_e, n_b = p.blk_cost.shape
    bound = res.dual_bound if np.isfinite(res.dual_bound) else -np.inf
    solver_gap = res.gap
    if res.x is None:
        return None, bound, "time_limit", solver_gap
    x = res.x[m.xs].reshape(n_e, n_b) > 0.5
    status = "time_limit"
    if res.optimal:
        status = "optimal" if not solver_gap > 1e-6 else "gap_limit"
    return x, bound, status, solver_gap


def _lp_relaxation(p: _Problem, time_limit_s: float) -> tuple[float, NDArray[np.float64] | None]:
    """The block MILP's LP relaxation: its value (a lower bound, CNY) and its ``x``.

    Returns ``(-inf, None)`` if HiGHS does not solve the LP to optimality.
    """
    res, m = _run_milp(p, integer=False, time_limit_s=time_limit_s)
    n_e, n_b = p.blk_cost.shape
    if not res.optimal or res.x is None:
        return -np.inf, None
    return res.objective, res.x[m.xs].reshape(n_e, n_b)
