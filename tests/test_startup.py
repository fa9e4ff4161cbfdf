"""Start-up: a run imports what it uses (mesa's core classes; scipy only when it solves).

Each check runs in a fresh interpreter, since this test process has imported
everything already.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _fresh(code: str, **env: str | None) -> dict:
    """Run ``code`` in a fresh interpreter at the repository root; its last stdout line as JSON.

    Keyword arguments set environment variables for it (None removes one).
    """
    import os

    environ = {k: v for k, v in os.environ.items() if k not in env}
    environ.update({k: v for k, v in env.items() if v is not None})
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=environ,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_importing_the_engine_defers_mesas_package_and_scipy():
    out = _fresh(
        """
        import json, sys
        import simulation.cli, simulation.model, simulation.outputs, simulation.run
        import mesa, mesa.agent, mesa.model, mesa.datacollection
        seen = {m: m in sys.modules for m in
                ("mesa.space", "mesa.experimental", "mesa.batchrunner", "networkx", "scipy")}
        same = [mesa.Agent is mesa.agent.Agent, mesa.Model is mesa.model.Model,
                mesa.DataCollector is mesa.datacollection.DataCollector]
        from mesa import batch_run  # any other name runs mesa's own __init__
        import importlib.metadata
        after = {"experimental": "mesa.experimental" in sys.modules,
                 "space": mesa.space.__name__,
                 "version": mesa.__version__ == importlib.metadata.version("mesa"),
                 "batch_run": batch_run.__module__,
                 "same": mesa.Agent is mesa.agent.Agent}
        print(json.dumps({"seen": seen, "same": same, "after": after}))
        """
    )
    assert out["seen"] == dict.fromkeys(
        ("mesa.space", "mesa.experimental", "mesa.batchrunner", "networkx", "scipy"), False
    )
    assert out["same"] == [True, True, True]
    assert out["after"] == {
        "experimental": True,
        "space": "mesa.space",
        "version": True,
        "batch_run": "mesa.batchrunner",
        "same": True,
    }


def test_mesa_model_is_imported_with_its_own_logger_names_and_inspect_restored():
    # agents._mesa imports mesa.model with inspect's stack functions answering from
    # the frames alone: mesa_logging names the same logger and class as with the
    # real ones (compared with a plain import in a second fresh interpreter), and
    # inspect's functions are the originals again afterwards.
    probe = """
        import inspect, json, sys
        before = (inspect.stack, inspect.getouterframes, inspect.getmodule)
        {imports}
        import mesa.model
        free = inspect.getclosurevars(mesa.model.Model.__init__).nonlocals
        print(json.dumps({{"logger": mesa.model._mesa_logger.name,
                          "method_logger": free["logger"].name,
                          "classname": free["classname"],
                          "restored": before == (inspect.stack, inspect.getouterframes,
                                                 inspect.getmodule),
                          "deferred": "mesa.space" not in sys.modules}}))
        """
    ours = _fresh(probe.format(imports="import simulation.model"))
    plain = _fresh(probe.format(imports="pass"))
    assert ours == {
        "logger": "MESA.mesa.model",
        "method_logger": "MESA.mesa.model",
        "classname": "Model",
        "restored": True,
        "deferred": True,
    }
    assert {k: v for k, v in plain.items() if k != "deferred"} == {
        k: v for k, v in ours.items() if k != "deferred"
    }


def test_mesa_imported_first_is_left_alone():
    out = _fresh(
        """
        import json, sys
        import mesa
        before = sys.modules["mesa"]
        import agents, simulation.model
        from agents._mesa import install
        print(json.dumps({"same": install() is before and sys.modules["mesa"] is before,
                          "getattr": "__getattr__" in vars(before)}))
        """
    )
    assert out == {"same": True, "getattr": False}


def test_scipy_is_imported_by_the_first_milp_only():
    # The greedy plan of a 10,000-user park solves nothing (above the MILP threshold
    # and the LP bound's size: the Lagrangian bound); the default park's first week is
    # certified by its LP bound, solved on highspy; only a MILP imports scipy.optimize.
    out = _fresh(
        """
        import json, sys
        from simulation.config import validate
        from simulation.model import ParkModel
        from simulation.run import compose_config
        seen = []
        for extra in (["park=large", "park.n_users=10000"], [], ["orderly.method=milp"]):
            cfg = compose_config(["phase=orderly", "days=7", "progress=false", *extra])
            validate(cfg)
            model = ParkModel(cfg)
            model.run()
            seen.append([model.steps, "scipy.optimize" in sys.modules])
        print(json.dumps(seen))
        """
    )
    assert out == [[7, False], [7, False], [7, True]]


def test_a_market_day_clears_without_importing_scipy():
    # The mature phase's day LP goes to highspy as arrays (markets/reserve_day.py):
    # clearing a day imports no scipy module (scipy.sparse alone costs about 0.1 s a
    # process). Hand example t1 of tests/markets/test_reserve_day.py: D = 90, R = 10
    # → plant A serves 90 at λ = 20.
    out = _fresh(
        """
        import json, sys
        from markets.reserve_day import co_optimize_day
        day = co_optimize_day([20.0, 50.0], [100.0, 120.0], [100.0, 20.0], [0.0, 0.0],
                              [90.0], [10.0])
        print(json.dumps([round(float(day.dispatch_mw[0, 0]), 9),
                          round(float(day.energy_price_cny_per_mwh[0]), 9),
                          any(k == "scipy" or k.startswith("scipy.") for k in sys.modules)]))
        """
    )
    assert out == [90.0, 20.0, False]


def test_tqdm_is_imported_for_a_progress_bar_only():
    # A run without its bar (progress=false, or stderr not a terminal) imports no tqdm
    # (tqdm.auto and asyncio: about 20 ms); with the bar it does, and runs every day.
    out = _fresh(
        """
        import contextlib, io, json, sys
        from simulation.config import validate
        from simulation.model import ParkModel
        from simulation.run import compose_config
        seen = []
        for progress in (False, True):
            cfg = compose_config(["phase=orderly", "days=3", "output.users_per_day=false"])
            validate(cfg)
            model = ParkModel(cfg)
            with contextlib.redirect_stderr(io.StringIO()):
                model.run(progress=progress)
            seen.append([model.steps, "tqdm" in sys.modules])
        print(json.dumps(seen))
        """
    )
    assert out == [[3, False], [3, True]]


def test_the_first_run_freezes_the_heap_once_and_collects_as_usual_after():
    # simulation.heap: in the command's process (not a program's that calls
    # run_simulation itself), run_simulation freezes what the process holds before
    # its first model (the imports, the config) and never again, so a second run in the same
    # process (a serial sweep's next member) leaves its garbage to the collector;
    # the collector is enabled after both runs, and a cycle made after the freeze is
    # freed by a collection. KPIs do not depend on it: both runs of the same config
    # give the same user cost.
    out = _fresh(
        """
        import gc, json
        from simulation import heap
        from simulation.run import compose_config, run_simulation
        assert gc.get_freeze_count() == 0
        cfg = compose_config(["phase=orderly", "days=3", "output.users_per_day=false"])
        library = run_simulation(cfg)  # a program's own run: its heap is left alone
        assert gc.get_freeze_count() == 0
        heap.for_command()  # as the parksim command and its sweep's workers do
        first = run_simulation(cfg)
        frozen = gc.get_freeze_count()
        second = run_simulation(cfg)
        cycle = []
        cycle.append(cycle)
        del cycle
        freed = gc.collect()
        print(json.dumps({"frozen": frozen > 1000, "again": gc.get_freeze_count() == frozen,
                          "enabled": gc.isenabled(), "freed": freed >= 1,
                          "same": library["user_cost_cny"] == first["user_cost_cny"]
                                  == second["user_cost_cny"]}))
        """
    )
    assert out == {"frozen": True, "again": True, "enabled": True, "freed": True, "same": True}


@pytest.mark.parametrize("entry", ["console", "module"])
def test_the_command_collects_nothing_during_its_imports_and_runs_collected(entry, tmp_path):
    # Both entries (the parksim script, python -m simulation.cli) import with the
    # collector paused and freeze the imports; the run itself is collected as usual
    # (the collector enabled during the model's run). Recorded by a gc callback that
    # a sitecustomize module installs before anything else is imported.
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        textwrap.dedent(
            """
            import atexit, gc, json, os, sys
            seen = {"young": 0}
            def note(phase, info):
                if phase == "start":
                    seen["young"] += 1
            gc.callbacks.append(note)
            def dump():
                with open(os.environ["PK_GC_OUT"], "w") as f:
                    json.dump({**seen, "enabled": gc.isenabled(),
                               "frozen": gc.get_freeze_count() > 10000}, f)
            real_exit = os._exit
            def leave(code):
                dump()
                real_exit(code)
            os._exit = leave
            """
        )
    )
    report = tmp_path / "gc.json"
    run_dir = tmp_path / "run"
    prog = (
        ["-c", "import sys; from simulation.console import main; sys.argv[0] = 'parksim'; main()"]
        if entry == "console"
        else ["-m", "simulation.cli"]
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]),
        "PK_GC_OUT": str(report),
    }
    subprocess.run(
        [
            sys.executable,
            *prog,
            "phase=orderly",
            "days=2",
            "progress=false",
            f"hydra.run.dir={run_dir}",
        ],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    got = json.loads(report.read_text())
    assert (run_dir / "kpis.json").is_file()
    assert got["enabled"] and got["frozen"]
    # collections still run (composition, the model's days), far fewer than the
    # ~290 of a run whose imports are collected
    assert 0 < got["young"] < 200


def test_the_logit_rules_import_no_scipy():
    # adoption and package switching are logits; scipy.special's import (0.4-0.5 s)
    # is not needed for them. Hand values: σ(0) = 1/2 at payback = threshold, and a
    # money-indifferent user switches with probability 1/2.
    out = _fresh(
        """
        import json, sys
        from markets.efficiency.adoption import adoption_probability
        from markets.tariffs.choice import switch_probability
        p = adoption_probability([12.0], [12.0], [0.0]).tolist()
        q = switch_probability([100.0], [100.0], 0.5).tolist()
        print(json.dumps([p, q, any(m.startswith("scipy") for m in sys.modules)]))
        """
    )
    assert out == [[0.5], [0.5], False]


def test_the_pv_profile_imports_pvlibs_modules_it_uses_only():
    # pvlib's __init__ imports every subpackage (spectrum pulls in scipy.integrate);
    # the profile needs location, irradiance and what they import. Reading any other
    # attribute runs pvlib's own __init__, and the profile is the same either way.
    code = """
        import hashlib, json, sys
        {first}
        from agents.dg_resource import pv_profile_kw_per_kwp
        x = pv_profile_kw_per_kwp()
        before = {{m: m in sys.modules for m in ("pvlib.spectrum", "pvlib.location", "h5py")}}
        import pvlib
        import importlib.metadata
        after = [pvlib.__version__ == importlib.metadata.version("pvlib"),
                 "pvlib.spectrum" in sys.modules, pvlib.location.Location.__module__]
        print(json.dumps({{"sha": hashlib.sha1(x.tobytes()).hexdigest(),
                          "before": before, "after": after}}))
    """
    deferred = _fresh(code.format(first=""))
    full = _fresh(code.format(first="import pvlib"))
    assert deferred["before"] == {"pvlib.spectrum": False, "pvlib.location": True, "h5py": True}
    assert deferred["after"] == [True, True, "pvlib.location"]
    assert full["before"]["pvlib.spectrum"] is True
    assert deferred["sha"] == full["sha"]


def test_the_pv_profile_runs_no_scipy_package_init_that_pvlib_imports_by_name():
    # pvlib's irradiance, solarposition and clearsky modules import splev, bisect,
    # scipy.optimize and hankel for models the profile does not call: until one is
    # called, scipy.interpolate's, scipy.optimize's and scipy.linalg's __init__ do not
    # run. A stand-in runs the package and then the real function: bisect finds the
    # root 1 of x - 1 on [0, 3] (to its default xtol 2e-12), and the package's own
    # name is the real function afterwards; scipy.optimize, imported in full, takes
    # what it needs from the deferred scipy.linalg, which then runs its __init__.
    out = _fresh(
        """
        import json, sys
        from agents.dg_resource import pv_profile_kw_per_kwp
        pv_profile_kw_per_kwp(year=2024)
        inner = ("scipy.interpolate._fitpack_py", "scipy.optimize._optimize", "scipy.linalg._basic")
        before = [m in sys.modules for m in inner]
        from pvlib import irradiance
        root = irradiance.bisect(lambda x: x - 1.0, 0.0, 3.0)
        import scipy.optimize
        from scipy.optimize import bisect, milp
        print(json.dumps({"before": before, "root": root,
                          "optimize": "scipy.optimize._optimize" in sys.modules,
                          "real": bisect.__module__, "milp": milp.__module__,
                          "linalg": "scipy.linalg._basic" in sys.modules}))
        """
    )
    assert out["before"] == [False, False, False]
    assert abs(out["root"] - 1.0) <= 2e-12
    assert out["optimize"] is True
    assert out["real"] == "scipy.optimize._zeros_py"
    assert out["milp"] == "scipy.optimize._milp"
    assert out["linalg"] is True  # scipy.optimize's own imports complete deferred scipy.linalg


@pytest.mark.skipif(
    platform.machine().lower() not in ("x86_64", "amd64"), reason="numpy's x86-64 kernels"
)
def test_parksim_imports_numpy_without_avx512_kernels():
    # Without AVX-512 kernels numpy's float64 exp, log, log1p and power call the C
    # library per element: equal bit for bit to math's, on any x86-64 CPU (with
    # AVX-512 they differ in the last bits, and the model's decisions with them).
    out = _fresh(
        """
        import json, math, os, sys
        before = "numpy" in sys.modules
        import simulation
        import numpy as np
        from markets._cpu import avx512_targets, numpy_kernels_pinned
        x = np.random.default_rng(1).normal(0.0, 5.0, 20_000)
        p = np.abs(x) + 0.01
        same = {
            "exp": np.exp(x).tolist() == [math.exp(v) for v in x.tolist()],
            "log": np.log(p).tolist() == [math.log(v) for v in p.tolist()],
            "log1p": np.log1p(p).tolist() == [math.log1p(v) for v in p.tolist()],
            "power": np.power(p, 1.7).tolist() == [math.pow(v, 1.7) for v in p.tolist()],
        }
        print(json.dumps({"before": before, "env": os.environ["NPY_DISABLE_CPU_FEATURES"],
                          "targets": " ".join(avx512_targets(np.__version__)),
                          "pinned": numpy_kernels_pinned(), "same": same}))
        """,
        NPY_DISABLE_CPU_FEATURES=None,
    )
    assert out["before"] is False
    assert out["env"] == out["targets"]
    assert out["pinned"] is True
    assert out["same"] == {"exp": True, "log": True, "log1p": True, "power": True}


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("NPY_DISABLE_CPU_FEATURES", ""),
        ("OPENBLAS_CORETYPE", "Prescott"),
        ("OPENBLAS_NUM_THREADS", "2"),
    ],
)
def test_a_users_cpu_kernel_setting_is_kept(variable, value):
    out = _fresh(
        f"""
        import json, os
        import simulation
        print(json.dumps(os.environ["{variable}"]))
        """,
        **{variable: value},
    )
    assert out == value


_NO_THREAD_SETTING = {
    "OPENBLAS_NUM_THREADS": None,
    "GOTO_NUM_THREADS": None,
    "OMP_NUM_THREADS": None,
}


def test_an_openmp_thread_count_keeps_openblas_unpinned():
    # OpenBLAS reads OMP_NUM_THREADS when OPENBLAS_NUM_THREADS is unset: a user's
    # OMP_NUM_THREADS is their choice of BLAS threads, left in force.
    out = _fresh(
        """
        import json, os
        import simulation
        print(json.dumps(os.environ.get("OPENBLAS_NUM_THREADS")))
        """,
        **{**_NO_THREAD_SETTING, "OMP_NUM_THREADS": "2"},
    )
    assert out is None


_BLAS_PRODUCTS = """
    import json, os
    {imports}
    import numpy as np
    rng = np.random.default_rng(7)
    x = rng.normal(0.0, 1.0, 4_001)
    a = rng.normal(0.0, 1.0, (97, 389))
    v = rng.normal(0.0, 1.0, 389)
    print(json.dumps({{"core": os.environ.get("OPENBLAS_CORETYPE"),
                      "threads": os.environ.get("OPENBLAS_NUM_THREADS"),
                      "dot": float(np.dot(x, x)), "gemv": (a @ v).tolist(),
                      "gemm": (a @ a.T).ravel().tolist(),
                      "long_dots": [float(np.dot(y, y)) for y in rng.random((20, 50_000))]}}))
