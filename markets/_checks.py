"""Shared input validation for the ``markets`` mechanisms.

The helpers turn user inputs into float64 arrays or floats and raise
:class:`ValueError` with a message that names the offending argument. They are
unit-agnostic (dimensionless): the caller's argument name carries the unit, e.g.
``loads_kw`` or ``interval_h`` (hours). Checks that only one mechanism needs stay
in that mechanism's module.

References:
    NumPy reference, "Array creation" and "Floating point error handling",
    https://numpy.org/doc/stable/reference/.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "as_float_array",
    "check_finite",
    "check_ndim",
    "interval_length_h",
    "nonnegative_scalar",
]


def as_float_array(
    values: ArrayLike, name: str, *, copy: bool = False, detail: bool = True
) -> NDArray[np.float64]:
    """Convert ``values`` to a float64 array, naming ``name`` if that fails.

    The conversion keeps the values as they are (dimensionless here; the unit is
    the caller's, e.g. kW or CNY).

    Args:
        values: Array-like input.
        name: Argument name used in error messages.
        copy: Always return a new array (``np.array``) rather than a view of
            ``values`` where possible (``np.asarray``).
        detail: Append NumPy's conversion error to the message.

    Returns:
        The values as a float64 array (any shape).

    Raises:
        ValueError: If NumPy cannot convert ``values`` to float64.
    """
    try:
        if copy:
            return np.array(values, dtype=np.float64)
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        message = f"{name} must be numeric: {exc}" if detail else f"{name} must be numeric"
        raise ValueError(message) from exc


def check_ndim(arr: NDArray[np.float64], name: str, ndim: int, layout: str) -> None:
    """Require ``arr`` to have ``ndim`` dimensions (a dimensionless shape check).

    Args:
        arr: The array to check.
        name: Argument name used in error messages.
        ndim: Required number of dimensions.
        layout: What the axes hold, e.g. ``"one value per user"`` or
            ``"users × intervals"``; shown in the message.

    Raises:
        ValueError: If ``arr.ndim != ndim``.
    """
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D ({layout}), got shape {arr.shape}")


def check_finite(
    arr: NDArray[np.float64],
    name: str,
    *,
    nonnegative: bool = False,
    noun: str = "values",
    unit: str = "",
) -> None:
    """Require ``arr`` to be finite and, optionally, non-negative.

    The values may be in any unit (kW, kWh, CNY, ...) or dimensionless; ``unit``
    only labels the minimum quoted in the message.

    Args:
        arr: The array to check.
        name: Argument name used in error messages.
        nonnegative: Also reject negative values.
        noun: What the values are (``"values"``, ``"loads"``), for the message.
        unit: Unit appended to the minimum in the message, e.g. ``" kW"``.

    Raises:
        ValueError: If ``arr`` holds NaN or infinite values, or negative values
            when ``nonnegative`` is set (the message gives the minimum).
    """
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} holds NaN or infinite values")
    if nonnegative and np.any(arr < 0):
        raise ValueError(f"{name} holds negative {noun} (min {float(arr.min())}{unit})")


def nonnegative_scalar(
    value: object, name: str, *, positive: bool = False, real: bool = False
) -> float:
    """Validate a finite non-negative (or positive) scalar.

    Args:
        value: The value in the caller's unit (e.g. CNY/kWh, h) or dimensionless;
            anything ``float()`` accepts.
        name: Argument name used in error messages.
        positive: Require ``value > 0`` instead of ``>= 0``.
        real: Turn a ``float()`` failure into a ValueError naming ``name``
            (otherwise its TypeError or ValueError propagates unchanged).

    Returns:
        The value as a float.

    Raises:
        ValueError: If the value is NaN, infinite or out of range, or (with
            ``real``) not convertible to float.
    """
    if real:
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be a real number, got {value!r}") from exc
    else:
        number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value!r}")
    return number


def interval_length_h(interval_h: float) -> float:
    """Validate the length of a metering or settlement interval in hours.

    Args:
        interval_h: Interval length in hours.

    Returns:
        The interval length as a float.

    Raises:
        ValueError: If ``interval_h`` is not a finite positive number.
    """
    value = float(interval_h)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(
            f"interval_h must be a finite positive number of hours, got {interval_h!r}"
        )
    return value
