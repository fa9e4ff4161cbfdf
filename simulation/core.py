"""The core module: the day's load, metering, recording, and the run's core KPIs.

The core runs first in every stage it implements: before the first day it
has the recorder stream the user rows into ``users.parquet`` (written while
the model runs, not rewritten at the end); it closes the shared
monthly meter at ``month_close`` (so modules read the closed month), draws
the day's load at ``demand``, meters the day at ``meter`` (served, curtailed,
loss of load, output; supply by supplier into the energy book; the monthly
meter), and at ``collect`` checks the energy balance and records the day
(recorder and Mesa's DataCollector). It posts no money.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from markets.fairness import jain_index
from simulation.day import DayState
from simulation.metering import meter_day
from simulation.user_rows import UserRows

__all__ = ["CORE_INTERVAL_FIELDS", "CORE_USER_FIELDS", "CoreModule", "capacity_violation"]

#: Per-user fields of ``users.parquet`` recorded by the core (and the grid company).
CORE_USER_FIELDS: tuple[str, ...] = (
    "demand_kwh",
    "served_kwh",
    "curtailed_kwh",
    "planned_kwh",
    "shed_kwh",
    "peak_kw",
    "loss_cny",
    "bill_cny",
    "penalty_cny",
    "output_cny",
)
#: Park-level fields of ``intervals.parquet`` recorded by the core (and the grid company).
CORE_INTERVAL_FIELDS: tuple[str, ...] = (
    "demand_kw",
    "served_kw",
    "curtailed_kw",
    "planned_kw",
    "shed_kw",
    "capacity_kw",
    "failure_kw",
)


def capacity_violation(served_kw: np.ndarray, capacity_kw: np.ndarray) -> np.ndarray:
    """Intervals whose served park load exceeds capacity beyond float tolerance."""
    return served_kw > capacity_kw * (1 + 1e-9) + 1e-6


class CoreModule:
    """Load, metering and recording (always on, first in every stage).

    Args:
        model: The park model.
    """

    KPIS: ClassVar[tuple[str, ...]] = (
        "energy_demand_kwh",
        "energy_planned_kwh",
        "energy_shed_kwh",
        "platform_events",
        "max_curtailed_share",
        "grid_bought_kwh",
    )
    USER_FIELDS: ClassVar[tuple[str, ...]] = CORE_USER_FIELDS
    INTERVAL_FIELDS: ClassVar[tuple[str, ...]] = (
        *CORE_INTERVAL_FIELDS,
        "supply_grid_catalog_kw",
        "supply_contract_kw",
        "supply_day_ahead_kw",
        "supply_real_time_kw",
        "supply_dg_self_kw",
        "export_kw",
    )

    def __init__(self, model: Any) -> None:
        self.model = model

    def user_rows(self) -> UserRows:
        """The builder of ``users.parquet`` tables from the recorder's blocks of days."""
        m = self.model
        return UserRows(
            m.clock.start,
            m.pop.industry,
            m.pop.industry_names,
            m.pop.klass,
            float(m.cfg.efficiency.kgce_per_kwh),
            m.rec.fields,
            per_day=m.rec.per_day,
        )

    # ------------------------------------------------------------------ stages
    def start(self, today: DayState) -> None:
        """Before the first day: stream the recorder's user rows into ``users.parquet``."""
        self.model.rec.stream(self.user_rows())
        self.model.noise.prime()

    def month_close(self, today: DayState) -> None:
        """Close the shared monthly meter (modules then read ``meter.last``)."""
        self.model.meter.close(today.day)

    def demand(self, today: DayState) -> None:
        """Draw today's unconstrained load of every user."""
        m = self.model
        today.demand_kw = m.pop.noisy_load_kw(today.weekend, m.noise.draw())

    def meter(self, today: DayState) -> None:
        """Meter the day; assign served energy to suppliers; add to the monthly meter.

        Tomorrow's load noise is drawn meanwhile (:class:`~simulation.draw_ahead.DrawAhead`:
        dispatch has made today's last draw in the orderly phase).
        """
        m = self.model
        assert today.demand_kw is not None
        m.noise.prime()
        met = meter_day(
            m.pop,
            today.demand_kw,
            today.dispatch,
            m.interval_h,
            today.weekend,
            demand_int_kw=today.park_demand_kw(),
        )
        today.metered = met
        today.served_kw = met.served_kw
        m.meter.add_day(met, today.demand_kw, today.weekend)
        m.energy.begin_day(met.served_kw, m.pop.supplier, met.served_int_kw)
        today.record_intervals(
            demand_kw=met.demand_int_kw,
            served_kw=met.served_int_kw,
            curtailed_kw=met.curtailed_int_kw,
            planned_kw=met.curtailed_int_kw - met.shed_int_kw,
            shed_kw=met.shed_int_kw,
        )
        today.record_users(
            demand_kwh=met.demand_kwh,
            served_kwh=met.served_kwh,
            curtailed_kwh=met.curtailed_kwh,
            planned_kwh=met.curtailed_kwh - met.shed_kwh,
            shed_kwh=met.shed_kwh,
            peak_kw=met.peak_kw,
            loss_cny=met.loss_cny,
            output_cny=met.output_cny,
        )

    def collect(self, today: DayState) -> None:
        """Check the energy balance and record the day."""
        m = self.model
        met = today.metered
        today.record_intervals(
            **m.energy.end_day(met.demand_int_kw, met.served_int_kw, met.curtailed_int_kw)
        )
        bill = m.billing.today_cny()
        today.record_users(bill_cny=bill)
        m.rec.record(today.day, intervals=today.intervals, users=today.users)
        today.totals.update(
            demand_kwh=float(met.demand_kwh.sum()),
            served_kwh=float(met.served_kwh.sum()),
            curtailed_kwh=float((today.dispatch.curtailed_kw * m.interval_h).sum()),
            loss_cny=float(met.loss_cny.sum()),
            bill_cny=float(bill.sum()),
        )
        m.datacollector.collect(m)

    # ------------------------------------------------------------------ outputs
    def _intervals(self) -> dict[str, np.ndarray]:
        """Every recorded interval field over the days recorded, flattened."""
        rec = self.model.rec
        return {k: v[: rec.days_recorded].ravel() for k, v in rec.intervals.items()}

    def contract_kpis(self, iv: dict[str, np.ndarray]) -> dict[str, float]:
        """The core's share of the contract KPIs (DESIGN.md "Outputs").

        Args:
            iv: The recorded interval fields (:meth:`_intervals`).
        """
        m = self.model
        rec = m.rec
        dt_h = m.interval_h
        pop = m.pop
        served_kwh = float(iv["served_kw"].sum() * dt_h)
        curtailed_kwh = float(iv["curtailed_kw"].sum() * dt_h)
        shares = self._curtailed_shares()
        eligible = ~pop.protected
        # Peak, load factor and capacity on the net grid purchase (DG self-consumption
        # is behind the meter; without DG the purchase is the served load).
        grid_kw = iv["served_kw"]
        if m.energy.total_kwh["dg_self"] != 0.0:
            grid_kw = grid_kw - iv["supply_dg_self_kw"]
        peak = float(grid_kw.max()) if grid_kw.size else 0.0
        violations = int(np.count_nonzero(capacity_violation(grid_kw, iv["capacity_kw"])))
        user_cost = float(-m.ledger.operating_balances(pop.n_users).sum())
        output = float(rec.user_totals("output_cny").sum())
        kgce = float(m.cfg.efficiency.kgce_per_kwh)
        ei = served_kwh * kgce / 1000.0 / (output / 1e4) if output > 0 else 0.0
        grid_bought_kwh = served_kwh - m.energy.total_kwh["dg_self"]
        return {
            "user_cost_cny": user_cost,
            "user_cost_cny_per_kwh": user_cost / served_kwh if served_kwh > 0 else 0.0,
            "energy_served_kwh": served_kwh,
            "energy_curtailed_kwh": curtailed_kwh,
            "loss_of_load_cost_cny": float(rec.user_totals("loss_cny").sum()),
            "curtailment_fairness_jain": jain_index(shares[eligible]),
            "peak_kw": peak,
            "load_factor": float(grid_kw.mean() / peak) if peak > 0 else 0.0,
            "capacity_violation_intervals": float(violations),
            "energy_intensity_tce_per_10k_cny": ei,
            "emissions_tco2": grid_bought_kwh / 1000.0 * float(m.cfg.grid.emission_tco2_per_mwh),
            "ledger_residual_cny": float(m.ledger.max_abs_residual_cny),
            "energy_residual_kwh": float(m.energy.residual_kwh),
        }

    def _curtailed_shares(self) -> np.ndarray:
        rec = self.model.rec
        demand_user = rec.user_totals("demand_kwh")
        curtailed_user = rec.user_totals("curtailed_kwh")
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(demand_user > 0, curtailed_user / demand_user, 0.0)

    def kpis(self) -> dict[str, float]:
        """Core KPIs: the contract ones it owns plus energy and platform figures."""
        m = self.model
        dt_h = m.interval_h
        iv = self._intervals()
        shares = self._curtailed_shares()
        eligible = ~m.pop.protected
        out = self.contract_kpis(iv)
        out.update(
            {
                "energy_demand_kwh": float(iv["demand_kw"].sum() * dt_h),
                "energy_planned_kwh": float(iv["planned_kw"].sum() * dt_h),
                "energy_shed_kwh": float(iv["shed_kw"].sum() * dt_h),
                "platform_events": float(len(m.platform)),
                "max_curtailed_share": float(shares[eligible].max()) if eligible.any() else 0.0,
                "grid_bought_kwh": out["energy_served_kwh"] - m.energy.total_kwh["dg_self"],
            }
        )
        return out