"""


def test_parksim_adds_long_dot_products_in_one_thread():
    # OpenBLAS splits a dot product of more than 10,000 values among its threads
    # (one per core by default) and adds the partial sums, so the last bits depend
    # on the core count. With parksim imported first, long dots are bit for bit the
    # single-threaded ones; on a machine with 2 cores, 2 threads give other bits.
    ours = _fresh(_BLAS_PRODUCTS.format(imports="import simulation"), **_NO_THREAD_SETTING)
    assert ours["threads"] == "1"
    one = _fresh(
        _BLAS_PRODUCTS.format(imports=""), **{**_NO_THREAD_SETTING, "OPENBLAS_NUM_THREADS": "1"}
    )
    assert ours["long_dots"] == one["long_dots"]
    if (os.cpu_count() or 1) >= 2:
        two = _fresh(
            _BLAS_PRODUCTS.format(imports=""),
            **{**_NO_THREAD_SETTING, "OPENBLAS_NUM_THREADS": "2"},
        )
        assert two["long_dots"] != one["long_dots"]


@pytest.mark.skipif(
    platform.machine().lower() not in ("x86_64", "amd64"), reason="OpenBLAS's x86-64 kernels"
)
def test_parksim_runs_openblas_products_with_the_avx2_machines_kernels():
    # OpenBLAS (numpy's @ and np.dot) picks its kernels by CPU at load time; on an
    # AVX-512 CPU its SkylakeX kernels add in another order than the Haswell kernels
    # of AVX2 machines. With parksim imported first, every product is bit for bit the
    # one numpy gives with OPENBLAS_CORETYPE=Haswell set by hand, on any x86-64 CPU
    # with AVX2 (on one without AVX-512 the variable is left unset).
    from markets._cpu import BLAS_CORE, cpu_flags, cpu_has_avx512

    ours = _fresh(_BLAS_PRODUCTS.format(imports="import simulation"), OPENBLAS_CORETYPE=None)
    assert ours.pop("core") == (BLAS_CORE if cpu_has_avx512() else None)
    if {"avx2", "fma"} <= cpu_flags():  # Haswell's kernels run on this CPU
        by_hand = _fresh(_BLAS_PRODUCTS.format(imports=""), OPENBLAS_CORETYPE=BLAS_CORE)
        assert by_hand.pop("core") == BLAS_CORE
        assert ours == by_hand


def test_cpu_flags_are_read_from_the_flags_line():
    from markets._cpu import cpu_flags, cpu_has_avx512

    head = "processor\t: 0\nmodel name\t: X\n"
    assert cpu_flags(head + "flags\t\t: fpu avx2 fma\n") == {"fpu", "avx2", "fma"}
    assert cpu_has_avx512(head + "flags\t\t: fpu sse2 avx2 fma avx512f avx512dq\n") is True
    assert cpu_has_avx512(head + "flags\t\t: fpu sse2 avx2 fma avx512_vnni\n") is False
    assert cpu_has_avx512(head) is False


def test_avx512_targets_follow_numpys_names():
    from markets._cpu import avx512_targets

    assert avx512_targets("2.4.6") == ("X86_V4", "AVX512_ICL", "AVX512_SPR")
    assert avx512_targets("3.0.0")[0] == "X86_V4"
    assert avx512_targets("2.3.5")[0] == "AVX512F"
    assert avx512_targets("1.26.4") == avx512_targets("2.3.5")


def test_numpys_version_is_read_without_importing_numpy(tmp_path, monkeypatch):
    import importlib.metadata
    import importlib.util
    import types

    import numpy

    from markets import _cpu

    assert _cpu.numpy_version() == numpy.__version__ == importlib.metadata.version("numpy")
    # a numpy whose folder has no generated version.py: its distribution's metadata
    spec = types.SimpleNamespace(submodule_search_locations=[str(tmp_path)])
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: spec)
    assert _cpu.numpy_version() == importlib.metadata.version("numpy")
    (tmp_path / "version.py").write_text('"""x"""\nversion: str = "9.8.7"\n__version__ = version\n')
    assert _cpu.numpy_version() == "9.8.7"
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert _cpu.numpy_version() is None
