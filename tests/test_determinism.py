"""Same seed → identical outputs; another seed → different outputs."""

from __future__ import annotations

import json

import pandas as pd

from simulation.run import compose_config, run_simulation

FILES = ("intervals.parquet", "users.parquet", "ledger.parquet", "events.parquet")


def _run(tmp_path, name, seed):
    out = tmp_path / name
    cfg = compose_config(["park=small", "days=8", f"seed={seed}", "output.figures=false"])
    run_simulation(cfg, out, progress=False)
    return out


def test_same_seed_identical_other_seed_different(tmp_path):
    a = _run(tmp_path, "a", 7)
    b = _run(tmp_path, "b", 7)
    c = _run(tmp_path, "c", 8)
    assert (a / "kpis.json").read_text() == (b / "kpis.json").read_text()
    for f in FILES:
        pd.testing.assert_frame_equal(pd.read_parquet(a / f), pd.read_parquet(b / f))
    ka = json.loads((a / "kpis.json").read_text())
    kc = json.loads((c / "kpis.json").read_text())
    assert ka["energy_served_kwh"] != kc["energy_served_kwh"]
    assert not pd.read_parquet(a / "users.parquet").equals(pd.read_parquet(c / "users.parquet"))
