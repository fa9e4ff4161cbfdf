"""EV charging bookings: managed (price-ordered, headroom-limited) and unmanaged charging.

The park's EV operator receives bookings ``(arrival, departure, energy_kwh, pmax_kw)``
over a day of ``n_intervals`` intervals of ``interval_h`` hours (``arrival`` and
``departure`` are interval indices, departure exclusive). Rule E1 of PHASES.md:
bookings are processed in row order (first come, first served); each booking's
grid-side energy ``energy_kwh / eta`` is filled into its window ``[arrival,
departure)`` cheapest interval first (ties: earliest interval first), each
interval at most ``min(pmax_kw, remaining headroom)``. A booking that fits is
accepted and its charging reduces the headroom left for later bookings; one
that does not fit is rejected: nothing is charged and the headroom is
unchanged (``partial=True`` instead charges whatever fits).

Conventions:

* ``energy_kwh`` is the energy the vehicle's battery must receive; the charger's
  efficiency η = ``eta`` in (0, 1] makes the grid-side energy energy_kwh/η
  (kWh), and ``charge_kw`` is grid-side power (kW).
* ``headroom_kw`` is the connection headroom left for EV charging (the park's
  limit minus the other load); a negative headroom counts as 0 (no room).
* Costs are the energy price times grid-side energy, CNY, paid by the user.

:func:`unmanaged` is the counterfactual: every vehicle charges at ``pmax_kw``
from arrival until it is full or departs, ignoring headroom and prices.
:func:`v2g_discharge` gives the vehicle-to-grid discharge of parked vehicles in
designated intervals when the V2G price pays for the recharge and degradation.

References:
    PHASES.md rule E1; Sortomme, E. & El-Sharkawi, M. A., "Optimal charging
    strategies for unidirectional vehicle-to-grid", IEEE Trans. Smart Grid
    2(1):131–138, 2011 (price-ordered charging within the parking window).
    EV service fee 0.8 CNY/kWh plus energy (Beijing):
    http://www.researchinchina.com/Htmls/News/201606/39547.html ; Jiangsu V2G
    discharge price > 1.22 CNY/kWh (PHASES.md [S18], laotiantimes.com,
    2025-08-28, "Jiangsu implements vehicle-to-grid (V2G) discharge pricing
    standards").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from markets._checks import as_float_array, check_finite, interval_length_h

__all__ = [
    "BOOKING_COLUMNS",
    "EvSchedule",
    "V2gDischarge",
    "schedule",
    "unmanaged",
    "v2g_discharge",
]

#: Columns a bookings table must have.
BOOKING_COLUMNS = ("arrival", "departure", "energy_kwh", "pmax_kw")

#: A bookings table: a DataFrame, or a mapping of column name → 1-D array (the
#: same columns; rows in array order) that avoids pandas on the daily path.
Bookings: TypeAlias = pd.DataFrame | Mapping[str, ArrayLike]


@dataclass(frozen=True, eq=False)
class EvSchedule:
    """Charging schedule of a day's bookings.

    Attributes:
        accepted: Whether each booking is served in full, bool (n_bookings,).
        charge_kw: Grid-side charging power, kW, bookings × intervals.
        load_kw: Total EV charging per interval, kW (n_intervals,).
        grid_energy_kwh: Grid-side energy charged per booking, kWh.
        delivered_kwh: Energy into each battery, grid_energy · η, kWh.
        cost_cny: Σ price · charge · Δt per booking, CNY.
        headroom_left_kw: Headroom left after the accepted bookings, kW (``None``
            for :func:`unmanaged`, which ignores headroom).
    """

    accepted: NDArray[np.bool_]
    charge_kw: NDArray[np.float64]
    load_kw: NDArray[np.float64]
    grid_energy_kwh: NDArray[np.float64]
    delivered_kwh: NDArray[np.float64]
    cost_cny: NDArray[np.float64]
    headroom_left_kw: NDArray[np.float64] | None


def _eta(eta: float) -> float:
    """Validate the charging efficiency η in (0, 1].

    Args:
        eta: Efficiency (dimensionless).

    Returns:
        η as a float.

    Raises:
        ValueError: If η is not a finite number in (0, 1].
    """
    try:
        value = float(eta)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"eta must be a real number in (0, 1], got {eta!r}") from exc
    if not np.isfinite(value) or value <= 0 or value > 1:
        raise ValueError(f"eta must be in (0, 1], got {eta!r}")
    return value


def _prices(price_cny_per_kwh: ArrayLike) -> NDArray[np.float64]:
    """Validate a 1-D price curve over the day.

    Args:
        price_cny_per_kwh: Energy price per interval, CNY/kWh.

    Returns:
        The curve as float64.

    Raises:
        ValueError: If it is not a non-empty finite 1-D array.
    """
    price = as_float_array(price_cny_per_kwh, "price_cny_per_kwh")
    if price.ndim != 1 or price.size == 0:
        raise ValueError(
            f"price_cny_per_kwh must be a non-empty 1-D curve (one price per interval), "
            f"got shape {price.shape}"
        )
    check_finite(price, "price_cny_per_kwh")
    return price


def _bookings(
    bookings: Bookings, n_intervals: int
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64], NDArray[np.float64]]:
    """Validate a bookings table against a day of ``n_intervals`` intervals.

    Args:
        bookings: Table (DataFrame or mapping of arrays, :data:`Bookings`) with
            :data:`BOOKING_COLUMNS` (energy in kWh, power in kW).
        n_intervals: Number of intervals in the day.

    Returns:
        ``(arrival, departure, energy_kwh, pmax_kw)`` arrays in row order.

    Raises:
        ValueError: On a missing column, non-integer or out-of-range interval
            indices, departure <= arrival, or negative or non-finite energy or
            power.
    """
    if isinstance(bookings, pd.DataFrame):
        names = bookings.columns
        columns = {c: bookings[c].to_numpy() for c in BOOKING_COLUMNS if c in names}
    elif isinstance(bookings, Mapping):
        columns = {c: np.asarray(bookings[c]) for c in BOOKING_COLUMNS if c in bookings}
    else:
        raise ValueError(
            f"bookings must be a pandas DataFrame or a mapping of columns, "
            f"got {type(bookings).__name__}"
        )
    missing = [c for c in BOOKING_COLUMNS if c not in columns]
    if missing:
        raise ValueError(f"bookings lacks columns {missing}; expected {list(BOOKING_COLUMNS)}")
    sizes = {np.shape(v) for v in columns.values()}
    if len(sizes) != 1 or len(next(iter(sizes))) != 1:
        raise ValueError(f"bookings columns must be 1-D and of one length, got shapes {sizes}")
    idx = {}
    for col in ("arrival", "departure"):
        raw = as_float_array(columns[col], f"bookings.{col}")
        if not np.all(np.isfinite(raw)) or np.any(raw != np.round(raw)):
            raise ValueError(f"bookings.{col} must hold integer interval indices")
        idx[col] = raw.astype(np.intp)
    arrival, departure = idx["arrival"], idx["departure"]
    bad = np.flatnonzero(departure <= arrival)
    if bad.size:
        raise ValueError(
            f"bookings row {int(bad[0])}: departure {int(departure[bad[0]])} must be after "
            f"arrival {int(arrival[bad[0]])} (departure is exclusive)"
        )
    if np.any(arrival < 0) or np.any(departure > n_intervals):
        raise ValueError(f"bookings arrival/departure must lie in [0, {n_intervals}]")
    energy = as_float_array(columns["energy_kwh"], "bookings.energy_kwh")
    check_finite(energy, "bookings.energy_kwh", nonnegative=True, noun="energies", unit=" kWh")
    pmax = as_float_array(columns["pmax_kw"], "bookings.pmax_kw")
    check_finite(pmax, "bookings.pmax_kw", nonnegative=True, noun="powers", unit=" kW")
    return arrival, departure, energy, pmax


def _result(
    charge: NDArray[np.float64],
    need_kwh: NDArray[np.float64],
    price: NDArray[np.float64],
    dt: float,
    eta: float,
    headroom_left: NDArray[np.float64] | None,
    accepted: NDArray[np.bool_] | None = None,
) -> EvSchedule:
    """Assemble an :class:`EvSchedule` from a charging matrix.

    Args:
        charge: Grid-side charging, kW, bookings × intervals.
        need_kwh: Grid-side energy each booking needs, kWh.
        price: Price per interval, CNY/kWh.
        dt: Interval length, h.
        eta: Charging efficiency (dimensionless).
        headroom_left: Headroom after charging, kW, or None.
        accepted: Acceptance flags (default: grid energy covers the need).

    Returns:
        The schedule with energies and costs.
    """
    grid = charge.sum(axis=1) * dt
    if accepted is None:
        accepted = grid >= need_kwh - 1e-9 * np.maximum(1.0, need_kwh)
    return EvSchedule(
        accepted=np.asarray(accepted, dtype=bool),
        charge_kw=charge,
        load_kw=charge.sum(axis=0),
        grid_energy_kwh=grid,
        delivered_kwh=grid * eta,
        cost_cny=(charge * price).sum(axis=1) * dt,
        headroom_left_kw=headroom_left,
    )


def schedule(
    headroom_kw: ArrayLike,
    price_cny_per_kwh: ArrayLike,
    bookings: Bookings,
    interval_h: float = 1.0,
    eta: float = 1.0,
    partial: bool = False,
) -> EvSchedule:
    """Accept and schedule bookings cheapest-interval-first under the headroom (rule E1).

    Worked example (Δt = 1 h, η = 1): prices [0.5, 0.2, 0.2, 0.8], headroom
    [10, 5, 10, 10] kW. Booking 0, [0, 4), 12 kWh, 7 kW: cheapest t = 1 (5 kW left)
    then t = 2 (7 kW) → [0, 5, 7, 0], cost 2.4 CNY; headroom [10, 0, 3, 10].
    Booking 1, [1, 3), 5 kWh, 7 kW: only 3 kWh fit → rejected. Booking 2, [0, 2),
    8 kWh, 10 kW: t = 1 is full → 8 kW at t = 0, cost 4.0 CNY.

    Args:
        headroom_kw: Headroom for EV charging, kW, scalar or one value per
            interval (negative values count as 0).
        price_cny_per_kwh: Energy price per interval, CNY/kWh (1-D; its length
            is the number of intervals).
        bookings: Table (DataFrame or mapping of arrays, :data:`Bookings`)
            with ``arrival``, ``departure`` (interval indices, departure
            exclusive), ``energy_kwh`` (battery side, kWh) and ``pmax_kw``
            (kW), processed in row order.
        interval_h: Interval length Δt, h.
        eta: Charging efficiency η in (0, 1]; grid-side energy = energy_kwh/η.
        partial: Charge what fits of a booking that does not fit in full
            (``accepted`` stays False for it) instead of rejecting it outright.

    Returns:
        Acceptance, charging (bookings × intervals), EV load, energies, costs and
        the headroom left.

    Raises:
        ValueError: On malformed prices or headroom, invalid bookings (see
            :data:`BOOKING_COLUMNS`; departure <= arrival, negative energy or
            power), ``eta`` outside (0, 1] or a non-positive interval.

    References:
        PHASES.md rule E1; Sortomme & El-Sharkawi (2011), see the module docstring.
    """
    price = _prices(price_cny_per_kwh)
    n_t = price.size
    head = as_float_array(headroom_kw, "headroom_kw")
    if head.ndim > 1 or (head.ndim == 1 and head.size != n_t):
        raise ValueError(
            f"headroom_kw must be a scalar or hold {n_t} values (one per interval), "
            f"got shape {head.shape}"
        )
    check_finite(head, "headroom_kw")
    dt = interval_length_h(interval_h)
    efficiency = _eta(eta)
    arrival, departure, energy, pmax = _bookings(bookings, n_t)
    need = energy / efficiency
    remaining = np.clip(np.broadcast_to(head, (n_t,)), 0.0, None).astype(np.float64)
    charge = np.zeros((arrival.size, n_t))
    accepted = np.zeros(arrival.size, dtype=bool)
    # the day's intervals cheapest first (ties: earliest); a window's order is
    # this order restricted to the window
    cheapest = np.lexsort((np.arange(n_t), price))
    inside = (cheapest >= arrival[:, None]) & (cheapest < departure[:, None])  # bookings × T
    # bookings are few and sequential (each one's charging cuts the headroom
    # left for the next); each is vectorised over its window
    for k, (need_k, pmax_k) in enumerate(zip(need.tolist(), pmax.tolist(), strict=True)):
        order = cheapest[inside[k]]
        room_kwh = np.minimum(pmax_k, remaining[order]) * dt
        before = np.cumsum(room_kwh) - room_kwh
        fits = bool(room_kwh.sum() >= need_k - 1e-9 * max(1.0, need_k))
        accepted[k] = fits
        if not (fits or partial):
            continue
        take_kw = np.minimum(np.maximum(need_k - before, 0.0), room_kwh) / dt
        charge[k, order] = take_kw
        remaining[order] = np.maximum(remaining[order] - take_kw, 0.0)
    return _result(charge, need, price, dt, efficiency, remaining, accepted)


def unmanaged(
    price_cny_per_kwh: ArrayLike,
    bookings: Bookings,
    interval_h: float = 1.0,
    eta: float = 1.0,
) -> EvSchedule:
    """Charge every booking at full power from arrival until full or departed.

    The counterfactual to :func:`schedule`: no headroom, no price response.
    Charging in interval t ∈ [a, d) is clip(need − P̄·Δt·(t − a), 0, P̄·Δt)/Δt kW
    with need = energy_kwh/η; a booking is ``accepted`` if it is full by departure.
    Vectorised over bookings × intervals.

    Worked example: [1, 4), 10 kWh, 4 kW, Δt = 1 h → [0, 4, 4, 2] kW (full);
    [0, 2), 10 kWh, 4 kW → [4, 4, 0, 0], 8 kWh delivered, not full.

    Args:
        price_cny_per_kwh: Energy price per interval, CNY/kWh (1-D; its length
            is the number of intervals); used for the costs only.
        bookings: Bookings as for :func:`schedule` (energy in kWh, power in kW).
        interval_h: Interval length Δt, h.
        eta: Charging efficiency η in (0, 1].

    Returns:
        The uncontrolled schedule (``headroom_left_kw`` is None).

    Raises:
        ValueError: On malformed prices or bookings, ``eta`` outside (0, 1] or
            a non-positive interval.

    References:
        Sortomme & El-Sharkawi (2011): uncontrolled ("dumb") charging baseline.
    """
    price = _prices(price_cny_per_kwh)
    n_t = price.size
    dt = interval_length_h(interval_h)
    efficiency = _eta(eta)
    arrival, departure, energy, pmax = _bookings(bookings, n_t)
    need = energy / efficiency
    t = np.arange(n_t)[None, :]
    inside = (t >= arrival[:, None]) & (t < departure[:, None])
    step_kwh = (pmax * dt)[:, None]
    done_before = step_kwh * (t - arrival[:, None])
    take_kwh = np.where(inside, np.clip(need[:, None] - done_before, 0.0, step_kwh), 0.0)
    return _result(take_kwh / dt, need, price, dt, efficiency, None)


@dataclass(frozen=True, eq=False)
class V2gDischarge:
    """Vehicle-to-grid discharge of parked vehicles.

    Attributes:
        discharge_kw: Grid-side discharge, kW, bookings × intervals (>= 0).
        discharge_kwh: Grid-side energy discharged per booking, kWh.
        recharge_kwh: Extra grid-side energy to charge back, kWh per booking
            (discharge / η², the battery loses discharge/η and refills at η).
        payment_cny: V2G payment to each user, CNY (p_v2g · discharge).
        net_value_cny: Payment − recharge cost − degradation, CNY per booking.
    """

    discharge_kw: NDArray[np.float64]
    discharge_kwh: NDArray[np.float64]
    recharge_kwh: NDArray[np.float64]
    payment_cny: NDArray[np.float64]
    net_value_cny: NDArray[np.float64]


def v2g_discharge(
    bookings: Bookings,
    discharge_mask: ArrayLike,
    recharge_price_cny_per_kwh: ArrayLike,
    v2g_price_cny_per_kwh: float,
    degradation_cny_per_kwh: float,
    *,
    max_share: float = 0.5,
    interval_h: float = 1.0,
    eta: float = 1.0,
) -> V2gDischarge:
    """Discharge parked vehicles in designated intervals when it pays.

    A booking discharges at up to ``pmax_kw`` in the intervals of its window where
    ``discharge_mask`` is True, at most ``max_share`` of its ``energy_kwh`` in
    battery terms, and only if p_v2g > p_rc/η² + c_deg/η, with p_rc = the booking's
    recharge price (per booking, e.g. its window's cheapest price), so that one kWh
    sold to the grid costs 1/η kWh of battery (degradation) and 1/η² kWh of
    recharge. The recharge energy must then be added to the booking's energy
    before calling :func:`schedule` (the caller's choice). Vectorised over
    bookings × intervals.

    Worked example (η = 1): a booking [0, 4), 40 kWh, 7 kW, mask [F, T, T, F],
    Δt = 1 h, p_v2g = 1.22, recharge 0.3, degradation 0.1: 1.22 > 0.4 → discharge
    min(7 kW·2 h, 0.5·40 kWh) = 14 kWh at 7 kW in t = 1, 2; payment 17.08 CNY;
    net value 17.08 − 14·0.3 − 14·0.1 = 11.48 CNY.

    Args:
        bookings: Bookings as for :func:`schedule` (energy in kWh, power in kW).
        discharge_mask: Intervals open to discharge (e.g. peak hours), bool (T,).
        recharge_price_cny_per_kwh: Price of recharging, CNY/kWh, scalar or per
            booking.
        v2g_price_cny_per_kwh: Price paid for discharged energy, CNY/kWh.
        degradation_cny_per_kwh: Battery wear per kWh cycled (battery side), CNY.
        max_share: Largest battery-side discharge as a share of ``energy_kwh``
            (dimensionless, in [0, 1]).
        interval_h: Interval length Δt, h.
        eta: One-way efficiency η in (0, 1] (charging and discharging).

    Returns:
        Discharge per booking and interval, energies and money.

    Raises:
        ValueError: On malformed bookings or mask, negative or non-finite prices,
            ``max_share`` outside [0, 1], ``eta`` outside (0, 1] or a non-positive
            interval.

    References:
        Jiangsu V2G discharge price (module docstring); Sortomme, E. &
        El-Sharkawi, M. A., "Optimal scheduling of vehicle-to-grid energy and
        ancillary services", IEEE Trans. Smart Grid 3(1):351–359, 2012.
    """
    mask = np.asarray(discharge_mask)
    if mask.ndim != 1 or mask.size == 0 or mask.dtype != np.bool_:
        raise ValueError("discharge_mask must be a non-empty 1-D bool array (one per interval)")
    n_t = mask.size
    dt = interval_length_h(interval_h)
    efficiency = _eta(eta)
    arrival, departure, energy, pmax = _bookings(bookings, n_t)
    recharge = as_float_array(recharge_price_cny_per_kwh, "recharge_price_cny_per_kwh")
    check_finite(recharge, "recharge_price_cny_per_kwh", nonnegative=True, noun="prices")
    recharge = np.broadcast_to(recharge, arrival.shape)
    p_v2g = as_float_array(v2g_price_cny_per_kwh, "v2g_price_cny_per_kwh")
    check_finite(p_v2g, "v2g_price_cny_per_kwh", nonnegative=True, noun="prices")
    c_deg = as_float_array(degradation_cny_per_kwh, "degradation_cny_per_kwh")
    check_finite(c_deg, "degradation_cny_per_kwh", nonnegative=True, noun="costs")
    share = float(max_share)
    if not np.isfinite(share) or share < 0 or share > 1:
        raise ValueError(f"max_share must be in [0, 1], got {max_share!r}")
    pays = p_v2g > recharge / efficiency**2 + c_deg / efficiency
    t = np.arange(n_t)[None, :]
    open_ = (t >= arrival[:, None]) & (t < departure[:, None]) & mask[None, :] & pays[:, None]
    # grid-side limit: battery-side share·energy delivers share·energy·η to the grid
    limit_kwh = share * energy * efficiency
    step_kwh = (pmax * dt)[:, None]
    done_before = np.cumsum(np.where(open_, step_kwh, 0.0), axis=1) - np.where(open_, step_kwh, 0.0)
    take_kwh = np.where(open_, np.clip(limit_kwh[:, None] - done_before, 0.0, step_kwh), 0.0)
    out_kwh = take_kwh.sum(axis=1)
    recharge_kwh = out_kwh / efficiency**2
    payment = p_v2g * out_kwh
    return V2gDischarge(
        discharge_kw=take_kwh / dt,
        discharge_kwh=out_kwh,
        recharge_kwh=recharge_kwh,
        payment_cny=payment,
        net_value_cny=payment - recharge * recharge_kwh - c_deg * out_kwh / efficiency,
    )
