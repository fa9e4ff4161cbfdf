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
    Project DESIGN.md, "Agency"; PHASES.md rule P3 (contract settlement).
    State Grid, 国家电网财〔2016〕633号: demand beyond 105 % of the contracted
    demand is charged double, http://www.toserve.com/article/3223915.html.
    Provincial deviation-assessment rules (±3 % band, 5–10 % of the contract
    price): Fujian http://www.docaex.com/news/hy/2021-12-30/397.html ; Sichuan
    http://www.gzcnhjy.com/a20180424 ; Ningxia http://m.sdjyhospital.com/2018-50.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from markets._checks import check_finite, interval_length_h, nonnegative_scalar

__all__ = [
    "ContractSettlement",
    "OfferChoice",
    "PlantOffer",
    "average_price_cny_per_kwh",
    "cheapest_offer",
    "contract_cost_cny",
    "load_factor",
    "settle_contract",
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


@dataclass(frozen=True)
class ContractSettlement:
    """Month-end settlement of a two-part bilateral contract (rule P3).

    All money is paid by the agent to the plant (capacity and energy charges) or
    to the market operator (deviation penalty); every amount is >= 0.

    Attributes:
        demand_charge_cny: DC, CNY: ``a·P_c`` when the realised peak is within
            the overrun threshold, else ``a·D + (f − 1)·a·(D − θ_o·P_c)``.
        energy_charge_cny: EC = ``b·E``, CNY.
        penalty_cny: PEN = ``k·b·max(0, |Δ| − θ·Q_c)``, CNY.
        total_cny: DC + EC + PEN, CNY.
        billed_demand_kw: Demand the base capacity charge is levied on, kW
            (``P_c`` inside the threshold, else the realised peak ``D``).
        overrun_kw: ``max(0, D − θ_o·P_c)`` when the threshold is exceeded, kW
            (0 otherwise); charged ``(f − 1)·a`` on top.
        overrun_charge_cny: ``(f − 1)·a·overrun_kw``, CNY (part of DC).
        deviation_kwh: Δ = (E + exempt) − Q_c, kWh (positive = over-use).
        tolerance_kwh: Penalty-free band θ·Q_c, kWh.
        penalised_kwh: ``max(0, |Δ| − θ·Q_c)``, kWh.
    """

    demand_charge_cny: float
    energy_charge_cny: float
    penalty_cny: float
    total_cny: float
    billed_demand_kw: float
    overrun_kw: float
    overrun_charge_cny: float
    deviation_kwh: float
    tolerance_kwh: float
    penalised_kwh: float


def settle_contract(
    peak_kw: float,
    energy_kwh: float,
    capacity_rate_cny_per_kw: float,
    energy_rate_cny_per_kwh: float,
    contracted_kw: float,
    contracted_kwh: float,
    exempt_kwh: float = 0.0,
    tolerance_share: float = 0.03,
    penalty_share: float = 0.10,
    overrun_threshold_share: float = 1.05,
    overrun_factor: float = 2.0,
) -> ContractSettlement:
    """Settle one month of a bilateral two-part contract (rule P3).

    With realised peak D (kW), metered energy E (kWh), contracted demand P_c (kW)
    and energy Q_c (kWh), capacity rate a (CNY/kW·month), energy rate b (CNY/kWh):

    * demand charge DC = a·P_c if D ≤ θ_o·P_c, else
      a·D + (f − 1)·a·(D − θ_o·P_c), θ_o = ``overrun_threshold_share`` (1.05),
      f = ``overrun_factor`` (2): the realised peak is billed, and the part
      above 105 % of the contract is billed f times. ASSUMPTION (PHASES.md §6):
      the retail two-part rule "demand above 105 % of the contract is charged
      double" has two readings; this one bills the whole peak once and the
      excess over 105 % once more. DC jumps from a·P_c to a·θ_o·P_c at the
      threshold, so it is non-decreasing but not continuous in D;
    * energy charge EC = b·E;
    * deviation Δ = (E + C) − Q_c with C = ``exempt_kwh``, the orderly-plan
      curtailment, counted as if consumed (ASSUMPTION: curtailment exempt);
    * penalty PEN = k·b·max(0, |Δ| − θ·Q_c), θ = ``tolerance_share``, k =
      ``penalty_share``; over- and under-use are penalised alike.

    Worked example: D = 1100 kW, E = 500,000 kWh, a = 30, b = 0.4, P_c = 1000 kW,
    Q_c = 450,000 kWh. D > 1050 → DC = 30·1100 + 30·50 = 34,500 CNY; EC =
    200,000 CNY; Δ = 50,000, band 13,500 → PEN = 0.1·0.4·36,500 = 1,460 CNY.

    Args:
        peak_kw: Realised maximum demand D of the month, kW.
        energy_kwh: Metered energy E of the month, kWh.
        capacity_rate_cny_per_kw: a, CNY per kW of billed demand per month.
        energy_rate_cny_per_kwh: b, CNY/kWh.
        contracted_kw: Contracted demand P_c, kW.
        contracted_kwh: Contracted energy Q_c, kWh.
        exempt_kwh: Curtailed energy C exempt from the deviation assessment, kWh.
        tolerance_share: Penalty-free band θ as a share of Q_c (dimensionless).
        penalty_share: Penalty k as a share of the energy rate (dimensionless).
        overrun_threshold_share: θ_o, share of P_c above which the realised peak
            is billed and the excess charged ``overrun_factor`` times.
        overrun_factor: f >= 1, multiple of a charged on the excess, dimensionless.

    Returns:
        The charges, penalty and their parts (see :class:`ContractSettlement`).

    Raises:
        ValueError: If an argument is negative, NaN, infinite or not a real
            number, or ``overrun_threshold_share`` is 0 or ``overrun_factor`` < 1;
            the message names the argument.

    References:
        State Grid 国家电网财〔2016〕633号 (105 % rule); Fujian, Sichuan and
        Ningxia deviation assessment (see the module docstring); PHASES.md P3.
    """
    d = nonnegative_scalar(peak_kw, "peak_kw", real=True)
    e = nonnegative_scalar(energy_kwh, "energy_kwh", real=True)
    a = nonnegative_scalar(capacity_rate_cny_per_kw, "capacity_rate_cny_per_kw", real=True)
    b = nonnegative_scalar(energy_rate_cny_per_kwh, "energy_rate_cny_per_kwh", real=True)
    p_c = nonnegative_scalar(contracted_kw, "contracted_kw", real=True)
    q_c = nonnegative_scalar(contracted_kwh, "contracted_kwh", real=True)
    c = nonnegative_scalar(exempt_kwh, "exempt_kwh", real=True)
    theta = nonnegative_scalar(tolerance_share, "tolerance_share", real=True)
    k = nonnegative_scalar(penalty_share, "penalty_share", real=True)
    theta_o = nonnegative_scalar(
        overrun_threshold_share, "overrun_threshold_share", positive=True, real=True
    )
    f = nonnegative_scalar(overrun_factor, "overrun_factor", real=True)
    if f < 1.0:
        raise ValueError(f"overrun_factor must be >= 1, got {overrun_factor!r}")

    threshold_kw = theta_o * p_c
    if d <= threshold_kw:
        billed_kw, overrun_kw = p_c, 0.0
    else:
        billed_kw, overrun_kw = d, d - threshold_kw
    overrun_charge = (f - 1.0) * a * overrun_kw
    demand_charge = a * billed_kw + overrun_charge
    energy_charge = b * e
    deviation = (e + c) - q_c
    tolerance = theta * q_c
    penalised = max(0.0, abs(deviation) - tolerance)
    penalty = k * b * penalised
    return ContractSettlement(
        demand_charge_cny=demand_charge,
        energy_charge_cny=energy_charge,
        penalty_cny=penalty,
        total_cny=demand_charge + energy_charge + penalty,
        billed_demand_kw=billed_kw,
        overrun_kw=overrun_kw,
        overrun_charge_cny=overrun_charge,
        deviation_kwh=deviation,
        tolerance_kwh=tolerance,
        penalised_kwh=penalised,
    )
