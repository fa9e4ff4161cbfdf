"""Naive reference: every user a Mesa agent stepping every interval in Python.

Kept in ``benchmarks/`` only, to measure what the vectorised model gains. Each
agent, in every interval, draws its noisy load, checks a precomputed
curtailment schedule, and accrues served energy, its bill and its loss — the
same per-interval work the vectorised ``ParkModel.meter`` does for all users
at once.
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
        self.served_kwh = 0.0
        self.bill_cny = 0.0
        self.loss_cny = 0.0

    def step(self) -> None:
        m = self.model
        shape = self.weekend if m.weekend else self.weekday
        z = m.rng.standard_normal()
        load = self.mean_kw * shape[m.t] * math.exp(self.sigma * z - 0.5 * self.sigma**2)
        cut = min(self.block_kw, load) if (self.row, m.t) in m.curtail else 0.0
        served = load - cut
        self.served_kwh += served
        self.bill_cny += served * m.tariff[m.t]
        self.loss_cny += cut * self.voll


class NaiveModel(mesa.Model):
    def __init__(self, n_users: int, seed: int = 0) -> None:
        super().__init__(rng=seed)
        cfg = compose_config(["park=large", f"park.n_users={n_users}"])
        validate(cfg)
        self.pop = build_population(cfg.park, 24, self.rng)
        self.tariff = [float(x) for x in cfg.grid.tariff_cny_per_kwh_by_hour]
        # a fixed schedule: class >= 3 users curtailed 10:00-15:00
        rows = np.flatnonzero(self.pop.klass >= 3)
        self.curtail = {(int(r), t) for r in rows for t in range(10, 15)}
        for i in range(n_users):
            NaiveUser(self, i)
        self.day = 0
        self.t = 0
        self.weekend = False

    def step(self) -> None:
        self.weekend = self.day % 7 >= 5
        for t in range(24):
            self.t = t
            self.agents.do("step")
        self.day += 1
