"""Orderly electricity-use (有序用电) scheduling: which users shed load, and when.

The grid company forecasts a park's load ``L[i, t]`` (kW, user ``i``, interval ``t`` of
``Δt = interval_h`` hours) and its supply capacity ``cap[t]`` (kW).  Wherever the
deficit ``d[t] = Σ_i L[i, t] − cap[t]`` is positive, some users must shed a curtailable
block ``ΔP[i, t] = min(block_kw[i], L[i, t])``.  Shedding one kWh costs the user
``c[i, t]`` CNY (see :func:`loss_cny_per_kwh`) and every call (start of a curtailment run)
may cost a restart ``K[i]`` (see :func:`restart_cost_applies`).

Reference model (per-interval MILP; NOT solved here)
----------------------------------------------------
Binaries ``y[i, t]`` (curtailed) and ``u[i, t]`` (starts), continuous ``z ≥ 0`` (largest
cumulative share) and unserved slack ``s[t] ≥ 0`` (kW)::

    min  Σ_it c·ΔP·y·Δt + Σ_it K·u + λ·z + M·Σ_t s·Δt
    s.t. Σ_i ΔP[i,t]·y[i,t] + s[t] ≥ d[t]                 (park load ≤ capacity)
         u[i,t] ≥ y[i,t] − y[i,t−1]                         (start detection)
         y[i,t] ≥ Σ_{τ=t−m+1..t} u[i,τ]                     (minimum duration m)
         Σ_t y[i,t]·Δt ≤ H[i],  Σ_t u[i,t] ≤ C[i]           (hour and call caps)
         z ≥ (P[i] + Σ_t ΔP[i,t]·y[i,t]·Δt) / (Q[i] + D[i])  (rotation, non-protected i)
         y[i,t] = 0 for protected users

with ``M = unserved_penalty_cny_per_kwh``, ``λ = fairness_weight_cny``, ``P``/``Q`` the
prior curtailed energy and prior demand (kWh) carried across weeks and
``D[i] = Σ_t L[i,t]·Δt`` this horizon's forecast demand.  On 200 users × 168 h this model
stalls at a ~17 % optimality gap after 60 s on HiGHS although its LP relaxation solves in
0.2 s (measured; see ``benchmarks/bench_orderly_plan.py``): the min-duration and start
rows give a weak relaxation and a highly symmetric search space.

Block model (what :func:`schedule` solves)
------------------------------------------
:func:`shortage_blocks` turns the deficit into *blocks*, in this order:

1. a shortage event is a maximal run of consecutive intervals with ``d[t] > 0``; runs
   are cut at day boundaries (``intervals_per_day``; interval 0 starts a day), so
   events never cross midnight;
2. an event shorter than ``m = min_duration`` is padded to ``m`` intervals, first to the
   right, then to the left, never past its day or the horizon;
3. blocks of the same day that overlap or touch after padding are merged into one event
   (so distinct events in a day are separated by at least one free interval);
4. optionally (``sub_block_intervals``) an event is cut into ``⌊len / m'⌋``
   consecutive sub-blocks of near-equal length ``≥ m' = max(m, sub_block_intervals)``
   so that the low-deficit hours of a long event need not be covered by every user
   who covers its peak.

The decision is a binary ``x[i, k]`` per user and block: user ``i`` sheds ``ΔP[i, t]``
over every interval of block ``k``.  It is the reference model restricted to
``y[i, t] = x[i, k(t)]`` inside blocks and ``y[i, t] = 0`` outside them:

* start ``u[i, k] = x[i, k]`` for the first (or only) block of an event; for a later
  sub-block ``u[i, k] ≥ x[i, k] − x[i, k−1]`` (continuous in ``[0, 1]``: it is integral
  at any optimum because it only appears with non-negative cost and in ``≤`` caps);
* cover: ``Σ_i ΔP[i,t]·x[i,k(t)] + s[t] ≥ d[t]`` for every deficit interval ``t``;
* caps: ``Σ_k len_k·Δt·x[i,k] ≤ H[i]`` and ``Σ_k u[i,k] ≤ C[i]``;
* rotation: ``z ≥ (P[i] + Σ_k E[i,k]·x[i,k]) / (Q[i] + D[i])`` with
  ``E[i,k] = Σ_{t∈k} ΔP[i,t]·Δt``, for every non-protected user with demand
  (``z`` is bounded below by every non-protected user's prior share);
* objective ``Σ_ik (Σ_{t∈k} c·ΔP·Δt)·x + Σ_ik K·u + λ·z + M·Σ_t s·Δt``.

Every block plan is feasible for the reference model (each block is ≥ m intervals long
unless its day segment is shorter, i.e. only in a partial last day of the horizon) and
costs the same there, except that a run crossing midnight is counted as two calls (one
dispatch instruction per day) here and one start there.  Hence the block optimum is an
upper bound on the reference optimum, reached whenever the reference optimum curtails
whole events.  The MILP has ``n_users × n_blocks`` binaries instead of
``2 × n_users × n_intervals``, no min-duration rows, and a much tighter relaxation; on the
default park (200 users, 5 weekday events) HiGHS proves a ≤ 1 % gap in 1-3 s.  The slack
``s`` keeps the model feasible when caps or protection make full cover impossible; the
uncovered deficit is reported as ``unserved_kw``.  ``M`` is a soft price: because blocks
are lumpy, covering the last few kW may cost a whole block, so the MILP leaves deficit
unserved whenever that is cheaper at ``M`` CNY/kWh.  Full cover of a coverable instance
is guaranteed only if ``M`` times the smallest possible shortfall (kWh) exceeds the cost
of curtailing every block (e.g. integer kW data and ``M`` above the total block cost).

Greedy merit order (``method="greedy"``, or ``"auto"`` above ``milp_max_users``)
---------------------------------------------------------------------------------
Blocks are processed chronologically (a Python loop over blocks only).  In block ``k``
the candidates are the non-protected users whose remaining hour cap fits the block and
who have a call left (a user continuing from the previous sub-block of the same event
needs no new call and pays no restart).  Candidates are ranked by::

    score[i] = (C[i,k] + K[i]·new_call[i] + λ·max(0, share_after[i] − z_now)
                + π[i]·w[i,k]·new_call[i]) / useful_kwh[i]

with ``C[i,k] = Σ_{t∈k} c·ΔP·Δt`` and ``useful_kwh = Σ_{t∈k, d>0} min(ΔP, d)·Δt``.  The
rotation penalty ``λ·max(0, share_after − z_now)`` is the rise of ``λ·z`` this call alone
would cause: it grows with the user's current share and vanishes for users well below
the current largest share.  The shortest prefix of the ranking whose cumulative ``ΔP``
covers every deficit interval is taken (``argsort`` + ``cumsum``); if an interval cannot
be covered, every candidate able to help there is added too; a vectorised pass then
prunes the worst-ranked selected users whose ``ΔP`` fits in the cover surplus.

A chronological pass spends the cheapest users' caps on the first events of the week:
with 5 identical weekday events and a 20 h cap (4 events per user) it leaves the last
event short.  So a cap-aware pass is also run, over users instead of blocks: users are
taken in increasing mean cost per useful kWh, in chunks of at most 2 % of the smallest
remaining block need, and each user joins, within its hour and call caps, the blocks
with the lowest ``(C[i,k] + K[i]) / (useful_kwh[i,k] · need[k])``, ``need[k]`` being
the block's remaining fraction of its peak deficit, so scarce caps are spread over all
events (largest remaining need first); it stops once every deficit interval is covered
and then prunes, block by block, the selected users most expensive per kWh whose ``ΔP``
fits in the cover surplus.  If it beats the plain pass, the Lagrangian below is first
started from peak-interval prices (each block priced at its peak interval only, at the
marginal block cost per kW of a covering knapsack in which each user counts with the
share of its useful blocks its caps admit), which certifies such weeks in a few
iterations; only if that fails are the passes below run.

Several passes are run and the cheapest plan (full objective) is kept: first ``π = 0``
and the cap-aware pass; then, after each of two halves of the Lagrangian iterations
below (the best plan so far becomes the Polyak target of the second half), three
guided passes with ``π`` = each
user's cap shadow price (CNY per hour or per call, weight ``w``), so users with a scarce
cap are saved for the blocks where they are relatively cheapest instead of being spent
on the first events of the week: one from scratch, and two in which each block starts
from the users' price-optimal choices (``x ≥ 0.5`` at the best prices, and of the mean
of the later iterates, i.e. ergodic primal recovery), then is topped up and pruned.
Passes and iterations stop once the plan is certified within ``mip_rel_gap``.  On the
benchmark weeks the result is within 0.1-2 % of the LP bound; on weeks with binding
20 h / 5-call caps (200-10,000 users) within 0.4 % of it, all deficit covered (10,000
users: ~0.35 s); on tiny parks (~10 users) block lumpiness leaves 2-6 % to the MILP.
More ``lagrangian_iters`` tighten both the plan and the bound.

Lower bound for greedy plans (``greedy_bound``)
------------------------------------------------
* ``"lagrangian"``: relax the cover rows with prices ``μ_t ∈ [0, M·Δt]`` (CNY per kW of
  cover in deficit interval ``t``)::

      L(μ) = λ·z_min + Σ_t μ_t·d_t + Σ_i min_{0≤x_i≤1, w_i·x_i≤cap_i} Σ_k r_ik·x_ik,
      r_ik = C[i,k] + K[i]·first_k − Σ_{t∈k} μ_t·ΔP[i,t],

  keeping per user only the cap admitting fewer blocks (hours, weight ``len_k·Δt``, or
  calls, weight 1 on first sub-blocks), dropping rotation (but ``z ≥ z_min``, the largest
  prior share), integrality and later sub-blocks' restart costs.  Each user's
  subproblem is a fractional knapsack, so ``L(μ)`` is a valid lower bound for every
  ``μ``; ``μ`` is improved by Polyak subgradient steps (``lagrangian_iters``, a Python
  loop over iterations) and the best value is kept.  On the benchmark it comes within
  0.1-1 % of the LP bound at a fraction of its time (10,000 users: ~0.4 s vs ~2-4 s);
  it ignores rotation beyond the prior floor, so with a large ``λ`` prefer ``"lp"``.
* ``"lp"``: the LP relaxation of the block MILP (HiGHS); the larger of it and the
  Lagrangian bound is reported.
* ``"auto"`` (default): ``"lp"`` when there are at most ``lp_bound_max_vars``
  (user, block) binaries, else ``"lagrangian"``.

References:
    NDRC (2011) 《有序用电管理办法》 (Orderly electricity-use management measures).
    Jain, R., Chiu, D.-M. & Hawe, W. (1984) A quantitative measure of fairness and
    discrimination for resource allocation in shared computer systems. DEC-TR-301.
    Huangfu, Q. & Hall, J. A. J. (2018) Parallelizing the dual revised simplex method.
    Math. Prog. Comp. 10, 119-142 (HiGHS).
    Polyak, B. T. (1969) Minimization of unsmooth functionals. USSR Comput. Math. Math.
    Phys. 9, 14-29 (subgradient step size).
    Sherali, H. D. & Choi, G. (1996) Recovery of primal solutions when using subgradient
    optimization methods to solve Lagrangian duals of linear programs. Oper. Res. Lett.
    19, 105-113.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from markets._checks import as_float_array, nonnegative_scalar

__all__ = [
    "OrderlyPlan",
    "ShortageBlocks",
    "jain_index",
    "loss_cny_per_kwh",
    "restart_cost_applies",
    "schedule",
    "shortage_blocks",
]

_METHODS: Final = ("auto", "milp", "greedy")
_BOUNDS: Final = ("auto", "lp", "lagrangian")
_HOURS_PER_DAY: Final = 24.0
_BALANCE_CHUNK: Final = 0.02  # cap-aware pass: chunk ΔP / smallest remaining block need
_STALL_ITERS: Final = 3  # subgradient: halve the step after this many non-improving


# --------------------------------------------------------------------------- loss model
def loss_cny_per_kwh(
    voll_cny_per_kwh: ArrayLike,
    rho: ArrayLike,
    notice_h: ArrayLike,
) -> NDArray[np.float64]:
    """Loss per curtailed kWh as a function of notice lead time.

    ``c(τ) = VOLL·(1 − ρ·(1 − exp(−τ/24)))``: with no notice a kWh costs the full value
    of lost load; with long notice the user reschedules a fraction ``ρ`` of it, so the
    cost falls towards ``VOLL·(1 − ρ)``.  Less notice never costs less.

    Args:
        voll_cny_per_kwh: Value of lost load (CNY/kWh), ``≥ 0``; any shape.
        rho: Reschedulable fraction of the loss in ``[0, 1]``; broadcasts with the others.
        notice_h: Notice lead time ``τ`` (h), ``≥ 0``; broadcasts with the others.

    Returns:
        Loss per curtailed kWh (CNY/kWh), broadcast shape of the inputs.

    Raises:
        ValueError: If an argument is NaN, out of range, or the shapes do not broadcast.

    References:
        NDRC (2011) 《有序用电管理办法》 (advance notice of orderly-use plans);
        parksim DESIGN.md, "Orderly plan".
    """
    voll = _finite_array(voll_cny_per_kwh, "voll_cny_per_kwh")
    r = _finite_array(rho, "rho")
    tau = _finite_array(notice_h, "notice_h", allow_inf=True)
    if (voll < 0).any():
        raise ValueError("voll_cny_per_kwh must be non-negative")
    if ((r < 0) | (r > 1)).any():
        raise ValueError("rho must lie in [0, 1]")
    if (tau < 0).any():
        raise ValueError("notice_h must be non-negative")
    try:
        voll, r, tau = np.broadcast_arrays(voll, r, tau)
    except ValueError as exc:
        raise ValueError(
            "voll_cny_per_kwh, rho and notice_h shapes do not broadcast: "
            f"{np.shape(voll)}, {np.shape(r)}, {np.shape(tau)}"
        ) from exc
    return voll * (1.0 - r * (-np.expm1(-tau / _HOURS_PER_DAY)))


def restart_cost_applies(notice_h: ArrayLike, shutdown_h: ArrayLike) -> NDArray[np.bool_]:
    """Whether a call incurs the user's restart cost ``K``.

    A restart cost is due when the notice is shorter than the time the user needs for an
    orderly shutdown (``notice_h < shutdown_h``).

    Args:
        notice_h: Notice lead time (h), ``≥ 0``; any shape.
        shutdown_h: Orderly shutdown time per user (h), ``≥ 0``; broadcasts with notice.

    Returns:
        Boolean array of the broadcast shape, ``True`` where the restart cost applies.

    Raises:
        ValueError: If an argument is NaN, negative, or the shapes do not broadcast.

    References:
        parksim DESIGN.md, "Orderly plan" (restart cost K_i per call).
    """
    tau = _finite_array(notice_h, "notice_h", allow_inf=True)
    sd = _finite_array(shutdown_h, "shutdown_h", allow_inf=True)
    if (tau < 0).any():
        raise ValueError("notice_h must be non-negative")
    if (sd < 0).any():
        raise ValueError("shutdown_h must be non-negative")
    try:
        return np.asarray(tau < sd, dtype=np.bool_)
    except ValueError as exc:
        raise ValueError(
            f"notice_h and shutdown_h shapes do not broadcast: {tau.shape}, {sd.shape}"
        ) from exc


def jain_index(shares: ArrayLike) -> float:
    """Jain's fairness index of curtailed shares.

    ``J = (Σ s)² / (n·Σ s²)``; ``1`` when every share is equal (including all zero) and
    ``1/n`` when one user carries everything.  Always in ``[1/n, 1]``.

    Args:
        shares: Non-negative shares (dimensionless), one per user, 1-D.

    Returns:
        Jain's index; ``1.0`` for an empty array or all-zero shares.

    Raises:
        ValueError: If ``shares`` is not 1-D, contains NaN/inf or negative values.

    References:
        Jain, Chiu & Hawe (1984), DEC-TR-301.
    """
    s = _finite_array(shares, "shares")
    if s.ndim != 1:
        raise ValueError(f"shares must be 1-D, got shape {s.shape}")
    if (s < 0).any():
        raise ValueError("shares must be non-negative")
    sq = float(np.dot(s, s))
    if s.size == 0 or sq <= 0.0:
        return 1.0
    j = float(s.sum()) ** 2 / (s.size * sq)
    return float(min(1.0, max(1.0 / s.size, j)))


# --------------------------------------------------------------------------- blocks
@dataclass(frozen=True)
class ShortageBlocks:
    """Decision blocks derived from a deficit profile (see module docstring).

    Attributes:
        start: First interval of each block, shape ``(n_blocks,)``, chronological.
        stop: One past the last interval of each block, shape ``(n_blocks,)``.
        event: Index of the (padded, merged) shortage event of each block.
        first: ``True`` for the first sub-block of its event (a call starts there).
        prev: Index of the preceding sub-block of the same event, ``-1`` for firsts.
        block_of_interval: Block index of every interval, ``-1`` outside blocks,
            shape ``(n_intervals,)``.

    References:
        parksim DESIGN.md, "Orderly plan" (shortage events and blocks).
    """

    start: NDArray[np.int64]
    stop: NDArray[np.int64]
    event: NDArray[np.int64]
    first: NDArray[np.bool_]
    prev: NDArray[np.int64]
    block_of_interval: NDArray[np.int64]

    @property
    def n_blocks(self) -> int:
        """Number of blocks."""
        return int(self.start.size)

    @property
    def length(self) -> NDArray[np.int64]:
        """Length of each block (intervals)."""
        return self.stop - self.start


def shortage_blocks(
    deficit_kw: ArrayLike,
    *,
    min_duration: int = 1,
    intervals_per_day: int = 24,
    sub_block_intervals: int | None = None,
) -> ShortageBlocks:
    """Split a deficit profile into shortage events and decision blocks.

    Events are maximal runs of positive deficit cut at day boundaries, padded to
    ``min_duration`` within their day (right first, then left), merged when they overlap
    or touch, and optionally cut into sub-blocks (see the module docstring).

    Args:
        deficit_kw: Park deficit ``Σ_i load − capacity`` per interval (kW), 1-D; only its
            sign matters.
        min_duration: Minimum curtailment run (intervals), ``1 ≤ m ≤ intervals_per_day``.
        intervals_per_day: Intervals per day; interval 0 starts a day.
        sub_block_intervals: If given (``≥ 1``), cut each event into
            ``⌊len / m'⌋`` near-equal sub-blocks, ``m' = max(min_duration, this)``.

    Returns:
        The blocks, chronological and disjoint.

    Raises:
        ValueError: On NaN deficit, non-integer or out-of-range durations.

    References:
        parksim DESIGN.md, "Orderly plan".
    """
    d = _finite_array(deficit_kw, "deficit_kw", allow_inf=True)
    if d.ndim != 1:
        raise ValueError(f"deficit_kw must be 1-D, got shape {d.shape}")
    ipd = _check_int(intervals_per_day, "intervals_per_day", 1)
    m = _check_int(min_duration, "min_duration", 1)
    if m > ipd:
        raise ValueError(
            f"min_duration ({m}) must not exceed intervals_per_day ({ipd}): runs never "
            "cross a day boundary"
        )
    sub = (
        None
        if sub_block_intervals is None
        else _check_int(sub_block_intervals, "sub_block_intervals", 1)
    )
    n = d.size
    pos = d > 0
    day = np.arange(n) // ipd
    new_day = np.ones(n, dtype=bool)
    new_day[1:] = day[1:] != day[:-1]
    end_day = np.ones(n, dtype=bool)
    end_day[:-1] = new_day[1:]
    prev_pos = np.zeros(n, dtype=bool)
    prev_pos[1:] = pos[:-1]
    next_pos = np.zeros(n, dtype=bool)
    next_pos[:-1] = pos[1:]
    starts = np.flatnonzero(pos & (~prev_pos | new_day))
    stops = np.flatnonzero(pos & (~next_pos | end_day)) + 1

    events: list[list[int]] = []
    for a0, b0 in zip(starts.tolist(), stops.tolist(), strict=True):  # loop over events
        a, b = a0, b0
        d0 = (a // ipd) * ipd
        d1 = min(d0 + ipd, n)
        need = m - (b - a)
        if need > 0:
            ext = min(need, d1 - b)
            b += ext
            a = max(d0, a - (need - ext))
        if events and events[-1][0] >= d0 and events[-1][1] >= a:
            events[-1][1] = max(events[-1][1], b)
        else:
            events.append([a, b])

    bs: list[int] = []
    be: list[int] = []
    bev: list[int] = []
    for e, (a, b) in enumerate(events):
        length = b - a
        n_sub = 1 if sub is None else max(1, length // max(m, sub))
        sizes = np.full(n_sub, length // n_sub)
        sizes[: length % n_sub] += 1
        edges = a + np.concatenate(([0], np.cumsum(sizes)))
        bs.extend(edges[:-1].tolist())
        be.extend(edges[1:].tolist())
        bev.extend([e] * n_sub)
    start = np.asarray(bs, dtype=np.int64)
    stop = np.asarray(be, dtype=np.int64)
    event = np.asarray(bev, dtype=np.int64)
    first = np.ones(start.size, dtype=bool)
    first[1:] = event[1:] != event[:-1]
    prev = np.where(first, -1, np.arange(start.size) - 1).astype(np.int64)
    block_of = np.full(n, -1, dtype=np.int64)
    if start.size:
        idx = np.repeat(np.arange(start.size), stop - start)
        block_of[np.concatenate([np.arange(a, b) for a, b in zip(bs, be, strict=True)])] = idx
    return ShortageBlocks(start, stop, event, first, prev, block_of)


# --------------------------------------------------------------------------- result
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
        status: ``"optimal"``, ``"gap_limit"``, ``"time_limit"``, ``"greedy"`` or
            ``"no_shortage"``.
        method: ``"milp"``, ``"greedy"`` or ``"none"``.
        bound_method: ``"milp_dual"``, ``"lp"``, ``"lagrangian"`` or ``"none"``.
        n_blocks: Number of decision blocks.
        solve_time_s: Wall time of the whole :func:`schedule` call (s).

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


@dataclass(frozen=True)
class _Problem:
    """Validated inputs and the per-(eligible user, block) data."""

    dp_kw: NDArray[np.float64]  # (n, T) ΔP
    cost_cny: NDArray[np.float64]  # (n, T) c·ΔP·Δt
    deficit_kw: NDArray[np.float64]  # (T,)
    def_mask: NDArray[np.bool_]  # (T,) deficit > tol
    tol_kw: float
    restart_cny: NDArray[np.float64]  # (n,)
    protected: NDArray[np.bool_]
    max_hours: NDArray[np.float64]
    max_calls: NDArray[np.float64]
    denom_kwh: NDArray[np.float64]  # prior demand + demand
    prior_kwh: NDArray[np.float64]
    prior_share: NDArray[np.float64]
    z_min: float
    lam: float
    penalty: float
    dt: float
    ipd: int
    blocks: ShortageBlocks
    elig: NDArray[np.int64]  # eligible user indices
    blk_cost: NDArray[np.float64]  # (n_e, n_b) Σ_{t∈k} c·ΔP·Δt
    blk_kwh: NDArray[np.float64]  # (n_e, n_b) Σ_{t∈k} ΔP·Δt
    len_h: NDArray[np.float64]  # (n_b,)
    ub: NDArray[np.float64]  # (n_e, n_b) 0/1 upper bound on x


# --------------------------------------------------------------------------- schedule
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
) -> OrderlyPlan:
    """Plan orderly electricity use: who sheds which block in which shortage interval.

    Solves the block model of the module docstring exactly (MILP, HiGHS) or by the
    greedy merit order, and certifies the plan with a lower bound.  With no positive
    deficit the empty plan is returned without calling a solver.  If HiGHS returns no
    incumbent within the time limit, the greedy plan is returned with
    ``status="time_limit"`` and ``method="greedy"``.

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
        method: ``"milp"``, ``"greedy"`` or ``"auto"`` (MILP up to ``milp_max_users``).
        milp_max_users: ``"auto"`` switches to greedy above this many users.
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
    milp_max_users = _check_int(milp_max_users, "milp_max_users", 0)
    lp_bound_max_vars = _check_int(lp_bound_max_vars, "lp_bound_max_vars", 0)
    lagrangian_iters = _check_int(lagrangian_iters, "lagrangian_iters", 1)
    time_limit_s = nonnegative_scalar(time_limit_s, "time_limit_s", positive=True, real=True)
    mip_rel_gap = nonnegative_scalar(mip_rel_gap, "mip_rel_gap", real=True)
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

    n_users = prob.dp_kw.shape[0]
    if prob.blocks.n_blocks == 0:
        sel = np.zeros((n_users, 0), dtype=bool)
        return _finalise(prob, sel, 0.0, "no_shortage", "none", "none", t0)

    use_milp = method == "milp" or (method == "auto" and n_users <= milp_max_users)
    if use_milp:
        x, bound, status, solver_gap = _solve_milp(prob, time_limit_s, mip_rel_gap, relax=False)
        if x is not None:
            sel = _full_selection(prob, x)
            return _finalise(prob, sel, bound, status, "milp", "milp_dual", t0, solver_gap)
        status, method_used = "time_limit", "greedy"
    else:
        bound, status, method_used = -np.inf, "greedy", "greedy"
    xg, bound_g, bound_name = _greedy_plan(
        prob, greedy_bound, lp_bound_max_vars, lagrangian_iters, time_limit_s, mip_rel_gap
    )
    return _finalise(
        prob, _full_selection(prob, xg), max(bound, bound_g), status, method_used, bound_name, t0
    )


