"""The ``parksim`` command: bad configs fail with a short message; sweeps run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PARKSIM = str(Path(sys.executable).with_name("parksim"))


def _parksim(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.run(
        [PARKSIM, f"hydra.run.dir={tmp_path / 'run'}", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("park.n_users=-5", "park.n_users"),
        ("intervals_per_day=7", "intervals_per_day"),
        ("days=0", "days"),
        ("park.n_userz=5", "park.n_userz"),
        ("phase=chaos", "phase"),
        ("+park.foo=1", "park.foo"),
    ],
)
def test_bad_config_exits_with_message(tmp_path, override, key):
    proc = _parksim(tmp_path, "park=small", override)
    assert proc.returncode != 0
    err = proc.stderr + proc.stdout
    assert key in err
    assert "Traceback" not in err
    assert not (tmp_path / "run" / "kpis.json").exists()


def test_single_run_writes_outputs(tmp_path):
    proc = _parksim(tmp_path, "park=small", "days=3", "output.figures=false")
    assert proc.returncode == 0, proc.stderr
    kpis = json.loads((tmp_path / "run" / "kpis.json").read_text())
    assert kpis["energy_served_kwh"] > 0
    assert "energy_residual_kwh" in proc.stdout


def test_sweep_runs_in_parallel_one_dir_per_run(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    sweep = tmp_path / "sweep"
    proc = subprocess.run(
        [
            PARKSIM,
            "-m",
            "seed=1,2",
            "park=small",
            "days=2",
            "output.figures=false",
            f"hydra.sweep.dir={sweep}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    runs = sorted(p.parent for p in sweep.glob("*/kpis.json"))
    assert len(runs) == 2
    k1, k2 = (json.loads((r / "kpis.json").read_text()) for r in runs)
    assert k1["energy_served_kwh"] != k2["energy_served_kwh"]
    assert "JoblibLauncher" in proc.stdout + proc.stderr or (sweep / "multirun.yaml").exists()


def test_hydra_mode_override_still_decides_the_mode(tmp_path):
    # The pre-flight check tells Hydra the mode only when nothing sets hydra.mode;
    # an explicit hydra.mode=MULTIRUN (no -m) must still make a one-member sweep.
    sweep = tmp_path / "sweep"
    proc = _parksim(
        tmp_path,
        "hydra.mode=MULTIRUN",
        f"hydra.sweep.dir={sweep}",
        "hydra.launcher.n_jobs=1",
        "park=small",
        "days=1",
        "output.figures=false",
    )
    assert proc.returncode == 0, proc.stderr
    assert len(list(sweep.glob("0*/kpis.json"))) == 1
    assert not (tmp_path / "run" / "kpis.json").exists()


def test_preflight_reads_hydra_mode_from_the_composition():
    from simulation.cli import _state, preflight

    assert preflight(["park=small"], False) == (1, [])
    assert _state["mode_known"] is True
    assert preflight(["park=small", "hydra.mode=RUN"], False) == (1, [])
    assert _state["mode_known"] is False


def test_trusted_preflight_skips_hydras_repeat_compositions_and_restores_them():
    from hydra._internal.hydra import Hydra
    from hydra.plugins.sweeper import Sweeper

    from simulation.cli import _state, _trust_preflight, preflight

    originals = (Hydra.get_mode, Sweeper.validate_batch_is_legal)
    assert preflight(["seed=0,1", "park=small"], True) == (2, [])
    assert _state["mode_known"] and _state["batch_known"]
    with _trust_preflight(True, True):
        assert Hydra.get_mode(None, "config", []) is None  # type: ignore[arg-type]
        # would compose each member: a bad member would raise here if it ran
        assert Sweeper.validate_batch_is_legal(None, [["park.n_userz=1"]]) is None  # type: ignore[arg-type]
    assert (Hydra.get_mode, Sweeper.validate_batch_is_legal) == originals
    with _trust_preflight(True, False):
        assert Sweeper.validate_batch_is_legal is originals[1]
