"""Efficiency management: energy intensity, diagnostics, saving measures and adoption.

Pure functions of the ``efficiency`` phase. The grid company diagnoses users
monthly (:func:`diagnose`), energy-service companies offer a catalogue of
:class:`Measure` objects that are sized per user (:func:`evaluate_measures`),
users adopt by a logit on payback with a peer effect
(:func:`adoption_probability`), energy-hungry industries pay a differential
surcharge (:func:`differential_surcharge_cny`) and intensity is tracked against
a five-year reduction path (:func:`intensity_target_tce_per_10k_cny`).

Conventions:
    * Arrays run over users on axis 0 and, where stated, over measures on
      axis 1 (``users × measures``) or intervals on axis 1
      (``users × intervals``).
    * Energy intensity (EI) is in tce per 10⁴ CNY of output value, with
      electricity converted at its equivalent coefficient (0.1229 kgce/kWh).
    * Savings, capex and surcharges are non-negative amounts in CNY; a
      surcharge is a payment by the user.
    * Bad inputs raise ``ValueError`` naming the argument.

References:
    GB/T 2589-2020, General rules for calculation of the comprehensive energy
    consumption; China's 14th Five-Year Plan (2021-2025) energy-intensity
    target; NDRC differential electricity price policy (发改价格〔2004〕159号,
    〔2010〕978号); Bass (1969), Management Science 15(5); Young (2009),
    American Economic Review 99(5); Park, Sharp & Liu, Contemporary
    Engineering Economics.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from numbers import Real
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit

from markets._checks import as_float_array

__all__ = [
    "CATEGORIES",
    "DEFAULT_SURCHARGES_CNY_PER_KWH",
    "KGCE_PER_KWH",
    "Diagnosis",
    "Measure",
    "MeasureEvaluation",
    "adoption_probability",
    "annual_saving_cny",
    "annuity_factor",
    "base_load_ratio",
    "combined_energy_saving_share",
    "consideration_probability",
    "diagnose",
    "differential_surcharge_cny",
    "differential_surcharge_cny_per_kwh",
    "draw_thresholds_months",
    "energy_intensity_tce_per_10k_cny",
    "evaluate_measures",
    "intensity_gap",
    "intensity_target_tce_per_10k_cny",
    "measures_from_config",
    "npv_cny",
    "payback_months",
    "peer_share_by_industry",
]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

KGCE_PER_KWH: float = 0.1229
"""Equivalent coefficient of electricity, kgce/kWh (GB/T 2589-2020)."""

CATEGORIES: tuple[str, ...] = ("encouraged", "permitted", "restricted", "eliminated")
"""Industry categories of the differential electricity price policy."""

DEFAULT_SURCHARGES_CNY_PER_KWH: Mapping[str, float] = MappingProxyType(
    {"encouraged": 0.0, "permitted": 0.0, "restricted": 0.10, "eliminated": 0.30}
)
"""Differential surcharges of DESIGN.md (NDRC 发改价格〔2010〕978号 levels), CNY/kWh."""


# --------------------------------------------------------------------------- validation


def _float_array(
    value: ArrayLike,
    name: str,
    *,
    lower: float | None = None,
    lower_open: bool = False,
    upper: float | None = None,
    upper_open: bool = False,
    allow_inf: bool = False,
) -> FloatArray:
    """Convert ``value`` to a float array and check its range, naming ``name`` on failure."""
    arr = as_float_array(value, name, detail=False)
    if np.isnan(arr).any():
        raise ValueError(f"{name} must not contain NaN")
    if not allow_inf and np.isinf(arr).any():
        raise ValueError(f"{name} must be finite")
    if lower is not None and (arr <= lower if lower_open else arr < lower).any():
        raise ValueError(f"{name} must be {'>' if lower_open else '>='} {lower}")
    if upper is not None and (arr >= upper if upper_open else arr > upper).any():
        raise ValueError(f"{name} must be {'<' if upper_open else '<='} {upper}")
    return arr


def _scalar(value: float, name: str, **bounds: Any) -> float:
    """Validate a finite real scalar (not bool) with the bounds of :func:`_float_array`."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    return float(_float_array(value, name, **bounds))


def _bool_array(value: ArrayLike, name: str) -> BoolArray:
    """Convert a boolean (or 0/1) array, naming ``name`` on failure."""
    arr = np.asarray(value)
    if arr.dtype == np.bool_:
        return arr
    if arr.dtype.kind in "iuf" and np.isin(arr, (0, 1)).all():
        return arr.astype(np.bool_)
    raise ValueError(f"{name} must be boolean (or 0/1)")


def _broadcast(**arrays: FloatArray) -> list[FloatArray]:
    """Broadcast arrays together, naming them if their shapes are incompatible."""
    try:
        return list(np.broadcast_arrays(*arrays.values()))
    except ValueError as exc:
        shapes = ", ".join(f"{k}{np.shape(v)}" for k, v in arrays.items())
        raise ValueError(f"incompatible shapes: {shapes}") from exc


def _user_vector(value: ArrayLike, name: str, n: int | None = None, **bounds: Any) -> FloatArray:
    """Validate a 1-D per-user float array (of length ``n`` if given)."""
    arr = _float_array(value, name, **bounds)
    if arr.ndim != 1 or (n is not None and arr.shape[0] != n):
        expected = "(n_users,)" if n is None else f"({n},)"
        raise ValueError(f"{name} must have shape {expected}, got {arr.shape}")
    return arr


