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
from numbers import Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

_MIN, _MAX = np.minimum.reduce, np.maximum.reduce

__all__ = [
    "as_float_array",
    "bool_array",
    "broadcast",
    "check_finite",
    "check_int",
    "check_ndim",
    "check_range",
    "finite_array",
    "group_labels",
    "interval_length_h",
    "load_matrix",
    "nonnegative_scalar",
    "real_scalar",
    "vector",
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
    # called thousands of times a run: a non-negative array that passes costs two
    # ufunc reductions (NaN fails both comparisons); anything else gets the full
    # checks below for their messages
    if nonnegative and arr.size:
        lo, hi = _MIN(arr, axis=None), _MAX(arr, axis=None)
        if lo >= 0 and hi < math.inf:
            return
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    if nonnegative and np.less(arr, 0).any():
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


def check_int(value: object, name: str, minimum: int) -> int:
    """Validate an integer count (dimensionless, e.g. intervals or iterations).

    Args:
        value: The count; a Python or NumPy integer, not a bool.
        name: Argument name used in error messages.
        minimum: Smallest allowed value.

    Returns:
        The value as an int.

    Raises:
        ValueError: If ``value`` is not an integer or is below ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an int, got {value!r}")
    if int(value) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_range(
    arr: NDArray[np.float64],
    name: str,
    *,
    lower: float | None = None,
    lower_open: bool = False,
    upper: float | None = None,
    upper_open: bool = False,
) -> None:
    """Require every value of ``arr`` within bounds (caller's unit, or dimensionless).

    Args:
        arr: The array to check (NaN-free; NaN compares false and passes).
        name: Argument name used in error messages.
        lower: Lower bound, or None for none.
        lower_open: Exclude the lower bound itself (``>`` instead of ``>=``).
        upper: Upper bound, or None for none.
        upper_open: Exclude the upper bound itself (``<`` instead of ``<=``).

    Raises:
        ValueError: If a value is out of range; the message gives the bound and the
            extreme value.
    """
    if lower is not None and (arr <= lower if lower_open else arr < lower).any():
        raise ValueError(
            f"{name} must be {'>' if lower_open else '>='} {lower} (min {float(arr.min())})"
        )
    if upper is not None and (arr >= upper if upper_open else arr > upper).any():
        raise ValueError(
            f"{name} must be {'<' if upper_open else '<='} {upper} (max {float(arr.max())})"
        )


def finite_array(
    values: ArrayLike,
    name: str,
    *,
    allow_inf: bool = False,
    lower: float | None = None,
    lower_open: bool = False,
    upper: float | None = None,
    upper_open: bool = False,
    copy: bool = False,
) -> NDArray[np.float64]:
    """Convert ``values`` to a float64 array without NaN (and inf) within bounds.

    The values keep the caller's unit (kW, CNY, h, ...) or are dimensionless.

    Args:
        values: Array-like input of any shape.
        name: Argument name used in error messages.
        allow_inf: Accept ``±inf`` (e.g. "no cap"); NaN is always rejected.
        lower: Lower bound, or None (see :func:`check_range`).
        lower_open: Exclude the lower bound itself.
        upper: Upper bound, or None.
        upper_open: Exclude the upper bound itself.
        copy: Always return a new array.

    Returns:
        The values as a float64 array.

    Raises:
        ValueError: If the values are not numeric, hold NaN (or inf unless
            ``allow_inf``) or lie out of range.
    """
    arr = as_float_array(values, name, copy=copy)
    if arr.size and not allow_inf:
        # Fast path for large arrays: min and max are NaN if any value is (no temporaries);
        # anything out of bounds falls through to the checks below for their messages.
        lo, hi = float(arr.min()), float(arr.max())
        if (
            math.isfinite(lo)
            and math.isfinite(hi)
            and (lower is None or (lo > lower if lower_open else lo >= lower))
            and (upper is None or (hi < upper if upper_open else hi <= upper))
        ):
            return arr
    if allow_inf:
        if np.isnan(arr).any():
            raise ValueError(f"{name} holds NaN values")
    else:
        check_finite(arr, name)
    check_range(arr, name, lower=lower, lower_open=lower_open, upper=upper, upper_open=upper_open)
    return arr


def real_scalar(
    value: object,
    name: str,
    *,
    allow_inf: bool = False,
    lower: float | None = None,
    lower_open: bool = False,
    upper: float | None = None,
    upper_open: bool = False,
) -> float:
    """Validate a real scalar (not a bool, not a string) within bounds.

    Args:
        value: The scalar in the caller's unit or dimensionless; a Python or NumPy real.
        name: Argument name used in error messages.
        allow_inf: Accept ``±inf``.
        lower: Lower bound, or None (see :func:`check_range`).
        lower_open: Exclude the lower bound itself.
        upper: Upper bound, or None.
        upper_open: Exclude the upper bound itself.

    Returns:
        The value as a float.

    Raises:
        ValueError: If ``value`` is not a real number, is NaN (or inf unless
            ``allow_inf``) or lies out of range.
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    number = float(value)
    if math.isnan(number) or (not allow_inf and math.isinf(number)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    check_range(
        np.asarray(number),
        name,
        lower=lower,
        lower_open=lower_open,
        upper=upper,
        upper_open=upper_open,
    )
    return number


def vector(
    values: ArrayLike,
    name: str,
    *,
    length: int | None = None,
    item: str = "user",
    allow_scalar: bool = False,
    nonempty: bool = False,
    allow_inf: bool = False,
    lower: float | None = None,
    lower_open: bool = False,
    upper: float | None = None,
    upper_open: bool = False,
    copy: bool = False,
    readonly: bool = False,
) -> NDArray[np.float64]:
    """Validate a 1-D vector with one value per ``item`` (user, interval, plant, ...).

    The values keep the caller's unit (kW, kWh, CNY, ...) or are dimensionless.

    Args:
        values: Array-like input.
        name: Argument name used in error messages.
        length: Required length, or None.
        item: What one entry is, for the messages (``"user"``, ``"interval"``).
        allow_scalar: Broadcast a scalar to ``length`` values (needs ``length``).
        nonempty: Reject an empty vector.
        allow_inf: Accept ``±inf``; NaN is always rejected.
        lower: Lower bound, or None (see :func:`check_range`).
        lower_open: Exclude the lower bound itself.
        upper: Upper bound, or None.
        upper_open: Exclude the upper bound itself.
        copy: Always return a new array.
        readonly: Return a new, read-only array (implies ``copy``).

    Returns:
        The vector as float64, shape ``(length,)`` if ``length`` is given.

    Raises:
        ValueError: If the vector is not 1-D, empty (with ``nonempty``), of the wrong
            length, not numeric, holds NaN (or inf) or lies out of range.
    """
    arr = as_float_array(values, name, copy=copy or readonly)
    if allow_scalar and arr.ndim == 0 and length is not None:
        arr = np.full(length, arr.item())
    check_ndim(arr, name, 1, f"one value per {item}")
    if nonempty and arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array (one value per {item})")
    if length is not None and arr.size != length:
        raise ValueError(f"{name} has {arr.size} {item}s, expected {length}")
    finite_array(
        arr,
        name,
        allow_inf=allow_inf,
        lower=lower,
        lower_open=lower_open,
        upper=upper,
        upper_open=upper_open,
    )
    if readonly:
        arr.setflags(write=False)
    return arr


def load_matrix(
    values: ArrayLike, name: str, *, one_curve: bool = False, allow_no_users: bool = False
) -> NDArray[np.float64]:
    """Validate a users × intervals load matrix in kW (finite, non-negative).

    Args:
        values: Interval-average loads (kW), users × intervals.
        name: Argument name used in error messages.
        one_curve: Accept a 1-D curve as one user.
        allow_no_users: Accept zero rows (users); at least one interval is required.

    Returns:
        The loads as a 2-D float64 array, users × intervals.

    Raises:
        ValueError: If the loads are not 2-D (or 1-D with ``one_curve``), have no
            interval (or no user), or hold NaN, infinite or negative values.
    """
    arr = as_float_array(values, name)
    if one_curve and arr.ndim == 1:
        arr = arr[None, :]
    check_ndim(arr, name, 2, "users × intervals")
    if arr.shape[1] == 0 or (arr.shape[0] == 0 and not allow_no_users):
        least = "one interval" if allow_no_users else "one user and one interval"
        raise ValueError(f"{name} must hold at least {least}, got {arr.shape}")
    check_finite(arr, name, nonnegative=True, noun="loads", unit=" kW")
    return arr


def bool_array(values: ArrayLike, name: str) -> NDArray[np.bool_]:
    """Convert a boolean (or 0/1) array of flags (dimensionless), naming ``name`` on failure.

    Args:
        values: Array-like of bools, or of integers or floats equal to 0 or 1.
        name: Argument name used in error messages.

    Returns:
        The flags as a bool array of the same shape.

    Raises:
        ValueError: If a value is neither boolean nor 0/1.
    """
    arr = np.asarray(values)
    if arr.dtype == np.bool_:
        return arr
    if arr.dtype.kind in "iuf" and np.isin(arr, (0, 1)).all():
        return arr.astype(np.bool_)
    raise ValueError(f"{name} must be boolean (or 0/1)")


def broadcast(**arrays: NDArray[np.float64]) -> list[NDArray[np.float64]]:
    """Broadcast arrays (caller's unit, or dimensionless) together, naming them on failure.

    Args:
        **arrays: The arrays, keyed by argument name.

    Returns:
        The broadcast arrays (read-only views), in argument order.

    Raises:
        ValueError: If the shapes do not broadcast; the message lists every name and shape.
    """
    try:
        return list(np.broadcast_arrays(*arrays.values()))
    except ValueError as exc:
        shapes = ", ".join(f"{k}{np.shape(v)}" for k, v in arrays.items())
        raise ValueError(f"incompatible shapes: {shapes}") from exc


def group_labels(labels: ArrayLike, n: int, name: str) -> tuple[NDArray[Any], NDArray[np.int64]]:
    """Validate one group label per user (dimensionless) and index the groups.

    Args:
        labels: One label per user (e.g. industry names), mutually comparable.
        n: Number of users.
        name: Argument name used in error messages.

    Returns:
        The sorted unique labels and each user's group index (``np.unique`` inverse).

    Raises:
        ValueError: If ``labels`` is not of shape ``(n,)`` or its labels cannot be sorted.
    """
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},), got {arr.shape}")
    try:
        uniq, inv = np.unique(arr, return_inverse=True)
    except TypeError as exc:
        raise ValueError(f"{name} labels must be mutually comparable") from exc
    return uniq, inv.reshape(-1).astype(np.int64)
