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
    Loans (rule B2 of PHASES.md): expected profit of a one-period loan with
    probability of default PD and loss given default LGD, Basel Committee on
    Banking Supervision, "An Explanatory Note on the Basel II IRB Risk Weight
    Functions", 2005 (expected loss = PD · LGD · EAD); 电e贷 terms (≤ 2M CNY,
    1 yr, 5 %), https://iruorou.com/xinwen/2019-04/23/content_5385450.htm.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from numpy.typing import ArrayLike, NDArray

from markets._arrays import average_ranks
from markets._checks import as_float_array, check_finite, nonnegative_scalar

__all__ = [
    "COMPONENTS",
    "DEFAULT_WEIGHTS",
    "GRADE_THRESHOLDS",
    "CreditScore",
    "LoanDecision",
    "LoanOutcome",
    "grade",
    "loan_decision",
    "loan_outcome",
    "score",
    "true_pd",
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
        capacity = 100.0 * (average_ranks(mean_kwh) - 1.0) / (n_users - 1)

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


def _share_array(values: ArrayLike, name: str) -> NDArray[np.float64]:
    """Validate a probability or share array with values in [0, 1].

    Args:
        values: Shares (dimensionless), any shape.
        name: Argument name used in error messages.

    Returns:
        The values as float64.

    Raises:
        ValueError: If a value is NaN, infinite or outside [0, 1].
    """
    arr = as_float_array(values, name)
    if not np.all(np.isfinite(arr)) or np.any((arr < 0) | (arr > 1)):
        raise ValueError(f"{name} must hold finite values in [0, 1]")
    return arr


def _nonnegative_array(values: ArrayLike, name: str) -> NDArray[np.float64]:
    """Validate a finite non-negative array (amounts in CNY or rates).

    Args:
        values: Values in the caller's unit, any shape.
        name: Argument name used in error messages.

    Returns:
        The values as float64.

    Raises:
        ValueError: If a value is not numeric, NaN, infinite or negative.
    """
    arr = as_float_array(values, name)
    check_finite(arr, name, nonnegative=True)
    return arr


def _out(arr: NDArray[np.generic], scalar: bool) -> float | bool | NDArray[np.generic]:
    """Return a Python scalar for all-scalar inputs, else the array.

    Args:
        arr: Result array (0-d when ``scalar``).
        scalar: Whether every input was a scalar.

    Returns:
        ``arr.item()`` or ``arr``.
    """
    return arr.item() if scalar else arr


@dataclass(frozen=True)
class LoanDecision:
    """A bank's approval decision on loan applications (rule B2).

    Scalars when every input of :func:`loan_decision` is a scalar, else arrays of
    the broadcast shape.

    Attributes:
        expected_profit_cny: L·[(1 − PD)·r − PD·LGD] − c_fix − fee, CNY.
        approve: Whether the expected profit is strictly positive.
        expected_loss_cny: PD·LGD·L, CNY.
    """

    expected_profit_cny: float | NDArray[np.float64]
    approve: bool | NDArray[np.bool_]
    expected_loss_cny: float | NDArray[np.float64]


def loan_decision(
    amount_cny: ArrayLike,
    rate: ArrayLike,
    pd: ArrayLike,
    lgd: ArrayLike,
    fixed_cost_cny: ArrayLike,
    report_fee_cny: ArrayLike = 0.0,
) -> LoanDecision:
    """Approve a one-period loan iff its expected profit is positive (rule B2).

    Expected profit = L·[(1 − PD)·r − PD·LGD] − c_fix − fee: with probability
    1 − PD the borrower repays L·(1 + r) (interest r·L earned), with probability
    PD it repays (1 − LGD)·L (LGD·L lost). The fee is the credit-report price
    (sunk once the report is bought, but part of the per-application economics).

    Worked example: L = 200,000 CNY, r = 5 %, PD = 2 %, LGD = 0.6, c_fix = 1000,
    fee = 200: 200,000·(0.98·0.05 − 0.02·0.6) − 1200 = 200,000·0.037 − 1200 =
    6,200 CNY > 0 → approve. With PD = 8 %: 200,000·(0.046 − 0.048) − 1200 =
    −1,600 → reject.

    Args:
        amount_cny: Loan amount L, CNY (scalar or array).
        rate: Interest rate r for the term (dimensionless, 0.05 = 5 %).
        pd: Probability of default PD in [0, 1] (dimensionless).
        lgd: Loss given default LGD in [0, 1] (dimensionless share of L).
        fixed_cost_cny: Fixed handling cost c_fix per loan, CNY.
        report_fee_cny: Credit-report fee per application, CNY (0 without a
            report).

    Returns:
        Expected profit, decision and expected loss; Python scalars if every
        input is a scalar, else arrays broadcast over the inputs.

    Raises:
        ValueError: If an amount, rate or cost is negative or not finite, PD or
            LGD is outside [0, 1], or the shapes do not broadcast; the message
            names the argument.

    References:
        BCBS, "An Explanatory Note on the Basel II IRB Risk Weight Functions",
        2005; PHASES.md rule B2; 电e贷 terms (see the module docstring).
    """
    inputs = (amount_cny, rate, pd, lgd, fixed_cost_cny, report_fee_cny)
    scalar = all(np.ndim(x) == 0 for x in inputs)
    amount = _nonnegative_array(amount_cny, "amount_cny")
    r = _nonnegative_array(rate, "rate")
    p = _share_array(pd, "pd")
    loss = _share_array(lgd, "lgd")
    c_fix = _nonnegative_array(fixed_cost_cny, "fixed_cost_cny")
    fee = _nonnegative_array(report_fee_cny, "report_fee_cny")
    try:
        amount, r, p, loss, c_fix, fee = np.broadcast_arrays(amount, r, p, loss, c_fix, fee)
    except ValueError as exc:
        raise ValueError(f"amount_cny, rate, pd, lgd and the costs must broadcast: {exc}") from exc
    expected_loss = p * loss * amount
    profit = amount * ((1.0 - p) * r) - expected_loss - c_fix - fee
    return LoanDecision(
        expected_profit_cny=_out(profit, scalar),  # type: ignore[arg-type]
        approve=_out(profit > 0.0, scalar),  # type: ignore[arg-type]
        expected_loss_cny=_out(expected_loss, scalar),  # type: ignore[arg-type]
    )


def true_pd(
    rng: np.random.Generator, pd_grade: ArrayLike, sigma: float = 0.5
) -> NDArray[np.float64]:
    """Draw users' true default probabilities around their grade's PD.

    PD_i = min(1, pd_grade_i · exp(Z_i − σ²/2)), Z_i ~ N(0, σ²): a mean-preserving
    lognormal spread (E[exp(Z − σ²/2)] = 1; σ = 0.5 gives the −0.125 of B2).

    Args:
        rng: Random generator.
        pd_grade: PD of each user's grade in [0, 1] (dimensionless), any shape.
        sigma: Log-standard deviation σ >= 0 (dimensionless).

    Returns:
        True PD per user in [0, 1], the shape of ``pd_grade``.

    Raises:
        ValueError: If ``pd_grade`` is outside [0, 1] or ``sigma`` is negative or
            not finite.

    References:
        PHASES.md rule B2 (truth model, an ASSUMPTION).
    """
    base = _share_array(pd_grade, "pd_grade")
    s = nonnegative_scalar(sigma, "sigma", real=True)
    z = rng.normal(0.0, s, size=base.shape) if s > 0 else np.zeros(base.shape)
    return np.minimum(1.0, base * np.exp(z - 0.5 * s * s))


@dataclass(frozen=True)
class LoanOutcome:
    """Realised outcome of loans at maturity (arrays, one value per loan).

    Attributes:
        defaulted: Whether the borrower defaulted.
        repaid_cny: Cash repaid at maturity, CNY: L·(1 + r) if not defaulted,
            else the recovery (1 − LGD)·L.
        profit_cny: repaid − L − c_fix − fee, CNY (the bank's realised profit).
    """

    defaulted: NDArray[np.bool_]
    repaid_cny: NDArray[np.float64]
    profit_cny: NDArray[np.float64]


def loan_outcome(
    rng: np.random.Generator,
    pd_true: ArrayLike,
    amount_cny: ArrayLike,
    rate: ArrayLike,
    lgd: ArrayLike,
    fixed_cost_cny: ArrayLike = 0.0,
    report_fee_cny: ArrayLike = 0.0,
) -> LoanOutcome:
    """Draw defaults and repayments of issued loans at maturity.

    Loan i defaults with probability ``pd_true[i]`` (one uniform draw per loan,
    ``rng.random(shape) < pd_true``). A defaulter repays (1 − LGD)·L instead of
    L·(1 + r).

    Args:
        rng: Random generator (the only source of randomness).
        pd_true: True default probability per loan in [0, 1] (dimensionless).
        amount_cny: Loan amounts L, CNY.
        rate: Interest rate r for the term (dimensionless).
        lgd: Loss given default in [0, 1] (dimensionless).
        fixed_cost_cny: Fixed cost per loan, CNY.
        report_fee_cny: Report fee per loan, CNY.

    Returns:
        Default flags, repayments and realised profits (broadcast shape).

    Raises:
        ValueError: On out-of-range or non-finite inputs or shapes that do not
            broadcast; the message names the argument.

    References:
        BCBS, "An Explanatory Note on the Basel II IRB Risk Weight Functions",
        2005; PHASES.md rule B2.
    """
    p = _share_array(pd_true, "pd_true")
    amount = _nonnegative_array(amount_cny, "amount_cny")
    r = _nonnegative_array(rate, "rate")
    loss = _share_array(lgd, "lgd")
    c_fix = _nonnegative_array(fixed_cost_cny, "fixed_cost_cny")
    fee = _nonnegative_array(report_fee_cny, "report_fee_cny")
    try:
        p, amount, r, loss, c_fix, fee = np.broadcast_arrays(p, amount, r, loss, c_fix, fee)
    except ValueError as exc:
        raise ValueError(f"pd_true, amount_cny, rate and lgd must broadcast: {exc}") from exc
    defaulted = rng.random(p.shape) < p
    repaid = np.where(defaulted, (1.0 - loss) * amount, (1.0 + r) * amount)
    return LoanOutcome(
        defaulted=np.asarray(defaulted),
        repaid_cny=np.asarray(repaid, dtype=np.float64),
        profit_cny=np.asarray(repaid - amount - c_fix - fee, dtype=np.float64),
    )
