"""Sweep members in fork-server workers (simulation.forked_sweep) and the choice of them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from simulation import forked_sweep

ROOT = Path(__file__).resolve().parent.parent


def _fake_execute_job():
    """A stand-in for the plugin's execute_job: returns (num, overrides, pid), or dies.

    ``die`` kills its worker with SIGKILL; ``exit`` raises SystemExit(3) out of
    the member, as SIGTERM or Ctrl-C would raise their exceptions.
    """

    def execute_job(num, overrides, hydra_context, config, task_function, singleton_state):
        assert (hydra_context, config, task_function) == ("ctx", "cfg", "task")
        if overrides == ["die"]:
            os.kill(os.getpid(), signal.SIGKILL)
        if overrides == ["exit"]:
            raise SystemExit(3)
        return (num, overrides, os.getpid())

    return execute_job


def _run(jobs, n_workers=2):
    execute = _fake_execute_job()
    return forked_sweep.run_members(jobs, n_workers, "ctx", "cfg", "task", {}, execute=execute)


def test_members_run_in_forked_workers_results_in_job_order():
    jobs = [(10 + i, [f"seed={i}"]) for i in range(6)]
    got = _run(jobs)
    assert [(num, ov) for num, ov, _ in got] == jobs
    pids = {pid for *_, pid in got}
    assert os.getpid() not in pids
    assert 1 <= len(pids) <= 2  # two workers at most, reused across members


def test_a_worker_starts_with_the_preloaded_modules_frozen_for_the_collector():
    """The fork server imports PRELOAD (simulation._fork_preload), frozen; workers inherit it."""

    def execute_job(num, overrides, hydra_context, config, task_function, singleton_state):
        import gc

        return (gc.get_freeze_count(), [m for m in forked_sweep.PRELOAD if m not in sys.modules])

    got = forked_sweep.run_members([(0, [])], 1, "ctx", "cfg", "task", {}, execute=execute_job)
    frozen, missing = got[0]
    assert missing == []
    # far more than this test process's own objects at import: the model, pandas, Hydra
    assert frozen > 50_000


def test_a_member_whose_worker_dies_fails_alone():
    jobs = [(0, ["seed=0"]), (1, ["die"]), (2, ["seed=2"]), (3, ["exit"]), (4, ["seed=4"])]
    jobs += [(5, ["seed=5"]), (6, ["seed=6"])]
    got = _run(jobs)
    assert got[1] == forked_sweep.WorkerDied("its worker process was killed by SIGKILL")
    reason = "its worker process exited with status 3 before returning the result"
    assert got[3] == forked_sweep.WorkerDied(reason)
    ok = [g for g in got if not isinstance(g, forked_sweep.WorkerDied)]
    assert [g[:2] for g in ok] == [(n, ov) for n, ov in jobs if ov not in (["die"], ["exit"])]
    # two workers and one new worker per death at most; not at least two: when the
    # first member's result and the death arrive in one wait, the surviving worker
    # may take every member left while the replacement is still starting
    assert 1 <= len({pid for *_, pid in ok}) <= 4


def test_a_new_worker_takes_the_place_of_one_that_died():
    # one worker: the member after the death can only run on its replacement
    jobs = [(0, ["seed=0"]), (1, ["die"]), (2, ["seed=2"]), (3, ["exit"]), (4, ["seed=4"])]
    got = _run(jobs, n_workers=1)
    assert isinstance(got[1], forked_sweep.WorkerDied)
    assert isinstance(got[3], forked_sweep.WorkerDied)
    pids = [got[0][2], got[2][2], got[4][2]]
    assert len(set(pids)) == 3


def test_fork_is_chosen_only_for_the_plugins_defaults(monkeypatch):
    from hydra_plugins.parksim_launchers import launchers

    monkeypatch.setattr(forked_sweep, "available", lambda: True)
    monkeypatch.setattr("joblib._parallel_backends.cpu_count", lambda: 4)  # effective_n_jobs
    default = {"n_jobs": -1, "backend": None, "prefer": "processes", "require": None}
    default |= {"verbose": 0, "timeout": None, "pre_dispatch": "2*n_jobs"}
    default |= {"batch_size": "auto", "temp_folder": None, "max_nbytes": None, "mmap_mode": "r"}
    workers = launchers._fork_workers
    assert workers(default, 8) == 4  # -1: every CPU
    assert workers(default, 3) == 3  # no more workers than members
    assert workers(default | {"n_jobs": -2}, 8) == 3  # all CPUs but one, as joblib counts
    assert workers(default | {"n_jobs": 2}, 8) == 2
    assert workers(default | {"n_jobs": 1}, 8) == 0  # one worker: the plugin runs in-process
    assert workers(default | {"n_jobs": -4}, 8) == 0
    assert workers(default, 1) == 0
    assert workers(default | {"backend": "loky"}, 8) == 0  # any joblib setting: joblib runs
    assert workers(default | {"timeout": 60.0}, 8) == 0
    assert workers(default | {"batch_size": 2}, 8) == 0
    monkeypatch.setattr(forked_sweep, "available", lambda: False)
    assert workers(default, 8) == 0


def test_a_sweep_starts_the_fork_server_unless_another_launcher_or_one_job():
    from simulation.forked_sweep import forks_workers as _forks_workers

    assert _forks_workers(["seed=1,2", "phase=mature"])
    assert _forks_workers(["hydra/launcher=joblib_bounded", "hydra.launcher.n_jobs=2"])
    assert not _forks_workers(["seed=1,2", "hydra/launcher=submitit_slurm"])
    assert not _forks_workers(["seed=1,2", "hydra/launcher=basic"])
    assert not _forks_workers(["seed=1,2", "hydra.launcher.n_jobs=1"])


def test_the_command_line_of_a_forking_sweep_is_read_without_hydra():
    from simulation.forked_sweep import is_forking_sweep

    assert is_forking_sweep(["-m", "seed=1,2"])
    assert is_forking_sweep(["phase=mature", "--multirun", "hydra.launcher.n_jobs=2"])
    assert not is_forking_sweep(["seed=1"])  # a single run
    assert not is_forking_sweep(["-m", "--cfg", "job"])  # prints the config
    assert not is_forking_sweep(["-m", "--info=all"])
    assert not is_forking_sweep(["-m", "hydra.launcher.n_jobs=1"])
    assert not is_forking_sweep(["-m", "hydra/launcher=submitit_slurm"])


@pytest.mark.parametrize(
    "entry",
    [
        "runpy.run_module('simulation.cli', run_name='__main__')",  # python -m simulation.cli
        "__import__('simulation.console').console.main()",  # the parksim script
    ],
)
def test_a_sweep_starts_the_fork_server_before_importing_hydra(entry: str) -> None:
    # The server imports what a member needs on the other core while the command
    # imports Hydra and checks the members: it is started first.
    code = (
        "import json, runpy, sys\n"
        "import simulation.forked_sweep as fs\n"
        "seen = []\n"
        "def prestart():\n"
        "    seen.append('hydra' in sys.modules)\n"
        "    print(json.dumps(seen)); sys.stdout.flush()\n"
        "    raise SystemExit(0)\n"
        "fs.prestart = prestart\n"
        "sys.argv = ['parksim', '-m', 'seed=0,1', 'days=1']\n"
        f"{entry}\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["[false]"]


def _sweep(tmp_path: Path, name: str, *extra: str) -> tuple[subprocess.CompletedProcess, Path]:
    sweep = tmp_path / name
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    cmd = [sys.executable, "-m", "simulation.cli", "-m", "seed=1,2,3", "park=small", "days=2"]
    cmd += ["output.figures=false", "progress=false", f"hydra.sweep.dir={sweep}", *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    return proc, sweep


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork start: Linux only")
def test_forked_sweep_writes_what_the_plugins_loky_sweep_writes(tmp_path):
    forked, fdir = _sweep(tmp_path, "forked", "hydra.launcher.n_jobs=2")
    loky, ldir = _sweep(tmp_path, "loky", "hydra.launcher.n_jobs=2", "hydra.launcher.backend=loky")
    assert forked.returncode == 0, forked.stderr
    assert loky.returncode == 0, loky.stderr
    assert "2 forked workers are launching 3 jobs" in forked.stdout
    assert "Joblib.Parallel(" in loky.stdout and "forked workers" not in loky.stdout
    for name in ("kpis.json", "ledger.parquet", "users.parquet", "events.parquet"):
        f = sorted(fdir.glob(f"*/{name}"))
        ell = sorted(ldir.glob(f"*/{name}"))
        assert [p.parent.name for p in f] == [p.parent.name for p in ell]
        assert len(f) == 3
        assert [p.read_bytes() for p in f] == [p.read_bytes() for p in ell], name
    summary = json.loads((fdir / "sweep_summary.json").read_text())
    assert (len(summary["finished"]), summary["failed"], summary["missing"]) == (3, [], 0)


def test_a_member_whose_worker_died_is_recorded_as_failed(tmp_path, monkeypatch):
    from hydra.core.utils import JobReturn, JobStatus
    from omegaconf import OmegaConf

    from hydra_plugins.parksim_launchers.launchers import JoblibLauncher
    from simulation.cli import summarise_sweep

    sweep = tmp_path / "sweep"
    done = JobReturn(overrides=["seed=1"], status=JobStatus.COMPLETED)

    def run_members(jobs, n_workers, *state):
        assert jobs == [(5, ["seed=1"]), (6, ["seed=2"])] and n_workers == 2
        return [done, forked_sweep.WorkerDied("its worker process was killed by SIGKILL")]

    monkeypatch.setattr(forked_sweep, "run_members", run_members)
    launcher = JoblibLauncher(n_jobs=2)
    hydra = {"sweep": {"dir": str(sweep)}, "hydra_logging": {"root": None}, "verbose": False}
    launcher.config = OmegaConf.create({"hydra": hydra})
    launcher.task_function = lambda cfg: None
    got = launcher._launch_forked([["seed=1"], ["seed=2"]], 5, 2)
    assert got[0] is done
    assert got[1].status == JobStatus.COMPLETED  # so that Hydra's sweeper goes on
    record = json.loads((sweep / "failed_job_6.json").read_text())
    assert record["run"] == "#6 seed=2" and record["error"] == "WorkerDied"
    assert record["message"] == "its worker process was killed by SIGKILL"
    summary = summarise_sweep(sweep, expected=2)
    assert summary["failed"] == [{k: record[k] for k in ("run", "error", "message")}]


_ORPHAN = """
import os, sys, time
from simulation import forked_sweep

