"""A non-editable install runs: the wheel ships the configs and ``parksim`` finds them.

Builds the wheel from a copy of the checkout (so the build writes nothing into
the repository), installs it without dependencies into a fresh virtual
environment under ``tmp_path`` that reuses this environment's installed
dependencies through a ``.pth`` file, and runs ``parksim`` from a directory
outside the checkout. Slow (about 20-30 s: the build needs setuptools in an
isolated environment); ``make test-e2e`` runs it, and ``.ci/run`` calls that.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
IGNORE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "outputs",
    "multirun",
    "build",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    ".mypy_cache",
    "tests",
)


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_checkout(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(REPO, src, ignore=IGNORE)
    pip = [sys.executable, "-m", "pip"]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HYDRA_FULL_ERROR")}
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--quiet", "-w", str(tmp_path / "dist"), str(src)],
        check=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    (wheel,) = (tmp_path / "dist").glob("parksim-*.whl")

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    purelib = Path(
        subprocess.run(
            [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    # the dependencies already installed here, after the venv's own packages
    (purelib / "zz_parksim_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [*pip, "--python", str(py), "install", "--no-deps", "--no-index", "--quiet", str(wheel)],
        check=True,
        env=env,
        timeout=300,
    )

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    where = subprocess.run(
        [
            str(py),
            "-c",
            "import simulation; from simulation.config._paths import conf_dir; "
            "print(simulation.__file__); print(conf_dir())",
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=outside,
    ).stdout.split()
    assert all(Path(p).is_relative_to(purelib) for p in where), where
    assert where[1].endswith("parksim_conf")

    run_dir = outside / "run"
    proc = subprocess.run(
        [
            str(venv / "bin" / "parksim"),
            "park=small",
            "days=2",
            "output.figures=false",
            f"hydra.run.dir={run_dir}",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=outside,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    kpis = json.loads((run_dir / "kpis.json").read_text())
    assert kpis["energy_served_kwh"] > 0
    assert kpis["ledger_residual_cny"] == pytest.approx(0.0, abs=1e-6)
