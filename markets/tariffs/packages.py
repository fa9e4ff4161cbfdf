"""Retail electricity packages (CNY/kWh, CNY/kW) and the bills they charge (CNY).

The four package kinds (``flat``, ``time_of_use``, ``peak_valley``,
``demand_charge``), their validation (:class:`Package`) and the monthly bill of every
user under every package (:func:`bills_cny`, :func:`bill`); conventions in
:mod:`markets.tariffs`.

References:
    NDRC, "Notice on further improving the time-of-use electricity pricing
    mechanism" (Fagai Jiage [2021] No. 1093), 2021.
    NDRC, "Notice on improving the way the basic (demand) charge of two-part
    tariff users is applied" (Fagai Jiage [2016] No. 1583), 2016.
    Kirschen, D. S. & Strbac, G., "Fundamentals of Power System Economics",
    2nd ed., Wiley, 2019, ch. 3 (retail tariffs).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from markets._checks import interval_length_h, load_matrix

__all__ = ["KINDS", "Package", "bill", "bills_cny"]

#: Required keys of each package kind (besides ``name`` and ``kind``).
KINDS: dict[str, tuple[str, ...]] = {
    "flat": ("price_cny_per_kwh",),
    "time_of_use": ("price_by_hour_cny_per_kwh",),
    "peak_valley": (
        "peak_price_cny_per_kwh",
        "valley_price_cny_per_kwh",
        "flat_price_cny_per_kwh",
        "peak_hours",
        "valley_hours",
    ),
    "demand_charge": ("energy_price_cny_per_kwh", "demand_charge_cny_per_kw"),
}
_OPTIONAL = ("fixed_cny_per_month",)
_HOUR_FIELDS = ("peak_hours", "valley_hours")


def _finite_nonnegative(value: Any, key: str, package: str) -> float:
    """Validate a price-like scalar.

    Args:
        value: The value.
        key: Field name used in error messages.
        package: Package name used in error messages.

    Returns:
        The value as a float.

    Raises:
        ValueError: If the value is not a finite non-negative number.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"package {package!r}: {key} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"package {package!r}: {key} must be finite and >= 0, got {value!r}")
    return number


def _hours(value: Any, key: str, package: str) -> tuple[int, ...]:
    """Validate a list of distinct hours of the day.

    Args:
        value: Sequence of hours.
        key: Field name used in error messages.
        package: Package name used in error messages.

    Returns:
        The hours as a tuple of ints.

    Raises:
        ValueError: If it is not a sequence of distinct integers in 0–23.
    """
    if isinstance(value, str | bytes) or not isinstance(value, Sequence | np.ndarray):
        raise ValueError(f"package {package!r}: {key} must be a list of hours, got {value!r}")
    hours = []
    for hour in value:
        if isinstance(hour, bool) or not isinstance(hour, int | np.integer) or not 0 <= hour < 24:
            raise ValueError(f"package {package!r}: {key} holds {hour!r}, not an hour 0–23")
        hours.append(int(hour))
    if len(set(hours)) != len(hours):
        raise ValueError(f"package {package!r}: {key} holds duplicate hours {hours!r}")
    return tuple(hours)