def execute_job(num, overrides, *state):
    # One write(2) per line, under PIPE_BUF: the two workers' lines never
    # interleave. A fork server's child has an unbuffered stdout, where print
    # writes the number and the newline separately.
    os.write(1, f"{os.getpid()}\\n".encode())
    time.sleep(120)

forked_sweep.run_members([(0, []), (1, []), (2, [])], 2, None, None, None, {}, execute_job)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):  # gone before or while read
        return False
    return state != "Z"  # a zombie has exited (the container's init may not reap it)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork start: Linux only")
def test_workers_die_with_the_sweeps_process(tmp_path):
    import time

    cmd = [sys.executable, "-c", _ORPHAN]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=tmp_path) as proc:
        assert proc.stdout is not None
        workers = [int(proc.stdout.readline()) for _ in range(2)]
        assert all(_alive(pid) for pid in workers)
        proc.kill()  # SIGKILL: the sweep's process cannot stop its workers itself
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [pid for pid in workers if _alive(pid)]
    for pid in left:  # leave no orphan behind when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not left


def test_a_class_its_module_no_longer_holds_is_pickled_by_its_path(tmp_path, monkeypatch):
    # Hydra's plugin scan executes plugin modules again: a config composed before it
    # holds the old class, which plain pickle refuses; the result is sent by path.
    import importlib
    import io
    import pickle

    (tmp_path / "rerun_mod.py").write_text("class Conf:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    mod = importlib.import_module("rerun_mod")
    old = mod.Conf
    importlib.reload(mod)
    assert mod.Conf is not old
    payload = {"node_type": old, "value": [1.5, "x"]}
    with pytest.raises(pickle.PicklingError, match="not the same object"):
        pickle.dumps(payload)
    buf = io.BytesIO()
    forked_sweep._Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(payload)
    back = pickle.loads(buf.getvalue())
    assert back == {"node_type": mod.Conf, "value": [1.5, "x"]}
    monkeypatch.delitem(sys.modules, "rerun_mod")
