"""ParkModel: the clock, the generator, the shared state and the stage loop.

One Mesa step is one day of ``intervals_per_day`` intervals. The day is the
fixed stage order of :mod:`simulation.stages`; each active module (chosen by
the phase config, :mod:`simulation.modules`) implements the stages it needs,
and ``step`` runs the due stages' hooks in registry order. The model owns the
shared state — population arrays, ledger, platform, billing, the monthly
meter and the energy book — and posts no money itself: whoever pays or is
paid posts its own ledger rows in its own stage.

Sign conventions: loads and curtailment are positive kW; ``demand = served +
curtailed`` per user and interval; ``served = Σ supply by source`` (grid
catalog, bilateral contract, day-ahead, real-time, DG self-consumption).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mesa
import numpy as np

from agents.park_user import ParkUser
from simulation.billing import Billing
from simulation.clock import Clock
from simulation.config._frozen import freeze
from simulation.day import DayState
from simulation.draw_ahead import DrawAhead
from simulation.energy import EnergyBook
from simulation.ledger import Ledger
from simulation.metering import MonthlyMeter
from simulation.modules import active_specs
from simulation.platform import InformationPlatform
from simulation.population import build_population
from simulation.recorder import Recorder
from simulation.stages import STAGES, stages_due

__all__ = ["ParkModel"]


class ParkModel(mesa.Model):
    """Agent-based model of an industrial park's power service.

    Args:
        cfg: A validated ``Config`` (DictConfig). The model keeps it frozen
            into plain read-only objects (:func:`simulation.config._frozen.freeze`),
            so the daily stages read it at the cost of a dict look-up.
    """

    def __init__(self, cfg: Any) -> None:
        cfg = freeze(cfg)
        super().__init__(rng=int(cfg.seed))
        self.cfg = cfg
        self.clock = Clock(cfg.start_date, cfg.days, cfg.intervals_per_day)
        self.ipd: int = self.clock.ipd
        self.interval_h: float = self.clock.interval_h
        self.n_days: int = self.clock.n_days
        self.day: int = 0
        self.pop = build_population(cfg.park, self.ipd, self.rng)
        n = self.pop.n_users
        # the daily load noise, drawn a day ahead on the second core (same numbers)
        self.noise = DrawAhead(self.rng, (n, self.ipd), np.float32, self.pop.noise_factor)
        self.ledger = Ledger([f"user:{i:05d}" for i in range(n)])
        self.platform = InformationPlatform(bool(cfg.platform.enabled))
        for row in range(n):
            ParkUser(self, row)
        self.billing = Billing(n, self.ledger)
        self.meter = MonthlyMeter(n, self.pop.working)
        self.energy = EnergyBook(self.interval_h, self.ipd)
        self.specs = active_specs(cfg)
        self.modules: dict[str, Any] = {}
        for spec in self.specs:
            self.modules[spec.name] = spec.cls(self)
        mods = list(self.modules.values())
        self.rec = Recorder(
            self.n_days,
            self.ipd,
            n,
            per_day=bool(cfg.output.users_per_day),
            interval_fields=[f for m in mods for f in getattr(m, "INTERVAL_FIELDS", ())],
            user_fields=[f for m in mods for f in getattr(m, "USER_FIELDS", ())],
        )
        self._hooks: dict[str, list[Callable[[DayState], None]]] = {
            stage: [getattr(m, stage) for m in mods if callable(getattr(m, stage, None))]
            for stage in ("start", *STAGES)
        }
        self.today = DayState(0, self.clock.date_of(0), self.clock.is_weekend(0))
        self._started = False
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "demand_kwh": lambda m: m.today.totals.get("demand_kwh", 0.0),
                "served_kwh": lambda m: m.today.totals.get("served_kwh", 0.0),
                "curtailed_kwh": lambda m: m.today.totals.get("curtailed_kwh", 0.0),
                "loss_of_load_cost_cny": lambda m: m.today.totals.get("loss_cny", 0.0),
                "user_bills_cny": lambda m: m.today.totals.get("bill_cny", 0.0),
                "ledger_residual_cny": lambda m: m.ledger.residual_cny,
            }
        )

    # ------------------------------------------------------------------ modules
    def module(self, name: str) -> Any:
        """The active module named ``name`` (``KeyError`` if it is off)."""
        return self.modules[name]

    def has_module(self, name: str) -> bool:
        """Whether a module is on."""
        return name in self.modules

    # ------------------------------------------------------------------ the day
    def _run_stage(self, stage: str, today: DayState) -> None:
        for hook in self._hooks[stage]:
            hook(today)
        if stage == "month_close":
            self.billing.close_month()

    def step(self) -> None:
        """Simulate one day: the due stages, each module's hook in registry order."""
        if not self._started:
            self._started = True
            self._run_stage("start", self.today)
        d = self.day
        self.today = today = DayState(d, self.clock.date_of(d), self.clock.is_weekend(d))
        for stage in stages_due(self.clock, d):
            self._run_stage(stage, today)
        self.day += 1
        self.running = self.day < self.n_days

    def close(self) -> None:
        """After the last day: the closing ``month_close`` (bills due are posted)."""
        d = self.day
        closing = DayState(d, self.clock.date_of(d), self.clock.is_weekend(d), final=True)
        self._run_stage("month_close", closing)
        self.noise.close()

    def run(self, progress: bool = False) -> None:
        """Run all days, with an optional progress bar, then close the last month.

        tqdm is imported only when the bar is shown (``tqdm.auto`` costs a run about
        20 ms of imports, asyncio among them).
        """
        days: Any = range(self.n_days)
        if progress:
            from tqdm.auto import tqdm

            days = tqdm(days, desc=f"parksim {self.cfg.phase.name}", unit="day", leave=False)
        for _ in days:
            self.step()
        self.close()
