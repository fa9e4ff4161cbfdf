"""KPIs and output files of a run (the output contract of DESIGN.md).

KPIs are contributed: every contract KPI (:data:`KPI_NAMES`) and every KPI
a registered module declares (``KPIS``) starts at 0, then each active module
adds its own (``kpis()``; the core first), and no KPI may come from two
modules. Tables are contributed likewise: each module's ``tables()`` is
written as ``<name>.parquet``. Every file is written atomically
(:func:`simulation.io.write_atomic`), ``kpis.json`` last, so its presence
marks a complete run.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simulation.core import capacity_violation
from simulation.io import write_atomic, write_frame, write_tables
from simulation.modules import all_kpi_names

if TYPE_CHECKING:
    import pyarrow as pa

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


def compute_kpis(model: ParkModel) -> dict[str, float]:
    """Collect the run's KPIs from the core and every active module.

    Args:
        model: A model that has run.

    Returns:
        Flat ``{name: number}`` with every name in :data:`KPI_NAMES`, every
        registered module's KPIs (0 where the module is off) and extras.

    Raises:
        ValueError: If two modules contribute the same KPI, or a KPI is not finite.
    """
    kpis: dict[str, float] = dict.fromkeys((*KPI_NAMES, *all_kpi_names()), 0.0)
    owner: dict[str, str] = {}
    for name, mod in model.modules.items():
        if not hasattr(mod, "kpis"):
            continue
        for key, value in mod.kpis().items():
            if key in owner:
                raise ValueError(f"KPI {key} is contributed by both {owner[key]} and {name}")
            owner[key] = name
            kpis[key] = float(value)
    for k, v in kpis.items():
        if not math.isfinite(v):
            raise ValueError(f"KPI {k} is not finite: {v}")
    return kpis


def _interval_frame(model: ParkModel) -> pd.DataFrame:
    rec = model.rec
    days = rec.days_recorded
    n = days * model.ipd
    # one DataFrame from all columns: inserting them one by one costs about 1 ms a
    # column under pandas 3 (its column index is rebuilt each time)
    columns: dict[str, Any] = {"time": model.clock.time_of(0, np.arange(n))}
    for k, v in rec.intervals.items():
        columns[k] = v[:days].ravel()
    columns["capacity_violation"] = capacity_violation(columns["served_kw"], columns["capacity_kw"])
    return pd.DataFrame(columns)


def _user_tables(model: ParkModel) -> Iterator[pa.Table]:
    """``users.parquet`` block by block of days (one block of run totals without per-day)."""
    rec = model.rec
    rows = model.modules["core"].user_rows()
    for first, block in rec.user_days():
        if block and next(iter(block.values())).shape[0] == 0:
            continue
        yield rows.table(first, block)


def _user_frame(model: ParkModel) -> pd.DataFrame:
    """The whole ``users.parquet`` table in memory (tests, small runs)."""
    import pyarrow as pa

    tables = list(_user_tables(model))
    return pa.concat_tables(tables).to_pandas()


def module_tables(model: ParkModel) -> dict[str, pd.DataFrame]:
    """Every active module's tables by file stem (names must be unique)."""
    out: dict[str, pd.DataFrame] = {}
    for name, mod in model.modules.items():
        if not hasattr(mod, "tables"):
            continue
        for stem, frame in mod.tables().items():
            if stem in out:
                raise ValueError(f"table {stem}.parquet is contributed twice (again by {name})")
            out[stem] = frame
    return out


def write_outputs(model: ParkModel, out_dir: Path, kpis: dict[str, float], config: Any) -> None:
    """Write the run's files into ``out_dir`` (each atomically).

    Args:
        model: A model that has run.
        out_dir: The run directory.
        kpis: The KPIs to write to ``kpis.json``.
        config: The resolved config (plain dict) written to ``config.json``.
    """
    out_dir = Path(out_dir)

    def events(path: Path) -> None:
        write_tables(path, model.platform.tables(), plain_floats=False)

    # events.parquet (the platform's log, the largest file after users.parquet) is
    # encoded by a worker thread while the other files are written; pyarrow's
    # encoding releases the GIL. kpis.json still comes last.
    with ThreadPoolExecutor(1, thread_name_prefix="parksim-events") as pool:
        log = pool.submit(write_atomic, out_dir / "events.parquet", events)
        _write_tables_and_figures(model, out_dir, config)
        log.result()  # its error, if any, is raised here
    # kpis.json last: its presence marks a complete run.
    write_atomic(
        out_dir / "kpis.json",
        lambda p: p.write_text(json.dumps(kpis, indent=2, sort_keys=True)),
    )


def _write_tables_and_figures(model: ParkModel, out_dir: Path, config: Any) -> None:
    """Every output file but ``events.parquet`` and ``kpis.json`` (see :func:`write_outputs`)."""

    def parquet(name: str, frame: pd.DataFrame) -> None:
        write_atomic(out_dir / name, lambda p: write_frame(p, frame))

    parquet("intervals.parquet", _interval_frame(model))
    if model.rec.streaming:  # written while the model ran: put in place, no rewrite
        model.rec.write_users(out_dir / "users.parquet")
    else:
        write_atomic(
            out_dir / "users.parquet",
            lambda p: write_tables(p, _user_tables(model), plain_floats=True),
        )
    parquet("ledger.parquet", model.ledger.to_frame())
    days = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    days.insert(0, "date", model.clock.start + np.arange(len(days)) * np.timedelta64(1, "D"))
    parquet("days.parquet", days)
    for stem, frame in module_tables(model).items():
        parquet(f"{stem}.parquet", frame)
    write_atomic(
        out_dir / "config.json",
        lambda p: p.write_text(json.dumps(config, indent=2, default=str)),
    )
    if model.cfg.output.figures:
        from simulation.figures import run_figures

        run_figures(model, out_dir / "figures")
