"""Lower bounds for greedy orderly plans: fractional knapsack and Lagrangian (CNY).

References:
    Polyak, B. T. (1969) Minimization of unsmooth functionals. USSR Comput. Math. Math.
    Phys. 9, 14-29 (subgradient step size).
    Sherali, H. D. & Choi, G. (1996) Recovery of primal solutions when using subgradient
    optimization methods to solve Lagrangian duals of linear programs. Oper. Res. Lett.
    19, 105-113.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from markets.orderly.problem import _Problem

_STALL_ITERS: Final = 3  # subgradient: halve the step after this many non-improving


def _frac_knapsack_min(
    red: NDArray[np.float64],
    ub: NDArray[np.float64],
    weight: NDArray[np.float64],
    cap: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Column-wise ``min Σ_k red·x`` s.t. ``Σ_k weight·x ≤ cap``, ``0 ≤ x ≤ ub ≤ 1``.

    Arrays are item-major, ``(n_items, n_columns)``, one column per user.  Items with
    ``red < 0`` are taken in increasing ``red / weight`` (zero-weight ones always) until
    the cap is full, the boundary item fractionally.  Returns the minimum per column, the
    optimum and the cap's shadow price (≥ 0: saving per unit of cap of the best item
    that does not fully fit; 0 if the cap is slack).
    """
    neg = (red < 0) & (ub > 0)
    free = neg & (weight <= 0)
    w_pos = np.where(weight > 0, weight, 1.0)
    ratio = np.where(neg & ~free, red / w_pos, np.inf)
    order = np.argsort(ratio, axis=0, kind="stable")
    cols = np.arange(red.shape[1])[None, :]
    r_s = ratio[order, cols]
    fin = np.isfinite(r_s)
    w_s = w_pos[order, cols]
    before = np.cumsum(np.where(fin, w_s, 0.0), axis=0)
    before -= np.where(fin, w_s, 0.0)
    frac = np.where(fin, np.clip((cap[None, :] - before) / w_s, 0.0, 1.0), 0.0)
    x = np.empty_like(red)
    x[order, cols] = frac
    x = np.where(free, 1.0, x) * ub
    value = (red * x).sum(axis=0)
    partial = fin & (frac < 1.0 - 1e-12)
    shadow = np.maximum(-np.where(partial, r_s, np.inf).min(axis=0, initial=np.inf), 0.0)
    return value, x, shadow


@dataclass(frozen=True)
class _Lagrangian:
    bound_cny: float
    x: NDArray[np.float64]  # (n_eligible, n_blocks) subproblem optimum at the best prices
    x_avg: NDArray[np.float64]  # (n_eligible, n_blocks) ergodic mean of the later iterates
    opportunity_cny: NDArray[np.float64]  # (n_eligible, n_blocks) cap shadow cost per call
    mu: NDArray[np.float64]  # best prices (CNY per kW), to warm-start a further run
    theta: float  # step-size factor reached


