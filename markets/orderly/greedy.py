"""Greedy merit-order passes of the orderly scheduler (cost in CNY, cover in kW).

Plain chronological, cap-aware and Lagrangian-guided passes, pruning, the block-model
objective, and :func:`_greedy_plan`, the best of them with its lower bound (see the
:mod:`markets.orderly` docstring).

References:
    parksim DESIGN.md, "Orderly plan"; Polyak (1969) and Sherali & Choi (1996) for the
    Lagrangian prices that guide the passes (:mod:`markets.orderly.bounds`).
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

from markets.orderly.bounds import _lagrangian
from markets.orderly.milp import _lp_relaxation
from markets.orderly.problem import _Problem

_BALANCE_CHUNK: Final = 0.02  # cap-aware pass: chunk ΔP / smallest remaining block need
# LP rounding: start the merit order from the blocks the LP optimum selects at least to
# these levels (1 − 1e-6: its integral ones only).
_LP_START_LEVELS: Final = (0.5, 1.0 - 1e-6, 0.3)


def _greedy(
    p: _Problem,
    opportunity_cny: NDArray[np.float64] | None = None,
    start: NDArray[np.bool_] | None = None,
) -> NDArray[np.bool_]:
    """Merit-order heuristic over the blocks; returns the (n_eligible, n_blocks) choice.

    ``opportunity_cny`` (n_eligible, n_blocks) is added to the ranking cost only (cap
    shadow prices); ``start`` pre-selects users per block (kept if their caps allow).
    """
    b = p.blocks
    n_e, n_b = p.blk_cost.shape
    x = np.zeros((n_e, n_b), dtype=bool)
    if n_e == 0:
        return x
    rem_h = p.max_hours[p.elig].copy()
    rem_c = p.max_calls[p.elig].copy()
    cur_kwh = p.prior_kwh[p.elig].copy()
    den = p.denom_kwh[p.elig]
    has_den = den > 0
    k_e = p.restart_cny[p.elig]
    dp_e = p.dp_kw[p.elig]
    tol = p.tol_kw
    for k in range(n_b):  # loop over blocks (events) only
        t_idx = np.arange(b.start[k], b.stop[k])[p.def_mask[b.start[k] : b.stop[k]]]
        if t_idx.size == 0:
            continue
        d = p.deficit_kw[t_idx]
        pk = dp_e[:, t_idx]
        new_call = np.ones(n_e, dtype=bool) if b.first[k] else ~x[:, b.prev[k]]
        useful = np.minimum(pk, d).sum(axis=1) * p.dt
        ok = (
            (p.ub[:, k] > 0)
            & (p.len_h[k] <= rem_h * (1 + 1e-12) + 1e-9)
            & (~new_call | (rem_c >= 1 - 1e-9))
            & (useful > 0)
        )
        cand = np.flatnonzero(ok)
        if cand.size == 0:
            continue
        cost = p.blk_cost[cand, k] + k_e[cand] * new_call[cand]
        share_now = np.divide(cur_kwh, den, out=np.zeros(n_e), where=has_den)
        z_cur = max(p.z_min, float(share_now.max()))
        share_after = share_now[cand] + np.divide(
            p.blk_kwh[cand, k], den[cand], out=np.zeros(cand.size), where=has_den[cand]
        )
        rank_cny = cost + p.lam * np.maximum(share_after - z_cur, 0.0)
        if opportunity_cny is not None:
            rank_cny = rank_cny + opportunity_cny[cand, k] * new_call[cand]
        pre = np.zeros(cand.size, dtype=bool) if start is None else start[cand, k]
        # Merit order of the candidates not pre-selected; pre-selected ones come first.
        order = np.argsort(np.where(pre, -np.inf, rank_cny / useful[cand]), kind="stable")
        po = pk[cand[order]]
        n_pre = int(pre.sum())
        cum = np.cumsum(po, axis=0)
        residual = d - (cum[n_pre - 1] if n_pre else 0.0)
        short = cum < d - tol  # prefix still short of the deficit
        coverable = ~short[-1]
        need = np.where(residual <= tol, n_pre, short.sum(axis=0) + 1)
        take = np.zeros(order.size, dtype=bool)
        take[:n_pre] = True
        if coverable.any():
            take[: int(need[coverable].max())] = True
        if not coverable.all():
            take |= (po[:, ~coverable] > 0).any(axis=1)
        # Prune: drop the worst-ranked selected users whose ΔP fits in the cover surplus.
        sel = order[take]
        ps = po[take]
        excess = np.where(coverable, ps.sum(axis=0) - d, 0.0)
        removable = np.flatnonzero((ps <= excess + tol).all(axis=1))
        if removable.size:
            removable = removable[np.argsort(-rank_cny[sel[removable]], kind="stable")]
            fits = (np.cumsum(ps[removable], axis=0) <= excess + tol).all(axis=1)
            n_rm = fits.size if fits.all() else int(np.argmin(fits))
            keep = np.ones(sel.size, dtype=bool)
            keep[removable[:n_rm]] = False
            sel = sel[keep]
        chosen = cand[sel]
        x[chosen, k] = True
        rem_h[chosen] -= p.len_h[k]
        rem_c[chosen] -= new_call[chosen]
        cur_kwh[chosen] += p.blk_kwh[chosen, k]
    return x


def _prune(p: _Problem, x: NDArray[np.bool_], unit: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Drop selected users, most expensive per kWh first, whose ΔP fits in the cover surplus."""
    b = p.blocks
    x = x.copy()
    for k in range(b.n_blocks):  # loop over blocks only
        t_idx = np.arange(b.start[k], b.stop[k])[p.def_mask[b.start[k] : b.stop[k]]]
        sel = np.flatnonzero(x[:, k])
        if t_idx.size == 0:
            x[sel, k] = False
            continue
        sel = sel[np.argsort(-unit[sel, k], kind="stable")]
        ps = p.dp_kw[np.ix_(p.elig[sel], t_idx)]  # only the cells needed
        excess = ps.sum(axis=0) - p.deficit_kw[t_idx]
        for _ in range(4):  # a few rounds of prefix removal
            rm = np.flatnonzero((ps <= excess + p.tol_kw).all(axis=1) & x[sel, k])
            if rm.size == 0:
                break
            fits = (np.cumsum(ps[rm], axis=0) <= excess + p.tol_kw).all(axis=1)
            n_rm = fits.size if fits.all() else int(np.argmin(fits))
            if n_rm == 0:
                n_rm = 1  # the first removable one fits on its own
            gone = rm[:n_rm]
            x[sel[gone], k] = False
            excess = excess - ps[gone].sum(axis=0)
    return x