# --------------------------------------------------------------------------- validation
def _finite_array(x: ArrayLike, name: str, *, allow_inf: bool = False) -> NDArray[np.float64]:
    arr = as_float_array(x, name, detail=False)
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN")
    if not allow_inf and not np.isfinite(arr).all():
        raise ValueError(f"{name} contains inf")
    return arr


def _check_int(x: object, name: str, minimum: int) -> int:
    if isinstance(x, bool) or not isinstance(x, int | np.integer):
        raise ValueError(f"{name} must be an int, got {x!r}")
    if int(x) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {x}")
    return int(x)


def _nonnegative_array(
    x: ArrayLike, name: str, shapes: tuple[tuple[int, ...], ...]
) -> NDArray[np.float64]:
    arr = _finite_array(x, name)
    if arr.shape not in shapes:
        expected = " or ".join(str(shape) for shape in shapes)
        raise ValueError(f"{name} must have shape {expected}, got {arr.shape}")
    if (arr < 0).any():
        raise ValueError(f"{name} must be non-negative")
    return arr


def _user_vector(
    x: ArrayLike | None, name: str, n: int, default: float, *, allow_inf: bool = False
) -> NDArray[np.float64]:
    if x is None:
        return np.full(n, default)
    arr = _finite_array(x, name, allow_inf=allow_inf)
    if arr.shape not in ((), (n,)):
        raise ValueError(f"{name} must be a scalar or have shape ({n},), got {arr.shape}")
    if (arr < 0).any():
        raise ValueError(f"{name} must be non-negative")
    return np.broadcast_to(arr, (n,)).astype(np.float64)