@dataclass(frozen=True)
class Package:
    """A retail electricity package.

    Only the fields of its ``kind`` (see :data:`KINDS`) may be set; the others
    stay ``None``. Lists are stored as tuples.

    Attributes:
        name: Package identifier.
        kind: ``flat``, ``time_of_use``, ``peak_valley`` or ``demand_charge``.
        price_cny_per_kwh: Flat energy price.
        price_by_hour_cny_per_kwh: 24 hourly energy prices (time of use).
        peak_price_cny_per_kwh: Peak-hour energy price (peak-valley).
        valley_price_cny_per_kwh: Valley-hour energy price (peak-valley).
        flat_price_cny_per_kwh: Energy price in the remaining hours (peak-valley).
        peak_hours: Peak hours of the day, 0–23 (peak-valley).
        valley_hours: Valley hours of the day, 0–23 (peak-valley).
        energy_price_cny_per_kwh: Energy price (demand charge).
        demand_charge_cny_per_kw: CNY per kW of maximum demand in the billing
            month (demand charge).
        fixed_cny_per_month: Fixed charge per billing month (any kind).

    Raises:
        ValueError: On an unknown kind, a missing field of the kind, a field
            of another kind, a negative/non-finite price, a wrong number of
            hourly prices, or invalid/overlapping hours; the message names the
            field.

    References:
        NDRC, Fagai Jiage [2021] No. 1093 (time of use); NDRC, Fagai Jiage
        [2016] No. 1583 (demand charge).
    """

    name: str
    kind: str
    price_cny_per_kwh: float | None = None
    price_by_hour_cny_per_kwh: tuple[float, ...] | None = None
    peak_price_cny_per_kwh: float | None = None
    valley_price_cny_per_kwh: float | None = None
    flat_price_cny_per_kwh: float | None = None
    peak_hours: tuple[int, ...] | None = None
    valley_hours: tuple[int, ...] | None = None
    energy_price_cny_per_kwh: float | None = None
    demand_charge_cny_per_kw: float | None = None
    fixed_cny_per_month: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string, got {self.name!r}")
        if self.kind not in KINDS:
            raise ValueError(
                f"package {self.name!r}: kind must be one of {tuple(KINDS)}, got {self.kind!r}"
            )
        required = KINDS[self.kind]
        for field in fields(self):
            key = field.name
            if key in ("name", "kind", *_OPTIONAL):
                continue
            value = getattr(self, key)
            if key in required and value is None:
                raise ValueError(f"package {self.name!r} of kind {self.kind!r} needs {key}")
            if key not in required and value is not None:
                raise ValueError(f"package {self.name!r} of kind {self.kind!r} does not take {key}")
            if value is None:
                continue
            if key == "price_by_hour_cny_per_kwh":
                if isinstance(value, str | bytes) or not isinstance(value, Sequence | np.ndarray):
                    raise ValueError(f"package {self.name!r}: {key} must be a list of 24 prices")
                prices = tuple(_finite_nonnegative(v, key, self.name) for v in value)
                if len(prices) != 24:
                    raise ValueError(
                        f"package {self.name!r}: {key} needs 24 hourly prices, got {len(prices)}"
                    )
                object.__setattr__(self, key, prices)
            elif key in _HOUR_FIELDS:
                object.__setattr__(self, key, _hours(value, key, self.name))
            else:
                object.__setattr__(self, key, _finite_nonnegative(value, key, self.name))
        fixed = _finite_nonnegative(self.fixed_cny_per_month, "fixed_cny_per_month", self.name)
        object.__setattr__(self, "fixed_cny_per_month", fixed)
        if self.kind == "peak_valley":
            overlap = set(self.peak_hours or ()) & set(self.valley_hours or ())
            if overlap:
                raise ValueError(
                    f"package {self.name!r}: peak_hours and valley_hours overlap at "
                    f"{sorted(overlap)!r}"
                )

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Package:
        """Build a package from a plain mapping (e.g. a Hydra/OmegaConf node).

        Args:
            d: Mapping with ``name``, ``kind``, the keys of that kind (see
                :data:`KINDS`) and optionally ``fixed_cny_per_month``.

        Returns:
            The validated package.

        Raises:
            ValueError: If ``d`` is not a mapping, or a key is missing, unknown,
                belongs to another kind or holds a bad value; the message names
                the key.

        References:
            NDRC, Fagai Jiage [2021] No. 1093; NDRC, Fagai Jiage [2016] No. 1583.
        """
        if not isinstance(d, Mapping):
            raise ValueError(f"package spec must be a mapping, got {type(d).__name__}")
        for key in ("name", "kind"):
            if key not in d:
                raise ValueError(f"package spec is missing key {key!r}: {dict(d)!r}")
        name, kind = d["name"], d["kind"]
        if kind not in KINDS:
            raise ValueError(
                f"package {name!r}: key 'kind' must be one of {tuple(KINDS)}, got {kind!r}"
            )
        allowed = {"name", "kind", *_OPTIONAL, *KINDS[kind]}
        for key in d:
            if key not in allowed:
                raise ValueError(
                    f"package {name!r}: unknown key {key!r} for kind {kind!r} "
                    f"(allowed: {sorted(allowed)})"
                )
        for key in KINDS[kind]:
            if key not in d:
                raise ValueError(f"package {name!r}: missing key {key!r} for kind {kind!r}")
        kwargs: dict[str, Any] = {}
        for key in d:
            value = d[key]
            if key in ("price_by_hour_cny_per_kwh", *_HOUR_FIELDS) and not isinstance(
                value, str | bytes
            ):
                value = list(value) if isinstance(value, Sequence) else value
            kwargs[str(key)] = value
        return cls(**kwargs)

    def hourly_price_cny_per_kwh(self) -> NDArray[np.float64]:
        """Energy price for each hour of the day.

        Returns:
            Array of 24 prices in CNY per kWh (hour 0 = 00:00–01:00).

        References:
            NDRC, "Notice on further improving the time-of-use electricity
            pricing mechanism" (Fagai Jiage [2021] No. 1093), 2021.
        """
        if self.kind == "flat":
            return np.full(24, self.price_cny_per_kwh, dtype=np.float64)
        if self.kind == "time_of_use":
            return np.asarray(self.price_by_hour_cny_per_kwh, dtype=np.float64)
        if self.kind == "peak_valley":
            prices = np.full(24, self.flat_price_cny_per_kwh, dtype=np.float64)
            prices[list(self.peak_hours or ())] = self.peak_price_cny_per_kwh
            prices[list(self.valley_hours or ())] = self.valley_price_cny_per_kwh
            return prices
        return np.full(24, self.energy_price_cny_per_kwh, dtype=np.float64)

    @property
    def demand_rate_cny_per_kw(self) -> float:
        """CNY per kW of maximum demand per billing month (0 unless ``demand_charge``).

        References:
            NDRC, "Notice on improving the way the basic (demand) charge of
            two-part tariff users is applied" (Fagai Jiage [2016] No. 1583), 2016.
        """
        return float(self.demand_charge_cny_per_kw or 0.0)


