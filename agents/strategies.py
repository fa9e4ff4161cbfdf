"""Plant offer strategies and their registry by name (the ASSUME unit/strategy split).

A :class:`~agents.power_plant.PowerPlant` carries its physics and costs; how it
prices is a strategy object looked up by name from :data:`STRATEGIES`, so a
plant class serves every market: the agency phase's two-part bilateral offers
(``adaptive_markup``, ``marginal_cost``) and, later, day-ahead offers.

References:
    ASSUME framework, ``assume/strategies/__init__.py`` (strategies selected by
    name) and ``naive_strategies.py`` (bids at marginal cost); PHASES.md rule P1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

__all__ = ["STRATEGIES", "AdaptiveMarkup", "MarginalCost", "OfferStrategy", "make_strategy"]


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


#: Strategy factories by name: ``(markup_init, step, max) -> strategy``.
STRATEGIES: dict[str, Callable[[float, float, float], OfferStrategy]] = {
    "adaptive_markup": lambda init, step, top: AdaptiveMarkup(init, step, top),
    "marginal_cost": lambda init, step, top: MarginalCost(),
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
