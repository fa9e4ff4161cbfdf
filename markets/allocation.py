"""Allocation of a sales agent's two-part contract cost among its members.

The agent's actual cost for its members' loads L (users × intervals, kW) under
a two-part contract with capacity rate ``a`` (CNY per kW of aggregate peak over
the period) and energy rate ``b`` (CNY per kWh) is

    F1 = a · max_t Σ_i L_it + b · Σ_i Σ_t L_it · Δt.

This module splits F1 into per-user charges x_i with Σ_i x_i = F1 (efficiency)
by one of three rules:

* ``coincident_peak`` (default): x_i = a · (user i's mean load over the
  aggregate-peak intervals) + b · E_i. Ties: every interval whose aggregate
  load equals the maximum (within a relative 1e-9) is a peak interval, and the
  peak share is normalised so that the capacity part sums to exactly a · peak.
* ``shapley``: the Shapley value of the cost game
  c(S) = a · max_t Σ_{i∈S} L_it + b · Σ_{i∈S} E_i, exact by vectorised subset
  enumeration for n ≤ 12 users, by permutation sampling above that.
* ``pro_rata_energy``: x_i = F1 · E_i / Σ_j E_j.

Properties of the cost game (verified by the tests):

* It is monotone and subadditive (max of a sum ≤ sum of maxes), so every
  Shapley value lies between b·E_i + a·min_t L_it and the stand-alone cost
  c({i}) (individual rationality).
* It is *not* submodular (concave) in general: with loads (1, 0), (0, 1) and
  (1, 0) the marginal cost of user 1 is 0 when joining {2} but a when joining
  {2, 3}. Hence Shapley (1971)'s "Shapley value of a concave game is in the
  core" does not apply, and indeed the Shapley value can leave the core: for
  loads (3, 1), (1, 2), (2, 0) it charges users {1, 2} 25/6 · a + b·E while their
  stand-alone cost is 4 · a + b·E. For two users it is always in the core.
* The core is never empty: the coincident-peak allocation is in it, because
  for any coalition S, Σ_{i∈S} L_{i,t*} ≤ max_t Σ_{i∈S} L_it (and averaging
  over tied peak intervals is a convex combination of core points).

Conventions: loads are non-negative interval-average demands in kW (members
buy; no export), ``interval_h`` is the interval length (1 h by default), money
is a cost in CNY charged to the member (positive = the member pays). A user's
bit in a coalition index is ``1 << i`` (user i is row i of ``loads_kw``).

References:
    Shapley, L. S., "A value for n-person games", in Contributions to the
    Theory of Games II, Annals of Mathematics Studies 28, 307–317, 1953.
    Shapley, L. S., "Cores of convex games", International Journal of Game
    Theory 1:11–26, 1971.
    Castro, J., Gómez, D. & Tejada, J., "Polynomial calculation of the Shapley
    value based on sampling", Computers & Operations Research 36(5):1726–1730,
    2009.
    Young, H. P., "Cost allocation", in Handbook of Game Theory with Economic
    Applications, vol. 2, ch. 34, 1994 (coincident-peak and pro-rata rules).
    Project DESIGN.md, "Agency", step 3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from markets._checks import (
    check_finite,
    interval_length_h,
    load_matrix,
    nonnegative_scalar,
)

__all__ = [
    "EXACT_MAX_USERS",
    "RULES",
    "ShapleyResult",
    "allocate",
    "coalition_costs_cny",
    "in_core",
    "is_efficient",
    "shapley",
    "unit_load_rate_contribution",
]

#: Largest number of users for exact subset enumeration (2**12 = 4096 coalitions).
EXACT_MAX_USERS = 12
#: Allocation rules accepted by :func:`allocate`.
RULES = ("coincident_peak", "shapley", "pro_rata_energy")
_PEAK_TIE_RTOL = 1e-9
_CHUNK_FLOATS = 1 << 22  # ~32 MB of float64 per subset-sum block


def _two_part_inputs(
    loads_kw: ArrayLike,
    capacity_rate_cny_per_kw: float,
    energy_rate_cny_per_kwh: float,
    interval_h: float,
) -> tuple[NDArray[np.float64], float, float, float]:
    """Validate the loads, the two-part rates and the interval length.

    Args:
        loads_kw: Interval-average loads in kW, users × intervals.
        capacity_rate_cny_per_kw: ``a``, CNY per kW of peak.
        energy_rate_cny_per_kwh: ``b``, CNY per kWh.
        interval_h: Interval length in hours.

    Returns:
        ``(loads, a, b, dt)``.

    Raises:
        ValueError: On invalid loads, a NaN, infinite or negative rate, or a
            non-positive or non-finite interval length.
    """
    return (
        load_matrix(loads_kw, "loads_kw"),
        nonnegative_scalar(capacity_rate_cny_per_kw, "capacity_rate_cny_per_kw"),
        nonnegative_scalar(energy_rate_cny_per_kwh, "energy_rate_cny_per_kwh"),
        interval_length_h(interval_h),
    )


def _peak_mask(loads: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Intervals at which the aggregate load is at its maximum (ties included).

    Args:
        loads: Validated users × intervals loads in kW.

    Returns:
        Boolean mask over intervals.
    """
    aggregate = loads.sum(axis=0)
    peak = aggregate.max()
    at_peak: NDArray[np.bool_] = aggregate >= peak - _PEAK_TIE_RTOL * peak
    return at_peak


