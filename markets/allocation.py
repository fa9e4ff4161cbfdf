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

import numpy as np
from numpy.typing import ArrayLike, NDArray

from markets._checks import load_matrix
from markets.cost_game import (
    EXACT_MAX_USERS,
    ShapleyResult,
    _peak_mask,
    _two_part_inputs,
    coalition_costs_cny,
    in_core,
    is_efficient,
    shapley,
)

__all__ = [
    "EXACT_MAX_USERS",
    "RULES",
    "LoadFactors",
    "ShapleyResult",
    "allocate",
    "coalition_costs_cny",
    "in_core",
    "is_efficient",
    "load_factors",
    "shapley",
    "unit_load_rate_contribution",
]

#: Allocation rules accepted by :func:`allocate`.
RULES = ("coincident_peak", "shapley", "pro_rata_energy")


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


@dataclass(frozen=True)
class LoadFactors:
    """The members' load factor together and on their own (dimensionless).

    Attributes:
        aggregate: E / (max_t Σ_i L_it · T): the load factor of the members' sum.
        standalone: E / (Σ_i max_t L_it · T): the members' mean standalone load
            factor, each member's own E_i / (P_i · T) weighted by its own peak P_i.
    """

    aggregate: float
    standalone: float


def load_factors(loads_kw: ArrayLike) -> LoadFactors:
    """The aggregate load factor of a group of loads and their mean standalone load factor.

    Both use one definition, energy over (peak × period): E / (P · T) with E the
    group's energy in kWh, T the period in hours and P in kW either the peak of
    the summed load (``aggregate``) or the sum of the members' own peaks
    (``standalone``). The standalone figure is the peak-weighted mean of the
    members' own load factors, Σ_i P_i·LF_i / Σ_i P_i, which is the load factor
    that prices the members' standalone two-part bills: Σ_i (a·P_i + b·E_i) / E
    = b + a / (LF_standalone · T). Because max_t Σ_i L_it ≤ Σ_i max_t L_it,
    ``aggregate ≥ standalone``; the difference is the diversity gain of
    aggregation (both are 0 for a group without energy). The interval length
    cancels, so loads are per interval in kW and the result is dimensionless.

    Args:
        loads_kw: Loads in kW, users × intervals (equal intervals).

    Returns:
        The two load factors.

    Raises:
        ValueError: On invalid loads.

    References:
        Project DESIGN.md, "Agency" (p̄ = b + a / (LF · T)); PHASES.md §5,
        research question 1 (LF effect: p̄ at LF_agg vs the mean standalone LF).
    """
    loads = load_matrix(loads_kw, "loads_kw")
    n_t = loads.shape[1]
    total = float(loads.sum())
    if total <= 0.0:
        return LoadFactors(0.0, 0.0)
    peak = float(loads.sum(axis=0).max())
    own_peaks = float(loads.max(axis=1).sum())
    return LoadFactors(total / (peak * n_t), total / (own_peaks * n_t))
