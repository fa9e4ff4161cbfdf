"""Renewable resource profiles for distributed generation: rooftop PV and small wind.

PV: pvlib's clear-sky Ineichen–Perez model with the Linke turbidity climatology that
pvlib ships (``LinkeTurbidities.h5``; nothing is downloaded at run time), the
solar position of every interval midpoint, plane-of-array irradiance on a tilted
roof (isotropic sky), and a linear module model (output ∝ POA irradiance), scaled
so that one kWp yields ``annual_yield_kwh_per_kwp`` over the year. Optional daily
clearness factors (e.g. drawn with :func:`daily_clearness`) dim cloudy days before
the scaling, so the annual yield still holds.

Wind: a turbine power curve shipped with windpowerlib (its oedb turbine library,
e.g. ``E-126/4200``) applied to a hub-height wind-speed series with a Weibull
marginal distribution and AR(1) autocorrelation (Gaussian copula), drawn from a
``numpy.random.Generator``.

Times are local standard time UTC+8 (China, no daylight saving): interval k of a
day covers [k·Δt, (k+1)·Δt) hours and is evaluated at its midpoint.

References:
    Ineichen, P. & Perez, R., "A new airmass independent formulation for the Linke
    turbidity coefficient", Solar Energy 73(3):151–157, 2002.
    Holmgren, W. F., Hansen, C. W. & Mikofski, M. A., "pvlib python: a python
    package for modeling solar energy systems", JOSS 3(29):884, 2018.
    Haas, S. et al., windpowerlib, JOSS 4(36):1256, 2019 (oedb power curves).
    Justus, C. G. et al., "Methods for estimating wind speed frequency
    distributions", J. Appl. Meteorol. 17(3):350–353, 1978 (Weibull fit).
    PV yield 1063 kWh/kWp (Jiangsu): https://wenku.solarbe.com/p-20929.html .
"""

from __future__ import annotations

import calendar
import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from agents._deferred import defer_init
from markets.dg import scale_profile

__all__ = [
    "NANJING_LATITUDE_DEG",
    "NANJING_LONGITUDE_DEG",
    "daily_clearness",
    "pv_profile_kw_per_kwp",
    "turbine_nominal_kw",
    "wind_profile_kw",
]

#: Nanjing, Jiangsu (the default park site).
NANJING_LATITUDE_DEG = 32.06
NANJING_LONGITUDE_DEG = 118.8
_TZ = "Etc/GMT-8"  # UTC+8 without daylight saving


def _filter_library_warnings() -> None:
    """Ignore DeprecationWarning/FutureWarning raised from pvlib or windpowerlib."""
    for module in ("pvlib", "windpowerlib"):
        for category in (DeprecationWarning, FutureWarning):
            warnings.filterwarnings("ignore", category=category, module=module)


def daily_clearness(
    rng: np.random.Generator, n_days: int, mean: float = 0.75, concentration: float = 8.0
) -> NDArray[np.float64]:
    """Draw one clearness factor per day from a Beta distribution.

    Factor ~ Beta(m·κ, (1 − m)·κ) with mean m and concentration κ: 1 is a clear
    day, small values overcast ones (dimensionless; multiplies the clear-sky PV).

    Args:
        rng: Random generator.
        n_days: Number of days (>= 1).
        mean: Mean factor m in (0, 1).
        concentration: κ > 0; larger means less day-to-day spread.

    Returns:
        Factors in [0, 1], shape (n_days,).

    Raises:
        ValueError: If ``n_days`` < 1, ``mean`` is outside (0, 1) or
            ``concentration`` is not positive.
    """
    if int(n_days) != n_days or n_days < 1:
        raise ValueError(f"n_days must be a positive integer, got {n_days!r}")
    if not 0.0 < float(mean) < 1.0:
        raise ValueError(f"mean must be in (0, 1), got {mean!r}")
    if not (math.isfinite(float(concentration)) and concentration > 0):
        raise ValueError(f"concentration must be finite and > 0, got {concentration!r}")
    return rng.beta(mean * concentration, (1.0 - mean) * concentration, size=int(n_days))


