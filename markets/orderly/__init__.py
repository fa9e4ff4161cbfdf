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

Hybrid (``method="hybrid"``; ``"auto"`` up to ``milp_max_users``)
------------------------------------------------------------------
The greedy plan and its bound are computed first (stopping once certified within
``min(mip_rel_gap, hybrid_gap)``); if its gap is at most ``hybrid_gap`` (default 0.5 %)
it is returned.  Otherwise it is improved by fix-and-optimize (:mod:`.improve`, after
Helber & Sahling 2010): one block's selections ``x[:, k]`` are re-optimised exactly on
HiGHS with every other block fixed, blocks round robin, until no single block improves
the plan or the time limit is spent; if that plan is certified within ``hybrid_gap`` it
is returned (``method="fix_and_optimize"``, ``status="local_optimum"``).  Only then is
the whole MILP solved, and the better plan returned with the larger bound.  In the
default park's one-year runs the greedy is certified in almost every week and the
few others (two a year in the efficiency and agency phases) end within 0.5 % of the
LP bound after fix-and-optimize, so no MILP is solved; on tiny parks, where block
lumpiness leaves a few percent to the greedy, the MILP usually still runs.

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
    Helber, S. & Sahling, F. (2010) A fix-and-optimize approach for the multi-level
    capacitated lot sizing problem. Int. J. Production Economics 123, 247-256.
    Polyak, B. T. (1969) Minimization of unsmooth functionals. USSR Comput. Math. Math.
    Phys. 9, 14-29 (subgradient step size).
    Sherali, H. D. & Choi, G. (1996) Recovery of primal solutions when using subgradient
    optimization methods to solve Lagrangian duals of linear programs. Oper. Res. Lett.
    19, 105-113.

Package layout: one topic per module, re-exported here, in kW, kWh and CNY throughout:
``loss`` (loss per kWh, restart cost, loss of load), ``blocks`` (shortage events and
blocks), ``problem`` (validation and the per-(user, block) data), ``milp`` (block MILP on
HiGHS), ``greedy`` (merit-order passes), ``improve`` (fix-and-optimize), ``bounds``
(Lagrangian bound), ``plan`` (:class:`OrderlyPlan` and its evaluation from a block
selection), ``schedule`` (:func:`schedule`); :func:`~markets.fairness.jain_index` lives
in :mod:`markets.fairness`.
"""

from __future__ import annotations

from markets.fairness import jain_index
from markets.orderly.blocks import ShortageBlocks, shortage_blocks
from markets.orderly.loss import loss_cny_per_kwh, loss_of_load_cny, restart_cost_applies
from markets.orderly.schedule import OrderlyPlan, schedule

__all__ = [
    "OrderlyPlan",
    "ShortageBlocks",
    "jain_index",
    "loss_cny_per_kwh",
    "loss_of_load_cny",
    "restart_cost_applies",
    "schedule",
    "shortage_blocks",
]
