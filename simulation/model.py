"""ParkModel: the clock, the generator, the population, the ledger and the day.

One Mesa step is one day of ``intervals_per_day`` intervals. A day is a named
sequence of methods — plan → publish → meter_demand → dispatch → meter →
settle → manage_efficiency → collect — and the phase config decides which do
anything. Interval-level work is vectorised over users × intervals; agent
methods run at most once per user per day.

Sign conventions: loads and curtailment are positive kW; ``demand = served +
curtailed`` per user and interval; ``served = grid purchases + DG
self-consumption`` (no DG in the orderly and efficiency phases).
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np
from numpy.typing import NDArray

from agents.grid_company import DayDispatch, GridCompany
from agents.park_user import ParkUser
from markets.orderly import loss_cny_per_kwh
from simulation.efficiency import EfficiencyService
from simulation.ledger import Ledger
from simulation.platform import InformationPlatform
from simulation.population import build_population
from simulation.recorder import Recorder

__all__ = ["ParkModel"]

_DAY = np.timedelta64(86_400 * 10**9, "ns")


class ParkModel(mesa.Model):
    """Agent-based model of an industrial park's power service.

    Args:
        cfg: A validated ``Config`` (DictConfig).
    """

    def __init__(self, cfg: Any) -> None:
        super().__init__(rng=int(cfg.seed))
        self.cfg = cfg
        self.ipd: int = int(cfg.intervals_per_day)
        self.interval_h: float = 24.0 / self.ipd
        self.n_days: int = int(cfg.days)
        self.start = np.datetime64(str(cfg.start_date), "D").astype("datetime64[ns]")
        self._interval = np.timedelta64(int(86_400 * 10**9 // self.ipd), "ns")
        self.day: int = 0
        self.pop = build_population(cfg.park, self.ipd, self.rng)
        n = self.pop.n_users
        self.ledger = Ledger([f"user:{i:05d}" for i in range(n)])
        self.external = self.ledger.account("external")
        self.platform = InformationPlatform(bool(cfg.platform.enabled))
        for row in range(n):
            ParkUser(self, row)
        self.grid = GridCompany(self)
        self.efficiency = EfficiencyService(self)
        self.rec = Recorder(self.n_days, self.ipd, n, per_day=bool(cfg.output.users_per_day))
        self._unbilled = {
            "tariff": np.zeros(n),
            "surcharge": np.zeros(n),
            "purchase_kwh": np.zeros(1),
        }
        self.energy_residual_kwh: float = 0.0
        self.today: dict[str, float] = {}
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "demand_kwh": lambda m: m.today.get("demand_kwh", 0.0),
                "served_kwh": lambda m: m.today.get("served_kwh", 0.0),
                "curtailed_kwh": lambda m: m.today.get("curtailed_kwh", 0.0),
                "loss_of_load_cost_cny": lambda m: m.today.get("loss_cny", 0.0),
                "user_bills_cny": lambda m: m.today.get("bill_cny", 0.0),
                "ledger_residual_cny": lambda m: m.ledger.residual_cny,
            }
        )
        # The first week's plan was issued the week before the simulation starts.
        lead = self.cfg.platform.plan_lead_days * _DAY
        self.grid.plan_week(0, sent_at=self.time_of(0, 0) - lead)

    # ------------------------------------------------------------------ clock
    def date_of(self, day: int) -> Any:
        """Calendar date (``datetime.date``) of a model day."""
        return (self.start + day * _DAY).astype("datetime64[D]").item()

    def is_weekend(self, day: int) -> bool:
        """Whether a model day is a Saturday or Sunday."""
        return bool(self.date_of(day).weekday() >= 5)

    def time_of(self, day: int, interval: Any) -> Any:
        """Timestamp(s) of the start of interval(s) of a model day (``datetime64[ns]``)."""
        return self.start + day * _DAY + np.asarray(interval, dtype=np.int64) * self._interval

    def is_first_of_month(self, day: int) -> bool:
        """Whether a model day is the first of a calendar month."""
        return bool(self.date_of(day).day == 1)

    # ------------------------------------------------------------------ the day
    def step(self) -> None:
        """Simulate one day."""
        d = self.day
        if d > 0 and self.is_first_of_month(d):
            self.settle(d)
            self.manage_efficiency(d)
        self.plan(d)
        self.publish(d)
        demand = self.meter_demand(d)
        disp = self.dispatch(d, demand)
        self.meter(d, demand, disp)
        self.collect()
        self.grid.prune(d + 1)
        self.day += 1
        if self.day >= self.n_days:
            self.running = False

    def plan(self, day: int) -> None:
        """Weekly: on the first day of each week, plan the following week."""
        if day % 7 == 0 and day + 7 < self.n_days:
            self.grid.plan_week(day + 7, sent_at=self.time_of(day, 0))

    def publish(self, day: int) -> None:
        """Platform reminders for the next day's planned calls."""
        self.grid.publish_day(day)

    def meter_demand(self, day: int) -> NDArray[np.float64]:
        """Today's unconstrained demand of every user, kW ``(n_users, ipd)``."""
        return self.pop.sample_load_kw(self.is_weekend(day), self.rng)

    def decide_compliance(self) -> NDArray[np.bool_]:
        """Users' compliance with today's instructions (vectorised user rule)."""
        return ParkUser.decide_compliance(
            self.pop.n_users, float(self.cfg.grid.compliance_prob), self.rng
        )

    def dispatch(self, day: int, demand_kw: NDArray[np.float64]) -> DayDispatch:
        """The grid company enforces the plan and sheds any remaining excess."""
        return self.grid.dispatch_day(day, demand_kw)

    def meter(self, day: int, demand_kw: NDArray[np.float64], disp: DayDispatch) -> None:
        """Meter served and curtailed energy, losses and output; check energy balance."""
        pop = self.pop
        dt_h = self.interval_h
        curtailed_kw = disp.planned_kw + disp.shed_kw
        served_kw = demand_kw - curtailed_kw
        purchase_kw = served_kw.sum(axis=0)  # grid purchases; no DG in these phases
        dg_kw = np.zeros(self.ipd)
        # Energy balance, per interval: demand = served + curtailed; served = grid + DG.
        res1 = np.abs(demand_kw.sum(axis=0) - served_kw.sum(axis=0) - curtailed_kw.sum(axis=0))
        res2 = np.abs(served_kw.sum(axis=0) - purchase_kw - dg_kw)
        self.energy_residual_kwh = max(
            self.energy_residual_kwh, float(max(res1.max(), res2.max())) * dt_h
        )
        curtailed_kwh = curtailed_kw * dt_h
        # Loss of load and lost output only where something was curtailed (sparse).
        rows, cols = np.nonzero(curtailed_kw)
        lead = disp.lead_h[rows, cols]
        lead = np.where(np.isnan(lead), 0.0, lead)
        c = loss_cny_per_kwh(pop.voll_cny_per_kwh[rows], pop.rho[rows], lead)
        loss = np.bincount(rows, c * curtailed_kwh[rows, cols], minlength=pop.n_users)
        s_rows, s_cols = np.nonzero(disp.block_starts)
        s_lead = disp.lead_h[s_rows, s_cols]
        s_lead = np.where(np.isnan(s_lead), 0.0, s_lead)
        restart = s_lead < pop.shutdown_h[s_rows]
        loss += np.bincount(s_rows, restart * pop.restart_cost_cny[s_rows], minlength=pop.n_users)
        # Output value follows production: productive load, less its curtailed share.
        productive_kw = pop.productive_load_kw(self.is_weekend(day))
        lost_share = curtailed_kw[rows, cols] / demand_kw[rows, cols]
        productive_kwh = productive_kw.sum(axis=1) - np.bincount(
            rows, productive_kw[rows, cols] * lost_share, minlength=pop.n_users
        )
        output_cny = productive_kwh * dt_h * pop.output_value_cny_per_kwh
        demand_kwh = demand_kw.sum(axis=1) * dt_h
        served_kwh = served_kw.sum(axis=1) * dt_h
        tariff_cny = served_kw @ self.grid.tariff_cny_per_kwh * dt_h
        surcharge_cny = self.efficiency.surcharge_cny(served_kwh)
        self.efficiency.accumulate(demand_kw, served_kwh, output_cny)
        self._unbilled["tariff"] += tariff_cny
        self._unbilled["surcharge"] += surcharge_cny
        self._unbilled["purchase_kwh"] += purchase_kw.sum() * dt_h
        if disp.penalty_kwh.any():
            penalty = disp.penalty_kwh * self.cfg.grid.penalty_cny_per_kwh
            rows = np.flatnonzero(penalty)
            self.ledger.post(
                self.time_of(day, self.ipd - 1), rows, self.grid.account, penalty[rows], "penalty"
            )
        self.grid.record_history(demand_kwh, curtailed_kwh.sum(axis=1))
        self.rec.record(
            day,
            demand_kw=demand_kw,
            served_kw=served_kw,
            planned_kw=disp.planned_kw,
            shed_kw=disp.shed_kw,
            capacity_kw=disp.capacity_kw,
            failure_kw=disp.failure_kw,
            loss_cny=loss,
            bill_cny=tariff_cny + surcharge_cny,
            output_cny=output_cny,
            penalty_cny=disp.penalty_kwh * self.cfg.grid.penalty_cny_per_kwh,
        )
        self.today = {
            "demand_kwh": float(demand_kwh.sum()),
            "served_kwh": float(served_kwh.sum()),
            "curtailed_kwh": float(curtailed_kwh.sum()),
            "loss_cny": float(loss.sum()),
            "bill_cny": float((tariff_cny + surcharge_cny).sum()),
        }

    def settle(self, day: int) -> None:
        """Monthly billing: post the bills and the grid's purchases accrued so far.

        Bills accrue daily and are posted at 00:00 on the first day of each
        month (for the days before it) and at the end of the run.
        """
        when = self.time_of(day, 0)
        n = self.pop.n_users
        users = np.arange(n)
        u = self._unbilled
        self.ledger.post(when, users, self.grid.account, u["tariff"], "tariff")
        self.ledger.post(when, users, self.external, u["surcharge"], "differential_surcharge")
        self.ledger.post(
            when,
            self.grid.account,
            self.external,
            u["purchase_kwh"][0] * self.cfg.grid.purchase_cny_per_kwh,
            "energy_purchase",
        )
        for v in u.values():
            v[:] = 0.0

    def manage_efficiency(self, day: int) -> None:
        """Monthly diagnostics reports; in the efficiency phase, measures and adoption."""
        self.efficiency.monthly(day)

    def grid_reports(self, sent_at: Any, report: Any) -> int:
        """The grid company publishes diagnostics reports; returns how many were delivered."""
        return self.grid.publish_reports(sent_at, report)

    def collect(self) -> None:
        """Mesa data collection (daily model reporters)."""
        self.datacollector.collect(self)

    def run(self, progress: bool = False) -> None:
        """Run all days, with an optional progress bar, then settle the last bills."""
        from tqdm.auto import tqdm

        for _ in tqdm(
            range(self.n_days),
            desc=f"parksim {self.cfg.phase.name}",
            unit="day",
            disable=not progress,
            leave=False,
        ):
            self.step()
        self.settle(self.day)
