"""Plant offer strategies and their registry by name (the ASSUME unit/strategy split).

A :class:`~agents.power_plant.PowerPlant` carries its physics and costs; how it
prices is a strategy object looked up by name from :data:`STRATEGIES`, so a
plant class serves every market: the agency phase's two-part bilateral offers
(``adaptive_markup``, ``marginal_cost``) and the mature phase's day-ahead
energy and reserve offers (``day_ahead_markup``, rule M2).

References:
    ASSUME framework, ``assume/strategies/__init__.py`` (strategies selected by
    name) and ``naive_strategies.py`` (bids at marginal cost); PHASES.md rule P1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "STRATEGIES",
    "AdaptiveMarkup",
    "DayAheadMarkup",
    "DayAheadOffer",
    "MarginalCost",
    "OfferStrategy",
    "make_strategy",
]


class OfferStrategy(Protocol):
    """How a plant sets its markup μ over cost and updates it."""

    markup: float

    def update(self, won: bool) -> None:
        """Adapt after a contract round (``won``: this plant got the contract)."""
        ...


@dataclass
class AdaptiveMarkup:
    """Markup that rises after a win and falls after a loss (rule P1).

    ``μ ← clip(μ ± step, 0, max)``: + when the plant won the contract, − when
    it did not.

    Attributes:
        markup: Current markup μ (share over cost).
        step: Change per round.
        max_markup: Upper bound of μ.

    References:
        PHASES.md P1 (adaptive markup, an assumption); ASSUME's naive strategy is μ = 0.
    """

    markup: float
    step: float
    max_markup: float

    def update(self, won: bool) -> None:
        """Raise μ after a win, lower it after a loss, within [0, max]."""
        self.markup = min(
            max(self.markup + (self.step if won else -self.step), 0.0), self.max_markup
        )


@dataclass
class MarginalCost:
    """Offers at cost (μ = 0), whatever happens (ASSUME's naive strategy).

    Attributes:
        markup: Always 0.

    References:
        ASSUME ``EnergyNaiveStrategy`` (bids marginal cost).
    """

    markup: float = 0.0

    def update(self, won: bool) -> None:
        """Nothing to adapt."""


@dataclass(frozen=True)
class DayAheadOffer:
    """One unit's day-ahead offer for every interval of a day (rule M2).

    Attributes:
        energy_price_cny_per_mwh: Energy offer, CNY/MWh (constant over the day).
        capacity_kw: Offered quantity per interval, kW.
        reserve_price_cny_per_mw_h: Reserve offer, CNY per MW·h.
        reserve_cap_kw: Reserve limit (ramp) per interval, kW.
    """

    energy_price_cny_per_mwh: float
    capacity_kw: NDArray[np.float64]
    reserve_price_cny_per_mw_h: float
    reserve_cap_kw: NDArray[np.float64]


@dataclass
class DayAheadMarkup:
    """Day-ahead offers at marginal cost plus a fixed markup, with a reserve offer (M2).

    Energy: 1000·c_var·(1 + μ) CNY/MWh for the available capacity; reserve: a
    flat offer per MW·h up to ``reserve_cap_share`` of the available capacity
    (its ramp limit). The markup does not adapt (``update`` does nothing): a
    competitive stack bidding near cost.

    Attributes:
        markup: μ (share over the variable cost).
        reserve_offer_cny_per_mw_h: Reserve offer, CNY per MW·h.
        reserve_cap_share: Reserve limit as a share of the available capacity.

    References:
        PHASES.md rule M2 (μ_g = 0.05, reserve 10 CNY/MW·h, cap 0.2·capacity, A);
        ASSUME ``EnergyNaiveStrategy`` (bids marginal cost).
    """

    markup: float
    reserve_offer_cny_per_mw_h: float = 10.0
    reserve_cap_share: float = 0.2

    def update(self, won: bool) -> None:
        """Nothing to adapt."""

    def day_ahead_offer(
        self, variable_cost_cny_per_kwh: float, available_kw: NDArray[np.float64]
    ) -> DayAheadOffer:
        """The unit's offer for a day.

        Args:
            variable_cost_cny_per_kwh: c_var, CNY/kWh.
            available_kw: Available capacity per interval, kW.

        Returns:
            Energy price, quantities, reserve price and reserve limits.
        """
        cap = np.asarray(available_kw, dtype=np.float64)
        return DayAheadOffer(
            energy_price_cny_per_mwh=1000.0 * variable_cost_cny_per_kwh * (1.0 + self.markup),
            capacity_kw=cap,
            reserve_price_cny_per_mw_h=float(self.reserve_offer_cny_per_mw_h),
            reserve_cap_kw=cap * self.reserve_cap_share,
        )


#: Strategy factories by name: ``(markup_init, step, max) -> strategy``.
STRATEGIES: dict[str, Callable[[float, float, float], OfferStrategy]] = {
    "adaptive_markup": lambda init, step, top: AdaptiveMarkup(init, step, top),
    "marginal_cost": lambda init, step, top: MarginalCost(),
    "day_ahead_markup": lambda init, step, top: DayAheadMarkup(init),
}


def make_strategy(name: str, markup_init: float, step: float, max_markup: float) -> OfferStrategy:
    """Build a strategy by name.

    Args:
        name: A key of :data:`STRATEGIES`.
        markup_init: Initial markup.
        step: Markup step per round.
        max_markup: Upper bound of the markup.

    Returns:
        The strategy object.

    Raises:
        KeyError: If the name is not registered.
    """
    return STRATEGIES[name](markup_init, step, max_markup)
