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


@pytest.fixture
def app_hydra():
    """Hydra set up as the ``parksim`` app sets it up (task ``cli``, ``conf/``)."""
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_config_search_path
    from hydra.core.global_hydra import GlobalHydra

    from simulation.config import register_configs
    from simulation.run import CONF_DIR

    register_configs()
    GlobalHydra.instance().clear()
    hydra = Hydra.create_main_hydra2(
        task_name="cli", config_search_path=create_config_search_path(f"file://{CONF_DIR}")
    )
    yield hydra
    GlobalHydra.instance().clear()


@pytest.mark.parametrize(
    "overrides",
    [
        [],
        ["park=small", "seed=3", "phase=mature"],
        ["experiment=ev_value", "hydra.run.dir=x/y", "hydra.job.chdir=false", "+extra=1"],
    ],
)
def test_single_run_composition_is_hydras_run_composition(app_hydra, overrides):
    """The one composition of a single run equals what Hydra.run composes on its own."""
    from hydra.types import RunMode
    from omegaconf import OmegaConf

    from simulation.hydra_compose import compose_run

    ours, mode = compose_run(app_hydra.config_loader, "config", overrides)
    theirs = app_hydra.config_loader.load_configuration(
        config_name="config", overrides=[*overrides, "hydra.mode=RUN"], run_mode=RunMode.RUN
    )
    assert mode is None
    assert ours.hydra.mode == theirs.hydra.mode == RunMode.RUN
    assert list(ours.hydra.overrides.hydra)[-1] == "hydra.mode=RUN"
    assert OmegaConf.to_yaml(ours) == OmegaConf.to_yaml(theirs)
    assert OmegaConf.is_struct(ours) and OmegaConf.is_struct(theirs)


@pytest.mark.parametrize(
    "overrides",
    [
        ["seed=0,1,2", "phase=orderly", "days=365", "hydra.launcher.n_jobs=2", "hydra.sweep.dir=a"],
        ["phase=orderly,mature", "park=small", "seed=3"],
        ["hydra/launcher=joblib", "experiment=ev_value", "+extra=1", "seed=range(3)"],
        ["park=small", "hydra.job.chdir=false", "~hydra.job_logging.root"],
        [],
    ],
)
def test_sweep_composition_is_hydras_multirun_composition(app_hydra, overrides):
    """A sweep's config from the kept group composition equals Hydra's own (sweeps recorded)."""
    from hydra.types import RunMode
    from omegaconf import OmegaConf

    from simulation.hydra_compose import clear, compose_multirun

    overrides = [*overrides, "hydra.mode=MULTIRUN"]
    clear()
    try:
        ours = compose_multirun(app_hydra.config_loader, "config", overrides)
        again = compose_multirun(app_hydra.config_loader, "config", overrides)  # kept groups
    finally:
        clear()
    theirs = app_hydra.config_loader.load_configuration(
        config_name="config", overrides=list(overrides), run_mode=RunMode.MULTIRUN
    )
    assert list(theirs.hydra.overrides.task) == [o for o in overrides if "hydra" not in o]
    assert OmegaConf.to_yaml(ours) == OmegaConf.to_yaml(again) == OmegaConf.to_yaml(theirs)
    assert OmegaConf.is_struct(ours) and not OmegaConf.is_readonly(ours.hydra)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["hydra.run.dir=a,b"], "Sweeping over Hydra's configuration is not supported"),
        (["park=nope"], "Could not find 'park/nope'"),
        (["park.n_userz=3"], "Could not override 'park.n_userz'"),
    ],
)
def test_a_bad_sweep_config_fails_as_hydras_does(app_hydra, overrides, message):
    from hydra.errors import HydraException
    from hydra.types import RunMode

    from simulation.hydra_compose import clear, compose_multirun

    with pytest.raises(HydraException, match=message):
        app_hydra.config_loader.load_configuration(
            config_name="config", overrides=overrides, run_mode=RunMode.MULTIRUN
        )
    try:
        with pytest.raises(HydraException, match=message):
            compose_multirun(app_hydra.config_loader, "config", overrides)
    finally:
        clear()


