"""Investment appraisal of a DG plant: simple payback (years) and NPV (CNY).

Level annual net cash flows (CNY/yr) against an up-front capex (CNY), used by rule D2
of :mod:`markets.dg` (which re-exports both functions).

References:
    Brealey, R. A., Myers, S. C. & Allen, F., "Principles of Corporate Finance",
    13th ed., McGraw-Hill, 2020, ch. 2 and 5 (NPV, annuity factor, payback).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from markets._checks import as_float_array, check_finite, nonnegative_scalar

__all__ = ["npv_cny", "payback_years"]


def _array(values: ArrayLike, name: str, *, nonnegative: bool, noun: str) -> NDArray[np.float64]:
    """Validate a finite (optionally non-negative) array.

    Args:
        values: Array-like input.
        name: Argument name used in error messages.
        nonnegative: Reject negative values.
        noun: What the values are, for the message.

    Returns:
        The values as float64.

    Raises:
        ValueError: If not numeric, NaN, infinite, or negative when forbidden.
    """
    arr = as_float_array(values, name)
    check_finite(arr, name, nonnegative=nonnegative, noun=noun)
    return arr


def payback_years(capex_cny: ArrayLike, annual_net_cny: ArrayLike) -> NDArray[np.float64]:
    """Simple payback period: capex / annual net cash flow.

    Args:
        capex_cny: Investment, CNY (>= 0).
        annual_net_cny: Net cash flow per year, CNY/yr (any sign).

    Returns:
        Payback in years; ``inf`` where the annual net cash flow is <= 0 and the
        capex positive; 0 where the capex is 0 and the cash flow >= 0.

    Raises:
        ValueError: If capex is negative or an input is not finite.

    References:
        Brealey, Myers & Allen, "Principles of Corporate Finance", 13th ed., 2020,
        ch. 5 (payback rule).
    """
    capex = _array(capex_cny, "capex_cny", nonnegative=True, noun="amounts")
    net = _array(annual_net_cny, "annual_net_cny", nonnegative=False, noun="amounts")
    capex, net = np.broadcast_arrays(capex, net)
    out = np.full(capex.shape, np.inf)
    np.divide(capex, net, out=out, where=net > 0)
    out[(capex == 0) & (net >= 0)] = 0.0
    return out


def npv_cny(
    capex_cny: ArrayLike, annual_net_cny: ArrayLike, lifetime_yr: float, discount_rate: float
) -> NDArray[np.float64]:
    """Net present value of a level annual cash flow: −capex + A·annuity factor.

    annuity = (1 − (1 + r)^−n)/r (n for r = 0), cash flows at the end of each year.

    Args:
        capex_cny: Investment at t = 0, CNY.
        annual_net_cny: Net cash flow A per year, CNY/yr.
        lifetime_yr: Lifetime n, years (> 0; fractional years discount a
            continuous annuity formula).
        discount_rate: r >= 0 per year (dimensionless).

    Returns:
        NPV in CNY (broadcast shape).

    Raises:
        ValueError: If capex is negative, the lifetime not positive, the rate
            negative, or an input not finite.

    References:
        Brealey, Myers & Allen, "Principles of Corporate Finance", 13th ed., 2020,
        ch. 2 (annuity factor).
    """
    capex = _array(capex_cny, "capex_cny", nonnegative=True, noun="amounts")
    net = _array(annual_net_cny, "annual_net_cny", nonnegative=False, noun="amounts")
    n = nonnegative_scalar(lifetime_yr, "lifetime_yr", positive=True, real=True)
    r = nonnegative_scalar(discount_rate, "discount_rate", real=True)
    annuity = n if r == 0 else (1.0 - (1.0 + r) ** (-n)) / r
    return -capex + net * annuity
