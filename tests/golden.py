"""The golden baseline: KPIs and parquet content hashes of fixed runs.

Orderly and efficiency on the small and default parks, 28 days, seeds 0 and 1.
``fingerprint`` runs one case and returns its KPIs plus a SHA-256 of each
parquet's contents (values and dtypes, not the file bytes, so a pyarrow
upgrade does not change it). Columns that depend on machine speed
(``solve_time_s``) are left out of the hash.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

from simulation.run import compose_config, run_simulation

CASES: tuple[str, ...] = tuple(
    f"{phase}-{park}-seed{seed}"
    for phase in ("orderly", "efficiency")
    for park in ("small", "default")
    for seed in (0, 1)
)

#: Columns whose values depend on machine speed, not on the model.
VOLATILE_COLUMNS = frozenset({"solve_time_s"})


def overrides(case: str) -> list[str]:
    """Config overrides of a golden case name."""
    phase, park, seed = case.split("-")
    return [
        f"phase={phase}",
        f"park={park}",
        f"seed={seed.removeprefix('seed')}",
        "days=28",
        "output.figures=false",
    ]


def frame_hash(frame: pd.DataFrame) -> dict[str, str]:
    """SHA-256 of each column's dtype and values (row order kept), by column name.

    Hashing per column lets a later change add columns while every stored
    column must stay identical.
    """
    out = {"__rows__": str(len(frame))}
    for col in frame.columns:
        if col in VOLATILE_COLUMNS:
            continue
        s = frame[col]
        h = hashlib.sha256(f"{s.dtype}".encode())
        h.update(pd.util.hash_pandas_object(s, index=False).to_numpy().tobytes())
        out[str(col)] = h.hexdigest()
    return out


def fingerprint(case: str, out_dir: Path) -> dict:
    """Run one golden case into ``out_dir``; return its KPIs and parquet hashes."""
    cfg = compose_config(overrides(case))
    run_simulation(cfg, out_dir, progress=False)
    kpis = json.loads((out_dir / "kpis.json").read_text())
    hashes = {p.name: frame_hash(pd.read_parquet(p)) for p in sorted(out_dir.glob("*.parquet"))}
    return {"kpis": kpis, "parquet_sha256": hashes}
