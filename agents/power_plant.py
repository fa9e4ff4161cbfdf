"""Power plants: a unit with capacity and costs plus an offer strategy, and the fleet module.

A :class:`PowerPlant` offers a two-part bilateral contract ``F = a·P + b·E``
with ``a = c_cap·(1 + μ)`` CNY per kW·month and ``b = c_var·(1 + μ)`` CNY/kWh,
μ from its strategy (rule P1). When it has delivered a month's contract it
pays its own costs to ``external``: fuel ``c_var·E`` and the fixed cost of the
capacity it committed, ``c_cap·P_c``. The ``plants`` module (:class:`PlantFleet`)
builds the plants from ``conf`` (capacities as shares of the park's forecast
peak) and reports their profit.

References:
    PHASES.md §1.2 P1; coal fixed-cost standard 330 CNY/kW·yr; Kirschen &
    Strbac, "Fundamentals of Power System Economics", 2nd ed., 2019, ch. 3.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import mesa
import numpy as np

from agents.strategies import OfferStrategy, make_strategy
from markets.bilateral import PlantOffer

if TYPE_CHECKING:
    from agents._model import ModelView

__all__ = ["PlantFleet", "PowerPlant"]


class PowerPlant(mesa.Agent):
    """One generating unit selling to the park.

    Args:
        model: The park model.
        name: Plant name (its ledger account is ``plant:<name>``).
        capacity_kw: Capacity available to the park, kW.
        capacity_cost_cny_per_kw_month: c_cap, CNY per kW·month.
        variable_cost_cny_per_kwh: c_var, CNY/kWh.
        strategy: The offer strategy.
    """

    model: ModelView

    def __init__(
        self,
        model: Any,
        name: str,
        capacity_kw: float,
        capacity_cost_cny_per_kw_month: float,
        variable_cost_cny_per_kwh: float,
        strategy: OfferStrategy,
    ) -> None:
        super().__init__(model)
        self.name = name
        self.capacity_kw = float(capacity_kw)
        self.capacity_cost_cny_per_kw_month = float(capacity_cost_cny_per_kw_month)
        self.variable_cost_cny_per_kwh = float(variable_cost_cny_per_kwh)
        self.strategy = strategy
        self.account = model.ledger.account(f"plant:{name}")
        self.external = model.ledger.account("external")
        self.revenue_cny = 0.0
        self.cost_cny = 0.0
        self.wins = 0

    def offer(self) -> PlantOffer:
        """This month's two-part offer (rule P1)."""
        up = 1.0 + self.strategy.markup
        return PlantOffer(
            self.name,
            self.capacity_cost_cny_per_kw_month * up,
            self.variable_cost_cny_per_kwh * up,
        )

    def paid(self, amount_cny: float) -> None:
        """Count a payment received for a contract (the payer posts it)."""
        self.revenue_cny += float(amount_cny)

    def deliver(self, when: Any, energy_kwh: float, committed_kw: float, months: float) -> None:
        """Pay its own costs of a delivered contract month to ``external``.

        Args:
            when: Posting time.
            energy_kwh: Energy delivered, kWh.
            committed_kw: Contracted peak P_c committed to the park, kW.
            months: Share of a month the contract ran (partial first/last months).
        """
        fuel = self.variable_cost_cny_per_kwh * energy_kwh
        fixed = self.capacity_cost_cny_per_kw_month * committed_kw * months
        ledger = self.model.ledger
        ledger.post(when, self.account, self.external, fuel, "plant_fuel_cost")
        ledger.post(when, self.account, self.external, fixed, "plant_fixed_cost")
        self.cost_cny += fuel + fixed

    def contract_round(self, won: bool) -> None:
        """After the agent chose its plant: the strategy adapts the markup."""
        self.wins += int(won)
        self.strategy.update(won)


class PlantFleet:
    """The ``plants`` module: the plants offering to the park's sales agent.

    Args:
        model: The park model.
    """

    KPIS: ClassVar[tuple[str, ...]] = ("plant_profit_cny", "plant_markup_mean")

    def __init__(self, model: Any) -> None:
        self.model = model
        p = model.cfg.plants
        peak_kw = float(model.pop.expected_load_kw(weekend=False).sum(axis=0).max())
        self.plants = [
            PowerPlant(
                model,
                name,
                share * peak_kw,
                p.capacity_cost_cny_per_kw_month,
                var,
                make_strategy(p.strategy, p.markup_init, p.markup_step, p.markup_max),
            )
            for name, share, var in zip(
                p.names, p.capacity_share_of_peak, p.variable_cost_cny_per_kwh, strict=True
            )
        ]

    def by_name(self, name: str) -> PowerPlant:
        """The plant of a given name."""
        return next(p for p in self.plants if p.name == name)

    def kpis(self) -> dict[str, float]:
        """Plants' profit from the park (ledger balances) and their mean markup."""
        ledger = self.model.ledger
        return {
            "plant_profit_cny": float(sum(ledger.balance(f"plant:{p.name}") for p in self.plants)),
            "plant_markup_mean": float(np.mean([p.strategy.markup for p in self.plants])),
        }