def pv_profile_kw_per_kwp(
    latitude_deg: float = NANJING_LATITUDE_DEG,
    longitude_deg: float = NANJING_LONGITUDE_DEG,
    tilt_deg: float = 20.0,
    azimuth_deg: float = 180.0,
    year: int = 2025,
    intervals_per_day: int = 24,
    annual_yield_kwh_per_kwp: float = 1063.0,
    *,
    altitude_m: float = 10.0,
    clearness: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """PV output per kWp for every interval of a year, from pvlib's clear sky.

    Args:
        latitude_deg: Site latitude, degrees north.
        longitude_deg: Site longitude, degrees east.
        tilt_deg: Module tilt from horizontal, degrees (0–90).
        azimuth_deg: Module azimuth, degrees clockwise from north (180 = south).
        year: Calendar year (365 or 366 days).
        intervals_per_day: Intervals per day (24 = hourly, 96 = 15 min).
        annual_yield_kwh_per_kwp: Energy per kWp over the year, kWh/kWp (> 0).
        altitude_m: Site altitude, m (for the air mass).
        clearness: Optional factor per day in [0, 1] (shape (days,)), applied
            before scaling to the yield.

    Returns:
        kW per kWp, shape (days_in_year, intervals_per_day); its sum times the
        interval length (24/intervals_per_day h) equals the annual yield.

    Raises:
        ValueError: On a yield <= 0, a latitude outside [−90, 90], a tilt outside
            [0, 90], a non-positive number of intervals or a malformed
            ``clearness``.
    """
    # pvlib's package __init__ imports every subpackage (about 0.4 s more than the
    # three modules used here): deferred as mesa's is (agents/_deferred.py). Its
    # irradiance, solarposition and clearsky modules import scipy.interpolate's
    # splev, scipy.optimize and scipy.linalg's hankel (about 0.3 s) for models not
    # called here: deferred too.
    defer_init("scipy.interpolate", lazy=("splev",))
    defer_init("scipy.optimize", lazy=("bisect",))
    defer_init("scipy.linalg", lazy=("hankel",))
    defer_init("pvlib", submodules=True)
    from pvlib.irradiance import get_total_irradiance
    from pvlib.location import Location

    if not (math.isfinite(annual_yield_kwh_per_kwp) and annual_yield_kwh_per_kwp > 0):
        raise ValueError(
            f"annual_yield_kwh_per_kwp must be finite and > 0, got {annual_yield_kwh_per_kwp!r}"
        )
    if not -90.0 <= float(latitude_deg) <= 90.0:
        raise ValueError(f"latitude_deg must be in [-90, 90], got {latitude_deg!r}")
    if not 0.0 <= float(tilt_deg) <= 90.0:
        raise ValueError(f"tilt_deg must be in [0, 90], got {tilt_deg!r}")
    if int(intervals_per_day) != intervals_per_day or intervals_per_day < 1:
        raise ValueError(f"intervals_per_day must be a positive integer, got {intervals_per_day!r}")
    n_days = 366 if calendar.isleap(int(year)) else 365
    n_per_day = int(intervals_per_day)
    dt_h = 24.0 / n_per_day
    start = pd.Timestamp(year=int(year), month=1, day=1, tz=_TZ)
    times = start + pd.to_timedelta((np.arange(n_days * n_per_day) + 0.5) * dt_h, unit="h")
    with warnings.catch_warnings():
        _filter_library_warnings()
        site = Location(latitude_deg, longitude_deg, tz=_TZ, altitude=altitude_m)
        sun = site.get_solarposition(times)
        sky = site.get_clearsky(times, model="ineichen", solar_position=sun)
        poa = get_total_irradiance(
            tilt_deg,
            azimuth_deg,
            sun["apparent_zenith"],
            sun["azimuth"],
            sky["dni"],
            sky["ghi"],
            sky["dhi"],
        )
    shape = np.nan_to_num(poa["poa_global"].to_numpy(dtype=np.float64), nan=0.0)
    shape = np.clip(shape, 0.0, None).reshape(n_days, n_per_day) / 1000.0
    shape[(sun["apparent_zenith"].to_numpy() >= 90.0).reshape(n_days, n_per_day)] = 0.0
    if clearness is not None:
        factor = np.asarray(clearness, dtype=np.float64)
        if factor.shape != (n_days,) or not np.all((factor >= 0) & (factor <= 1)):
            raise ValueError(f"clearness must hold {n_days} factors in [0, 1] (one per day)")
        shape = shape * factor[:, None]
    return scale_profile(shape, annual_yield_kwh_per_kwp, dt_h)


def turbine_nominal_kw(turbine_type: str = "E-126/4200") -> float:
    """Nominal power of a turbine in windpowerlib's shipped oedb library, kW.

    Args:
        turbine_type: oedb turbine type, e.g. ``"E-126/4200"``.

    Returns:
        The nominal power, kW.

    Raises:
        ValueError: If windpowerlib has no power curve for the type.
    """
    return float(_turbine(turbine_type).nominal_power) / 1000.0


def _turbine(turbine_type: str) -> Any:  # windpowerlib.WindTurbine (untyped library)
    """Load a turbine with its power curve from windpowerlib's shipped data.

    Args:
        turbine_type: oedb turbine type.

    Returns:
        A ``windpowerlib.WindTurbine``.

    Raises:
        ValueError: If the type has no shipped power curve.
    """
    from windpowerlib import WindTurbine, get_turbine_types

    with warnings.catch_warnings():
        _filter_library_warnings()
        shipped = get_turbine_types(print_out=False)
        known = shipped.loc[shipped["has_power_curve"].astype(bool), "turbine_type"]
        if turbine_type not in set(known):
            raise ValueError(
                f"turbine_type {turbine_type!r} has no shipped power curve; windpowerlib "
                f"ships {len(known)}, e.g. {sorted(known)[:5]}"
            )
        return WindTurbine(turbine_type=turbine_type, hub_height=100.0)


def wind_profile_kw(
    rng: np.random.Generator,
    n_intervals: int,
    *,
    mean_wind_speed_m_per_s: float = 6.0,
    weibull_k: float = 2.0,
    autocorrelation: float = 0.9,
    turbine_type: str = "E-126/4200",
    n_turbines: int = 1,
) -> NDArray[np.float64]:
    """Wind-turbine output per interval from a Weibull wind-speed series.

    Speeds v_t = c·(−ln(1 − Φ(z_t)))^(1/k), z an AR(1) series with lag-one
    correlation ρ and N(0, 1) marginals, scale c = v̄/Γ(1 + 1/k) so that the mean
    speed is v̄; output = the turbine's power curve at v_t (windpowerlib, linear
    interpolation, 0 outside the curve) × n_turbines.

    Args:
        rng: Random generator (the only source of randomness).
        n_intervals: Number of intervals (>= 1).
        mean_wind_speed_m_per_s: Mean hub-height wind speed v̄, m/s (> 0).
        weibull_k: Weibull shape k > 0 (2 = Rayleigh), dimensionless.
        autocorrelation: ρ in [0, 1) between consecutive intervals.
        turbine_type: A turbine type with a power curve in windpowerlib's data.
        n_turbines: Number of identical turbines (>= 1).

    Returns:
        Output in kW, shape (n_intervals,).

    Raises:
        ValueError: On a non-positive length, speed or shape, ρ outside [0, 1),
            a non-positive number of turbines or an unknown turbine type.
    """
    # scipy.signal and scipy.special cost ~2 s to import: only when a wind profile is drawn
    from scipy.signal import lfilter
    from scipy.special import ndtr
    from windpowerlib import power_output

    if int(n_intervals) != n_intervals or n_intervals < 1:
        raise ValueError(f"n_intervals must be a positive integer, got {n_intervals!r}")
    if not (math.isfinite(mean_wind_speed_m_per_s) and mean_wind_speed_m_per_s > 0):
        raise ValueError(f"mean_wind_speed_m_per_s must be > 0, got {mean_wind_speed_m_per_s!r}")
    if not (math.isfinite(weibull_k) and weibull_k > 0):
        raise ValueError(f"weibull_k must be > 0, got {weibull_k!r}")
    if not 0.0 <= float(autocorrelation) < 1.0:
        raise ValueError(f"autocorrelation must be in [0, 1), got {autocorrelation!r}")
    if int(n_turbines) != n_turbines or n_turbines < 1:
        raise ValueError(f"n_turbines must be a positive integer, got {n_turbines!r}")
    turbine = _turbine(turbine_type)
    rho = float(autocorrelation)
    eps = rng.standard_normal(int(n_intervals))
    z0 = eps[0]
    z = lfilter([math.sqrt(1.0 - rho * rho)], [1.0, -rho], eps[1:], zi=[rho * z0])[0]
    z = np.concatenate([[z0], z])
    u = np.clip(ndtr(z), 0.0, 1.0 - 1e-16)
    scale = mean_wind_speed_m_per_s / math.gamma(1.0 + 1.0 / weibull_k)
    speed = scale * (-np.log1p(-u)) ** (1.0 / weibull_k)
    curve = turbine.power_curve
    with warnings.catch_warnings():
        _filter_library_warnings()
        watts = power_output.power_curve(
            pd.Series(speed), curve["wind_speed"], curve["value"]
        ).to_numpy(dtype=np.float64)
    return watts / 1000.0 * int(n_turbines)
