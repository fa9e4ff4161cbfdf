"""KPIs and output files of a run (the output contract of DESIGN.md).

Every file is written atomically: to a temporary name in the same directory,
then renamed, so a reader never sees a half-written file.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from markets.orderly import jain_index
from simulation.io import write_atomic

if TYPE_CHECKING:
    from simulation.model import ParkModel

__all__ = ["KPI_NAMES", "compute_kpis", "write_outputs"]

#: KPIs every run reports (0 where a phase does not produce one).
KPI_NAMES: tuple[str, ...] = (
    "user_cost_cny",
    "user_cost_cny_per_kwh",
    "energy_served_kwh",
    "energy_curtailed_kwh",
    "loss_of_load_cost_cny",
    "curtailment_fairness_jain",
    "peak_kw",
    "load_factor",
    "capacity_violation_intervals",
    "energy_intensity_tce_per_10k_cny",
    "sales_agent_profit_cny",
    "user_refund_cny",
    "da_price_mean_cny_per_mwh",
    "rt_imbalance_cost_cny",
    "reserve_cost_cny",
    "fund_return_to_users_cny",
    "dg_energy_kwh",
    "emissions_tco2",
    "ledger_residual_cny",
    "energy_residual_kwh",
)


def capacity_violation(served_kw: np.ndarray, capacity_kw: np.ndarray) -> np.ndarray:
    """Intervals whose served park load exceeds capacity beyond float tolerance."""
    return served_kw > capacity_kw * (1 + 1e-9) + 1e-6


def compute_kpis(model: ParkModel) -> dict[str, float]:
    """Compute the run's KPIs from the recorder, ledger, platform and agents.

    Args:
        model: A model that has run.

    Returns:
        Flat ``{name: number}`` with every name in :data:`KPI_NAMES` and extras.
    """
    rec = model.rec
    days = rec.days_recorded
    dt_h = model.interval_h
    iv = {k: v[:days].ravel() for k, v in rec.intervals.items()}
    pop = model.pop
    served_kwh = float(iv["served_kw"].sum() * dt_h)
    curtailed_kwh = float(iv["curtailed_kw"].sum() * dt_h)
    demand_user = rec.user_totals("demand_kwh")
    curtailed_user = rec.user_totals("curtailed_kwh")
    eligible = ~pop.protected
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(demand_user > 0, curtailed_user / demand_user, 0.0)
    peak = float(iv["served_kw"].max()) if iv["served_kw"].size else 0.0
    cap = iv["capacity_kw"]
    violations = int(np.count_nonzero(capacity_violation(iv["served_kw"], cap)))
    user_cost = float(-model.ledger.user_balances(pop.n_users).sum())
    output = float(rec.user_totals("output_cny").sum())
    kgce = float(model.cfg.efficiency.kgce_per_kwh)
    ei = served_kwh * kgce / 1000.0 / (output / 1e4) if output > 0 else 0.0
    stats = model.grid.plan_stats
    kpis: dict[str, float] = dict.fromkeys(KPI_NAMES, 0.0)
    kpis.update(
        {
            "user_cost_cny": user_cost,
            "user_cost_cny_per_kwh": user_cost / served_kwh if served_kwh > 0 else 0.0,
            "energy_served_kwh": served_kwh,
            "energy_curtailed_kwh": curtailed_kwh,
            "loss_of_load_cost_cny": float(rec.user_totals("loss_cny").sum()),
            "curtailment_fairness_jain": jain_index(shares[eligible]),
            "peak_kw": peak,
            "load_factor": float(iv["served_kw"].mean() / peak) if peak > 0 else 0.0,
            "capacity_violation_intervals": float(violations),
            "energy_intensity_tce_per_10k_cny": ei,
            "emissions_tco2": served_kwh / 1000.0 * float(model.cfg.grid.emission_tco2_per_mwh),
            "ledger_residual_cny": float(model.ledger.max_abs_residual_cny),
            "energy_residual_kwh": float(model.energy_residual_kwh),
            "energy_demand_kwh": float(iv["demand_kw"].sum() * dt_h),
            "energy_planned_kwh": float(iv["planned_kw"].sum() * dt_h),
            "energy_shed_kwh": float(iv["shed_kw"].sum() * dt_h),
            "penalty_cny": float(rec.user_totals("penalty_cny").sum()),
            "grid_company_profit_cny": model.ledger.balance("grid"),
            "orderly_plan_weeks": float(len(stats)),
            "orderly_plan_gap_max": float(max((s["gap"] for s in stats), default=0.0)),
            "platform_events": float(len(model.platform)),
            "max_curtailed_share": float(shares[eligible].max()) if eligible.any() else 0.0,
        }
    )
    kpis.update(model.efficiency.kpis())
    for k, v in kpis.items():
        if not math.isfinite(v):
            raise ValueError(f"KPI {k} is not finite: {v}")
    return kpis


def _interval_frame(model: ParkModel) -> pd.DataFrame:
    rec = model.rec
    days = rec.days_recorded
    n = days * model.ipd
    times = model.time_of(0, np.arange(n))
    frame = pd.DataFrame({"time": times})
    for k, v in rec.intervals.items():
        frame[k] = v[:days].ravel()
    frame["tariff_cny_per_kwh"] = np.tile(model.grid.tariff_cny_per_kwh, days)
    frame["capacity_violation"] = capacity_violation(
        frame["served_kw"].to_numpy(), frame["capacity_kw"].to_numpy()
    )
    return frame


def _user_frame(model: ParkModel) -> pd.DataFrame:
    rec = model.rec
    pop = model.pop
    n = pop.n_users
    rows = rec.days_recorded if rec.per_day else 1
    industry = pd.Categorical.from_codes(
        np.tile(pop.industry, rows), categories=list(pop.industry_names)
    )
    frame = pd.DataFrame(
        {
            "date": (
                np.repeat(model.start + np.arange(rows) * np.timedelta64(1, "D"), n)
                if rec.per_day
                else np.repeat(model.start, n)
            ),
            "user": np.tile(np.arange(n), rows),
            "industry": industry,
            "klass": np.tile(pop.klass, rows),
        }
    )
    for k, v in rec.users.items():
        frame[k] = v[:rows].ravel()
    kgce = float(model.cfg.efficiency.kgce_per_kwh)
    with np.errstate(invalid="ignore", divide="ignore"):
        ei = frame["served_kwh"] * kgce / 1000.0 / (frame["output_cny"] / 1e4)
    frame["energy_intensity_tce_per_10k_cny"] = ei.where(frame["output_cny"] > 0, 0.0)
    return frame


def write_outputs(model: ParkModel, out_dir: Path, kpis: dict[str, float], config: Any) -> None:
    """Write the run's files into ``out_dir`` (each atomically).

    Args:
        model: A model that has run.
        out_dir: The run directory.
        kpis: The KPIs to write to ``kpis.json``.
        config: The resolved config (plain dict) written to ``config.json``.
    """
    out_dir = Path(out_dir)

    def parquet(name: str, frame: pd.DataFrame) -> None:
        write_atomic(out_dir / name, lambda p: frame.to_parquet(p, index=False))

    parquet("intervals.parquet", _interval_frame(model))
    parquet("users.parquet", _user_frame(model))
    parquet("ledger.parquet", model.ledger.to_frame())
    days = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    days.insert(0, "date", model.start + np.arange(len(days)) * np.timedelta64(1, "D"))
    parquet("days.parquet", days)
    parquet("events.parquet", model.platform.to_frame())
    plans = pd.DataFrame(model.grid.plan_stats)
    if plans.empty:
        plans = pd.DataFrame(columns=["week_start", "method", "status", "gap", "solve_time_s"])
    parquet("plans.parquet", plans)
    plans_frame = model.efficiency.plans_frame()
    if plans_frame is not None:
        parquet("saving_plans.parquet", plans_frame)
    write_atomic(
        out_dir / "config.json",
        lambda p: p.write_text(json.dumps(config, indent=2, default=str)),
    )
    if model.cfg.output.figures:
        from simulation.figures import run_figures

        run_figures(model, out_dir / "figures")
    # kpis.json last: its presence marks a complete run.
    write_atomic(
        out_dir / "kpis.json",
        lambda p: p.write_text(json.dumps(kpis, indent=2, sort_keys=True)),
    )
