"""Package recommendation (savings in CNY) and the logit switching decision.

:func:`recommend` bills every user's monthly curve under every package and names the
cheapest; :func:`switch_probability` is the binary-logit probability that a user
switches given its saving and a switching cost (CNY); conventions in
:mod:`markets.tariffs`.

References:
    Train, K. E., "Discrete Choice Methods with Simulation", 2nd ed.,
    Cambridge University Press, 2009, ch. 3 (logit).
    Project DESIGN.md, "Mature market" (package recommendation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from markets._arrays import logistic
from markets._checks import check_finite, nonnegative_scalar
from markets.tariffs.packages import Package, _packages, bills_cny

__all__ = ["Recommendation", "recommend", "switch_probability"]


@dataclass(frozen=True)
class Recommendation:
    """Result of :func:`recommend`.

    Attributes:
        best: Name of the cheapest package per user (first in input order on ties).
        best_index: Index of that package in the input order.
        saving_cny: Bill under the reference package minus the best bill (≥ 0).
        bills_cny: Bills in CNY, users × packages.
        package_names: Package names in input order.

    References:
        Project DESIGN.md, "Mature market" (package recommendation).
    """

    best: NDArray[np.str_]
    best_index: NDArray[np.intp]
    saving_cny: NDArray[np.float64]
    bills_cny: NDArray[np.float64]
    package_names: tuple[str, ...]


def recommend(
    packages: Sequence[Package],
    load_curves_kw: ArrayLike,
    interval_h: float = 1.0,
    hour_of_interval: ArrayLike | None = None,
    current: str | Sequence[str] | None = None,
) -> Recommendation:
    """Recommend each user the package with the lowest monthly bill.

    Args:
        packages: Candidate packages with distinct names.
        load_curves_kw: Loads in kW, users × intervals (one billing month).
        interval_h: Interval length in hours.
        hour_of_interval: Hour of day (0–23) of each interval.
        current: The users' current package: one name for everyone, one name
            per user, or None to measure savings against the first package.

    Returns:
        Best package per user, saving versus the reference package, all bills.

    Raises:
        ValueError: On invalid inputs, or a ``current`` name that is not among
            the packages or a ``current`` list of the wrong length.

    References:
        Project DESIGN.md, "Mature market" (recommender returns argmin_k bill_k).
    """
    items = _packages(packages)
    bills = bills_cny(items, load_curves_kw, interval_h, hour_of_interval)
    names = tuple(p.name for p in items)
    n_users = bills.shape[0]
    if current is None:
        reference = np.zeros(n_users, dtype=np.intp)
    else:
        requested = [current] * n_users if isinstance(current, str) else list(current)
        if len(requested) != n_users:
            raise ValueError(f"current has {len(requested)} entries, expected {n_users} users")
        unknown = sorted({str(c) for c in requested} - set(names))
        if unknown:
            raise ValueError(f"current names unknown packages {unknown!r}; known: {names!r}")
        position = {name: k for k, name in enumerate(names)}
        reference = np.array([position[c] for c in requested], dtype=np.intp)
    best_index = np.argmin(bills, axis=1)
    rows = np.arange(n_users)
    saving = bills[rows, reference] - bills[rows, best_index]
    return Recommendation(
        best=np.asarray(names)[best_index],
        best_index=best_index,
        saving_cny=np.maximum(saving, 0.0),
        bills_cny=bills,
        package_names=names,
    )


def switch_probability(
    saving_cny: ArrayLike, switching_cost_cny: ArrayLike, beta: float
) -> NDArray[np.float64]:
    """Binary-logit probability that a user switches to the recommended package.

    P(switch) = 1 / (1 + exp(−β · (saving − switching cost))): the utility of
    staying is 0 and of switching β · (saving − cost), with i.i.d. Gumbel
    taste shocks. A user indifferent in money terms switches with probability
    0.5; β → ∞ gives the deterministic rule "switch iff saving > cost".

    Args:
        saving_cny: Monthly saving from switching in CNY (broadcastable).
        switching_cost_cny: One-off switching cost in CNY (broadcastable).
        beta: Sensitivity in 1/CNY, ≥ 0.

    Returns:
        Switching probabilities in [0, 1] with the broadcast shape.

    Raises:
        ValueError: If ``beta`` is negative or non-finite, or the savings or
            costs hold NaN/inf or do not broadcast.

    References:
        Train, "Discrete Choice Methods with Simulation", 2nd ed., 2009, ch. 3.
    """
    b = nonnegative_scalar(beta, "beta")
    saving = np.asarray(saving_cny, dtype=np.float64)
    cost = np.asarray(switching_cost_cny, dtype=np.float64)
    check_finite(saving, "saving_cny")
    check_finite(cost, "switching_cost_cny")
    try:
        net = np.broadcast_arrays(saving, cost)
    except ValueError as err:
        raise ValueError(
            f"saving_cny {saving.shape} and switching_cost_cny {cost.shape} do not broadcast"
        ) from err
    return logistic(b * (net[0] - net[1]))
