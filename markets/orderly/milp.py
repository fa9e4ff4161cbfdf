"""The block MILP of the orderly scheduler on HiGHS (objective in CNY, cover in kW).

References:
    Huangfu, Q. & Hall, J. A. J. (2018) Parallelizing the dual revised simplex method.
    Math. Prog. Comp. 10, 119-142 (HiGHS).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from markets.orderly.problem import _Problem

if TYPE_CHECKING:  # scipy is imported by the first solve: runs that never solve skip it
    from scipy.optimize import Bounds, LinearConstraint, OptimizeResult


def _build_model(
    p: _Problem,
) -> tuple[NDArray[np.float64], LinearConstraint, Bounds, NDArray[np.int64], slice]:
    """Objective, constraints, bounds and integrality of the block MILP."""
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint

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

    a_mat = sparse.csr_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(r0, n_var),
    )
    cons = LinearConstraint(a_mat, np.concatenate(lo), np.concatenate(hi))
    lb = np.zeros(n_var)
    ub = np.ones(n_var)
    ub[ix] = p.ub
    lb[iz] = p.z_min if p.lam > 0 else 0.0
    ub[iz] = np.inf if p.lam > 0 else 0.0
    ub[i_s] = p.deficit_kw[def_idx]
    integrality = np.zeros(n_var, dtype=np.int64)
    integrality[ix] = 1
    return c, cons, Bounds(lb, ub), integrality, slice(0, n_x)


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
    p: _Problem, *, integer: bool, options: dict[str, float]
) -> tuple[OptimizeResult, NDArray[np.int64], slice]:
    """Solve the block model on HiGHS (``scipy.optimize.milp``), its prints silenced.

    Args:
        p: The prepared problem.
        integer: Keep the block selections binary (else the LP relaxation).
        options: HiGHS options for ``milp`` (``time_limit`` in s, ``mip_rel_gap``).

    Returns:
        ``milp``'s result, the model's integrality and the columns of ``x``.
    """
    from scipy.optimize import milp

    c, cons, bounds, integrality, xs = _build_model(p)
    with _solver_stdout_silenced():
        res = milp(
            c,
            constraints=cons,
            bounds=bounds,
            integrality=integrality if integer else np.zeros_like(integrality),
            options={**options, "disp": False},
        )
    return res, integrality, xs


def _solve_milp(
    p: _Problem, time_limit_s: float, mip_rel_gap: float
) -> tuple[NDArray[np.bool_] | None, float, str, float]:
    """Solve the block MILP (its LP relaxation: :func:`_lp_relaxation`).

    Returns the selection (None without incumbent), the dual bound, the status and
    HiGHS's own relative gap (NaN if it reports none).
    """
    options = {"time_limit": time_limit_s, "mip_rel_gap": mip_rel_gap}
    res, integrality, xs = _run_milp(p, integer=True, options=options)
    n_e, n_b = p.blk_cost.shape
    bound = getattr(res, "mip_dual_bound", None)
    bound = float(bound) if bound is not None and np.isfinite(bound) else -np.inf
    if res.status == 0 and not integrality.any():  # nobody eligible: an LP, solved exactly
        bound = float(res.fun)
    gap = getattr(res, "mip_gap", None)
    solver_gap = float(gap) if gap is not None else np.nan
    if res.x is None:
        return None, bound, "time_limit", solver_gap
    x = np.asarray(res.x)[xs].reshape(n_e, n_b) > 0.5
    if res.status == 0:
        status = "optimal" if not solver_gap > 1e-6 else "gap_limit"
    else:
        status = "time_limit"
    return x, bound, status, solver_gap


def _lp_relaxation(p: _Problem, time_limit_s: float) -> tuple[float, NDArray[np.float64] | None]:
    """The block MILP's LP relaxation: its value (a lower bound, CNY) and its ``x``.

    Returns ``(-inf, None)`` if HiGHS does not solve the LP to optimality.
    """
    res, _, xs = _run_milp(p, integer=False, options={"time_limit": time_limit_s})
    n_e, n_b = p.blk_cost.shape
    if res.status != 0 or res.fun is None or res.x is None:
        return -np.inf, None
    return float(res.fun), np.asarray(res.x)[xs].reshape(n_e, n_b)
