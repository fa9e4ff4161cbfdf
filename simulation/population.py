"""The park's user population as a struct of arrays, and daily load synthesis.

Each user's load in an interval is

    load_kw = mean_load_kw · shape[day type, interval] · saving_factor
              − peak_saving_kw · working + standby_kw · off_hours,

times a mean-one lognormal noise drawn daily from the model's generator. The
shapes are per industry, from demandlib's industrial step profile or an hourly
shape in conf, shifted per user by whole hours. All arrays have shape
``(n_users,)`` or ``(n_users, intervals_per_day)``; nothing loops over users.

References:
    demandlib, ``IndustrialLoadProfile.simple_profile`` (oemof developer group,
    https://demandlib.readthedocs.io); NDRC (2011) 《有序用电管理办法》 for the
    interruptibility classes.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from markets._arrays import immutable
from markets.efficiency import CATEGORIES

__all__ = ["Population", "build_population", "industry_shapes"]

#: Attributes the cached day loads are built from (see :meth:`Population.changed`).
_LOAD_INPUTS = (
    "mean_load_kw",
    "shape_weekday",
    "shape_weekend",
    "working",
    "saving_factor",
    "peak_saving_kw",
    "standby_kw",
)


def _snapshot(arrays: tuple[NDArray, ...]) -> tuple[NDArray, ...]:
    """The arrays as they are now: the ones that cannot change by reference."""
    return tuple(a if immutable(a) else a.copy() for a in arrays)


def _unchanged(before: tuple[NDArray, ...], now: tuple[NDArray, ...]) -> bool:
    """Whether every array holds the same values (shape, dtype) as in the snapshot."""
    return all(
        b is a or (b.shape == a.shape and b.dtype == a.dtype and np.array_equal(b, a))
        for b, a in zip(before, now, strict=True)
    )


def _hour_to_time(hour: float) -> dt.time:
    if hour >= 24:
        return dt.time(23, 59, 59)
    minutes = round(hour * 60)
    return dt.time(minutes // 60, minutes % 60)


def industry_shapes(ind: Any, intervals_per_day: int) -> tuple[NDArray[np.float64], NDArray]:
    """Weekday and weekend relative load shapes of one industry.

    Args:
        ind: An ``IndustryConfig`` node.
        intervals_per_day: Intervals per day.

    Returns:
        ``(weekday, weekend)`` arrays of length ``intervals_per_day``, scaled so
        that the weekday shape has mean 1 (the weekend keeps its ratio to it).

    References:
        demandlib ``IndustrialLoadProfile.simple_profile`` (step profile with
        day/night factors for weekdays and weekends).
    """
    ipd = intervals_per_day
    if ind.shape == "hourly":
        weekday = np.repeat(np.asarray(ind.hourly_shape, dtype=float), ipd // 24)
        weekend = weekday * float(ind.weekend_scale)
    else:
        from demandlib.particular_profiles import IndustrialLoadProfile

        index = pd.date_range("2025-01-06", periods=7 * ipd, freq=f"{1440 // ipd}min")
        factors = {
            "week": {"day": ind.week_day_factor, "night": ind.week_night_factor},
            "weekend": {"day": ind.weekend_day_factor, "night": ind.weekend_night_factor},
            "holiday": {"day": ind.weekend_day_factor, "night": ind.weekend_night_factor},
        }
        # demandlib may change the process-wide warning filters; keep them local.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            profile = IndustrialLoadProfile(index, holidays=None).simple_profile(
                1.0,
                am=_hour_to_time(ind.am_h),
                pm=_hour_to_time(ind.pm_h),
                profile_factors=factors,
            )
        values = profile.to_numpy(dtype=float)
        weekday = values[:ipd]  # Monday
        weekend = values[5 * ipd : 6 * ipd]  # Saturday
    scale = weekday.mean()
    if scale <= 0:
        raise ValueError("industry load shape has zero mean")
    return weekday / scale, weekend / scale


@dataclass
class Population:
    """Struct of arrays of the park's users (one row per user).

    Attributes:
        industry_names: Names of the industries; ``industry`` indexes into it.
        industry: Industry index per user.
        category: Differential-price category index per user (into ``CATEGORIES``).
        mean_load_kw: Mean weekday load before measures, kW.
        shape_weekday: Relative weekday shape per user and interval (mean 1 per industry).
        shape_weekend: Relative weekend shape per user and interval.
        working: Working-hours mask per user and interval (weekday shape ≥ 60 % of its max).
        noise_sigma: Log-std of daily multiplicative noise.
        klass: Interruptibility class k = 0..4 (0 = protected).
        protected: ``klass == 0``.
        block_kw: Curtailable block ΔP, kW.
        contracted_kw: Contracted capacity, kW.
        voll_cny_per_kwh: Value of lost load, CNY/kWh.
        rho: Notice sensitivity in [0, 1].
        shutdown_h: Orderly shutdown time, h.
        restart_cost_cny: Restart cost per short-notice call, CNY.
        output_value_cny_per_kwh: Output value per kWh consumed, CNY/kWh.
        standby_kw: Off-hours standby waste, kW (0 for clean users).
        saving_factor: Multiplier on load from installed measures (1 = none).
        peak_saving_kw: Working-hours reduction from installed measures, kW.
        supplier: Who supplies and bills each user: 0 = the grid company at the
            catalog tariff, 1 = the sales agent, 2 + k = retailer k.
    """

    industry_names: tuple[str, ...]
    industry: NDArray[np.int64]
    category: NDArray[np.int64]
    mean_load_kw: NDArray[np.float64]
    shape_weekday: NDArray[np.float64]
    shape_weekend: NDArray[np.float64]
    working: NDArray[np.bool_]
    noise_sigma: NDArray[np.float64]
    klass: NDArray[np.int64]
    protected: NDArray[np.bool_]
    block_kw: NDArray[np.float64]
    contracted_kw: NDArray[np.float64]
    voll_cny_per_kwh: NDArray[np.float64]
    rho: NDArray[np.float64]
    shutdown_h: NDArray[np.float64]
    restart_cost_cny: NDArray[np.float64]
    output_value_cny_per_kwh: NDArray[np.float64]
    standby_kw: NDArray[np.float64]
    saving_factor: NDArray[np.float64] = field(default_factory=lambda: np.ones(0))
    peak_saving_kw: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    supplier: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def n_users(self) -> int:
        """Number of users."""
        return int(self.industry.shape[0])

    def expected_load_kw(self, weekend: bool) -> NDArray[np.float64]:
        """Expected (noise-free) load of every user over one day, kW.

        Args:
            weekend: Use the weekend shape.

        Returns:
            Array ``(n_users, intervals_per_day)`` in kW, never negative.
        """
        cache = self._cache("_expected_cache")
        if weekend not in cache:
            shape = self.shape_weekend if weekend else self.shape_weekday
            load = self.mean_load_kw[:, None] * shape * self.saving_factor[:, None]
            load -= self.peak_saving_kw[:, None] * self.working
            load += self.standby_kw[:, None] * ~self.working
            out = np.maximum(load, 0.0)
            out.flags.writeable = False
            cache[weekend] = out
        return cache[weekend]

    def productive_load_kw(self, weekend: bool) -> NDArray[np.float64]:
        """Load that makes output (no measures, no standby waste), kW per user and interval."""
        cache = self._cache("_productive_cache")
        if weekend not in cache:
            shape = self.shape_weekend if weekend else self.shape_weekday
            out = self.mean_load_kw[:, None] * shape
            out.flags.writeable = False
            cache[weekend] = out
        return cache[weekend]

    def productive_energy_kwh(self, weekend: bool, interval_h: float) -> NDArray[np.float64]:
        """Daily productive energy per user (row sums of the productive load), kWh."""
        cache = self._cache("_productive_cache")
        key = ("sum", weekend, interval_h)
        if key not in cache:
            cache[key] = self.productive_load_kw(weekend).sum(axis=1) * interval_h
        return cache[key]

    def _cache(self, name: str) -> dict[Any, Any]:
        """A cache of load arrays; the first one records the attributes they come from."""
        if "_cache_inputs" not in self.__dict__:
            self.__dict__["_cache_inputs"] = _snapshot(self._load_inputs())
        cache: dict[Any, Any] = self.__dict__.setdefault(name, {})
        return cache

    def _load_inputs(self) -> tuple[NDArray, ...]:
        return tuple(getattr(self, k) for k in _LOAD_INPUTS)

    def changed(self) -> None:
        """Drop cached load arrays after the user attributes were modified in place.

        The caches (and the very arrays they returned) are kept if every attribute
        the loads are built from still holds the values they were built from, e.g.
        a month in which no measure was installed: the loads would be the same.
        """
        before = self.__dict__.get("_cache_inputs")
        if before is not None and _unchanged(before, self._load_inputs()):
            return
        self.__dict__.pop("_cache_inputs", None)
        self.__dict__.pop("_expected_cache", None)
        self.__dict__.pop("_productive_cache", None)

    def noise_factor(self, z: NDArray[np.float32]) -> NDArray[np.float32]:
        """The mean-one lognormal factor ``exp(σ·z − σ²/2)`` of standard normals, in place.

        Args:
            z: Standard normals ``(n_users, intervals_per_day)``, float32 (for speed).

        Returns:
            ``z``, overwritten by the factor (dimensionless).
        """
        sigma = self.noise_sigma[:, None].astype(np.float32)
        z *= sigma
        z -= 0.5 * sigma**2
        np.exp(z, out=z)
        return z

    def noisy_load_kw(self, weekend: bool, factor: NDArray[np.float32]) -> NDArray[np.float64]:
        """The expected load times a noise factor (:meth:`noise_factor`), kW.

        Args:
            weekend: Use the weekend shape.
            factor: Noise factor per user and interval.

        Returns:
            Array ``(n_users, intervals_per_day)`` in kW.
        """
        return self.expected_load_kw(weekend) * factor


def build_population(park: Any, intervals_per_day: int, rng: np.random.Generator) -> Population:
    """Draw a park's user population from its config.

    Args:
        park: A ``ParkConfig`` node.
        intervals_per_day: Intervals per day.
        rng: The model's generator (all draws come from it).

    Returns:
        The population arrays.
    """
    n = int(park.n_users)
    ipd = intervals_per_day
    names = tuple(park.industries.keys())
    inds = [park.industries[k] for k in names]
    shares = np.array([i.share for i in inds], dtype=float)
    industry = rng.choice(len(names), size=n, p=shares / shares.sum())

    def per_industry(attr: str) -> NDArray[np.float64]:
        return np.array([float(getattr(i, attr)) for i in inds])[industry]

    shapes = [industry_shapes(i, ipd) for i in inds]
    weekday_by_ind = np.stack([s[0] for s in shapes])
    weekend_by_ind = np.stack([s[1] for s in shapes])
    steps_per_h = ipd // 24
    shift_max = np.array([int(i.shift_h_max) for i in inds])[industry]
    shift = rng.integers(-shift_max, shift_max + 1) * steps_per_h
    cols = (np.arange(ipd)[None, :] - shift[:, None]) % ipd
    shape_weekday = weekday_by_ind[industry[:, None], cols]
    shape_weekend = weekend_by_ind[industry[:, None], cols]
    working = shape_weekday >= 0.6 * shape_weekday.max(axis=1, keepdims=True)
    for fixed in (shape_weekday, shape_weekend, working):
        fixed.flags.writeable = False  # never changed: the load caches compare them by identity

    mean_load_kw = per_industry("median_load_kw") * np.exp(
        per_industry("load_sigma") * rng.standard_normal(n)
    )
    weights = np.array([i.class_weights for i in inds], dtype=float)
    weights /= weights.sum(axis=1, keepdims=True)
    cum = np.cumsum(weights[industry], axis=1)
    klass = (rng.random(n)[:, None] > cum).sum(axis=1).clip(0, 4)
    share_by_class = np.asarray(park.curtailable_share_by_class, dtype=float)
    working_mean = (shape_weekday * working).sum(axis=1) / np.maximum(working.sum(axis=1), 1)
    block_kw = share_by_class[klass] * mean_load_kw * working_mean
    peak_kw = mean_load_kw * np.maximum(shape_weekday.max(axis=1), shape_weekend.max(axis=1))
    has_waste = rng.random(n) < float(park.waste_user_share)
    standby_kw = has_waste * per_industry("standby_waste_share") * mean_load_kw
    contracted_kw = (peak_kw + standby_kw) * (1.0 + float(park.contracted_margin))
    voll = per_industry("voll_cny_per_kwh") * np.exp(
        per_industry("voll_sigma") * rng.standard_normal(n)
    )
    category_codes = np.array([CATEGORIES.index(i.category) for i in inds])[industry]
    return Population(
        industry_names=names,
        industry=industry.astype(np.int64),
        category=category_codes.astype(np.int64),
        mean_load_kw=mean_load_kw,
        shape_weekday=shape_weekday,
        shape_weekend=shape_weekend,
        working=working,
        noise_sigma=per_industry("noise_sigma"),
        klass=klass.astype(np.int64),
        protected=klass == 0,
        block_kw=block_kw,
        contracted_kw=contracted_kw,
        voll_cny_per_kwh=voll,
        rho=per_industry("rho"),
        shutdown_h=per_industry("shutdown_h"),
        restart_cost_cny=per_industry("restart_cost_cny_per_kw") * block_kw,
        output_value_cny_per_kwh=per_industry("output_value_cny_per_kwh"),
        standby_kw=standby_kw,
        saving_factor=np.ones(n),
        peak_saving_kw=np.zeros(n),
        supplier=np.zeros(n, dtype=np.int64),
    )
