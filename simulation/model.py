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
from markets.orderly import loss_cny_per_kwh, restart_cost_applies
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
        n, ipd = demand_kw.shape
        dt_h = self.interval_h
        rows, cols, kw = disp.rows, disp.cols, disp.curtailed_kw
        served_kw = demand_kw.copy()
        served_kw[rows, cols] -= kw  # cells are unique
        demand_int = demand_kw.sum(axis=0)
        served_int = served_kw.sum(axis=0)
        curtailed_int = np.bincount(cols, kw, minlength=ipd)
        shed_int = np.bincount(cols, kw * disp.shed, minlength=ipd)
        purchase_int = served_int  # grid purchases; no DG in these phases
        dg_int = np.zeros(ipd)
        # Energy balance, per interval: demand = served + curtailed; served = grid + DG.
        res1 = np.abs(demand_int - served_int - curtailed_int)
        res2 = np.abs(served_int - purchase_int - dg_int)
        self.energy_residual_kwh = max(
            self.energy_residual_kwh, float(max(res1.max(), res2.max())) * dt_h
        )
        kwh = kw * dt_h
        curtailed_kwh = np.bincount(rows, kwh, minlength=n)
        shed_kwh = np.bincount(rows, kwh * disp.shed, minlength=n)
        # Loss of load: notice model per curtailed kWh, restart cost per short-notice call.
        c = loss_cny_per_kwh(pop.voll_cny_per_kwh[rows], pop.rho[rows], disp.lead_h)
        s_rows = rows[disp.start]
        restart = restart_cost_applies(disp.lead_h[disp.start], pop.shutdown_h[s_rows])
        loss = np.bincount(rows, c * kwh, minlength=n) + np.bincount(
            s_rows, restart * pop.restart_cost_cny[s_rows], minlength=n
        )
        # Output value follows production: productive load, less its curtailed share.
        weekend = self.is_weekend(day)
        productive_kw = pop.productive_load_kw(weekend)
        lost_share = kw / demand_kw[rows, cols]
        productive_kwh = pop.productive_energy_kwh(weekend, dt_h) - np.bincount(
            rows, productive_kw[rows, cols] * lost_share * dt_h, minlength=n
        )
        output_cny = productive_kwh * pop.output_value_cny_per_kwh
        demand_kwh = demand_kw.sum(axis=1) * dt_h
        served_kwh = demand_kwh - curtailed_kwh
        tariff_cny = served_kw @ self.grid.tariff_cny_per_kwh * dt_h
        surcharge_cny = self.efficiency.surcharge_cny(served_kwh)
        self.efficiency.accumulate(demand_kw, served_kwh, output_cny)
        self._unbilled["tariff"] += tariff_cny
        self._unbilled["surcharge"] += surcharge_cny
        self._unbilled["purchase_kwh"] += purchase_int.sum() * dt_h
        penalty_cny = disp.penalty_kwh * self.cfg.grid.penalty_cny_per_kwh
        if penalty_cny.any():
            payers = np.flatnonzero(penalty_cny)
            self.ledger.post(
                self.time_of(day, self.ipd - 1),
                payers,
                self.grid.account,
                penalty_cny[payers],
                "penalty",
            )
        self.grid.record_history(demand_kwh, curtailed_kwh)
        self.rec.record(
            day,
            intervals={
                "demand_kw": demand_int,
                "served_kw": served_int,
                "curtailed_kw": curtailed_int,
                "planned_kw": curtailed_int - shed_int,
                "shed_kw": shed_int,
                "capacity_kw": disp.capacity_kw,
                "failure_kw": disp.failure_kw,
            },
            users={
                "demand_kwh": demand_kwh,
                "served_kwh": served_kwh,
                "curtailed_kwh": curtailed_kwh,
                "planned_kwh": curtailed_kwh - shed_kwh,
                "shed_kwh": shed_kwh,
                "peak_kw": served_kw.max(axis=1),
                "loss_cny": loss,
                "bill_cny": tariff_cny + surcharge_cny,
                "penalty_cny": penalty_cny,
                "output_cny": output_cny,
            },
        )
        self.today = {
            "demand_kwh": float(demand_kwh.sum()),
            "served_kwh": float(served_kwh.sum()),
            "curtailed_kwh": float(kwh.sum()),
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