def _balanced(p: _Problem) -> NDArray[np.bool_]:
    """Cap-aware merit order over users; each user joins its best still-needed blocks.

    Users are taken in increasing mean cost per kWh; each joins, within its hour and call
    caps, the blocks with the lowest ``cost / (useful_kwh · need)`` where ``need`` is the
    block's remaining fraction of its peak deficit, so scarce cap is spread over all
    events instead of being spent on the first ones.  Stops once every deficit interval
    is covered; then prunes.
    """
    b = p.blocks
    n_e, n_b = p.blk_cost.shape
    x = np.zeros((n_e, n_b), dtype=bool)
    if n_e == 0:
        return x
    def_idx = np.flatnonzero(p.def_mask)
    bt = b.block_of_interval[def_idx]
    blk_with_def, first_pos = np.unique(bt, return_index=True)
    a = p.dp_kw[np.ix_(p.elig, def_idx)]  # (n_e, n_def)
    res = p.deficit_kw[def_idx].copy()
    peak0 = np.maximum.reduceat(res, first_pos)
    k_e = p.restart_cny[p.elig]
    cost = p.blk_cost + k_e[:, None] * b.first[None, :]
    use0 = np.zeros((n_e, n_b))
    use0[:, blk_with_def] = np.add.reduceat(np.minimum(a, res), first_pos, axis=1) * p.dt
    unit = np.divide(cost, use0, out=np.full((n_e, n_b), np.inf), where=use0 > 0)
    ok0 = (use0 > 0) & (p.ub > 0)
    mean_unit = np.divide(
        np.where(ok0, cost, 0.0).sum(axis=1),
        np.where(ok0, use0, 0.0).sum(axis=1),
        out=np.full(n_e, np.inf),
        where=ok0.any(axis=1),
    )
    rem_h = p.max_hours[p.elig].copy()
    rem_c = np.floor(p.max_calls[p.elig] + 1e-9)
    users = np.argsort(mean_unit, kind="stable")
    users = users[np.isfinite(mean_unit[users])]
    a_peak_sorted = a.max(axis=1)[users]
    ub_def = p.ub[:, blk_with_def] > 0  # gathered once; per chunk only rows are taken
    cost_def = cost[:, blk_with_def]
    prev_k = np.maximum(b.prev, 0)
    tol = p.tol_kw
    pos = 0
    while pos < users.size:  # chunks of users, each small against the remaining need
        peak = np.maximum.reduceat(res, first_pos)
        if (res <= tol).all():
            break
        limit = _BALANCE_CHUNK * float(peak[peak > tol].min())
        # Chunk end: a short prefix sum usually suffices (its values equal the long one's).
        cum = np.cumsum(a_peak_sorted[pos : pos + 256])
        if cum.size == 256 and cum[-1] <= limit:
            cum = np.cumsum(a_peak_sorted[pos : pos + 4096])
        n_chunk = max(1, int(np.searchsorted(cum, limit, side="right")))
        ch = users[pos : pos + n_chunk]
        pos += n_chunk
        a_ch = a[ch]
        u = np.add.reduceat(np.minimum(a_ch, np.maximum(res, 0.0)), first_pos, axis=1) * p.dt
        need = peak / peak0
        good = (u > tol * p.dt) & ub_def[ch]
        key = np.where(good, cost_def[ch] / np.where(good, u * need, 1.0), np.inf)
        ranked = np.argsort(key, axis=1, kind="stable")
        rows = np.arange(ch.size)
        x_ch = x[ch]  # the chunk's rows, written back after the walk
        rem_h_ch = rem_h[ch]
        rem_c_ch = rem_c[ch]
        for j in range(blk_with_def.size):  # walk each user's ranking (loop over blocks)
            kk = ranked[:, j]
            k = blk_with_def[kk]
            new = b.first[k] | ~x_ch[rows, prev_k[k]]
            take = (
                good[rows, kk]
                & (p.len_h[k] <= rem_h_ch * (1 + 1e-12) + 1e-9)
                & (~new | (rem_c_ch >= 1))
            )
            x_ch[rows[take], k[take]] = True
            rem_h_ch[take] -= p.len_h[k[take]]
            rem_c_ch[take] -= new[take]
        x[ch] = x_ch
        rem_h[ch] = rem_h_ch
        rem_c[ch] = rem_c_ch
        res -= (a_ch * x_ch[:, bt]).sum(axis=0)
    return _prune(p, x, unit)