def _hour_index(
    hour_of_interval: ArrayLike | None, n_intervals: int, interval_h: float
) -> NDArray[np.intp]:
    """Hour of day of each interval.

    Args:
        hour_of_interval: Hours 0–23 per interval, or None to assume the curve
            starts at 00:00 with intervals of ``interval_h``.
        n_intervals: Number of intervals.
        interval_h: Interval length in hours.

    Returns:
        Integer hour per interval.

    Raises:
        ValueError: On a length mismatch or values that are not integers 0–23.
    """
    if hour_of_interval is None:
        elapsed_h = np.arange(n_intervals) * interval_h
        hour: NDArray[np.intp] = (np.floor(elapsed_h + 1e-9).astype(np.intp)) % 24
        return hour
    hours = np.asarray(hour_of_interval)
    if hours.shape != (n_intervals,):
        raise ValueError(
            f"hour_of_interval has shape {hours.shape}, expected ({n_intervals},) intervals"
        )
    if not np.issubdtype(hours.dtype, np.integer):
        raise ValueError(f"hour_of_interval must hold integers, got dtype {hours.dtype}")
    if np.any((hours < 0) | (hours > 23)):
        raise ValueError("hour_of_interval holds values outside 0–23")
    return hours.astype(np.intp)


def _packages(packages: Sequence[Package] | Package) -> tuple[Package, ...]:
    """Validate a list of packages.

    Args:
        packages: One package or a sequence of packages.

    Returns:
        Tuple of packages.

    Raises:
        ValueError: If empty, holding a non-Package, or with duplicate names.
    """
    items = (packages,) if isinstance(packages, Package) else tuple(packages)
    if not items:
        raise ValueError("packages must hold at least one Package")
    for item in items:
        if not isinstance(item, Package):
            raise ValueError(f"packages must hold Package instances, got {item!r}")
    names = [p.name for p in items]
    if len(set(names)) != len(names):
        raise ValueError(f"packages have duplicate names: {names!r}")
    return items