def _prepare(
    loads_kw: ArrayLike,
    capacity_kw: ArrayLike,
    block_kw: ArrayLike,
    loss: ArrayLike,
    *,
    restart_cost_cny: ArrayLike | None,
    protected: ArrayLike | None,
    max_hours: ArrayLike,
    max_calls: ArrayLike,
    min_duration: int,
    fairness_weight_cny: float,
    prior_curtailed_kwh: ArrayLike | None,
    prior_demand_kwh: ArrayLike | None,
    interval_h: float,
    intervals_per_day: int,
    unserved_penalty_cny_per_kwh: float,
    sub_block_intervals: int | None,
) -> _Problem:
    loads = _finite_array(loads_kw, "loads_kw")
    if loads.ndim != 2:
        raise ValueError(f"loads_kw must be 2-D (n_users, n_intervals), got {loads.shape}")
    if (loads < 0).any():
        raise ValueError("loads_kw must be non-negative")
    n, n_t = loads.shape
    cap = _nonnegative_array(capacity_kw, "capacity_kw", ((n_t,),))
    blk = _nonnegative_array(block_kw, "block_kw", ((n,),))
    c = _nonnegative_array(loss, "loss_cny_per_kwh", ((n,), (n, n_t)))
    restart = _user_vector(restart_cost_cny, "restart_cost_cny", n, 0.0)
    if protected is None:
        prot = np.zeros(n, dtype=bool)
    else:
        prot = np.asarray(protected)
        if prot.shape != (n,) or prot.dtype != np.bool_:
            raise ValueError(f"protected must be a bool array of shape ({n},)")
    hours_cap = _user_vector(max_hours, "max_hours", n, np.inf, allow_inf=True)
    calls_cap = _user_vector(max_calls, "max_calls", n, np.inf, allow_inf=True)
    lam = nonnegative_scalar(fairness_weight_cny, "fairness_weight_cny", real=True)
    prior_c = _user_vector(prior_curtailed_kwh, "prior_curtailed_kwh", n, 0.0)
    prior_d = _user_vector(prior_demand_kwh, "prior_demand_kwh", n, 0.0)
    if (prior_c > prior_d * (1 + 1e-12) + 1e-9).any():
        raise ValueError("prior_curtailed_kwh must not exceed prior_demand_kwh")
    dt = nonnegative_scalar(interval_h, "interval_h", positive=True, real=True)
    ipd = _check_int(intervals_per_day, "intervals_per_day", 1)
    m = _check_int(min_duration, "min_duration", 1)
    penalty = nonnegative_scalar(
        unserved_penalty_cny_per_kwh, "unserved_penalty_cny_per_kwh", positive=True, real=True
    )

    dp = np.minimum(blk[:, None], loads)
    cost = (c if c.ndim == 2 else c[:, None]) * dp * dt
    total = loads.sum(axis=0)
    deficit = total - cap
    tol = 1e-9 * max(1.0, float(total.max(initial=0.0)), float(cap.max(initial=0.0)))
    def_mask = deficit > tol
    blocks = shortage_blocks(
        np.where(def_mask, 1.0, 0.0),
        min_duration=m,
        intervals_per_day=ipd,
        sub_block_intervals=sub_block_intervals,
    )
    denom = prior_d + loads.sum(axis=1) * dt
    has_d = denom > 0
    prior_share = np.divide(prior_c, denom, out=np.zeros(n), where=has_d)
    z_min = float(prior_share[~prot].max(initial=0.0))

    # Eligible users: not protected, at least one call, and able to shed in a deficit hour.
    useful = (dp[:, def_mask] > 0).any(axis=1) if def_mask.any() else np.zeros(n, bool)
    elig = np.flatnonzero(~prot & (calls_cap >= 1 - 1e-9) & useful)
    n_b = blocks.n_blocks
    blk_cost = np.empty((elig.size, n_b))
    blk_kwh = np.empty((elig.size, n_b))
    blk_use = np.empty((elig.size, n_b), dtype=bool)
    dp_e = dp[elig]
    cost_e = cost[elig]
    for k in range(n_b):  # loop over blocks only
        sl = slice(int(blocks.start[k]), int(blocks.stop[k]))
        blk_cost[:, k] = cost_e[:, sl].sum(axis=1)
        blk_kwh[:, k] = dp_e[:, sl].sum(axis=1) * dt
        blk_use[:, k] = (dp_e[:, sl][:, def_mask[sl]] > 0).any(axis=1)
    len_h = blocks.length.astype(np.float64) * dt
    ub = (len_h[None, :] <= hours_cap[elig, None] * (1 + 1e-12) + 1e-9).astype(np.float64)
    # A block without cover for this user is useless unless it bridges sub-blocks.
    singleton = blocks.first & np.append(blocks.first[1:], True)
    ub[~blk_use & singleton[None, :]] = 0.0
    return _Problem(
        dp_kw=dp,
        cost_cny=cost,
        deficit_kw=deficit,
        def_mask=def_mask,
        tol_kw=tol,
        restart_cny=restart,
        protected=prot,
        max_hours=hours_cap,
        max_calls=calls_cap,
        denom_kwh=denom,
        prior_kwh=prior_c,
        prior_share=prior_share,
        z_min=z_min,
        lam=lam,
        penalty=penalty,
        dt=dt,
        ipd=ipd,
        blocks=blocks,
        elig=elig,
        blk_cost=blk_cost,
        blk_kwh=blk_kwh,
        len_h=len_h,
        ub=ub,
    )