def _subset_peaks_kw(loads: NDArray[np.float64]) -> NDArray[np.float64]:
    """Peak aggregate load of every coalition, indexed by its member bitmask.

    Args:
        loads: Validated users × intervals loads in kW, n ≤ EXACT_MAX_USERS.

    Returns:
        Array of length 2**n; entry S is max_t Σ_{i∈S} L_it (0 for S = ∅).
    """
    n, n_intervals = loads.shape
    n_subsets = 1 << n
    subsets = np.arange(n_subsets, dtype=np.int64)
    bits = np.left_shift(np.int64(1), np.arange(n, dtype=np.int64))
    peaks = np.empty(n_subsets)
    chunk = max(1, _CHUNK_FLOATS // n_intervals)
    for start in range(0, n_subsets, chunk):  # loop over memory blocks, not users
        block = subsets[start : start + chunk]
        members = ((block[:, None] & bits[None, :]) != 0).astype(np.float64)
        peaks[start : start + chunk] = (members @ loads).max(axis=1)
    return peaks


def _membership(n: int) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    """Subset indices, user bits and the membership matrix for n users.

    Args:
        n: Number of users.

    Returns:
        ``(subsets, bits, members)`` with ``members[S, i]`` true iff user i is
        in coalition S.
    """
    subsets = np.arange(1 << n, dtype=np.int64)
    bits = np.left_shift(np.int64(1), np.arange(n, dtype=np.int64))
    members = (subsets[:, None] & bits[None, :]) != 0
    return subsets, bits, members


def coalition_costs_cny(
    loads_kw: ArrayLike,
    capacity_rate_cny_per_kw: float,
    energy_rate_cny_per_kwh: float,
    *,
    interval_h: float = 1.0,
) -> NDArray[np.float64]:
    """Stand-alone two-part cost of every coalition of users.

    c(S) = a · max_t Σ_{i∈S} L_it + b · Σ_{i∈S} Σ_t L_it · Δt, with coalition S
    indexed by the bitmask Σ_{i∈S} 2**i (entry 0 is the empty coalition, 0 CNY).

    Args:
        loads_kw: Loads in kW, users × intervals, at most EXACT_MAX_USERS users.
        capacity_rate_cny_per_kw: ``a``, CNY per kW of coalition peak.
        energy_rate_cny_per_kwh: ``b``, CNY per kWh.
        interval_h: Interval length in hours.

    Returns:
        Array of length 2**n of coalition costs in CNY.

    Raises:
        ValueError: On invalid loads or rates, or more than EXACT_MAX_USERS users.

    References:
        Young, "Cost allocation", Handbook of Game Theory vol. 2, 1994.
    """
    loads, a, b, dt = _two_part_inputs(
        loads_kw, capacity_rate_cny_per_kw, energy_rate_cny_per_kwh, interval_h
    )
    n = loads.shape[0]
    if n > EXACT_MAX_USERS:
        raise ValueError(
            f"loads_kw has {n} users; coalition enumeration supports at most {EXACT_MAX_USERS}"
        )
    _, _, members = _membership(n)
    energy_kwh = loads.sum(axis=1) * dt
    cost_cny: NDArray[np.float64] = a * _subset_peaks_kw(loads) + b * (
        members.astype(np.float64) @ energy_kwh
    )
    return cost_cny


@dataclass(frozen=True)
class ShapleyResult:
    """Shapley value of the two-part cost game.

    Attributes:
        values_cny: Cost charged to each user in CNY (positive = user pays).
        std_error_cny: Standard error of each value in CNY (zeros when exact).
        exact: True if computed by full subset enumeration.
        n_permutations: Number of sampled permutations (0 when exact).

    References:
        Shapley, "A value for n-person games", 1953; Castro, Gómez & Tejada,
        "Polynomial calculation of the Shapley value based on sampling", 2009.
    """

    values_cny: NDArray[np.float64]
    std_error_cny: NDArray[np.float64]
    exact: bool
    n_permutations: int


def _exact_shapley_peak_kw(loads: NDArray[np.float64]) -> NDArray[np.float64]:
    """Exact Shapley value of the peak game v(S) = max_t Σ_{i∈S} L_it.

    φ_i = Σ_{S ∌ i} |S|! (n − |S| − 1)! / n! · (v(S ∪ {i}) − v(S)), vectorised
    over all subsets and users with bit masks.

    Args:
        loads: Validated loads, n ≤ EXACT_MAX_USERS.

    Returns:
        Shapley values in kW of peak.
    """
    n = loads.shape[0]
    peaks = _subset_peaks_kw(loads)
    subsets, bits, members = _membership(n)
    size = members.sum(axis=1)
    # w(s) = s! (n-s-1)! / n! = 1 / (n * C(n-1, s)), built by a product recurrence.
    s = np.arange(n)
    ratio = np.ones(n)
    ratio[1:] = s[1:] / (n - s[1:])  # C(n-1,s-1)/C(n-1,s) = s / (n - s)
    weight_by_size = np.cumprod(ratio) / n
    weights = np.where(members, 0.0, weight_by_size[np.minimum(size, n - 1)][:, None])
    marginal = peaks[subsets[:, None] | bits[None, :]] - peaks[:, None]
    shapley_kw: NDArray[np.float64] = (weights * marginal).sum(axis=0)
    return shapley_kw


def _sampled_shapley_peak_kw(
    loads: NDArray[np.float64], rng: np.random.Generator, n_permutations: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Permutation-sampling estimate of the peak game's Shapley value.

    Each permutation's marginal contributions telescope to v(N), so every
    estimate is exactly efficient. Loops over permutations only; each
    permutation is one vectorised cumulative sum over users × intervals.

    Args:
        loads: Validated loads.
        rng: Random generator drawing the permutations.
        n_permutations: Number of permutations (≥ 2).

    Returns:
        ``(mean, std_error)`` in kW of peak per user.
    """
    n = loads.shape[0]
    mean = np.zeros(n)
    m2 = np.zeros(n)
    marginal = np.empty(n)
    prefix = np.empty_like(loads)  # reused buffer: permuted loads, then their running sums
    for k in range(1, n_permutations + 1):
        order = rng.permutation(n)
        np.take(loads, order, axis=0, out=prefix)
        np.cumsum(prefix, axis=0, out=prefix)
        marginal[order] = np.diff(prefix.max(axis=1), prepend=0.0)
        delta = marginal - mean
        mean += delta / k
        m2 += delta * (marginal - mean)
    variance = np.maximum(m2, 0.0) / (n_permutations - 1)
    return mean, np.sqrt(variance / n_permutations)


def shapley(
    loads_kw: ArrayLike,
    capacity_rate_cny_per_kw: float,
    energy_rate_cny_per_kwh: float,
    rng: np.random.Generator | None = None,
    *,
    n_permutations: int = 1000,
    method: Literal["auto", "exact", "sampled"] = "auto",
    interval_h: float = 1.0,
) -> ShapleyResult:
    """Shapley value of the two-part cost game c(S) = a·max_t Σ_{i∈S} L_it + b·Σ_{i∈S} E_i.

    The energy term is additive, so its Shapley share is exactly b·E_i; only
    the peak game is enumerated or sampled. ``method="auto"`` enumerates all
    2**n coalitions for n ≤ EXACT_MAX_USERS and samples ``n_permutations``
    random orders above that (estimates are exactly efficient; the standard
    error is the sample standard deviation of the marginal costs / √m).

    Args:
        loads_kw: Loads in kW, users × intervals.
        capacity_rate_cny_per_kw: ``a``, CNY per kW of aggregate peak.
        energy_rate_cny_per_kwh: ``b``, CNY per kWh.
        rng: Generator for permutation sampling; required when sampling.
        n_permutations: Number of sampled permutations (≥ 2).
        method: ``"auto"``, ``"exact"`` (n ≤ EXACT_MAX_USERS) or ``"sampled"``.
        interval_h: Interval length in hours.

    Returns:
        Values and standard errors in CNY.

    Raises:
        ValueError: On invalid loads or rates, an unknown ``method``, exact
            enumeration with more than EXACT_MAX_USERS users, sampling without
            ``rng`` or with ``n_permutations`` < 2.

    References:
        Shapley, "A value for n-person games", 1953; Castro, Gómez & Tejada,
        "Polynomial calculation of the Shapley value based on sampling", 2009.
    """
    loads, a, b, dt = _two_part_inputs(
        loads_kw, capacity_rate_cny_per_kw, energy_rate_cny_per_kwh, interval_h
    )
    n = loads.shape[0]
    if method not in ("auto", "exact", "sampled"):
        raise ValueError(f"method must be 'auto', 'exact' or 'sampled', got {method!r}")
    use_exact = method == "exact" or (method == "auto" and n <= EXACT_MAX_USERS)
    energy_cny = b * loads.sum(axis=1) * dt
    if use_exact:
        if n > EXACT_MAX_USERS:
            raise ValueError(
                f"method='exact' supports at most {EXACT_MAX_USERS} users, loads_kw has {n}"
            )
        values = a * _exact_shapley_peak_kw(loads) + energy_cny
        return ShapleyResult(values, np.zeros(n), exact=True, n_permutations=0)
    if rng is None:
        raise ValueError(
            f"rng is required for sampled Shapley values ({n} users > {EXACT_MAX_USERS} "
            "or method='sampled')"
        )
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if int(n_permutations) != n_permutations or n_permutations < 2:
        raise ValueError(f"n_permutations must be an integer >= 2, got {n_permutations!r}")
    mean_kw, se_kw = _sampled_shapley_peak_kw(loads, rng, int(n_permutations))
    return ShapleyResult(
        a * mean_kw + energy_cny, a * se_kw, exact=False, n_permutations=int(n_permutations)
    )


def allocate(
    loads_kw: ArrayLike,
    capacity_rate_cny_per_kw: float,
    energy_rate_cny_per_kwh: float,
    rule: str = "coincident_peak",
    rng: np.random.Generator | None = None,
    *,
    n_permutations: int = 1000,
    interval_h: float = 1.0,
) -> NDArray[np.float64]:
    """Allocate the two-part contract cost F1 among users.

    Every rule is efficient: the result sums to
    F1 = a · max_t Σ_i L_it + b · Σ_i Σ_t L_it · Δt.

    Args:
        loads_kw: Loads in kW, users × intervals (hourly by default).
        capacity_rate_cny_per_kw: ``a``, CNY per kW of aggregate peak.
        energy_rate_cny_per_kwh: ``b``, CNY per kWh.
        rule: ``"coincident_peak"``, ``"shapley"`` or ``"pro_rata_energy"``
            (see the module docstring).
        rng: Generator, required for ``"shapley"`` with more than
            EXACT_MAX_USERS users.
        n_permutations: Permutations for sampled Shapley values.
        interval_h: Interval length in hours.

    Returns:
        Cost per user in CNY (positive = user pays).

    Raises:
        ValueError: On invalid loads or rates, an unknown ``rule``, or a
            missing ``rng`` when sampling is needed.

    References:
        Project DESIGN.md, "Agency"; Shapley, "A value for n-person games",
        1953; Young, "Cost allocation", Handbook of Game Theory vol. 2, 1994.
    """
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    if rule == "shapley":
        return shapley(
            loads_kw,
            capacity_rate_cny_per_kw,
            energy_rate_cny_per_kwh,
            rng,
            n_permutations=n_permutations,
            interval_h=interval_h,
        ).values_cny
    loads, a, b, dt = _two_part_inputs(
        loads_kw, capacity_rate_cny_per_kw, energy_rate_cny_per_kwh, interval_h
    )
    energy_kwh = loads.sum(axis=1) * dt
    peak_kw = float(loads.sum(axis=0).max())
    if rule == "pro_rata_energy":
        total_cny = a * peak_kw + b * float(energy_kwh.sum())
        total_energy = float(energy_kwh.sum())
        if total_energy == 0.0:  # all loads zero, so the total cost is zero too
            return np.zeros(loads.shape[0])
        pro_rata_cny: NDArray[np.float64] = total_cny * energy_kwh / total_energy
        return pro_rata_cny
    # coincident_peak
    at_peak_kw = loads[:, _peak_mask(loads)].mean(axis=1)
    denominator = float(at_peak_kw.sum())
    if denominator == 0.0:
        capacity_cny = np.zeros(loads.shape[0])
    else:
        capacity_cny = a * peak_kw * at_peak_kw / denominator
    two_part_cny: NDArray[np.float64] = capacity_cny + b * energy_kwh
    return two_part_cny


def unit_load_rate_contribution(loads_kw: ArrayLike) -> NDArray[np.float64]:
    """Each user's unit load-rate contribution LF_i = (E_i / T) / (its load at the peak).

    "Its load over the aggregate peak" is the user's mean load over the
    aggregate-peak intervals (ties as in the coincident-peak rule), so the
    aggregate load factor is the peak-load-weighted mean of the LF_i, and the
    coincident-peak charge per kWh is b + a / (LF_i · T).

    Zero-load conventions: a user with zero energy gets 0.0 (contributes
    nothing); a user with positive energy but zero load at the aggregate peak
    gets ``inf`` (it uses energy without adding to the peak).

    Args:
        loads_kw: Loads in kW, users × intervals (equal intervals).

    Returns:
        LF_i per user (dimensionless, may exceed 1).

    Raises:
        ValueError: On invalid loads.

    References:
        Project DESIGN.md, "Agency", step 3.
    """
    loads = load_matrix(loads_kw, "loads_kw")
    mean_kw = loads.mean(axis=1)
    at_peak_kw = loads[:, _peak_mask(loads)].mean(axis=1)
    safe = np.where(at_peak_kw > 0, at_peak_kw, 1.0)
    result = np.where(at_peak_kw > 0, mean_kw / safe, np.inf)
    return np.where(mean_kw > 0, result, 0.0)


def is_efficient(
    allocation: ArrayLike, total: float, *, rtol: float = 1e-9, atol_cny: float = 1e-6
) -> bool:
    """Whether an allocation sums to the total cost.

    Args:
        allocation: Cost per user in CNY.
        total: Total cost to allocate in CNY.
        rtol: Relative tolerance on the total.
        atol_cny: Absolute tolerance in CNY.

    Returns:
        True if |Σ allocation − total| ≤ atol_cny + rtol·|total|.

    Raises:
        ValueError: If ``allocation`` is not 1-D and finite or ``total`` is not
            finite.

    References:
        Shapley, "A value for n-person games", 1953 (efficiency axiom).
    """
    x = np.asarray(allocation, dtype=np.float64)
    if x.ndim != 1 or not np.all(np.isfinite(x)):
        raise ValueError("allocation must be a finite 1-D array")
    total = float(total)
    if not np.isfinite(total):
        raise ValueError(f"total must be finite, got {total!r}")
    return bool(abs(float(x.sum()) - total) <= atol_cny + rtol * abs(total))


def in_core(
    allocation: ArrayLike,
    loads_kw: ArrayLike,
    capacity_rate_cny_per_kw: float,
    energy_rate_cny_per_kwh: float,
    *,
    interval_h: float = 1.0,
    atol_cny: float = 1e-6,
) -> bool:
    """Whether a cost allocation is in the core of the two-part cost game.

    In the core: the allocation is efficient and no coalition S pays more than
    its stand-alone cost c(S) (checked exactly over all 2**n coalitions).

    Args:
        allocation: Cost per user in CNY.
        loads_kw: Loads in kW, users × intervals, at most EXACT_MAX_USERS users.
        capacity_rate_cny_per_kw: ``a``, CNY per kW of coalition peak.
        energy_rate_cny_per_kwh: ``b``, CNY per kWh.
        interval_h: Interval length in hours.
        atol_cny: Tolerance in CNY (plus 1e-9 of the grand-coalition cost).

    Returns:
        True if the allocation is in the core.

    Raises:
        ValueError: On invalid inputs, a length mismatch between
            ``allocation`` and the users of ``loads_kw``, or more than
            EXACT_MAX_USERS users (no exact check is feasible).

    References:
        Gillies, D. B., "Solutions to general non-zero-sum games", Annals of
        Mathematics Studies 40, 1959; Shapley, "Cores of convex games", 1971.
    """
    costs = coalition_costs_cny(
        loads_kw, capacity_rate_cny_per_kw, energy_rate_cny_per_kwh, interval_h=interval_h
    )
    x = np.asarray(allocation, dtype=np.float64)
    n = np.asarray(loads_kw).shape[0]
    if x.shape != (n,):
        raise ValueError(f"allocation has shape {x.shape}, expected ({n},) to match loads_kw")
    check_finite(x, "allocation")
    tol = atol_cny + 1e-9 * abs(float(costs[-1]))
    if abs(float(x.sum()) - float(costs[-1])) > tol:
        return False
    _, _, members = _membership(n)
    return bool(np.all(members.astype(np.float64) @ x <= costs + tol))
