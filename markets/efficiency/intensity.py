"""Energy intensity (tce per 10⁴ CNY), its five-year targets and the monthly diagnosis.

Energy intensity (EI) is in tce per 10⁴ CNY of output value, with electricity converted
at its equivalent coefficient :data:`KGCE_PER_KWH` (0.1229 kgce/kWh).  The grid company
diagnoses users monthly (:func:`diagnose`) on their EI against the industry median and
their base-load ratio (:func:`base_load_ratio`).

References:
    GB/T 2589-2020, General rules for calculation of the comprehensive energy
    consumption; China's 14th Five-Year Plan (2021-2025) energy-intensity target.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from markets._checks import (
    bool_array,
    broadcast,
    finite_array,
    group_labels,
    real_scalar,
    vector,
)

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

__all__ = [
    "KGCE_PER_KWH",
    "Diagnosis",
    "base_load_ratio",
    "diagnose",
    "energy_intensity_tce_per_10k_cny",
    "intensity_gap",
    "intensity_target_tce_per_10k_cny",
]


KGCE_PER_KWH: float = 0.1229
"""Equivalent coefficient of electricity, kgce/kWh (GB/T 2589-2020)."""


def _group_median(values: FloatArray, inv: IntArray, n_groups: int) -> FloatArray:
    """Median of ``values`` within each group, vectorised by one lexicographic sort."""
    ordered = values[np.lexsort((values, inv))]
    counts = np.bincount(inv, minlength=n_groups)
    starts = np.cumsum(counts) - counts
    lower = ordered[starts + (counts - 1) // 2]
    upper = ordered[starts + counts // 2]
    median: FloatArray = 0.5 * (lower + upper)
    return median


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
    energy = finite_array(energy_kwh, "energy_kwh", lower=0.0)
    output = finite_array(output_value_cny, "output_value_cny", lower=0.0, lower_open=True)
    k = real_scalar(kgce_per_kwh, "kgce_per_kwh", lower=0.0, lower_open=True)
    energy, output = broadcast(energy_kwh=energy, output_value_cny=output)
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
    b = finite_array(base, "base", lower=0.0)
    t = finite_array(years_elapsed, "years_elapsed", lower=0.0)
    red = real_scalar(reduction, "reduction", lower=0.0, upper=1.0, upper_open=True)
    horizon = real_scalar(horizon_years, "horizon_years", lower=0.0, lower_open=True)
    b, t = broadcast(base=b, years_elapsed=t)
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
    a = finite_array(actual, "actual", lower=0.0)
    t = finite_array(target, "target", lower=0.0, lower_open=True)
    a, t = broadcast(actual=a, target=t)
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
    loads = finite_array(loads_kw, "loads_kw", lower=0.0)
    if loads.ndim != 2:
        raise ValueError(f"loads_kw must have shape (n_users, n_intervals), got {loads.shape}")
    mask = bool_array(off_hours_mask, "off_hours_mask")
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
    ratio: FloatArray = np.divide(off_mean, work_mean, out=idle, where=work_mean > 0.0)
    return ratio


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
    energy = vector(energy_kwh, "energy_kwh", lower=0.0)
    n = energy.shape[0]
    output = vector(output_value_cny, "output_value_cny", length=n, lower=0.0, lower_open=True)
    ratio = vector(base_load_ratio, "base_load_ratio", length=n, lower=0.0, allow_inf=True)
    factor = real_scalar(ei_factor, "ei_factor", lower=0.0, lower_open=True)
    threshold = real_scalar(base_load_threshold, "base_load_threshold", lower=0.0)
    uniq, inv = group_labels(industry, n, "industry")
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
