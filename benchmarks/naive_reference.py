"""Naive reference: every user a Mesa agent stepping every interval in Python.

Kept in ``benchmarks/`` only, to measure what the vectorised model gains. It
does the same per-interval work as ``ParkModel`` for the orderly phase, the
way a straightforward ABM would: each agent, in every interval, draws its
noisy load, looks up whether it is curtailed by the (precomputed) plan and
with what notice, accrues its loss of load with the notice model, its served
energy and its bill; the model then sums the park load, checks capacity and
sheds the remaining excess in merit order, one agent at a time.
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from simulation.config import validate
from simulation.population import build_population
from simulation.run import compose_config


class NaiveUser(mesa.Agent):
    def __init__(self, model: NaiveModel, row: int) -> None:
        super().__init__(model)
        pop = model.pop
        self.row = row
        self.mean_kw = float(pop.mean_load_kw[row])
        self.weekday = [float(x) for x in pop.shape_weekday[row]]
        self.weekend = [float(x) for x in pop.shape_weekend[row]]
        self.sigma = float(pop.noise_sigma[row])
        self.block_kw = float(pop.block_kw[row])
        self.voll = float(pop.voll_cny_per_kwh[row])
        self.rho = float(pop.rho[row])
        self.protected = bool(pop.protected[row])
        self.load_kw = 0.0
        self.cut_kw = 0.0
        self.served_kwh = 0.0
        self.bill_cny = 0.0
        self.loss_cny = 0.0

    def step(self) -> None:
        m = self.model
        shape = self.weekend if m.weekend else self.weekday
        z = m.rng.standard_normal()
        load = self.mean_kw * shape[m.t] * math.exp(self.sigma * z - 0.5 * self.sigma**2)
        cut = 0.0
        lead_h = m.notice.get((self.row, m.day, m.t))
        if lead_h is not None:
            cut = min(self.block_kw, load)
            c = self.voll * (1.0 - self.rho * (1.0 - math.exp(-lead_h / 24.0)))
            self.loss_cny += c * cut
        self.load_kw = load
        self.cut_kw = cut
        served = load - cut
        m.park_kw += served
        self.served_kwh += served
        self.bill_cny += served * m.tariff[m.t]

    def shed(self, lead_h: float) -> float:
        """Shed the remaining block at short notice; returns the kW shed."""
        extra = min(self.block_kw, self.load_kw - self.cut_kw)
        if extra <= 0:
            return 0.0
        c = self.voll * (1.0 - self.rho * (1.0 - math.exp(-lead_h / 24.0)))
        self.loss_cny += c * extra
        self.served_kwh -= extra
        self.bill_cny -= extra * self.model.tariff[self.model.t]
        self.cut_kw += extra
        return extra


class NaiveModel(mesa.Model):
    def __init__(self, n_users: int, seed: int = 0) -> None:
        super().__init__(rng=seed)
        cfg = compose_config(["park=large", f"park.n_users={n_users}"])
        validate(cfg)
        self.pop = build_population(cfg.park, 24, self.rng)
        self.tariff = [float(x) for x in cfg.grid.tariff_cny_per_kwh_by_hour]
        weekday_peak = float(self.pop.expected_load_kw(weekend=False).sum(axis=0).max())
        self.capacity = [weekday_peak * 1.3] * 24
        self.shortage = [
            weekday_peak * 0.88 if 10 <= t < 15 else weekday_peak * 1.3 for t in range(24)
        ]
        # a precomputed plan: class >= 3 users curtailed 10:00-15:00 on weekdays,
        # published a week ahead (the notice lead, hours, read per interval)
        rows = np.flatnonzero(self.pop.klass >= 3)
        self.notice = {
            (int(r), d, t): 168.0 + t
            for r in rows
            for d in range(400)
            if d % 7 < 5
            for t in range(10, 15)
        }
        for i in range(n_users):
            NaiveUser(self, i)
        self.merit = sorted((a for a in self.agents if not a.protected), key=lambda a: a.voll)
        self.day = 0
        self.t = 0
        self.weekend = False
        self.park_kw = 0.0
        self.violations = 0

    def step(self) -> None:
        self.weekend = self.day % 7 >= 5
        cap = self.capacity if self.weekend else self.shortage
        for t in range(24):
            self.t = t
            self.park_kw = 0.0
            self.agents.do("step")
            excess = self.park_kw - cap[t]
            for agent in self.merit:
                if excess <= 0:
                    break
                excess -= agent.shed(0.25)
            if excess > 1e-6:
                self.violations += 1
        self.day += 1
