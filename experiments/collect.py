"""Collecting run outputs (single runs or Hydra sweeps) into one table."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

__all__ = ["collect_runs"]


def collect_runs(root: Path | str) -> pd.DataFrame:
    """One row per completed run below ``root`` (a run is a dir with ``kpis.json``).

    Columns: ``run_dir``, the run's Hydra overrides (``overrides``, a string) when
    present, the contract keys from its ``config.json`` (``phase``, ``park``,
    ``seed``, ``days``, ``platform_enabled``) and every KPI.

    Args:
        root: A run directory, a sweep directory or any parent of them.

    Returns:
        The table, sorted by run directory (empty if there is no completed run).
    """
    rows = []
    for kpi_file in sorted(Path(root).rglob("kpis.json")):
        run_dir = kpi_file.parent
        row: dict[str, object] = {"run_dir": str(run_dir)}
        overrides = run_dir / ".hydra" / "overrides.yaml"
        if overrides.exists():
            lines = [
                ln[2:].strip() for ln in overrides.read_text().splitlines() if ln.startswith("- ")
            ]
            row["overrides"] = " ".join(lines)
        cfg_file = run_dir / "config.json"
        if cfg_file.exists():
            cfg = json.loads(cfg_file.read_text())
            row.update(
                phase=cfg["phase"]["name"],
                park=cfg["park"]["name"],
                seed=cfg["seed"],
                days=cfg["days"],
                platform_enabled=cfg["platform"]["enabled"],
            )
        row.update(json.loads(kpi_file.read_text()))
        rows.append(row)
    return pd.DataFrame(rows)