def _groups(labels: ArrayLike, n: int, name: str) -> tuple[NDArray[Any], IntArray]:
    """Return the unique labels and each user's group index (``np.unique`` inverse)."""
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},), got {arr.shape}")
    try:
        uniq, inv = np.unique(arr, return_inverse=True)
    except TypeError as exc:
        raise ValueError(f"{name} labels must be mutually comparable") from exc
    return uniq, inv.reshape(-1).astype(np.int64)


def _group_median(values: FloatArray, inv: IntArray, n_groups: int) -> FloatArray:
    """Median of ``values`` within each group, vectorised by one lexicographic sort."""
    ordered = values[np.lexsort((values, inv))]
    counts = np.bincount(inv, minlength=n_groups)
    starts = np.cumsum(counts) - counts
    lower = ordered[starts + (counts - 1) // 2]
    upper = ordered[starts + counts // 2]
    return 0.5 * (lower + upper)


# --------------------------------------------------------------------------- intensity


def energy_intensity_tce_per_10k_cny(
    energy_kwh: ArrayLike,
    output_value_cny: ArrayLike,
    kgce_per_kwh: float = KGCE_PER_KWH,
) -> FloatArray:
    """Energy intensity: tonnes of coal equivalent per 10⁴ CNY of output value.

    ``EI = energy_kwh · kgce_per_kwh / 1000 / (output_value_cny / 10⁴)``. Works
    per user or, with summed arguments, for the whole park.

    Args:
        energy_kwh: Electricity consumed, kWh, ≥ 0 (any shape).
        output_value_cny: Output value over the same period, CNY, > 0
            (broadcastable with ``energy_kwh``).
        kgce_per_kwh: Equivalent coefficient, kgce/kWh, > 0.

    Returns:
        Energy intensity, tce per 10⁴ CNY, with the broadcast shape.

    Raises:
        ValueError: If ``energy_kwh`` is negative or not finite, if
            ``output_value_cny`` is ≤ 0 or not finite, if ``kgce_per_kwh`` is
            ≤ 0, or if the shapes do not broadcast.

    References:
        GB/T 2589-2020, General rules for calculation of the comprehensive
        energy consumption (electricity equivalent 0.1229 kgce/kWh).
    """
    energy = _float_array(energy_kwh, "energy_kwh", lower=0.0)
    output = _float_array(output_value_cny, "output_value_cny", lower=0.0, lower_open=True)
    k = _scalar(kgce_per_kwh, "kgce_per_kwh", lower=0.0, lower_open=True)
    energy, output = _broadcast(energy_kwh=energy, output_value_cny=output)
    # kgce -> tce is /1e3, CNY -> 10^4 CNY is /1e4: net factor 10.
    return energy * (k * 10.0) / output


def intensity_target_tce_per_10k_cny(
    base: ArrayLike,
    years_elapsed: ArrayLike,
    reduction: float = 0.20,
    horizon_years: float = 5.0,
    path: Literal["linear", "geometric"] = "linear",
) -> FloatArray:
    """Energy-intensity target on the reduction path from a base-year intensity.

    With progress ``f = min(years_elapsed / horizon_years, 1)``:

    * ``"linear"``: ``target = base · (1 − reduction · f)``;
    * ``"geometric"``: constant annual rate
      ``r = 1 − (1 − reduction)^(1/horizon_years)``, i.e.
      ``target = base · (1 − reduction)^f``.

    Both reach ``base · (1 − reduction)`` at the horizon and hold it after.

    Args:
        base: Base-year intensity, tce per 10⁴ CNY, ≥ 0.
        years_elapsed: Years since the base year, ≥ 0 (broadcastable).
        reduction: Reduction reached at the horizon, in [0, 1).
        horizon_years: Length of the target period, years, > 0.
        path: ``"linear"`` or ``"geometric"``.

    Returns:
        Target intensity, tce per 10⁴ CNY, with the broadcast shape.

    Raises:
        ValueError: If ``base`` or ``years_elapsed`` is negative or not finite,
            ``reduction`` is outside [0, 1), ``horizon_years`` ≤ 0, ``path`` is
            unknown, or the shapes do not broadcast.

    References:
        China's 14th Five-Year Plan (2021-2025): energy consumption per unit of
        GDP down 13.5 %; DESIGN.md sets −20 % over five years for the park.
    """
    b = _float_array(base, "base", lower=0.0)
    t = _float_array(years_elapsed, "years_elapsed", lower=0.0)
    red = _scalar(reduction, "reduction", lower=0.0, upper=1.0, upper_open=True)
    horizon = _scalar(horizon_years, "horizon_years", lower=0.0, lower_open=True)
    b, t = _broadcast(base=b, years_elapsed=t)
    progress = np.minimum(t / horizon, 1.0)
    if path == "linear":
        factor = 1.0 - red * progress
    elif path == "geometric":
        factor = (1.0 - red) ** progress
    else:
        raise ValueError(f"path must be 'linear' or 'geometric', got {path!r}")
    return b * factor


def intensity_gap(actual: ArrayLike, target: ArrayLike) -> FloatArray:
    """Relative gap between actual and target intensity: ``actual / target − 1``.

    Positive means above target (behind schedule), negative ahead of it; the
    ratio form is unit-free, so gaps compare across industries.

    Args:
        actual: Actual intensity, tce per 10⁴ CNY, ≥ 0.
        target: Target intensity, tce per 10⁴ CNY, > 0 (broadcastable).

    Returns:
        Relative gap (dimensionless), with the broadcast shape.

    Raises:
        ValueError: If ``actual`` is negative, ``target`` ≤ 0, either is not
            finite, or the shapes do not broadcast.

    References:
        China's 14th Five-Year Plan energy-intensity target (assessment of the
        achieved share of the reduction target).
    """
    a = _float_array(actual, "actual", lower=0.0)
    t = _float_array(target, "target", lower=0.0, lower_open=True)
    a, t = _broadcast(actual=a, target=t)
    return a / t - 1.0


# --------------------------------------------------------------------------- diagnostics


def base_load_ratio(loads_kw: ArrayLike, off_hours_mask: ArrayLike) -> FloatArray:
    """Off-hours base-load ratio per user: mean off-hours load / mean working load.

    A high ratio points to equipment left running outside production hours
    (compressed air leaks, idle drives, lighting). If a user's mean working
    load is zero, the ratio is ``inf`` when it still draws power off-hours and
    ``0`` when it draws nothing at all (an idle user wastes nothing).

    Args:
        loads_kw: Loads, kW, ≥ 0, shape ``(n_users, n_intervals)``; intervals of
            several days may be concatenated along axis 1.
        off_hours_mask: ``True`` for off-hours intervals, shape
            ``(n_intervals,)`` (the same for all users) or
            ``(n_users, n_intervals)``; every row needs at least one off-hours
            and one working interval.

    Returns:
        Ratio per user, shape ``(n_users,)``, ≥ 0 (possibly ``inf``).

    Raises:
        ValueError: If ``loads_kw`` is not 2-D, negative or not finite, or if
            ``off_hours_mask`` is not boolean, does not match the intervals, or
            leaves a user without off-hours or working intervals.

    References:
        GB/T 2589-2020 energy audits; base-load (night-to-day) ratio screening
        as in ISO 50002:2014 Energy audits.
    """
    loads = _float_array(loads_kw, "loads_kw", lower=0.0)
    if loads.ndim != 2:
        raise ValueError(f"loads_kw must have shape (n_users, n_intervals), got {loads.shape}")
    mask = _bool_array(off_hours_mask, "off_hours_mask")
    if mask.ndim not in (1, 2):
        raise ValueError(f"off_hours_mask must be 1-D or 2-D, got shape {mask.shape}")
    try:
        mask = np.broadcast_to(mask, loads.shape)
    except ValueError as exc:
        raise ValueError(
            f"off_hours_mask shape {mask.shape} does not match loads_kw {loads.shape}"
        ) from exc
    n_off = mask.sum(axis=1)
    n_work = loads.shape[1] - n_off
    if (n_off == 0).any() or (n_work == 0).any():
        raise ValueError(
            "off_hours_mask must mark at least one off-hours and one working interval per user"
        )
    off_mean = np.where(mask, loads, 0.0).sum(axis=1) / n_off
    work_mean = np.where(mask, 0.0, loads).sum(axis=1) / n_work
    idle = np.where(off_mean > 0.0, np.inf, 0.0)
    return np.divide(off_mean, work_mean, out=idle, where=work_mean > 0.0)


@dataclass(frozen=True)
class Diagnosis:
    """Result of the monthly efficiency diagnostic, one entry per user.

    Attributes:
        intensity: Energy intensity, tce per 10⁴ CNY.
        peer_median: Median intensity of the user's industry (the user
            included), tce per 10⁴ CNY.
        benchmark_ratio: ``intensity / peer_median`` (dimensionless); ``inf``
            when the median is 0 (or so small that the ratio overflows) and
            the user's intensity is positive, ``1`` when both are 0.
        flag_intensity: ``benchmark_ratio > ei_factor``.
        flag_base_load: Off-hours base-load ratio ``> base_load_threshold``.
        flagged: Either flag; these users receive a diagnostic report.
    """

    intensity: FloatArray
    peer_median: FloatArray
    benchmark_ratio: FloatArray
    flag_intensity: BoolArray
    flag_base_load: BoolArray
    flagged: BoolArray


def diagnose(
    energy_kwh: ArrayLike,
    output_value_cny: ArrayLike,
    base_load_ratio: ArrayLike,
    industry: ArrayLike,
    ei_factor: float = 1.2,
    base_load_threshold: float = 0.3,
    kgce_per_kwh: float = KGCE_PER_KWH,
) -> Diagnosis:
    """Flag users with high energy intensity for their industry or a high base load.

    A user is flagged if its intensity strictly exceeds ``ei_factor`` × the
    median intensity of its industry (the user itself included, so a user
    alone in its industry is never flagged for intensity), or if its
    off-hours base-load ratio strictly exceeds ``base_load_threshold``.

    Args:
        energy_kwh: Energy over the diagnostic period, kWh, ≥ 0, shape
            ``(n_users,)``.
        output_value_cny: Output value over the same period, CNY, > 0, shape
            ``(n_users,)``.
        base_load_ratio: Off-hours base-load ratio (see
            :func:`base_load_ratio`), ≥ 0, ``inf`` allowed, shape ``(n_users,)``.
        industry: Industry label per user (comparable labels, e.g. str),
            shape ``(n_users,)``; peers share a label.
        ei_factor: Benchmark multiple of the peer median, > 0.
        base_load_threshold: Base-load ratio threshold, ≥ 0.
        kgce_per_kwh: Equivalent coefficient, kgce/kWh, > 0.

    Returns:
        A :class:`Diagnosis` with per-user arrays.

    Raises:
        ValueError: If an array has the wrong shape or range (naming it), or
            ``ei_factor``/``base_load_threshold``/``kgce_per_kwh`` is invalid.

    References:
        GB/T 2589-2020 (0.1229 kgce/kWh); peer benchmarking of energy
        intensity as in the NDRC energy-saving supervision practice; DESIGN.md
        thresholds (1.2 × peer median, base-load ratio 0.3).
    """
    energy = _user_vector(energy_kwh, "energy_kwh", lower=0.0)
    n = energy.shape[0]
    output = _user_vector(output_value_cny, "output_value_cny", n, lower=0.0, lower_open=True)
    ratio = _user_vector(base_load_ratio, "base_load_ratio", n, lower=0.0, allow_inf=True)
    factor = _scalar(ei_factor, "ei_factor", lower=0.0, lower_open=True)
    threshold = _scalar(base_load_threshold, "base_load_threshold", lower=0.0)
    uniq, inv = _groups(industry, n, "industry")
    intensity = energy_intensity_tce_per_10k_cny(energy, output, kgce_per_kwh)
    median = _group_median(intensity, inv, uniq.shape[0])[inv]
    at_zero = np.where(intensity > 0.0, np.inf, 1.0)
    # A subnormal median (e.g. 1e-316 next to an intensity of 1e-2) makes the ratio exceed
    # the float range: it is +inf, like the zero-median case, and flags the user.
    with np.errstate(over="ignore"):
        benchmark = np.divide(intensity, median, out=at_zero, where=median > 0.0)
    flag_intensity = benchmark > factor
    flag_base_load = ratio > threshold
    return Diagnosis(
        intensity=intensity,
        peer_median=median,
        benchmark_ratio=benchmark,
        flag_intensity=flag_intensity,
        flag_base_load=flag_base_load,
        flagged=flag_intensity | flag_base_load,
    )


# --------------------------------------------------------------------------- measures

_REQUIRED_MEASURE_KEYS = ("name", "energy_saving_share", "lifetime_years")
_CAPEX_KEYS = ("capex_cny", "capex_cny_per_kw")


@dataclass(frozen=True)
class Measure:
    """An energy-saving measure of the catalogue, sized per user.

    Sizing scheme: a fixed part plus a part proportional to the user's size,
    measured by its contracted capacity ``C`` (kW), annual energy ``E`` (kWh)
    and annual standby waste ``W`` (kWh, off-hours load kept running
    needlessly):

    * capex ``K = capex_cny + capex_cny_per_kw · C``;
    * energy saving ``ΔE = energy_saving_share · E + (W if standby else 0)``
      (kWh/year);
    * peak saving ``ΔP = min(peak_saving_kw + peak_saving_share · C, C)``.

    Attributes:
        name: Unique name, e.g. ``"variable_speed_drives"``.
        capex_cny: Fixed investment, CNY, ≥ 0.
        energy_saving_share: Share of annual energy saved, in [0, 1).
        peak_saving_kw: Fixed reduction of the monthly peak demand, kW, ≥ 0.
        lifetime_years: Economic lifetime, years, > 0.
        industries: Industry labels the measure applies to; empty means every
            industry.
        capex_cny_per_kw: Investment per kW of contracted capacity, CNY/kW, ≥ 0.
        peak_saving_share: Peak reduction per kW of contracted capacity, in
            [0, 1).
        standby: The measure also removes the user's standby waste.

    References:
        DESIGN.md "Efficiency" (capex K, saving ΔE, peak saving ΔP); typical
        measures after the Top-10,000 Enterprises Energy Saving Programme
        (variable-speed drives, compressed-air leak repair, lighting retrofit,
        waste-heat recovery, power-factor correction).
    """

    name: str
    capex_cny: float
    energy_saving_share: float
    peak_saving_kw: float
    lifetime_years: float
    industries: tuple[str, ...] = ()
    capex_cny_per_kw: float = 0.0
    peak_saving_share: float = 0.0
    standby: bool = False

    def __post_init__(self) -> None:
        """Validate fields and normalise numbers to float and industries to a tuple.

        Raises:
            ValueError: Naming the bad field.
        """
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Measure name must be a non-empty str, got {self.name!r}")
        bounds: dict[str, dict[str, Any]] = {
            "capex_cny": {"lower": 0.0},
            "energy_saving_share": {"lower": 0.0, "upper": 1.0, "upper_open": True},
            "peak_saving_kw": {"lower": 0.0},
            "lifetime_years": {"lower": 0.0, "lower_open": True},
            "capex_cny_per_kw": {"lower": 0.0},
            "peak_saving_share": {"lower": 0.0, "upper": 1.0, "upper_open": True},
        }
        for key, bound in bounds.items():
            label = f"Measure {self.name!r}: {key}"
            object.__setattr__(self, key, _scalar(getattr(self, key), label, **bound))
        industries = self.industries
        if isinstance(industries, str) or not isinstance(industries, Sequence):
            raise ValueError(
                f"Measure {self.name!r}: industries must be a sequence of str, got {industries!r}"
            )
        if not all(isinstance(label, str) for label in industries):
            raise ValueError(f"Measure {self.name!r}: industries must contain only str")
        object.__setattr__(self, "industries", tuple(industries))
        if not isinstance(self.standby, bool | np.bool_):
            raise ValueError(f"Measure {self.name!r}: standby must be a bool, got {self.standby!r}")
        object.__setattr__(self, "standby", bool(self.standby))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], name: str | None = None) -> Measure:
        """Build a measure from a config mapping (one catalogue entry).

        Keys are the field names. Required: ``name`` (or the ``name``
        argument), ``energy_saving_share``, ``lifetime_years`` and at least one
        of ``capex_cny``/``capex_cny_per_kw``; the other numeric keys default to
        0, ``industries`` to all and ``standby`` to false.

        Args:
            d: The entry, e.g. a dict or an OmegaConf ``DictConfig``.
            name: The measure's name when ``d`` has no ``name`` key (e.g. the
                catalogue key).

        Returns:
            The validated :class:`Measure`.

        Raises:
            ValueError: If ``d`` is not a mapping, a required key is missing,
                an unknown key is present, the two names differ, or a value is
                invalid (naming the key).
        """
        if not isinstance(d, Mapping):
            raise ValueError(f"measure entry must be a mapping, got {type(d).__name__}")
        known = [f.name for f in fields(cls)]
        unknown = sorted(str(k) for k in d if k not in known)
        if unknown:
            raise ValueError(f"unknown measure key(s) {unknown}; expected a subset of {known}")
        kwargs: dict[str, Any] = {
            "capex_cny": 0.0,
            "peak_saving_kw": 0.0,
            **({} if name is None else {"name": name}),
        }
        if name is not None and d.get("name", name) != name:
            raise ValueError(f"measure name {d['name']!r} differs from its key {name!r}")
        missing = [k for k in _REQUIRED_MEASURE_KEYS if k not in d and k not in kwargs]
        if not any(k in d for k in _CAPEX_KEYS):
            missing.append(" or ".join(_CAPEX_KEYS))
        if missing:
            raise ValueError(f"measure {d.get('name', name)!r} is missing key(s) {missing}")
        kwargs.update(d)
        return cls(**kwargs)


