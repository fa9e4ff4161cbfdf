"""Power plants: a unit with capacity and costs plus an offer strategy, and the fleet module.

A :class:`PowerPlant` offers a two-part bilateral contract ``F = a·P + b·E``
with ``a = c_cap·(1 + μ)`` CNY per kW·month and ``b = c_var·(1 + μ)`` CNY/kWh,
μ from its strategy (rule P1). When it has delivered a month's contract it
pays its own costs to ``external``: fuel ``c_var·E`` and the fixed cost of the
capacity it committed, ``c_cap·P_c``. The ``plants`` module (:class:`PlantFleet`)
builds the plants from ``conf`` (capacities as shares of the park's forecast
peak) and reports their profit. The mature phase's day-ahead stack is the
same plant class with the ``day_ahead_markup`` strategy (rule M2), built by
the ``market_plants`` module (:class:`MarketFleet`) from ``conf market.*``.

References:
    PHASES.md §1.2 P1 and §2.2 M2; coal fixed-cost standard 330 CNY/kW·yr; Kirschen &
    Strbac, "Fundamentals of Power System Economics", 2nd ed., 2019, ch. 3.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import mesa
import numpy as np

from agents.strategies import DayAheadMarkup, DayAheadOffer, OfferStrategy, make_strategy
from markets.bilateral import PlantOffer

if TYPE_CHECKING:
    from agents._model import ModelView

__all__ = ["MarketFleet", "PlantFleet", "PowerPlant"]


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

    def day_ahead_offer(self, available_kw: Any) -> DayAheadOffer:
        """Its day-ahead energy and reserve offer for a day (rule M2).

        Args:
            available_kw: Available capacity per interval, kW.

        Returns:
            The offer (the strategy must implement ``day_ahead_offer``).
        """
        return self.strategy.day_ahead_offer(self.variable_cost_cny_per_kwh, available_kw)  # type: ignore[attr-defined]

    def burn(self, when: Any, energy_kwh: float) -> None:
        """Pay the fuel of the energy it produced (day-ahead plus activated) to ``external``.

        Args:
            when: Posting time.
            energy_kwh: Energy produced, kWh (negative activation may lower it).
        """
        fuel = self.variable_cost_cny_per_kwh * max(float(energy_kwh), 0.0)
        self.model.ledger.post(when, self.account, self.external, fuel, "plant_fuel_cost")
        self.cost_cny += fuel

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
        peak_kw = model.module("grid").reference_peak_kw  # forecast weekday park peak
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


class MarketFleet:
    """The ``market_plants`` module: the day-ahead stack selling to the market operator.

    Units from ``market.plant_*`` (capacities as shares of the forecast
    weekday park peak), each a :class:`PowerPlant` with the
    :class:`~agents.strategies.DayAheadMarkup` strategy. In the ``bid`` stage
    of day D−1 each unit offers day D (rule M2): its capacity scaled by
    ``min(1, Cap_D,t / Σ_g cap_g)``, where Cap_D,t is the grid's connection
    limit known a day ahead (peak regulation) less the forecast load of the
    users the market does not supply, so every phase sees the same shortage
    draws. In ``settle`` each unit pays the fuel of what it produced (its
    day-ahead dispatch plus its reserve activation, read from the operator).

    Args:
        model: The park model.
    """

    KPIS: ClassVar[tuple[str, ...]] = ("market_plant_profit_cny", "market_plant_energy_kwh")

    def __init__(self, model: Any) -> None:
        self.model = model
        mc = model.cfg.market
        peak_kw = model.module("grid").reference_peak_kw  # forecast weekday park peak
        self.plants = [
            PowerPlant(
                model,
                name,
                share * peak_kw,
                0.0,
                var,
                DayAheadMarkup(
                    float(mc.plant_markup),
                    float(mc.reserve_offer_cny_per_mw_h),
                    float(mc.reserve_cap_share),
                ),
            )
            for name, share, var in zip(
                mc.plant_names,
                mc.plant_capacity_share_of_peak,
                mc.plant_var_cost_cny_per_kwh,
                strict=True,
            )
        ]
        #: Nominal capacity per unit, kW.
        self.capacity_kw = np.array([p.capacity_kw for p in self.plants])
        self._offers: dict[int, list[DayAheadOffer]] = {}
        self.energy_kwh = 0.0

    def limit_kw(self, day: int) -> np.ndarray:
        """Capacity the market may schedule on a day, kW per interval (known a day ahead).

        The grid's planned capacity (peak-regulation limits) less the forecast
        load of the users outside the market (supplier 0 or 1).
        """
        m = self.model
        cap = m.module("grid").planned_capacity_kw(day)
        outside = m.pop.supplier < 2
        if outside.any():
            cap = cap - m.pop.expected_load_kw(m.clock.is_weekend(day))[outside].sum(axis=0)
        return np.maximum(cap, 0.0)

    def make_offers(self, day: int) -> list[DayAheadOffer]:
        """Every unit's offer for a day (rule M2), kept for the operator."""
        total = float(self.capacity_kw.sum())
        scale = np.minimum(1.0, self.limit_kw(day) / total) if total > 0 else 0.0
        offers = [p.day_ahead_offer(p.capacity_kw * scale) for p in self.plants]
        self._offers[day] = offers
        return offers

    def offers(self, day: int) -> list[DayAheadOffer]:
        """The offers made for a day (``KeyError`` if none were made)."""
        return self._offers[day]

    # ------------------------------------------------------------------ stages
    def start(self, today: Any) -> None:
        """Offer the first day (before the run, at the first gate)."""
        self.make_offers(0)

    def bid(self, today: Any) -> None:
        """Offer tomorrow (rule M2)."""
        if today.day + 1 < self.model.n_days:
            self.make_offers(today.day + 1)

    def settle(self, today: Any) -> None:
        """Each unit pays the fuel of today's dispatch and activation."""
        m = self.model
        result = m.module("market").result_of(today.day)
        produced = result.produced_kwh_by_plant
        when = m.clock.time_of(today.day, m.ipd - 1)
        for p, kwh in zip(self.plants, produced, strict=True):
            p.burn(when, kwh)
        self.energy_kwh += float(produced.sum())
        self._offers.pop(today.day, None)

    def kpis(self) -> dict[str, float]:
        """The stack's profit (ledger balances) and energy produced."""
        ledger = self.model.ledger
        return {
            "market_plant_profit_cny": float(
                sum(ledger.balance(f"plant:{p.name}") for p in self.plants)
            ),
            "market_plant_energy_kwh": self.energy_kwh,
        }
