"""Bilateral two-part contracts between power plants and an electricity-sales agent.

In the ``agency`` phase the sales agent buys its members' aggregate load from
plants under a two-part price

    F = a · P_max + b · E,

where ``a`` (CNY per kW) is charged once on the contract period's maximum
demand P_max (kW) and ``b`` (CNY per kWh) on the energy E (kWh). With the load
factor LF = mean load / peak load and the contract period T (h), E = LF · P_max
· T, so the average price falls as the aggregate load factor rises:

    p̄ = F / E = b + a / (LF · T).

Conventions used throughout this module:

* Loads are non-negative interval-average demands in kW (the agent buys; export
  is not part of a bilateral purchase contract), one value per interval of
  length ``interval_h`` hours; the contract period is T = n_intervals ·
  ``interval_h``.
* Every amount of money is a cost paid by the agent to the plant (positive =
  payment to the plant).

References:
    Kirschen, D. S. & Strbac, G., "Fundamentals of Power System Economics",
    2nd ed., Wiley, 2019, ch. 3 (bilateral trading) and ch. 7 (capacity and
    energy charges).
    Boiteux, M., "Peak-load pricing", Journal of Business 33(2):157–179, 1960.
    Project DESIGN.md, "Agency".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from markets._checks import check_finite, interval_length_h

__all__ = [
    "OfferChoice",
    "PlantOffer",
    "average_price_cny_per_kwh",
    "cheapest_offer",
    "contract_cost_cny",
    "load_factor",
]


def _aggregate_load(load_kw: ArrayLike, name: str = "load_kw") -> NDArray[np.float64]:
    """Validate an aggregate load curve.

    Args:
        load_kw: 1-D interval-average load in kW.
        name: Argument name used in error messages.

    Returns:
        The curve as a float64 array.

    Raises:
        ValueError: If the curve is not 1-D, is empty, or holds NaN, infinite or
            negative values.
    """
    arr = np.asarray(load_kw, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D aggregate load curve, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must hold at least one interval")
    check_finite(arr, name, nonnegative=True, noun="loads", unit=" kW")
    return arr


@dataclass(frozen=True)
class PlantOffer:
    """A plant's two-part bilateral contract offer.

    Attributes:
        name: Plant identifier.
        capacity_rate_cny_per_kw: ``a``, CNY per kW of the aggregate maximum
            demand over the whole contract period (charged once per period).
        energy_rate_cny_per_kwh: ``b``, CNY per kWh delivered.

    Raises:
        ValueError: If a rate is negative, NaN or infinite, or the name is empty.

    References:
        Kirschen & Strbac, "Fundamentals of Power System Economics", 2nd ed.,
        2019, ch. 3.
    """

    name: str
    capacity_rate_cny_per_kw: float
    energy_rate_cny_per_kwh: float

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string, got {self.name!r}")
        for field in ("capacity_rate_cny_per_kw", "energy_rate_cny_per_kwh"):
            value = float(getattr(self, field))
            if not np.isfinite(value) or value < 0:
                raise ValueError(
                    f"offer {self.name!r}: {field} must be finite and >= 0, got {value!r}"
                )
            object.__setattr__(self, field, value)


def contract_cost_cny(load_kw: ArrayLike, offer: PlantOffer, interval_h: float = 1.0) -> float:
    """Cost of buying an aggregate load curve under a two-part offer.

    F = a · max_t load_t + b · Σ_t load_t · Δt.

    Args:
        load_kw: 1-D aggregate interval-average load in kW over the contract
            period.
        offer: The plant's two-part offer.
        interval_h: Interval length Δt in hours.

    Returns:
        The contract cost in CNY (paid by the agent to the plant).

    Raises:
        ValueError: If ``load_kw`` is not a 1-D, non-empty, finite, non-negative
            curve or ``interval_h`` is not positive.

    References:
        Kirschen & Strbac, "Fundamentals of Power System Economics", 2nd ed.,
        2019, ch. 3; Boiteux, "Peak-load pricing", 1960.
    """
    load = _aggregate_load(load_kw)
    dt = interval_length_h(interval_h)
    peak_kw = float(load.max())
    energy_kwh = float(load.sum()) * dt
    return offer.capacity_rate_cny_per_kw * peak_kw + offer.energy_rate_cny_per_kwh * energy_kwh


def load_factor(load_kw: ArrayLike) -> float:
    """Load factor of an aggregate load curve: mean load / peak load.

    Convention: an all-zero curve has load factor 0.0 (no energy, no peak); the
    average price of such a curve is undefined (see
    :func:`average_price_cny_per_kwh`).

    Args:
        load_kw: 1-D aggregate interval-average load in kW (equal intervals).

    Returns:
        The load factor in [0, 1].

    Raises:
        ValueError: If ``load_kw`` is not a 1-D, non-empty, finite, non-negative
            curve.

    References:
        Kirschen & Strbac, "Fundamentals of Power System Economics", 2nd ed.,
        2019, ch. 7.
    """
    load = _aggregate_load(load_kw)
    peak_kw = float(load.max())
    if peak_kw == 0.0:
        return 0.0
    return float(load.mean()) / peak_kw


def average_price_cny_per_kwh(offer: PlantOffer, load_factor: float, period_h: float) -> float:
    """Average contract price as a function of the aggregate load factor.

    p̄ = b + a / (LF · T). It equals ``contract_cost_cny / E`` for any curve
    whose load factor is LF over a contract period of T hours.

    Args:
        offer: The plant's two-part offer.
        load_factor: Aggregate load factor LF in (0, 1].
        period_h: Contract period T in hours (n_intervals · interval_h).

    Returns:
        The average price in CNY per kWh.

    Raises:
        ValueError: If ``load_factor`` is not in (0, 1] (a zero load factor
            means no energy, for which no average price exists) or
            ``period_h`` is not a finite positive number.

    References:
        Project DESIGN.md, "Agency"; Kirschen & Strbac, "Fundamentals of Power
        System Economics", 2nd ed., 2019, ch. 7.
    """
    lf = float(load_factor)
    if not np.isfinite(lf) or lf <= 0 or lf > 1 + 1e-12:
        raise ValueError(f"load_factor must be in (0, 1], got {load_factor!r}")
    period = float(period_h)
    if not np.isfinite(period) or period <= 0:
        raise ValueError(f"period_h must be a finite positive number of hours, got {period_h!r}")
    return offer.energy_rate_cny_per_kwh + offer.capacity_rate_cny_per_kw / (lf * period)


@dataclass(frozen=True)
class OfferChoice:
    """Result of :func:`cheapest_offer`.

    Attributes:
        offer: The cheapest offer (first in input order on ties).
        cost_cny: Its contract cost in CNY.
        costs_cny: Contract cost of every offer in CNY, in input order.
        names: Offer names, in input order.

    References:
        Kirschen & Strbac, "Fundamentals of Power System Economics", 2nd ed.,
        2019, ch. 3.
    """

    offer: PlantOffer
    cost_cny: float
    costs_cny: NDArray[np.float64]
    names: tuple[str, ...]


def cheapest_offer(
    load_kw: ArrayLike, offers: Sequence[PlantOffer], interval_h: float = 1.0
) -> OfferChoice:
    """Choose the offer with the lowest two-part cost for an aggregate load curve.

    Ties are broken by input order (the first cheapest offer wins).

    Args:
        load_kw: 1-D aggregate interval-average load in kW over the contract
            period.
        offers: Candidate plant offers with distinct names.
        interval_h: Interval length in hours.

    Returns:
        The chosen offer, its cost and the cost of every offer.

    Raises:
        ValueError: If ``offers`` is empty, holds a non-``PlantOffer`` or
            duplicate names, or the load curve / interval is invalid.

    References:
        Kirschen & Strbac, "Fundamentals of Power System Economics", 2nd ed.,
        2019, ch. 3.
    """
    offers = tuple(offers)
    if not offers:
        raise ValueError("offers must hold at least one PlantOffer")
    for item in offers:
        if not isinstance(item, PlantOffer):
            raise ValueError(f"offers must hold PlantOffer instances, got {item!r}")
    names = tuple(o.name for o in offers)
    if len(set(names)) != len(names):
        raise ValueError(f"offers have duplicate names: {names!r}")
    load = _aggregate_load(load_kw)
    dt = interval_length_h(interval_h)
    peak_kw = float(load.max())
    energy_kwh = float(load.sum()) * dt
    a = np.array([o.capacity_rate_cny_per_kw for o in offers])
    b = np.array([o.energy_rate_cny_per_kwh for o in offers])
    costs = a * peak_kw + b * energy_kwh
    best = int(np.argmin(costs))
    return OfferChoice(
        offer=offers[best], cost_cny=float(costs[best]), costs_cny=costs, names=names
    )