def measures_from_config(
    entries: Mapping[str, Mapping[str, Any]] | Sequence[Mapping[str, Any]],
) -> tuple[Measure, ...]:
    """Build the measure catalogue from config entries, checking names are unique.

    Args:
        entries: Either a mapping from measure name to entry (the layout of
            ``conf/efficiency``) or a sequence of entries with a ``name`` key;
            entries as accepted by :meth:`Measure.from_dict`, in the units of
            the :class:`Measure` fields (capex in CNY and CNY/kW of contracted
            capacity, peak saving in kW, lifetime in years, saving shares
            dimensionless).

    Returns:
        The measures in the given order (the order of the measure axis).

    Raises:
        ValueError: If ``entries`` is neither, an entry is invalid, or two
            measures share a name.

    References:
        DESIGN.md "Efficiency" measure catalogue.
    """
    if isinstance(entries, Mapping):
        measures = tuple(Measure.from_dict(e, name=str(k)) for k, e in entries.items())
    elif isinstance(entries, Sequence) and not isinstance(entries, str):
        measures = tuple(Measure.from_dict(e) for e in entries)
    else:
        raise ValueError("entries must be a mapping or a sequence of measure entries")
    names = [m.name for m in measures]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"entries has duplicate measure name(s) {duplicates}")
    return measures


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
    de = _float_array(energy_saving_kwh, "energy_saving_kwh", lower=0.0)
    p = _float_array(price_cny_per_kwh, "price_cny_per_kwh", lower=0.0)
    dp = _float_array(peak_saving_kw, "peak_saving_kw", lower=0.0)
    a = _float_array(demand_charge_cny_per_kw_month, "demand_charge_cny_per_kw_month", lower=0.0)
    de, p, dp, a = _broadcast(
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
    k = _float_array(capex_cny, "capex_cny", lower=0.0)
    s = _float_array(annual_saving_cny, "annual_saving_cny")
    k, s = _broadcast(capex_cny=k, annual_saving_cny=s)
    with np.errstate(over="ignore"):  # a vanishing saving overflows to inf, its limit
        return np.divide(12.0 * k, s, out=np.full(k.shape, np.inf), where=s > 0.0)


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
    life = _float_array(lifetime_years, "lifetime_years", lower=0.0)
    r = _float_array(discount_rate, "discount_rate", lower=-1.0, lower_open=True)
    life, r = _broadcast(lifetime_years=life, discount_rate=r)
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
    k = _float_array(capex_cny, "capex_cny", lower=0.0)
    s = _float_array(annual_saving_cny, "annual_saving_cny")
    factor = annuity_factor(lifetime_years, discount_rate)
    k, s, factor = _broadcast(capex_cny=k, annual_saving_cny=s, annuity_factor=factor)
    return -k + s * factor


@dataclass(frozen=True)
class MeasureEvaluation:
    """Measures sized and priced for every user (arrays ``users × measures``).

    Entries of measures that do not apply to a user's industry are 0 (capex,
    savings) and ``inf`` (payback).

    Attributes:
        names: Measure names, the order of axis 1.
        lifetime_years: Lifetime per measure, years, shape ``(n_measures,)``.
        applicable: Measure applies to the user's industry.
        capex_cny: Investment K, CNY.
        energy_saving_kwh: Energy saving ΔE, kWh/year.
        peak_saving_kw: Peak-demand saving ΔP, kW.
        annual_saving_cny: Saving S, CNY/year.
        payback_months: Payback 12·K/S, months (``inf`` if S = 0).
        best: Per user, index of the applicable, not yet installed measure
            with finite and shortest payback (lowest index on ties), −1 if
            none.
        best_payback_months: Payback of ``best``, months (``inf`` if none).
    """

    names: tuple[str, ...]
    lifetime_years: FloatArray
    applicable: BoolArray
    capex_cny: FloatArray
    energy_saving_kwh: FloatArray
    peak_saving_kw: FloatArray
    annual_saving_cny: FloatArray
    payback_months: FloatArray
    best: IntArray
    best_payback_months: FloatArray


def evaluate_measures(
    measures: Sequence[Measure],
    industry: ArrayLike,
    annual_energy_kwh: ArrayLike,
    contracted_kw: ArrayLike,
    price_cny_per_kwh: ArrayLike,
    demand_charge_cny_per_kw_month: ArrayLike,
    installed: ArrayLike | None = None,
    *,
    standby_waste_kwh: ArrayLike = 0.0,
) -> MeasureEvaluation:
    """Size every measure for every user and rank the candidates by payback.

    Sizing follows :class:`Measure`; savings are computed independently per
    measure from the ``annual_energy_kwh`` passed in (after adoption the model
    lowers the user's loads, so later evaluations see the reduced energy).

    Args:
        measures: The catalogue, in the order of the measure axis.
        industry: Industry label per user, shape ``(n_users,)``, compared as
            str with :attr:`Measure.industries` (pass names, not codes).
        annual_energy_kwh: Current annual energy per user, kWh, ≥ 0.
        contracted_kw: Contracted capacity per user, kW, ≥ 0.
        price_cny_per_kwh: Marginal energy price (incl. surcharges), CNY/kWh,
            ≥ 0, scalar or per user.
        demand_charge_cny_per_kw_month: Demand charge, CNY/(kW·month), ≥ 0,
            scalar or per user.
        installed: Measures already installed, bool ``(n_users, n_measures)``;
            ``None`` means none.
        standby_waste_kwh: Annual standby waste per user that ``standby``
            measures remove, kWh, ≥ 0, scalar or per user.

    Returns:
        A :class:`MeasureEvaluation`.

    Raises:
        ValueError: If ``measures`` contains a non-Measure or duplicate names,
            or an array has the wrong shape or range (naming it).

    References:
        DESIGN.md "Efficiency"; Park, Sharp & Liu, Contemporary Engineering
        Economics (payback period).
    """
    measures = tuple(measures)
    if not all(isinstance(m, Measure) for m in measures):
        raise ValueError("measures must contain only Measure objects")
    names = tuple(m.name for m in measures)
    if len(set(names)) != len(names):
        raise ValueError(f"measures has duplicate names: {names}")
    energy = _user_vector(annual_energy_kwh, "annual_energy_kwh", lower=0.0)
    n, n_measures = energy.shape[0], len(measures)
    contracted = _user_vector(contracted_kw, "contracted_kw", n, lower=0.0)
    price = _float_array(price_cny_per_kwh, "price_cny_per_kwh", lower=0.0)
    demand = _float_array(
        demand_charge_cny_per_kw_month, "demand_charge_cny_per_kw_month", lower=0.0
    )
    waste = _float_array(standby_waste_kwh, "standby_waste_kwh", lower=0.0)
    for arr, name in (
        (price, "price_cny_per_kwh"),
        (demand, "demand_charge_cny_per_kw_month"),
        (waste, "standby_waste_kwh"),
    ):
        if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] != n):
            raise ValueError(f"{name} must be a scalar or have shape ({n},), got {arr.shape}")
    if installed is None:
        done = np.zeros((n, n_measures), dtype=np.bool_)
    else:
        done = _bool_array(installed, "installed")
        if done.shape != (n, n_measures):
            raise ValueError(f"installed must have shape ({n}, {n_measures}), got {done.shape}")
    uniq, inv = _groups(industry, n, "industry")

    labels = uniq.astype(str)
    by_industry = np.ones((labels.shape[0], n_measures), dtype=np.bool_)
    for j, measure in enumerate(measures):  # loop over measures, not users
        if measure.industries:
            by_industry[:, j] = np.isin(labels, np.asarray(measure.industries, dtype=str))
    applicable = by_industry[inv]

    def column(attr: str) -> FloatArray:
        return np.array([getattr(m, attr) for m in measures], dtype=np.float64)[None, :]

    size_kw = contracted[:, None]
    capex = column("capex_cny") + column("capex_cny_per_kw") * size_kw
    de = column("energy_saving_share") * energy[:, None]
    de = de + column("standby") * np.reshape(waste, (-1, 1))
    dp = np.minimum(column("peak_saving_kw") + column("peak_saving_share") * size_kw, size_kw)
    saving = annual_saving_cny(de, np.reshape(price, (-1, 1)), dp, np.reshape(demand, (-1, 1)))
    payback = payback_months(capex, saving)

    capex = np.where(applicable, capex, 0.0)
    de = np.where(applicable, de, 0.0)
    dp = np.where(applicable, dp, 0.0)
    saving = np.where(applicable, saving, 0.0)
    payback = np.where(applicable, payback, np.inf)

    candidate = applicable & ~done & np.isfinite(payback)
    ranked = np.where(candidate, payback, np.inf)
    if n_measures:
        best = np.where(candidate.any(axis=1), np.argmin(ranked, axis=1), -1)
        best_payback = ranked.min(axis=1)
    else:
        best, best_payback = np.full(n, -1), np.full(n, np.inf)
    return MeasureEvaluation(
        names=names,
        lifetime_years=column("lifetime_years")[0],
        applicable=applicable,
        capex_cny=capex,
        energy_saving_kwh=de,
        peak_saving_kw=dp,
        annual_saving_cny=saving,
        payback_months=payback,
        best=best.astype(np.int64),
        best_payback_months=best_payback,
    )


