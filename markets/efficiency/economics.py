"""Economics of an energy-saving measure: saving (CNY/year), payback (months) and NPV (CNY).

The annual bill saving, the simple payback, the annuity factor (dimensionless) and the
net present value of a measure.

Used by :func:`markets.efficiency.measures.evaluate_measures` and re-exported by
:mod:`markets.efficiency.measures` and :mod:`markets.efficiency`.

References:
    Park, Sharp & Liu, Contemporary Engineering Economics (payback, annuity, NPV);
    two-part industrial tariff (energy charge + monthly demand charge), NDRC
    catalogue tariffs; parksim DESIGN.md, "Efficiency management".
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from markets._checks import broadcast, finite_array

FloatArray = NDArray[np.float64]

__all__ = ["annual_saving_cny", "annuity_factor", "npv_cny", "payback_months"]


def annual_saving_cny(
    energy_saving_kwh: ArrayLike,
    price_cny_per_kwh: ArrayLike,
    peak_saving_kw: ArrayLike,
    demand_charge_cny_per_kw_month: ArrayLike,
) -> FloatArray:
    """Annual bill saving ``S = ΔE · p + ΔP · a · 12``.

    Args:
        energy_saving_kwh: Energy saved per year ΔE, kWh, ≥ 0.
        price_cny_per_kwh: Marginal energy price p (include any differential
            surcharge), CNY/kWh, ≥ 0.
        peak_saving_kw: Reduction of the monthly billed demand ΔP, kW, ≥ 0.
        demand_charge_cny_per_kw_month: Demand charge a, CNY/(kW·month), ≥ 0.

    Returns:
        Saving S, CNY/year, with the broadcast shape.

    Raises:
        ValueError: If an argument is negative or not finite (naming it) or the
            shapes do not broadcast.

    References:
        Two-part industrial tariff (energy charge + monthly demand charge),
        NDRC catalogue tariffs; DESIGN.md "Efficiency".
    """
    de = finite_array(energy_saving_kwh, "energy_saving_kwh", lower=0.0)
    p = finite_array(price_cny_per_kwh, "price_cny_per_kwh", lower=0.0)
    dp = finite_array(peak_saving_kw, "peak_saving_kw", lower=0.0)
    a = finite_array(demand_charge_cny_per_kw_month, "demand_charge_cny_per_kw_month", lower=0.0)
    de, p, dp, a = broadcast(
        energy_saving_kwh=de,
        price_cny_per_kwh=p,
        peak_saving_kw=dp,
        demand_charge_cny_per_kw_month=a,
    )
    return de * p + dp * a * 12.0


def payback_months(capex_cny: ArrayLike, annual_saving_cny: ArrayLike) -> FloatArray:
    """Simple payback period ``12 · K / S`` in months; ``inf`` when ``S ≤ 0``.

    Args:
        capex_cny: Investment K, CNY, ≥ 0.
        annual_saving_cny: Saving S, CNY/year, finite (any sign).

    Returns:
        Payback, months, ≥ 0 or ``inf``, with the broadcast shape.

    Raises:
        ValueError: If ``capex_cny`` is negative or either argument is not
            finite, or the shapes do not broadcast.

    References:
        Park, Sharp & Liu, Contemporary Engineering Economics (payback period).
    """
    k = finite_array(capex_cny, "capex_cny", lower=0.0)
    s = finite_array(annual_saving_cny, "annual_saving_cny")
    k, s = broadcast(capex_cny=k, annual_saving_cny=s)
    with np.errstate(over="ignore"):  # a vanishing saving overflows to inf, its limit
        months: FloatArray = np.divide(12.0 * k, s, out=np.full(k.shape, np.inf), where=s > 0.0)
    return months


def annuity_factor(lifetime_years: ArrayLike, discount_rate: ArrayLike) -> FloatArray:
    """Present value of 1 CNY per year for ``L`` years: ``(1 − (1 + r)^−L) / r``.

    Equals ``L`` at ``r = 0``; non-integer lifetimes use the same formula.

    Args:
        lifetime_years: Lifetime L, years, ≥ 0.
        discount_rate: Annual discount rate r, > −1.

    Returns:
        Annuity factor, years, with the broadcast shape.

    Raises:
        ValueError: If ``lifetime_years`` is negative, ``discount_rate`` ≤ −1,
            either is not finite, or the shapes do not broadcast.

    References:
        Park, Sharp & Liu, Contemporary Engineering Economics (P/A, i, N).
    """
    life = finite_array(lifetime_years, "lifetime_years", lower=0.0)
    r = finite_array(discount_rate, "discount_rate", lower=-1.0, lower_open=True)
    life, r = broadcast(lifetime_years=life, discount_rate=r)
    # (1 − (1 + r)^−L) / r = L · g(z) · log1p(r) / r with z = −L · log1p(r) and
    # g(z) = expm1(z) / z. Both quotients tend to 1 and are computed to a few ulps for any
    # z, r ≠ 0; the direct form loses everything once z underflows although r does not
    # (r = −5e-324, L = 0.5 gave 0 instead of 0.5).
    log_growth = np.log1p(r)
    z = -life * log_growth
    g = np.divide(np.expm1(z), z, out=np.ones_like(z), where=z != 0.0)
    rate_ratio = np.divide(log_growth, r, out=np.ones_like(r), where=r != 0.0)
    return life * g * rate_ratio


def npv_cny(
    capex_cny: ArrayLike,
    annual_saving_cny: ArrayLike,
    lifetime_years: ArrayLike,
    discount_rate: ArrayLike,
) -> FloatArray:
    """Net present value of a measure: ``−K + S · (1 − (1 + r)^−L) / r``.

    Savings arrive at each year end; no salvage value.

    Args:
        capex_cny: Investment K at time 0, CNY, ≥ 0.
        annual_saving_cny: Saving S, CNY/year, finite.
        lifetime_years: Lifetime L, years, ≥ 0.
        discount_rate: Annual discount rate r, > −1.

    Returns:
        NPV, CNY, with the broadcast shape.

    Raises:
        ValueError: If an argument is out of range or not finite (naming it),
            or the shapes do not broadcast.

    References:
        Park, Sharp & Liu, Contemporary Engineering Economics (present worth
        with the uniform-series present-worth factor).
    """
    k = finite_array(capex_cny, "capex_cny", lower=0.0)
    s = finite_array(annual_saving_cny, "annual_saving_cny")
    factor = annuity_factor(lifetime_years, discount_rate)
    k, s, factor = broadcast(capex_cny=k, annual_saving_cny=s, annuity_factor=factor)
    return -k + s * factor
