"""Credit scores built from electricity consumption and payment data.

Banks buy credit reports that turn 12–24 months of a user's consumption and
bill-payment history into four component scores in [0, 100]:

* **capacity** — scale of consumption versus peers: the percentile rank of
  the user's mean monthly energy, 100 · (rank − 1) / (n − 1) with average
  ranks for ties (lowest 0, highest 100; a single user scores 50).
* **utilisation** — stability of use: 100 · clip(1 − CV, 0, 1), CV = population
  standard deviation / mean of the monthly energy (a user with zero energy
  scores 0).
* **growth** — g = ln(mean of the last 6 months / mean of the first 6
  months), mapped linearly to 50 + 50 · clip(g / ``growth_scale``, −1, 1); the
  default scale ln 2 maps halving to 0 and doubling to 100. Zero energy in
  both windows scores 50; zero only in the first scores 100; zero only in the
  last scores 0.
* **payment** — 100 · mean on-time share of the monthly payment record
  (1 = paid on time, 0 = late/missed, fractions allowed).

The total is the weighted mean of the components (weights are normalised to
sum to 1; defaults :data:`DEFAULT_WEIGHTS`) and the grade follows
:data:`GRADE_THRESHOLDS`: AAA ≥ 90, AA ≥ 80, A ≥ 70, BBB ≥ 60, BB ≥ 50, B ≥ 40,
otherwise C. Only the capacity score depends on peers; a better payment
record never lowers any user's score.

References:
    Thomas, L. C., Crook, J. N. & Edelman, D. B., "Credit Scoring and Its
    Applications", 2nd ed., SIAM, 2017.
    Turner, M. A. et al., "Give Credit Where Credit Is Due: Increasing Access
    to Affordable Mainstream Credit Using Alternative Data", PERC & Brookings
    Institution, 2006 (utility payment data in credit reports).
    Standard & Poor's, "Guide to Credit Rating Essentials", 2019 (AAA–C scale).
    Project DESIGN.md, "Agency" (credit reports for banks).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import rankdata

from markets._checks import check_finite, nonnegative_scalar

__all__ = [
    "COMPONENTS",
    "DEFAULT_WEIGHTS",
    "GRADE_THRESHOLDS",
    "CreditScore",
    "grade",
    "score",
]

#: Component names, in the order of the weights.
COMPONENTS = ("capacity", "utilisation", "growth", "payment")
#: Default component weights (normalised before use).
DEFAULT_WEIGHTS: dict[str, float] = {
    "capacity": 0.2,
    "utilisation": 0.2,
    "growth": 0.2,
    "payment": 0.4,
}
#: Grade thresholds on the total score, best first; below the last is "C".
GRADE_THRESHOLDS: tuple[tuple[str, float], ...] = (
    ("AAA", 90.0),
    ("AA", 80.0),
    ("A", 70.0),
    ("BBB", 60.0),
    ("BB", 50.0),
    ("B", 40.0),
)
_GRADE_TOL = 1e-9  # rounding slack so that e.g. 79.99999999999999 grades as 80
_WINDOW_MONTHS = 6
_MIN_MONTHS, _MAX_MONTHS = 12, 24


@dataclass(frozen=True)
class CreditScore:
    """Per-user credit report (arrays of shape (n_users,); scores in [0, 100]).

    Attributes:
        capacity: Consumption scale versus peers.
        utilisation: Stability of monthly consumption.
        growth: Consumption growth, last 6 versus first 6 months.
        payment: On-time payment share.
        total: Weighted mean of the components.
        grade: Rating letter per user.
        weights: The normalised weights used, by component name (read-only).

    References:
        Thomas, Crook & Edelman, "Credit Scoring and Its Applications", 2nd
        ed., 2017.
    """

    capacity: NDArray[np.float64]
    utilisation: NDArray[np.float64]
    growth: NDArray[np.float64]
    payment: NDArray[np.float64]
    total: NDArray[np.float64]
    grade: NDArray[np.str_]
    weights: Mapping[str, float]


def grade(total: ArrayLike) -> NDArray[np.str_]:
    """Map total scores to rating letters using :data:`GRADE_THRESHOLDS`.

    A score within 1e-9 below a threshold (floating-point rounding of the
    weighted sum) counts as reaching it.

    Args:
        total: Total scores, points on the 0–100 scale (dimensionless), in
            [0, 100]; any shape.

    Returns:
        Grade per score ("AAA" … "B", else "C").

    Raises:
        ValueError: If a score is NaN or outside [0, 100].

    References:
        Standard & Poor's, "Guide to Credit Rating Essentials", 2019.
    """
    scores = np.asarray(total, dtype=np.float64)
    if not np.all(np.isfinite(scores)) or np.any((scores < 0) | (scores > 100)):
        raise ValueError("total must hold finite scores in [0, 100]")
    letters = np.full(scores.shape, "C", dtype="<U3")
    for letter, threshold in reversed(GRADE_THRESHOLDS):  # loop over 6 grades
        letters[scores >= threshold - _GRADE_TOL] = letter
    return letters


def _weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    """Validate and normalise component weights.

    Args:
        weights: Mapping from component name to weight, or None for defaults.

    Returns:
        Weights normalised to sum to 1, in :data:`COMPONENTS` order.

    Raises:
        ValueError: On an unknown or missing component, a negative or
            non-finite weight, or weights summing to zero.
    """
    raw = dict(DEFAULT_WEIGHTS if weights is None else weights)
    for key in raw:
        if key not in COMPONENTS:
            raise ValueError(f"weights has unknown component {key!r}; expected {COMPONENTS}")
    for key in COMPONENTS:
        if key not in raw:
            raise ValueError(f"weights is missing component {key!r}")
        value = float(raw[key])
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"weights[{key!r}] must be finite and >= 0, got {raw[key]!r}")
        raw[key] = value
    total = sum(raw.values())
    if total <= 0:
        raise ValueError("weights must not all be zero")
    return {key: raw[key] / total for key in COMPONENTS}


def score(
    monthly_kwh: ArrayLike,
    payment_record: ArrayLike,
    weights: Mapping[str, float] | None = None,
    *,
    growth_scale: float = math.log(2.0),
) -> CreditScore:
    """Score users' creditworthiness from consumption and payment history.

    Args:
        monthly_kwh: Monthly energy in kWh, users × months (12–24 months).
        payment_record: On-time payment share per month in [0, 1], users ×
            months (same shape).
        weights: Component weights by name (see :data:`COMPONENTS`); normalised.
        growth_scale: Log-growth mapped to a score of 100 (its negative to 0).

    Returns:
        Component scores, total, grade and the weights used.

    Raises:
        ValueError: If ``monthly_kwh`` is not users × 12–24 months, holds NaN,
            infinite or negative values; if ``payment_record`` has another shape
            or values outside [0, 1]; on invalid weights or a non-positive
            ``growth_scale``.

    References:
        Thomas, Crook & Edelman, "Credit Scoring and Its Applications", 2nd
        ed., 2017; Turner et al., "Give Credit Where Credit Is Due", 2006.
    """
    energy = np.asarray(monthly_kwh, dtype=np.float64)
    if energy.ndim != 2 or energy.shape[0] == 0:
        raise ValueError(f"monthly_kwh must be users × months, got shape {energy.shape}")
    n_users, n_months = energy.shape
    if not _MIN_MONTHS <= n_months <= _MAX_MONTHS:
        raise ValueError(
            f"monthly_kwh must cover {_MIN_MONTHS}–{_MAX_MONTHS} months, got {n_months}"
        )
    check_finite(energy, "monthly_kwh", nonnegative=True)
    record = np.asarray(payment_record, dtype=np.float64)
    if record.shape != energy.shape:
        raise ValueError(
            f"payment_record has shape {record.shape}, expected {energy.shape} like monthly_kwh"
        )
    if not np.all(np.isfinite(record)) or np.any((record < 0) | (record > 1)):
        raise ValueError("payment_record must hold values in [0, 1]")
    scale = nonnegative_scalar(growth_scale, "growth_scale", positive=True)
    w = _weights(weights)

    mean_kwh = energy.mean(axis=1)
    if n_users == 1:
        capacity = np.full(1, 50.0)
    else:
        capacity = 100.0 * (rankdata(mean_kwh) - 1.0) / (n_users - 1)

    safe_mean = np.where(mean_kwh > 0, mean_kwh, 1.0)
    cv = energy.std(axis=1) / safe_mean
    utilisation = np.where(mean_kwh > 0, 100.0 * np.clip(1.0 - cv, 0.0, 1.0), 0.0)

    first = energy[:, :_WINDOW_MONTHS].mean(axis=1)
    last = energy[:, -_WINDOW_MONTHS:].mean(axis=1)
    both = (first > 0) & (last > 0)
    log_ratio = np.log(np.where(both, last, 1.0)) - np.log(np.where(both, first, 1.0))
    growth = 50.0 + 50.0 * np.clip(log_ratio / scale, -1.0, 1.0)
    growth = np.where(both, growth, np.where(last > 0, 100.0, np.where(first > 0, 0.0, 50.0)))

    payment = 100.0 * record.mean(axis=1)
    total = (
        w["capacity"] * capacity
        + w["utilisation"] * utilisation
        + w["growth"] * growth
        + w["payment"] * payment
    )
    total = np.clip(total, 0.0, 100.0)
    return CreditScore(
        capacity=capacity,
        utilisation=utilisation,
        growth=growth,
        payment=payment,
        total=total,
        grade=grade(total),
        weights=MappingProxyType(w),
    )