def bills_cny(
    packages: Sequence[Package],
    load_curves_kw: ArrayLike,
    interval_h: float = 1.0,
    hour_of_interval: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Bill of every user under every package for one billing month.

    bill_ik = Σ_t L_it · Δt · price_k(hour_t) + demand_k · max_t L_it + fixed_k.

    Args:
        packages: Packages with distinct names.
        load_curves_kw: Loads in kW, users × intervals (one billing month).
        interval_h: Interval length in hours.
        hour_of_interval: Hour of day (0–23) of each interval; default assumes
            the curve starts at 00:00.

    Returns:
        Bills in CNY, users × packages.

    Raises:
        ValueError: On invalid packages, loads, interval or hours.

    References:
        NDRC, Fagai Jiage [2021] No. 1093; NDRC, Fagai Jiage [2016] No. 1583.
    """
    items = _packages(packages)
    loads = load_matrix(load_curves_kw, "load_curves_kw", one_curve=True, allow_no_users=True)
    dt = interval_length_h(interval_h)
    hours = _hour_index(hour_of_interval, loads.shape[1], dt)
    price_by_hour = np.stack([p.hourly_price_cny_per_kwh() for p in items], axis=1)  # 24 × K
    demand_rate = np.array([p.demand_rate_cny_per_kw for p in items])
    fixed = np.array([p.fixed_cny_per_month for p in items])
    # Energy per user and interval of the day (or per hour of day), then priced: no
    # BLAS matrix product, whose rounding depends on how many threads OpenBLAS runs
    # (results must not depend on the machine's core count, nor on a sweep's workers
    # limiting threads to one). A curve of whole days sums its days first (a view,
    # no copy); any other curve is grouped by hour.
    n_users, n_t = loads.shape
    ipd = round(24.0 / dt)
    days = n_t // ipd if ipd > 0 else 0
    if days and n_t == days * ipd and (hours.reshape(days, ipd) == hours[:ipd]).all():
        kwh = loads.reshape(n_users, days, ipd).sum(axis=1) * dt
        hour_of_column = hours[:ipd]
    else:
        order = np.argsort(hours, kind="stable")
        hour_sorted = hours[order]
        first = np.flatnonzero(np.r_[True, hour_sorted[1:] != hour_sorted[:-1]])
        kwh = np.add.reduceat(loads[:, order], first, axis=1) * dt
        hour_of_column = hour_sorted[first]
    energy_cny = np.einsum("uh,hk->uk", kwh, price_by_hour[hour_of_column])
    demand_cny = loads.max(axis=1)[:, None] * demand_rate[None, :]
    total_cny: NDArray[np.float64] = energy_cny + demand_cny + fixed[None, :]
    return total_cny


def bill(
    package: Package,
    load_curves_kw: ArrayLike,
    interval_h: float = 1.0,
    hour_of_interval: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Bill of every user under one package for one billing month.

    Args:
        package: The package.
        load_curves_kw: Loads in kW, users × intervals (a 1-D curve is one user).
        interval_h: Interval length in hours.
        hour_of_interval: Hour of day (0–23) of each interval; default assumes
            the curve starts at 00:00.

    Returns:
        Bills in CNY, shape (n_users,).

    Raises:
        ValueError: On an invalid package, loads, interval or hours.

    References:
        NDRC, Fagai Jiage [2021] No. 1093; NDRC, Fagai Jiage [2016] No. 1583.
    """
    if not isinstance(package, Package):
        raise ValueError(f"package must be a Package, got {package!r}")
    return bills_cny([package], load_curves_kw, interval_h, hour_of_interval)[:, 0]