def _objective_cny(p: _Problem, x: NDArray[np.bool_]) -> float:
    """Block-model objective of an (n_eligible, n_blocks) selection (no unserved tolerance)."""
    b = p.blocks
    prev = np.zeros_like(x)
    nf = ~b.first
    prev[:, nf] = x[:, b.prev[nf]]
    starts = (x & ~prev).sum(axis=1)
    loss = float((p.blk_cost * x).sum() + np.dot(p.restart_cny[p.elig], starts))
    def_idx = np.flatnonzero(p.def_mask)
    bt = p.blocks.block_of_interval[def_idx]
    cover = (p.dp_kw[np.ix_(p.elig, def_idx)] * x[:, bt]).sum(axis=0)
    resid = p.deficit_kw[def_idx] - cover
    unserved = float(np.where(resid > p.tol_kw, resid, 0.0).sum()) * p.dt
    den = p.denom_kwh[p.elig]
    share = np.divide(
        p.prior_kwh[p.elig] + (p.blk_kwh * x).sum(axis=1),
        den,
        out=np.zeros(x.shape[0]),
        where=den > 0,
    )
    z = max(p.z_min, float(share.max(initial=0.0)))
    return loss + p.lam * z + p.penalty * unserved


def _greedy_plan(
    p: _Problem,
    which: str,
    lp_max_vars: int,
    lagrangian_iters: int,
    time_limit_s: float,
    rel_gap: float,
) -> tuple[NDArray[np.bool_], float, str]:
    """Best of plain, cap-aware and Lagrangian-guided greedy passes, with a lower bound.

    If the cap-aware pass (:func:`_balanced`) beats the plain one, a short subgradient
    run from peak-interval prices tries to certify it first.  Otherwise the subgradient
    runs in two halves; the best primal plan after the first half becomes the Polyak
    target of the second (a plain-greedy target can be far off when it leaves deficit
    unserved).  Both stop once the plan is certified within
    ``rel_gap`` (the caller's ``mip_rel_gap``).

    When the LP bound is computed, its optimum also guides the plan (LP rounding,
    e.g. Wolsey 1998, ch. 12): greedy passes that start from the blocks the LP selects
    at least to ``_LP_START_LEVELS`` and complete the cover in merit order, then prune.
    Usually within a few tenths of a percent of the LP bound on the default park, at a
    few milliseconds, where the plain passes stop at about 0.5–0.8 %.
    """
    x = _greedy(p)
    obj = _objective_cny(p, x)
    bound = -np.inf
    n1 = max(1, lagrangian_iters // 2)
    # Cap-aware pass; if it beats the plain pass, try to certify it at once from
    # peak-interval prices (the usual start converges slowly when caps bind).
    xb = _balanced(p)
    objb = _objective_cny(p, xb)
    if objb < obj:
        lag0 = _lagrangian(p, objb, min(n1, 10), stop_rel_gap=rel_gap, peak_start=True)
        bound = lag0.bound_cny
    if objb - bound > rel_gap * abs(objb):
        lag = None
        for n_iter in (n1, lagrangian_iters - n1):  # two phases
            if n_iter <= 0:
                continue
            if lag is None:
                lag = _lagrangian(p, obj, n_iter, stop_rel_gap=rel_gap)
            else:
                lag = _lagrangian(p, obj, n_iter, lag.mu, lag.theta, stop_rel_gap=rel_gap)
            bound = max(bound, lag.bound_cny)
            if p.elig.size == 0 or obj - bound <= rel_gap * abs(obj):
                break
            for start in (None, lag.x >= 0.5, lag.x_avg >= 0.5):
                x2 = _greedy(p, lag.opportunity_cny, start)
                obj2 = _objective_cny(p, x2)
                if obj2 < obj:
                    x, obj = x2, obj2
    if objb < obj:
        x, obj = xb, objb
    name = "lagrangian"
    if which == "lp" or (which == "auto" and p.blk_cost.size <= lp_max_vars):
        lp, x_lp = _lp_relaxation(p, time_limit_s)
        if np.isfinite(lp):
            bound, name = max(bound, lp), "lp"
        if x_lp is not None and obj - bound > rel_gap * abs(obj):
            unit = np.divide(
                p.blk_cost, p.blk_kwh, out=np.full_like(p.blk_cost, np.inf), where=p.blk_kwh > 0
            )
            for level in _LP_START_LEVELS:
                x2 = _prune(p, _greedy(p, None, x_lp >= level), unit)
                obj2 = _objective_cny(p, x2)
                if obj2 < obj:
                    x, obj = x2, obj2
    return x, bound, name