def combined_energy_saving_share(
    installed: ArrayLike, energy_saving_share: ArrayLike
) -> FloatArray:
    """Combined energy-saving share of the installed measures: ``1 − Π(1 − s_j)``.

    Each measure saves its share of the energy left by the others.

    Args:
        installed: Installed measures, bool ``(n_users, n_measures)``.
        energy_saving_share: Share of the annual energy (kWh) saved per
            measure, dimensionless, in [0, 1), shape ``(n_measures,)``.

    Returns:
        Combined share of the annual energy saved per user, dimensionless, in
        [0, 1), shape ``(n_users,)``.

    Raises:
        ValueError: If ``installed`` is not a 2-D boolean array or
            ``energy_saving_share`` is out of range or does not match it.

    References:
        DESIGN.md "Efficiency"; sequential (interacting) measures, each saving a
        share of the energy left by the others, as in energy-audit practice.
    """
    done = _bool_array(installed, "installed")
    if done.ndim != 2:
        raise ValueError(f"installed must be 2-D (n_users, n_measures), got {done.shape}")
    share = _user_vector(
        energy_saving_share, "energy_saving_share", lower=0.0, upper=1.0, upper_open=True
    )
    if share.shape[0] != done.shape[1]:
        raise ValueError(
            f"energy_saving_share must have shape ({done.shape[1]},), got {share.shape}"
        )
    return 1.0 - np.prod(np.where(done, 1.0 - share[None, :], 1.0), axis=1)


