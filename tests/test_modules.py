"""Modules: the stage order, the registry, and a new role added in one file.

The toy module below is everything a new role needs: a class with the hooks
it implements, its KPIs, recorded field and table, registered through
``simulation.modules.register`` (here with ``registered`` so it is removed
after the test). It charges every user a flat fee per day of service, accrued
daily and posted by itself at month close.
"""

from __future__ import annotations

from typing import ClassVar

import mesa
import numpy as np
import pandas as pd
import pytest

from simulation.clock import Clock
from simulation.config import ConfigError
from simulation.model import ParkModel
from simulation.modules import ModuleSpec, active_specs, registered, specs
from simulation.run import compose_config, run_simulation
from simulation.stages import STAGES, stages_due

FEE_CNY_PER_DAY = 12.5


class FlatFee(mesa.Agent):
    """A toy service company: a flat daily fee per user, billed monthly."""

    KPIS: ClassVar[tuple[str, ...]] = ("flat_fee_cny",)
    USER_FIELDS: ClassVar[tuple[str, ...]] = ("flat_fee_cny",)

    def __init__(self, model):
        super().__init__(model)
        self.account = model.ledger.account("flat_fee_co")
        self.days = []
        self.posted_cny = 0.0

    def settle(self, today):
        fee = np.full(self.model.pop.n_users, FEE_CNY_PER_DAY)
        self.model.billing.accrue("flat_fee", self.account, "flat_fee", fee)
        today.record_users(flat_fee_cny=fee)
        self.days.append(today.day)

    def month_close(self, today):
        when = self.model.clock.time_of(today.day, 0)
        self.posted_cny += self.model.billing.post(when, "flat_fee")

    def kpis(self):
        return {"flat_fee_cny": self.posted_cny}

    def tables(self):
        return {"flat_fee_days": pd.DataFrame({"day": self.days})}


def test_stage_cadence_comes_from_the_clock():
    clock = Clock("2025-01-27", 40, 24)  # a Monday; 2025-02-01 is day 5
    assert stages_due(clock, 0)[0] == "week_plan"  # day 0: no month close
    assert "month_close" in stages_due(clock, 5) and "week_plan" not in stages_due(clock, 5)
    assert "week_plan" in stages_due(clock, 7)
    assert stages_due(clock, 3) == tuple(s for s in STAGES if s not in ("month_close", "week_plan"))


def test_toy_module_through_the_documented_route(tmp_path):
    spec = ModuleSpec("flat_fee", FlatFee, enabled=lambda cfg: True)
    with registered(spec):
        cfg = compose_config(["park=small", "days=35", "output.figures=false"])
        kpis = run_simulation(cfg, tmp_path, progress=False)
    n = 20
    # 35 days from 2025-01-06: the fee is accrued every day and all of it is posted
    # (26 days at the 1 February close, 9 at the closing month_close).
    assert kpis["flat_fee_cny"] == pytest.approx(n * 35 * FEE_CNY_PER_DAY)
    ledger = pd.read_parquet(tmp_path / "ledger.parquet")
    fees = ledger[ledger.purpose == "flat_fee"]
    assert set(fees.payee) == {"flat_fee_co"}
    assert fees.amount_cny.sum() == pytest.approx(n * 35 * FEE_CNY_PER_DAY)
    assert len(fees) == 2 * n  # one row per user per posting
    users = pd.read_parquet(tmp_path / "users.parquet")
    assert (users.flat_fee_cny == FEE_CNY_PER_DAY).all()
    # bill_cny carries every accrued charge of the day (catalog bill + the fee).
    assert (users.bill_cny >= FEE_CNY_PER_DAY - 1e-9).all()
    table = pd.read_parquet(tmp_path / "flat_fee_days.parquet")
    assert table.day.tolist() == list(range(35))
    assert kpis["ledger_residual_cny"] < 1e-6 and kpis["energy_residual_kwh"] < 1e-6
    # Users pay the fee on top of their bills: user cost includes it.
    assert kpis["user_cost_cny"] > n * 35 * FEE_CNY_PER_DAY
    # Leaving the with-block unregisters the module.
    assert "flat_fee" not in [s.name for s in specs()]


def test_switched_off_module_kpis_are_zero_not_missing(tmp_path):
    spec = ModuleSpec("flat_fee", FlatFee, enabled=lambda cfg: False)
    with registered(spec):
        cfg = compose_config(["park=small", "days=3", "output.figures=false"])
        kpis = run_simulation(cfg, None, progress=False)
    assert kpis["flat_fee_cny"] == 0.0


def test_requirements_and_duplicates_are_checked():
    needy = ModuleSpec("needy", FlatFee, enabled=lambda cfg: True, requires=("nonexistent",))
    with registered(needy):
        cfg = compose_config(["park=small", "days=3"])
        with pytest.raises(ConfigError, match="needy module requires"):
            active_specs(cfg)
    with (
        pytest.raises(ValueError, match="already registered"),
        registered(ModuleSpec("grid", FlatFee, enabled=lambda cfg: True)),
    ):
        pass


def test_efficiency_switch_mixes_into_any_phase():
    cfg = compose_config(["park=small", "days=3", "phase=orderly", "phase.efficiency=true"])
    model = ParkModel(cfg)
    assert model.has_module("esco") and model.module("esco").enabled
    cfg = compose_config(["park=small", "days=3", "phase=orderly", "efficiency.diagnostics=false"])
    assert not ParkModel(cfg).has_module("esco")
