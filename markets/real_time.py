"""Real-time imbalance settlement (single or dual imbalance pricing).

Every participant has a day-ahead schedule and a meter reading per interval. The
deviation between them is settled ex post at an imbalance price.

Sign conventions (used throughout this module):

* Quantities are **net consumption** (withdrawal from the grid) in kWh per
  interval; a generator or a user exporting PV enters with negative values.
* ``imbalance_kwh = metered_kwh - scheduled_kwh``. Positive = **short**: the
  participant consumed more (or produced less) than scheduled and bought the
  difference from the system. Negative = **long**: it sold the difference to the
  system.
* The system imbalance of an interval is the sum over participants; positive =
  system short (the operator activates upward regulation), negative = system long
  (downward regulation).
* Charges are in CNY, **positive = the participant pays** the operator, negative
  = the participant receives money.

Pricing modes:

* ``"single"``: every imbalance of an interval is settled at one price,
  ``charge = imbalance x single price``. The single price is
  ``ImbalancePrices.single_cny_per_kwh`` if given; otherwise it is derived from the
  direction of the system imbalance formed by the settled participants: the up
  price if the system is short, the down price if it is long, and the mean of the
  two if it is exactly balanced. Charges then sum to ``single price x net system
  imbalance`` in every interval.
* ``"dual"``: short positions pay the up price, long positions receive the down
  price: ``charge = imbalance x up`` if ``imbalance > 0`` else ``imbalance x down``.

References:
    Commission Regulation (EU) 2017/2195 (Electricity Balancing Guideline),
    Art. 52 and 55 (imbalance settlement and imbalance price); ACER Decision
    18/2020 on harmonised imbalance settlement (single pricing as the default,
    dual pricing under conditions).
    Kirschen, D. S. & Strbac, G., "Fundamentals of Power System Economics",
    2nd ed., Wiley, 2019, ch. 3 (managed spot market and the settlement of
    imbalances).
    NDRC & NEA, "Basic Rules for the Electricity Spot Market (Trial)"
    (电力现货市场基本规则(试行)), 2023 (real-time market and deviation settlement).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from markets._checks import as_float_array, check_finite, check_ndim, vector

__all__ = ["ImbalancePrices", "RealTimeResult", "imbalance_prices", "settle"]

_MODES = ("single", "dual")


@dataclass(frozen=True, eq=False)
class ImbalancePrices:
    """Per-interval imbalance prices in CNY/kWh.

    Attributes:
        up_cny_per_kwh: Price paid by short positions (positive imbalance) under
            dual pricing; the single price when the system is short.
        down_cny_per_kwh: Price received by long positions (negative imbalance)
            under dual pricing; the single price when the system is long.
        single_cny_per_kwh: Optional explicit single imbalance price. If ``None``,
            :func:`settle` derives it from the direction of the system imbalance
            (see the module docstring).

    Raises:
        ValueError: If an array is not 1-D, the lengths differ, or a value is NaN
            or infinite.
    """

    up_cny_per_kwh: NDArray[np.float64]
    down_cny_per_kwh: NDArray[np.float64]
    single_cny_per_kwh: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        up = vector(self.up_cny_per_kwh, "up_cny_per_kwh", item="interval", readonly=True)
        down = vector(
            self.down_cny_per_kwh,
            "down_cny_per_kwh",
            length=up.size,
            item="interval",
            readonly=True,
        )
        object.__setattr__(self, "up_cny_per_kwh", up)
        object.__setattr__(self, "down_cny_per_kwh", down)
        if self.single_cny_per_kwh is not None:
            single = vector(
                self.single_cny_per_kwh,
                "single_cny_per_kwh",
                length=up.size,
                item="interval",
                readonly=True,
            )
            object.__setattr__(self, "single_cny_per_kwh", single)

    @property
    def n_intervals(self) -> int:
        """Number of intervals the prices cover."""
        return int(self.up_cny_per_kwh.size)


@dataclass(frozen=True, eq=False)
class RealTimeResult:
    """Outcome of an imbalance settlement (signs as in the module docstring).

    Attributes:
        mode: ``"single"`` or ``"dual"``.
        imbalance_kwh: Metered minus scheduled net consumption, participant x
            interval, kWh (positive = short).
        system_imbalance_kwh: Sum of the imbalances per interval, kWh (positive =
            system short).
        price_cny_per_kwh: Price applied to each imbalance, participant x interval,
            CNY/kWh (under dual pricing a zero imbalance shows the down price; its
            charge is zero either way).
        charges_cny: Imbalance charge, participant x interval, CNY (positive = the
            participant pays).
        charges_by_participant_cny: Charges summed over intervals, CNY.
        charges_by_interval_cny: Charges summed over participants, CNY (the
            operator's imbalance revenue per interval).
        total_cny: Sum of all charges, CNY.
    """

    mode: str
    imbalance_kwh: NDArray[np.float64]
    system_imbalance_kwh: NDArray[np.float64]
    price_cny_per_kwh: NDArray[np.float64]
    charges_cny: NDArray[np.float64]
    charges_by_participant_cny: NDArray[np.float64]
    charges_by_interval_cny: NDArray[np.float64]
    total_cny: float


def _matrix(values: ArrayLike, name: str) -> NDArray[np.float64]:
    """Validate a participant x interval energy matrix.

    Args:
        values: 2-D array-like, kWh.
        name: Argument name used in error messages.

    Returns:
        The matrix as float64.

    Raises:
        ValueError: If it is not 2-D or holds NaN or infinite values.
    """
    arr = as_float_array(values, name)
    check_ndim(arr, name, 2, "participant x interval")
    check_finite(arr, name)
    return arr


def settle(
    scheduled_kwh: ArrayLike,
    metered_kwh: ArrayLike,
    prices: ImbalancePrices,
    mode: Literal["single", "dual"],
) -> RealTimeResult:
    """Settle imbalances of participants against their schedules.

    Args:
        scheduled_kwh: Scheduled net consumption, participant x interval, kWh.
        metered_kwh: Metered net consumption, participant x interval, kWh.
        prices: Per-interval up/down (and optionally single) imbalance prices,
            CNY/kWh; one value per interval (column).
        mode: ``"single"`` (one price per interval for every imbalance) or
            ``"dual"`` (short pays the up price, long receives the down price).

    Returns:
        Per participant x interval imbalances, prices and charges, their totals
        per participant and per interval, and the grand total (positive = paid by
        participants).

    Raises:
        ValueError: If ``mode`` is unknown, the matrices are not 2-D or differ in
            shape, the number of price intervals differs from the number of
            columns, or any input holds NaN or infinite values.

    References:
        Commission Regulation (EU) 2017/2195, Art. 52 and 55; ACER Decision
        18/2020.
    """
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    if not isinstance(prices, ImbalancePrices):
        raise ValueError(f"prices must be an ImbalancePrices, got {type(prices).__name__}")
    scheduled = _matrix(scheduled_kwh, "scheduled_kwh")
    metered = _matrix(metered_kwh, "metered_kwh")
    if scheduled.shape != metered.shape:
        raise ValueError(
            f"scheduled_kwh shape {scheduled.shape} differs from metered_kwh shape {metered.shape}"
        )
    n_intervals = scheduled.shape[1]
    if prices.n_intervals != n_intervals:
        raise ValueError(
            f"prices cover {prices.n_intervals} intervals but the energy matrices have "
            f"{n_intervals} columns"
        )

    imbalance = metered - scheduled
    system = imbalance.sum(axis=0)
    up, down = prices.up_cny_per_kwh, prices.down_cny_per_kwh
    if mode == "dual":
        price = np.where(imbalance > 0, up[None, :], down[None, :])
    else:
        if prices.single_cny_per_kwh is not None:
            single = prices.single_cny_per_kwh
        else:
            single = np.where(system > 0, up, np.where(system < 0, down, 0.5 * (up + down)))
        price = np.broadcast_to(single[None, :], imbalance.shape).copy()
    charges = imbalance * price
    return RealTimeResult(
        mode=mode,
        imbalance_kwh=imbalance,
        system_imbalance_kwh=system,
        price_cny_per_kwh=price,
        charges_cny=charges,
        charges_by_participant_cny=charges.sum(axis=1),
        charges_by_interval_cny=charges.sum(axis=0),
        total_cny=float(charges.sum()),
    )


def imbalance_prices(
    da_price_cny_per_kwh: ArrayLike,
    system_imbalance_kwh: ArrayLike,
    up_premium_cny_per_kwh: ArrayLike,
    down_premium_cny_per_kwh: ArrayLike,
) -> ImbalancePrices:
    """Imbalance prices from the day-ahead price and the system imbalance direction.

    A two-price model in which only the side that aggravates the system
    imbalance is penalised, with regulation premia over and under the day-ahead
    price:

    * system short (imbalance > 0): up = DA + up premium, down = DA;
    * system long (imbalance < 0): up = DA, down = DA - down premium;
    * balanced (imbalance == 0): up = down = DA.

    The single price is the price of the activated regulation direction: up if
    the system is short, down if long, DA if balanced. Under dual pricing a
    participant that helps the system is therefore settled at the day-ahead
    price and one that aggravates it pays (or forgoes) the premium; under single
    pricing the helping side earns the premium.

    Args:
        da_price_cny_per_kwh: Day-ahead price per interval, CNY/kWh.
        system_imbalance_kwh: System imbalance per interval, kWh (positive = short,
            as in :func:`settle`).
        up_premium_cny_per_kwh: Upward-regulation premium, CNY/kWh, >= 0; a scalar
            or one value per interval.
        down_premium_cny_per_kwh: Downward-regulation premium, CNY/kWh, >= 0; a
            scalar or one value per interval.

    Returns:
        The up, down and single prices per interval.

    Raises:
        ValueError: If the inputs are not 1-D/scalar, their lengths differ, a
            value is NaN or infinite, or a premium is negative.

    References:
        Commission Regulation (EU) 2017/2195, Art. 55; ACER Decision 18/2020
        (dual pricing: the imbalance aggravating the system is charged the
        balancing price, the other side the reference price).
        Kirschen, D. S. & Strbac, G., "Fundamentals of Power System Economics",
        2nd ed., Wiley, 2019, ch. 3.
    """
    da = vector(da_price_cny_per_kwh, "da_price_cny_per_kwh", item="interval", readonly=True)
    n = da.size
    system = vector(
        system_imbalance_kwh, "system_imbalance_kwh", length=n, item="interval", readonly=True
    )
    premia = []
    for name, value in (
        ("up_premium_cny_per_kwh", up_premium_cny_per_kwh),
        ("down_premium_cny_per_kwh", down_premium_cny_per_kwh),
    ):
        arr = vector(value, name, length=n, item="interval", allow_scalar=True, readonly=True)
        if np.any(arr < 0):
            raise ValueError(f"{name} must be non-negative, got minimum {arr.min()}")
        premia.append(arr)
    up_premium, down_premium = premia
    short, long_ = system > 0, system < 0
    up = np.where(short, da + up_premium, da)
    down = np.where(long_, da - down_premium, da)
    single = np.where(short, up, np.where(long_, down, da))
    return ImbalancePrices(up_cny_per_kwh=up, down_cny_per_kwh=down, single_cny_per_kwh=single)