# --------------------------------------------------------------------------- adoption


def adoption_probability(
    payback_months: ArrayLike,
    threshold_months: ArrayLike,
    peer_share: ArrayLike,
    *,
    beta: float = 4.0,
    peer_weight: float = 2.0,
    intercept: float = 0.0,
    considered: ArrayLike = 1.0,
) -> FloatArray:
    """Monthly probability that a user adopts its best measure.

    ``P = c · σ(α + β · (T − PB) / T + γ · s)`` with ``σ`` the logistic
    function, payback ``PB``, the user's threshold ``T``, the adopters' share
    ``s`` of its industry, ``β = beta``, ``γ = peer_weight``,
    ``α = intercept`` and ``c = considered`` the probability that the user
    considers a measure this month (higher after a diagnostic report, see
    :func:`consideration_probability`). ``P = 0`` for infinite payback. With
    the defaults, a payback equal to the threshold and no adopting peers
    gives ``c / 2``.

    Args:
        payback_months: Payback PB, months, ≥ 0, ``inf`` allowed.
        threshold_months: Acceptable payback T, months, > 0.
        peer_share: Share of adopters among the user's peers, in [0, 1].
        beta: Payback sensitivity β, ≥ 0.
        peer_weight: Peer-effect weight γ, ≥ 0.
        intercept: Logit intercept α.
        considered: Probability of considering a measure, in [0, 1].

    Returns:
        Adoption probability in [0, 1], with the broadcast shape.

    Raises:
        ValueError: If an argument is out of range or NaN (naming it), or the
            shapes do not broadcast.

    References:
        Bass (1969), A new product growth for model consumer durables,
        Management Science 15(5); Young (2009), Innovation diffusion in
        heterogeneous populations, American Economic Review 99(5) (logit
        adoption with social influence).
    """
    pb = _float_array(payback_months, "payback_months", lower=0.0, allow_inf=True)
    t = _float_array(threshold_months, "threshold_months", lower=0.0, lower_open=True)
    s = _float_array(peer_share, "peer_share", lower=0.0, upper=1.0)
    c = _float_array(considered, "considered", lower=0.0, upper=1.0)
    b = _scalar(beta, "beta", lower=0.0)
    g = _scalar(peer_weight, "peer_weight", lower=0.0)
    a = _scalar(intercept, "intercept")
    pb, t, s, c = _broadcast(payback_months=pb, threshold_months=t, peer_share=s, considered=c)
    finite = np.isfinite(pb)
    with np.errstate(over="ignore"):  # a huge payback overflows to -inf: probability 0
        gap = (t - np.where(finite, pb, t)) / t
        payback_term = b * gap if b > 0.0 else np.zeros_like(gap)  # no 0 · (−inf)
        logit = a + payback_term + g * s
    return np.where(finite, c * expit(logit), 0.0)