# --------------------------------------------------------------------------- MILP
def _build_model(
    p: _Problem,
) -> tuple[NDArray[np.float64], LinearConstraint, Bounds, NDArray[np.int64], slice]:
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


def _solve_milp(
    p: _Problem, time_limit_s: float, mip_rel_gap: float, *, relax: bool
) -> tuple[NDArray[np.bool_] | None, float, str, float]:
    """Solve the block MILP (or its LP relaxation).

    Returns the selection (None without incumbent), the dual bound, the status and
    HiGHS's own relative gap (NaN if it reports none).
    """
    c, cons, bounds, integrality, xs = _build_model(p)
    n_e, n_b = p.blk_cost.shape
    if relax:
        integrality = np.zeros_like(integrality)
    with _solver_stdout_silenced():
        res = milp(
            c,
            constraints=cons,
            bounds=bounds,
            integrality=integrality,
            options={"time_limit": time_limit_s, "mip_rel_gap": mip_rel_gap, "disp": False},
        )
    if relax:
        ok = res.status == 0 and res.fun is not None
        return None, float(res.fun) if ok else -np.inf, "lp", np.nan
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


# --------------------------------------------------------------------------- greedy
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
    dp_e = p.dp_kw[p.elig]
    for k in range(b.n_blocks):  # loop over blocks only
        t_idx = np.arange(b.start[k], b.stop[k])[p.def_mask[b.start[k] : b.stop[k]]]
        sel = np.flatnonzero(x[:, k])
        if t_idx.size == 0:
            x[sel, k] = False
            continue
        sel = sel[np.argsort(-unit[sel, k], kind="stable")]
        ps = dp_e[sel][:, t_idx]
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
    a = p.dp_kw[p.elig][:, def_idx]  # (n_e, n_def)
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
    a_peak = a.max(axis=1)
    tol = p.tol_kw
    pos = 0
    while pos < users.size:  # chunks of users, each small against the remaining need
        peak = np.maximum.reduceat(res, first_pos)
        if (res <= tol).all():
            break
        limit = _BALANCE_CHUNK * float(peak[peak > tol].min())
        cum = np.cumsum(a_peak[users[pos : pos + 4096]])
        n_chunk = max(1, int(np.searchsorted(cum, limit, side="right")))
        ch = users[pos : pos + n_chunk]
        pos += n_chunk
        u = np.add.reduceat(np.minimum(a[ch], np.maximum(res, 0.0)), first_pos, axis=1) * p.dt
        need = peak / peak0
        good = (u > tol * p.dt) & (p.ub[ch][:, blk_with_def] > 0)
        key = np.where(good, cost[ch][:, blk_with_def] / np.where(good, u * need, 1.0), np.inf)
        ranked = np.argsort(key, axis=1, kind="stable")
        rows = np.arange(ch.size)
        for j in range(blk_with_def.size):  # walk each user's ranking (loop over blocks)
            kk = ranked[:, j]
            k = blk_with_def[kk]
            new = b.first[k] | ~x[ch, np.maximum(b.prev[k], 0)]
            take = (
                good[rows, kk]
                & (p.len_h[k] <= rem_h[ch] * (1 + 1e-12) + 1e-9)
                & (~new | (rem_c[ch] >= 1))
            )
            x[ch[take], k[take]] = True
            rem_h[ch[take]] -= p.len_h[k[take]]
            rem_c[ch[take]] -= new[take]
        res -= (a[ch] * x[ch][:, bt]).sum(axis=0)
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
    cover = (p.dp_kw[p.elig][:, def_idx] * x[:, bt]).sum(axis=0)
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
        _, lp, _, _ = _solve_milp(p, time_limit_s, 0.0, relax=True)
        if np.isfinite(lp):
            bound, name = max(bound, lp), "lp"
    return x, bound, name


# --------------------------------------------------------------------------- results
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
) -> OrderlyPlan:
    """Turn a block selection into an :class:`OrderlyPlan`, evaluated from scratch."""
    n, n_t = p.dp_kw.shape
    curtail = np.zeros((n, n_t), dtype=bool)
    inside = p.blocks.block_of_interval >= 0
    if sel.shape[1]:
        curtail[:, inside] = sel[:, p.blocks.block_of_interval[inside]]
    curtailed = np.where(curtail, p.dp_kw, 0.0)
    day = np.arange(n_t) // p.ipd
    cont = np.zeros_like(curtail)
    cont[:, 1:] = curtail[:, :-1] & (day[1:] == day[:-1])[None, :]
    calls = (curtail & ~cont).sum(axis=1).astype(np.int64)
    hours = curtail.sum(axis=1) * p.dt
    loss = float(p.cost_cny[curtail].sum() + np.dot(p.restart_cny, calls))
    resid = p.deficit_kw - curtailed.sum(axis=0)
    unserved = np.where(p.def_mask & (resid > p.tol_kw), resid, 0.0)
    unserved_kwh = float(unserved.sum() * p.dt)
    shares = np.divide(
        p.prior_kwh + curtailed.sum(axis=1) * p.dt,
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
    )
