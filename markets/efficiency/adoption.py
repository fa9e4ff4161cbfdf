"""Users' adoption of saving measures: logit on payback (months) with a peer effect.

References:
    Bass (1969), A new product growth for model consumer durables, Management Science
    15(5); Young (2009), Innovation diffusion in heterogeneous populations, American
    Economic Review 99(5).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from markets._arrays import logistic
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
    "adoption_probability",
    "consideration_probability",
    "draw_thresholds_months",
    "peer_share_by_industry",
]


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
    pb = finite_array(payback_months, "payback_months", lower=0.0, allow_inf=True)
    t = finite_array(threshold_months, "threshold_months", lower=0.0, lower_open=True)
    s = finite_array(peer_share, "peer_share", lower=0.0, upper=1.0)
    c = finite_array(considered, "considered", lower=0.0, upper=1.0)
    b = real_scalar(beta, "beta", lower=0.0)
    g = real_scalar(peer_weight, "peer_weight", lower=0.0)
    a = real_scalar(intercept, "intercept")
    pb, t, s, c = broadcast(payback_months=pb, threshold_months=t, peer_share=s, considered=c)
    finite = np.isfinite(pb)
    with np.errstate(over="ignore"):  # a huge payback overflows to -inf: probability 0
        gap = (t - np.where(finite, pb, t)) / t
        payback_term = b * gap if b > 0.0 else np.zeros_like(gap)  # no 0 · (−inf)
        logit = a + payback_term + g * s
    return np.where(finite, c * logistic(logit), 0.0)


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
    report = bool_array(report_received, "report_received")
    p0 = real_scalar(base, "base", lower=0.0, upper=1.0)
    p1 = real_scalar(after_report, "after_report", lower=0.0, upper=1.0)
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
    m = real_scalar(mean, "mean", lower=0.0, lower_open=True)
    v = real_scalar(cv, "cv", lower=0.0)
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
    a = vector(adopted, "adopted", lower=0.0, upper=1.0)
    n = a.shape[0]
    uniq, inv = group_labels(industry, n, "industry")
    sums = np.asarray(np.bincount(inv, weights=a, minlength=uniq.shape[0])[inv], dtype=np.float64)
    counts = np.bincount(inv, minlength=uniq.shape[0])[inv].astype(np.float64)
    if exclude_self:
        sums, counts = sums - a, counts - 1.0
    share = np.divide(sums, counts, out=np.zeros(n), where=counts > 0.0)
    return np.clip(share, 0.0, 1.0)