def consideration_probability(
    report_received: ArrayLike, base: float, after_report: float
) -> FloatArray:
    """Probability that a user considers a measure this month.

    Args:
        report_received: Whether the user received a diagnostic report this
            month (bool, any shape).
        base: Monthly probability without a report, in [0, 1].
        after_report: Monthly probability after a report, in [0, 1].

    Returns:
        ``after_report`` where a report was received, else ``base``.

    Raises:
        ValueError: If ``report_received`` is not boolean or a probability is
            outside [0, 1].

    References:
        Bass (1969) innovation coefficient, raised by the grid company's
        information service (DESIGN.md "Efficiency" diagnostics).
    """
    report = _bool_array(report_received, "report_received")
    p0 = _scalar(base, "base", lower=0.0, upper=1.0)
    p1 = _scalar(after_report, "after_report", lower=0.0, upper=1.0)
    return np.where(report, p1, p0)


def draw_thresholds_months(
    rng: np.random.Generator, n: int, mean: float = 15.0, cv: float = 0.5
) -> FloatArray:
    """Draw heterogeneous payback thresholds from a lognormal distribution.

    ``T = exp(μ + σ Z)`` with ``σ² = ln(1 + cv²)`` and ``μ = ln(mean) − σ²/2``,
    so ``E[T] = mean`` and ``std(T) / E[T] = cv``; ``cv = 0`` gives ``mean``
    for every user.

    Args:
        rng: The model's random generator.
        n: Number of users, ≥ 0.
        mean: Mean threshold, months, > 0.
        cv: Coefficient of variation, ≥ 0.

    Returns:
        Thresholds, months, > 0, shape ``(n,)``.

    Raises:
        ValueError: If ``rng`` is not a ``numpy.random.Generator``, ``n`` is not
            a non-negative int, ``mean`` ≤ 0 or ``cv`` < 0.

    References:
        Lognormal heterogeneity of adoption thresholds as in Young (2009),
        American Economic Review 99(5); ~15-month payback expectation of
        industrial users (DESIGN.md "Efficiency").
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    m = _scalar(mean, "mean", lower=0.0, lower_open=True)
    v = _scalar(cv, "cv", lower=0.0)
    if v == 0.0:
        return np.full(int(n), m)
    sigma2 = math.log1p(v * v)
    return rng.lognormal(math.log(m) - sigma2 / 2.0, math.sqrt(sigma2), size=int(n))


def peer_share_by_industry(
    adopted: ArrayLike, industry: ArrayLike, *, exclude_self: bool = False
) -> FloatArray:
    """Share of adopters in each user's industry.

    Args:
        adopted: Whether each user has adopted (bool, or a degree in [0, 1]),
            shape ``(n_users,)``.
        industry: Industry label per user, shape ``(n_users,)``.
        exclude_self: If true, the share among the *other* users of the
            industry (0 for a user alone in its industry); otherwise the user
            counts itself.

    Returns:
        Peer share per user (adopters over users, dimensionless), in [0, 1],
        shape ``(n_users,)``.

    Raises:
        ValueError: If ``adopted`` is out of range or the shapes differ.

    References:
        Bass (1969) imitation term (share of previous adopters); Young (2009)
        social influence within a reference group.
    """
    a = _user_vector(adopted, "adopted", lower=0.0, upper=1.0)
    n = a.shape[0]
    uniq, inv = _groups(industry, n, "industry")
    sums = np.bincount(inv, weights=a, minlength=uniq.shape[0])[inv]
    counts = np.bincount(inv, minlength=uniq.shape[0])[inv].astype(np.float64)
    if exclude_self:
        sums, counts = sums - a, counts - 1.0
    share = np.divide(sums, counts, out=np.zeros(n), where=counts > 0.0)
    return np.clip(share, 0.0, 1.0)


# --------------------------------------------------------------------------- surcharges


def differential_surcharge_cny_per_kwh(
    category: ArrayLike, surcharges_cny_per_kwh: Mapping[str, float]
) -> FloatArray:
    """Differential surcharge rate per user from its industry category.

    Args:
        category: One of ``encouraged``, ``permitted``, ``restricted``,
            ``eliminated`` per user (any shape).
        surcharges_cny_per_kwh: Rate per category, CNY/kWh, ≥ 0; categories
            left out pay 0 (e.g. ``{"restricted": 0.10, "eliminated": 0.30}``).

    Returns:
        Surcharge rate, CNY/kWh, with the shape of ``category``.

    Raises:
        ValueError: If ``category`` holds an unknown category (naming it), or
            ``surcharges_cny_per_kwh`` has an unknown key or a bad rate.

    References:
        NDRC differential electricity price policy (发改价格〔2004〕159号,
        〔2010〕978号): restricted +0.10, eliminated +0.30 CNY/kWh.
    """
    if not isinstance(surcharges_cny_per_kwh, Mapping):
        raise ValueError("surcharges_cny_per_kwh must be a mapping from category to CNY/kWh")
    bad_keys = sorted(str(k) for k in surcharges_cny_per_kwh if k not in CATEGORIES)
    if bad_keys:
        raise ValueError(
            f"surcharges_cny_per_kwh has unknown category(ies) {bad_keys}; expected {CATEGORIES}"
        )
    rates = {
        c: _scalar(surcharges_cny_per_kwh.get(c, 0.0), f"surcharges_cny_per_kwh[{c!r}]", lower=0.0)
        for c in CATEGORIES
    }
    cat = np.asarray(category)
    uniq, inv = np.unique(cat.ravel().astype(str), return_inverse=True)
    unknown = [str(u) for u in uniq if u not in rates]
    if unknown:
        raise ValueError(f"category has unknown value(s) {unknown}; expected {CATEGORIES}")
    table = np.array([rates[str(u)] for u in uniq], dtype=np.float64)
    return table[inv.reshape(-1)].reshape(cat.shape)


def differential_surcharge_cny(
    energy_kwh: ArrayLike,
    category: ArrayLike,
    surcharges_cny_per_kwh: Mapping[str, float],
) -> FloatArray:
    """Differential surcharge paid on top of the tariff: ``energy · rate(category)``.

    Args:
        energy_kwh: Energy billed, kWh, ≥ 0.
        category: Industry category per user (see
            :func:`differential_surcharge_cny_per_kwh`), broadcastable.
        surcharges_cny_per_kwh: Rate per category, CNY/kWh; omitted
            categories pay 0.

    Returns:
        Surcharge, CNY (paid by the user), with the broadcast shape.

    Raises:
        ValueError: If ``energy_kwh`` is negative or not finite, a category
            or rate is invalid (naming it), or the shapes do not broadcast.

    References:
        NDRC differential electricity price policy (发改价格〔2004〕159号,
        〔2010〕978号).
    """
    energy = _float_array(energy_kwh, "energy_kwh", lower=0.0)
    rate = differential_surcharge_cny_per_kwh(category, surcharges_cny_per_kwh)
    energy, rate = _broadcast(energy_kwh=energy, category=rate)
    return energy * rate
