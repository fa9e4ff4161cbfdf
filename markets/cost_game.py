"""The two-part contract cost game: coalition costs (CNY), Shapley values and core checks.

For members' loads L (users × intervals, kW), a capacity rate ``a`` (CNY per kW of
coalition peak) and an energy rate ``b`` (CNY per kWh), a coalition S costs

    c(S) = a · max_t Σ_{i∈S} L_it + b · Σ_{i∈S} Σ_t L_it · Δt.

This module enumerates c(S) over all 2**n coalitions (n ≤ EXACT_MAX_USERS), computes
the Shapley value (exact by subset enumeration, or by permutation sampling) and checks
efficiency and core membership. :mod:`markets.allocation` uses it for the ``shapley``
rule and re-exports its public names. Properties of the game are discussed in
:mod:`markets.allocation`.

References:
    Shapley, L. S., "A value for n-person games", in Contributions to the
    Theory of Games II, Annals of Mathematics Studies 28, 307–317, 1953.
    Shapley, L. S., "Cores of convex games", International Journal of Game
    Theory 1:11–26, 1971.
    Castro, J., Gómez, D. & Tejada, J., "Polynomial calculation of the Shapley
    value based on sampling", Computers & Operations Research 36(5):1726–1730,
    2009.
    Gillies, D. B., "Solutions to general non-zero-sum games", Annals of
    Mathematics Studies 40, 1959.
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
    "ShapleyResult",
    "coalition_costs_cny",
    "in_core",
    "is_efficient",
    "shapley",
]

#: Largest number of users for exact subset enumeration (2**12 = 4096 coalitions).
EXACT_MAX_USERS = 12
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