def test_a_sweep_is_checked_in_hydra_and_composes_its_groups_once(app_hydra, monkeypatch, capsys):
    """The pre-flight check's group composition serves the sweep's config and its members."""
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra._internal.hydra import Hydra
    from hydra.plugins.sweeper import Sweeper
    from hydra.types import RunMode
    from omegaconf import OmegaConf

    from simulation import hydra_compose
    from simulation.cli import _state
    from simulation.command_check import checked_in_hydra

    hydra_compose.clear()
    calls = []
    original = ConfigLoaderImpl.load_configuration

    def counting(self, *args, **kwargs):
        calls.append(kwargs.get("run_mode", args[2] if len(args) > 2 else None))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ConfigLoaderImpl, "load_configuration", counting)
    originals = (Hydra.get_mode, Sweeper.validate_batch_is_legal)
    command = ["seed=0,1", "park=small", "hydra.sweep.dir=s"]
    try:
        with checked_in_hydra(True):
            assert app_hydra.get_mode("config", command) is None
            assert _state["expected"] == 2 and _state["batch_known"]
            assert calls == [RunMode.RUN]  # the members' groups, composed once
            sweep = app_hydra.compose_config(
                "config", [*command, "hydra.mode=MULTIRUN"], RunMode.MULTIRUN
            )
            # every member is known to compose: Hydra's check of the batch is skipped
            assert Sweeper.validate_batch_is_legal(None, [["park.n_userz=1"]]) is None  # type: ignore[arg-type]
            # a member as the launcher composes it: the sweep's hydra overrides first
            member = hydra_compose.compose(
                app_hydra.config_loader,
                "config",
                [*sweep.hydra.overrides.hydra, "seed=1", "park=small"],
            )
            assert calls == [RunMode.RUN]
            with pytest.raises(SystemExit) as exited:
                app_hydra.get_mode("config", ["seed=0,1", "park.n_users=0"])
    finally:
        hydra_compose.clear()
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "run 0 (seed=0 park.n_users=0): park.n_users=0" in err
    assert "2 of 2 runs have a bad config; nothing was run" in err
    assert (Hydra.get_mode, Sweeper.validate_batch_is_legal) == originals
    assert ConfigLoaderImpl.load_configuration is counting
    theirs = original(
        app_hydra.config_loader, "config", [*command, "hydra.mode=MULTIRUN"], RunMode.MULTIRUN
    )
    assert OmegaConf.to_yaml(sweep) == OmegaConf.to_yaml(theirs)
    assert member.seed == 1 and member.park.name == "small"


def test_compose_once_hands_over_one_composition_and_restores(app_hydra, monkeypatch):
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra._internal.hydra import Hydra
    from hydra.types import RunMode

    from simulation import hydra_compose
    from simulation.command_check import compose_once

    hydra_compose.clear()
    calls = []
    original = ConfigLoaderImpl.load_configuration

    def counting(self, *args, **kwargs):
        calls.append(args[1] if len(args) > 1 else kwargs["overrides"])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ConfigLoaderImpl, "load_configuration", counting)
    with compose_once():
        assert app_hydra.get_mode("config", ["park=small"]) is None
        cfg = app_hydra.compose_config("config", ["park=small", "hydra.mode=RUN"], RunMode.RUN)
        assert cfg.park.name == "small"
        assert len(calls) == 1  # Hydra.run's composition was the get_mode one
        # the same groups again: composed from the kept group composition
        assert app_hydra.get_mode("config", ["park=small", "seed=4"]) is None
        assert len(calls) == 1
        # a config (here: an override) that sets the mode gets Hydra's own compositions
        assert app_hydra.get_mode("config", ["hydra.mode=MULTIRUN"]) == RunMode.MULTIRUN
        app_hydra.compose_config("config", ["hydra.mode=MULTIRUN"], RunMode.RUN)
        assert len(calls) == 3
    assert ConfigLoaderImpl.load_configuration is counting
    assert Hydra.get_mode.__qualname__ == "Hydra.get_mode"


def test_single_run_bad_config_writes_nothing(tmp_path):
    proc = _parksim(tmp_path, "park=small", "park.n_users=0")
    assert proc.returncode == 2
    assert proc.stderr.startswith("parksim: error: park.n_users=0")
    assert not (tmp_path / "run").exists()