def _lagrangian(
    p: _Problem,
    target_cny: float,
    max_iter: int,
    mu0: NDArray[np.float64] | None = None,
    theta0: float = 1.0,
    stop_rel_gap: float = 1e-5,
    peak_start: bool = False,
) -> _Lagrangian:
    """Lagrangian relaxation of the cover rows, maximised by Polyak subgradient steps.

    For prices ``μ_t ∈ [0, M·Δt]`` (CNY per kW of cover in deficit interval ``t``),
    ``L(μ) = λ·z_min + Σ_t μ_t·d_t + Σ_i min_{x_i} Σ_k r_ik·x_ik`` with reduced costs
    ``r_ik = C_ik + K_i·first_k − Σ_{t∈k} μ_t·ΔP_it`` and ``x_i ∈ [0, 1]`` under the
    tighter (in blocks) of the user's hour and call caps; the other cap and the rotation
    rows are dropped, so every evaluated ``L(μ)`` is a valid lower bound.  Internally
    arrays are block-major ``(n_blocks, n_eligible)`` so reductions over blocks are fast.
    The mean of the subproblem optima over the second half of the iterations (ergodic
    primal recovery, Sherali & Choi 1996) approximates an LP-optimal plan.
    ``peak_start`` (without ``mu0``) also tries prices on each block's peak interval
    only, sized for binding caps, and starts from the better of the two.
    """
    b = p.blocks
    n_e, n_b = p.blk_cost.shape
    def_idx = np.flatnonzero(p.def_mask)
    d = p.deficit_kw[def_idx]
    bt = b.block_of_interval[def_idx]
    const = p.lam * p.z_min
    mu_max = p.penalty * p.dt
    empty = np.zeros((n_e, n_b))
    if n_e == 0:  # nobody can shed: everything is unserved
        return _Lagrangian(const + mu_max * float(d.sum()), empty, empty, empty, d * 0, 0.0)
    a_t = np.ascontiguousarray(p.dp_kw[p.elig][:, def_idx].T)  # (n_def, n_e)
    # Σ_{t∈k} μ_t·ΔP_it by np.add.reduceat over the chronological deficit intervals
    # (no BLAS call: a threaded matmul is erratic on a busy machine).
    blk_with_def, first_pos = np.unique(bt, return_index=True)
    base_t = (p.blk_cost + p.restart_cny[p.elig, None] * b.first[None, :]).T
    ub_t = np.ascontiguousarray(p.ub.T)
    # Per user keep the cap admitting fewer blocks: hours (shortest blocks first) or calls.
    cap_h = p.max_hours[p.elig]
    cap_c = np.floor(p.max_calls[p.elig] + 1e-9)
    fit_h = (np.cumsum(np.sort(p.len_h))[:, None] <= cap_h[None, :] + 1e-9).sum(axis=0)
    use_h = fit_h <= cap_c + (~b.first).sum()
    weight_t = np.where(use_h[None, :], p.len_h[:, None], b.first[:, None].astype(np.float64))
    cap = np.where(use_h, cap_h, cap_c)
    # Initial prices: marginal unit cost of each interval's fractional covering knapsack.
    ok = (a_t > 0) & (ub_t[bt] > 0)
    unit = np.where(ok, p.cost_cny[p.elig][:, def_idx].T / np.where(ok, a_t, 1.0), np.inf)
    order = np.argsort(unit, axis=1, kind="stable")
    rows = np.arange(def_idx.size)[:, None]
    cum = np.cumsum(np.where(ok, a_t, 0.0)[rows, order], axis=1)
    j = np.minimum((cum < d[:, None]).sum(axis=1), n_e - 1)
    mu = unit[rows[:, 0], order[rows[:, 0], j]]
    mu = np.where(np.isfinite(mu), np.minimum(mu, mu_max), mu_max)

    def evaluate(
        mu: NDArray[np.float64],
    ) -> tuple[float, NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]:
        red = base_t.copy()
        red[blk_with_def] -= np.add.reduceat(mu[:, None] * a_t, first_pos, axis=0)
        act = np.flatnonzero((red < 0).any(axis=0))  # other users take nothing
        v, xa, sa = _frac_knapsack_min(red[:, act], ub_t[:, act], weight_t[:, act], cap[act])
        x = np.zeros((n_b, n_e))
        x[:, act] = xa
        return const + float(mu @ d) + float(v.sum()), x, act, sa

    if mu0 is not None:
        mu = mu0.copy()
    elif peak_start:
        # Each block priced only at its peak interval (with ΔP flat over a block only
        # the peak row binds), at the marginal whole-block cost per kW of a covering
        # knapsack in which each user counts with the share of its useful blocks its
        # caps admit (capped users cannot cover every event); kept if it is better.
        n_use = np.zeros((n_b, n_e), dtype=bool)
        n_use[blk_with_def] = np.logical_or.reduceat(ok, first_pos, axis=0)
        q = np.minimum(fit_h, cap_c + (~b.first).sum())
        avail = np.clip(q / np.maximum(n_use.sum(axis=0), 1), 0.0, 1.0)
        seg = np.split(np.arange(d.size), first_pos[1:])
        pk = np.array([s[np.argmax(d[s])] for s in seg], dtype=np.int64)  # loop over blocks
        a_pk = a_t[pk]
        ok_b = (a_pk > 0) & (ub_t[blk_with_def] > 0)
        unit_b = np.where(ok_b, base_t[blk_with_def] / np.where(ok_b, a_pk, 1.0), np.inf)
        order_b = np.argsort(unit_b, axis=1, kind="stable")
        rows_b = np.arange(pk.size)[:, None]
        cum_b = np.cumsum(np.where(ok_b, a_pk * avail[None, :], 0.0)[rows_b, order_b], axis=1)
        j_b = np.minimum((cum_b < d[pk][:, None]).sum(axis=1), n_e - 1)
        price = unit_b[rows_b[:, 0], order_b[rows_b[:, 0], j_b]]
        mu_alt = np.zeros_like(mu)
        mu_alt[pk] = np.where(np.isfinite(price), np.minimum(price, mu_max), mu_max)
        if evaluate(mu_alt)[0] > evaluate(mu)[0]:
            mu = mu_alt

    best_value, best_x, best_shadow, best_mu = -np.inf, empty.T, np.zeros(n_e), mu
    theta, stall = theta0, 0
    x_sum, n_sum = np.zeros((n_b, n_e)), 0
    for it in range(max_iter):  # iterations over prices, each fully vectorised
        value, x, act, sa = evaluate(mu)
        if 2 * it >= max_iter:
            x_sum += x
            n_sum += 1
        if value > best_value + 1e-9 * abs(value):
            best_value, best_x, best_mu, stall = value, x, mu, 0
            best_shadow = np.zeros(n_e)
            best_shadow[act] = sa
        else:
            stall += 1
            if stall >= _STALL_ITERS:
                theta, stall = theta / 2.0, 0
        if target_cny - best_value <= stop_rel_gap * abs(target_cny) or theta < 1e-4:
            break
        g = d - (a_t * x[bt]).sum(axis=1)
        gg = float(g @ g)
        if gg <= 1e-12:
            break
        step = theta * max(target_cny - value, 1e-6 * abs(target_cny)) / gg
        mu = np.clip(mu + step * g, 0.0, mu_max)
    x_avg = x_sum / n_sum if n_sum else best_x
    opportunity = (best_shadow[None, :] * weight_t).T
    return _Lagrangian(best_value, best_x.T, x_avg.T, opportunity, best_mu, theta)
