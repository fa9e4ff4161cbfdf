"""Runs a researcher can trust: sweeps survive bad members, clean run directories."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from omegaconf import OmegaConf

import simulation.cli as cli
from experiments.collect import collect_runs
from simulation.io import SIGTERM_EXIT_CODE, remove_stale_temp_files
from simulation.run import RunDirError, compose_config, prepare_run_dir, run_simulation

SMALL = ["park=small", "days=2", "output.figures=false", "progress=false"]


def test_sweep_reports_every_bad_member_and_runs_none(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    with pytest.raises(SystemExit) as exc:
        cli.main(
            ["-m", "seed=1,2", "grid.compliance_prob=0.5,1.5", *SMALL, f"hydra.sweep.dir={sweep}"]
        )
    err = capsys.readouterr().err
    assert exc.value.code == 2
    # members are numbered in Hydra's order: (1, 0.5), (1, 1.5), (2, 0.5), (2, 1.5)
    bad = [ln for ln in err.splitlines() if "grid.compliance_prob=1.5:" in ln]
    assert [ln.split(" (")[0] for ln in bad] == ["parksim: error: run 1", "parksim: error: run 3"]
    assert "2 of 4 runs have a bad config" in err
    assert not sweep.exists()


def test_a_member_failing_at_run_time_fails_alone(tmp_path, capsys, monkeypatch):
    real = cli.run_simulation

    def flaky(cfg, out_dir=None, progress=None):
        if cfg.seed == 2:
            raise RuntimeError("solver exploded")
        return real(cfg, out_dir, progress=False)

    monkeypatch.setattr(cli, "run_simulation", flaky)
    sweep = tmp_path / "sweep"
    with pytest.raises(SystemExit) as exc:
        cli.main(["-m", "seed=1,2,3", *SMALL, "hydra/launcher=basic", f"hydra.sweep.dir={sweep}"])
    err = capsys.readouterr().err
    assert exc.value.code == 1
    done = sorted(p.parent.name.split("_")[0] for p in sweep.glob("*/kpis.json"))
    assert done == ["0", "2"]  # seeds 1 and 3
    (failed,) = sweep.glob("*/error.json")
    assert json.loads(failed.read_text())["message"] == "solver exploded"
    summary = json.loads((sweep / "sweep_summary.json").read_text())
    assert summary["expected"] == 3
    assert len(summary["finished"]) == 2
    assert [f["run"].split("_")[0] for f in summary["failed"]] == ["1"]
    assert "2 of 3 runs finished" in err
    assert "RuntimeError: solver exploded" in err
    assert len(collect_runs(sweep)) == 2


def test_default_run_dir_is_unique_per_process(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    cli.main(SMALL)
    capsys.readouterr()
    (run,) = (tmp_path / "outputs" / "orderly").iterdir()
    assert run.name.endswith(f"_{os.getpid()}")
    assert (run / "kpis.json").is_file()


def test_a_mixed_run_is_filed_under_what_it_runs(tmp_path, monkeypatch, capsys):
    # Started from the orderly preset with the bank switched on: neither preset's
    # modules, so the run directory and config.json both say mix-orderly_plan+bank.
    monkeypatch.chdir(tmp_path)
    cli.main([*SMALL, "phase.bank=true"])
    capsys.readouterr()
    assert [d.name for d in (tmp_path / "outputs").iterdir()] == ["mix-orderly_plan+bank"]
    (run,) = (tmp_path / "outputs" / "mix-orderly_plan+bank").iterdir()
    config = json.loads((run / "config.json").read_text())
    assert config["phase"]["name"] == "mix-orderly_plan+bank"


@pytest.mark.parametrize("launcher", ["submitit_slurm", "submitit_local", "joblib_bounded"])
def test_every_launcher_composes(launcher, capsys):
    # before: conf/config.yaml set joblib's n_jobs, which SlurmQueueConf rejects
    cli.main(["--cfg", "hydra", f"hydra/launcher={launcher}"])
    out = capsys.readouterr().out
    target = {
        "submitit_slurm": "SlurmLauncher",
        "submitit_local": "LocalLauncher",
        "joblib_bounded": "JoblibLauncher",
    }[launcher]
    assert f"hydra_plugins.parksim_launchers.launchers.{target}\n" in out
    assert ("n_jobs: -1" in out) == (launcher == "joblib_bounded")


def _old_run(run_dir: Path) -> None:
    (run_dir / "figures").mkdir(parents=True)
    for name in ("kpis.json", "config.json", "saving_plans.parquet", "users.parquet"):
        (run_dir / name).write_text("old")
    (run_dir / "figures" / "load_vs_capacity.png").write_text("old")
    (run_dir / "notes.txt").write_text("mine")
    (run_dir / ".hydra").mkdir()
    (run_dir / ".hydra" / "overrides.yaml").write_text("- seed=0\n")


def _dead_pid() -> int:
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(proc.stdout)


def test_prepare_run_dir_removes_what_runs_own_and_nothing_else(tmp_path):
    run = tmp_path / "run"
    _old_run(run)
    stale = run / f".users.parquet.tmp-{_dead_pid()}"
    stale.write_text("half")
    live = run / f".users.parquet.tmp-{os.getpid()}"
    live.write_text("being written")
    prepare_run_dir(run)
    left = sorted(str(p.relative_to(run)) for p in run.rglob("*") if p.is_file())
    assert left == [".hydra/overrides.yaml", live.name, "notes.txt"]
    assert remove_stale_temp_files(run) == []


def test_a_failed_rerun_leaves_no_old_kpis(tmp_path, monkeypatch):
    run = tmp_path / "run"
    _old_run(run)

    class Boom:
        def __init__(self, cfg):
            raise RuntimeError("boom")

    monkeypatch.setattr("simulation.model.ParkModel", Boom)
    with pytest.raises(RuntimeError):
        run_simulation(compose_config(SMALL), run)
    assert not (run / "kpis.json").exists()
    assert not (run / "saving_plans.parquet").exists()
    assert collect_runs(tmp_path).empty


@pytest.mark.parametrize("failing", ["events", "days"])
def test_a_failing_output_file_leaves_no_kpis_and_no_temp_file(tmp_path, monkeypatch, failing):
    # events.parquet is written by a worker thread while the main thread writes the
    # others: either one failing fails the run, after both have stopped.
    import simulation.outputs as outputs
    from simulation.platform import InformationPlatform

    def boom(*args, **kwargs):
        raise OSError(f"{failing}: disk full")

    if failing == "events":
        monkeypatch.setattr(InformationPlatform, "tables", boom)
    else:
        real = outputs.write_atomic
        monkeypatch.setattr(
            outputs,
            "write_atomic",
            lambda path, writer: boom() if path.name == "days.parquet" else real(path, writer),
        )
    run = tmp_path / "run"
    with pytest.raises(OSError, match=f"{failing}: disk full"):
        run_simulation(compose_config(SMALL), run)
    names = sorted(p.name for p in run.iterdir())
    assert "kpis.json" not in names and not [n for n in names if ".tmp-" in n]
    assert ("events.parquet" in names) == (failing == "days")


def test_unwritable_run_dir_fails_before_the_simulation(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a directory should be")

    def never(cfg):
        raise AssertionError("the model was built")

    monkeypatch.setattr("simulation.model.ParkModel", never)
    with pytest.raises(RunDirError, match="not writable"):
        run_simulation(compose_config(SMALL), blocker / "run")


def test_sigterm_while_writing_removes_the_temp_file_and_exits_143(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from simulation.io import sigterm_as_exit, write_atomic

        def slow(p):
            p.write_text("half")
            print("writing", flush=True)
            time.sleep(30)

        with sigterm_as_exit():
            write_atomic(Path({str(tmp_path)!r}) / "kpis.json", slow)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    with subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "writing"
        proc.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        assert proc.wait(timeout=20) == SIGTERM_EXIT_CODE == 143
        assert time.monotonic() - t0 < 10
    assert list(tmp_path.iterdir()) == []


def test_parksim_launchers_are_found_by_hydra_under_an_editable_install():
    # Hydra walks the hydra_plugins namespace path; under `pip install -e` the
    # package is mapped by an import hook, so without expose_launchers() the
    # walk misses it and hydra/launcher=submitit_slurm fails ("Unknown plugin
    # class"). A fresh process, as the CLI is.
    code = (
        "from simulation.config import expose_launchers\n"
        "expose_launchers()\n"
        "from hydra.core.plugins import Plugins\n"
        "from hydra.plugins.launcher import Launcher\n"
        "print(sorted(p.__name__ for p in Plugins.instance().discover(Launcher)"
        " if p.__module__.startswith('hydra_plugins.parksim_launchers')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/"
    )
    assert "SlurmLauncher" in out.stdout and "LocalLauncher" in out.stdout, out.stderr


@pytest.mark.parametrize(
    ("command", "members"),
    [
        (["seed=0,1", "hydra.sweep.dir=sw"], [["seed=0"], ["seed=1"], ["seed=1"]]),
        (
            ["hydra.sweep.dir=sw", "hydra.job.config.override_dirname.exclude_keys=[seed]"],
            [
                ["park=small", "seed=4", "+extra=1"],
                ["phase=mature", "seed=4", "output.figures=false"],
                ["experiment=ev_value", "days=3", "park=small"],
                ["park=small", "seed=5", "+extra=2", "hydra.job.name=other"],
                ["hydra/launcher=submitit_local", "seed=1"],
            ],
        ),
    ],
)
def test_sweep_member_composition_is_hydras(command, members):
    """Members composed from their groups' composition equal Hydra's own load_sweep_config."""
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_config_search_path
    from hydra.core.global_hydra import GlobalHydra
    from hydra.types import RunMode

    from hydra_plugins.parksim_launchers import launchers
    from simulation import hydra_compose
    from simulation.config import register_configs
    from simulation.run import CONF_DIR

    register_configs()
    GlobalHydra.instance().clear()
    hydra = Hydra.create_main_hydra2(
        task_name="cli", config_search_path=create_config_search_path(f"file://{CONF_DIR}")
    )
    try:
        master = hydra.compose_config("config", command, run_mode=RunMode.MULTIRUN)
        hydra_compose.clear()
        for member in members:
            ours = launchers.compose_sweep_member(hydra.config_loader, master, member)
            theirs = hydra.config_loader.load_sweep_config(master, member)
            assert OmegaConf.to_yaml(ours) == OmegaConf.to_yaml(theirs), member
            assert ours.hydra.job.override_dirname == theirs.hydra.job.override_dirname
        groups = {
            tuple(
                o for o in m if o.split("=")[0] in ("park", "phase", "experiment", "hydra/launcher")
            )
            for m in members
        }
        assert len(hydra_compose._GROUPS) == len(groups)  # one composition per group choice
    finally:
        hydra_compose.clear()
        GlobalHydra.instance().clear()


def test_group_compositions_sent_to_a_worker_are_used_there():
    """A forked sweep's workers receive the first member's group composition with the
    sweep's state (cloudpickled, as hydra_plugins.parksim_launchers sends it): kept
    in the worker, a member with the same groups is composed without composing its
    groups again, and equals Hydra's own load_sweep_config; a process that keeps them
    does not replace a composition of its own."""
    import cloudpickle
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_config_search_path
    from hydra.core.global_hydra import GlobalHydra
    from hydra.types import RunMode

    from hydra_plugins.parksim_launchers import launchers
    from simulation import hydra_compose
    from simulation.config import register_configs
    from simulation.run import CONF_DIR

    register_configs()
    GlobalHydra.instance().clear()
    hydra = Hydra.create_main_hydra2(
        task_name="cli", config_search_path=create_config_search_path(f"file://{CONF_DIR}")
    )
    loader = hydra.config_loader
    calls = []

    class Counting:
        repository = loader.repository

        def __getattr__(self, name):
            return getattr(loader, name)

        def load_configuration(self, *args, **kwargs):
            calls.append(kwargs.get("overrides"))
            return loader.load_configuration(*args, **kwargs)

    try:
        command = ["seed=0,1", "phase=mature", "days=3"]
        master = hydra.compose_config("config", command, run_mode=RunMode.MULTIRUN)
        hydra_compose.clear()
        launchers.compose_sweep_member(Counting(), master, ["seed=0", "phase=mature", "days=3"])
        assert len(calls) == 1
        sent = cloudpickle.loads(cloudpickle.dumps(hydra_compose.kept()))
        hydra_compose.clear()  # the worker's process
        hydra_compose.keep(sent)
        member = ["seed=1", "phase=mature", "days=3"]
        ours = launchers.compose_sweep_member(Counting(), master, member)
        assert len(calls) == 1  # no second group composition
        theirs = loader.load_sweep_config(master, member)
        assert OmegaConf.to_yaml(ours) == OmegaConf.to_yaml(theirs)
        own = next(iter(hydra_compose._GROUPS.values()))
        hydra_compose.keep({k: None for k in hydra_compose._GROUPS})
        assert next(iter(hydra_compose._GROUPS.values())) is own
    finally:
        hydra_compose.clear()
        GlobalHydra.instance().clear()


def test_tables_are_the_files_pandas_writes(tmp_path):
    """simulation.io.write_frame writes, byte for byte, the file
    ``frame.to_parquet(path, index=False)`` writes, for the column kinds the outputs
    hold (datetimes, categoricals, strings, floats, ints, booleans; empty too)."""
    import numpy as np
    import pandas as pd

    from simulation.io import write_frame

    n = 1000
    frame = pd.DataFrame(
        {
            "time": pd.date_range("2026-01-01", periods=n, freq="h"),
            "payer": pd.Categorical.from_codes(np.arange(n) % 3, categories=["a", "b", "c"]),
            "purpose": pd.Categorical(np.where(np.arange(n) % 2, "tariff", "fee")),
            "name": [f"user_{i % 7}" for i in range(n)],
            "amount_cny": np.linspace(-1.5, 2.5, n),
            "day": np.arange(n, dtype=np.int64),
            "scarcity": np.arange(n) % 5 == 0,
        },
        index=np.arange(n) + 10,
    )
    for name, table in (("full", frame), ("empty", frame.iloc[:0])):
        ours, theirs = tmp_path / f"ours_{name}.parquet", tmp_path / f"theirs_{name}.parquet"
        write_frame(ours, table)
        table.to_parquet(theirs, index=False)
        assert ours.read_bytes() == theirs.read_bytes(), name