def test_an_edited_config_file_is_composed_afresh(tmp_path, monkeypatch):
    """The kept group composition is keyed by the config files' modification times."""
    import shutil

    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_config_search_path
    from hydra.core.global_hydra import GlobalHydra

    from simulation import hydra_compose
    from simulation.config import register_configs
    from simulation.run import CONF_DIR

    conf = tmp_path / "conf"
    shutil.copytree(CONF_DIR, conf)
    register_configs()
    GlobalHydra.instance().clear()
    hydra = Hydra.create_main_hydra2(
        task_name="cli", config_search_path=create_config_search_path(f"file://{conf}")
    )
    try:
        first = hydra_compose.compose(hydra.config_loader, "config", ["park=small"])
        small = conf / "park" / "small.yaml"
        text = small.read_text()
        n_users = int(first.park.n_users)
        small.write_text(text.replace(f"n_users: {n_users}", f"n_users: {n_users + 1}"))
        os.utime(small, ns=(small.stat().st_atime_ns, small.stat().st_mtime_ns + 10**9))
        again = hydra_compose.compose(hydra.config_loader, "config", ["park=small"])
        assert int(again.park.n_users) == n_users + 1
    finally:
        hydra_compose.clear()
        GlobalHydra.instance().clear()


# A sweep through the console script, one member failing at run time; it prints
# which of the interpreter's exit hooks ran: ``atexit`` ones run on the quick exit
# too, ``threading``'s (loky's executor shuts down there) only on a full shutdown.
_CONSOLE_SWEEP = """
import atexit, sys, threading
from simulation import cli
real = cli.run_simulation
def flaky(cfg, out_dir=None, progress=None):
    if cfg.seed == 2:
        raise RuntimeError("solver exploded")
    return real(cfg, out_dir, progress=False)
cli.run_simulation = flaky
atexit.register(lambda: print("atexit hook ran", flush=True))
threading._register_atexit(lambda: print("threading hook ran", flush=True))
sys.argv = ["parksim", *sys.argv[1:]]
from simulation.quick_exit import exit_after
exit_after(cli.main, cli.ran_a_sweep)
"""


@pytest.mark.parametrize(
    ("launcher", "quick"),
    [
        (["hydra.launcher.n_jobs=1"], True),  # members in this process
        (["hydra.launcher.n_jobs=2"], sys.platform.startswith("linux")),  # forked workers
        (["hydra.launcher.n_jobs=2", "hydra.launcher.backend=loky"], False),
    ],
)
def test_a_sweep_exits_quickly_only_when_nothing_is_left_running(tmp_path, launcher, quick):
    sweep = tmp_path / "sweep"
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    cmd = [sys.executable, "-c", _CONSOLE_SWEEP, "-m", "seed=1,2,3", "park=small", "days=2"]
    cmd += ["output.figures=false", "progress=false", f"hydra.sweep.dir={sweep}", *launcher]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr  # EXIT_FAILED: one member failed
    assert "atexit hook ran" in proc.stdout
    assert ("threading hook ran" in proc.stdout) is not quick
    summary = json.loads((sweep / "sweep_summary.json").read_text())
    assert (summary["expected"], len(summary["finished"]), len(summary["failed"])) == (3, 2, 1)
    assert "2 of 3 runs finished" in proc.stderr


_LEFT_RUNNING = """
import multiprocessing, threading
from simulation.quick_exit import _nothing_left_running
print(_nothing_left_running())
stop = threading.Event()
worker = threading.Thread(target=stop.wait)
worker.start()
print(_nothing_left_running())  # a non-daemon thread
stop.set(); worker.join()
print(_nothing_left_running())
if __name__ == "__main__":
    child = multiprocessing.get_context("fork").Process(target=stop.wait, args=(60,))
    child.start()
    print(_nothing_left_running())  # a child process
    child.kill(); child.join()
    print(_nothing_left_running())
    from joblib import Parallel, delayed
    Parallel(n_jobs=2)(delayed(abs)(i) for i in range(2))
    print(_nothing_left_running())  # loky's executor
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork start: Linux only")
def test_nothing_left_running_sees_threads_children_and_lokys_executor(tmp_path):
    script = tmp_path / "left.py"
    script.write_text(_LEFT_RUNNING)
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.split() == ["True", "False", "True", "False", "True", "False"]
