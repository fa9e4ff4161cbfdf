"""The README's commands run as printed (on a tiny horizon, into tmp_path).

Every ``parksim`` / ``parksim-figure`` command in a fenced ``bash`` block of
README.md is extracted (continuation lines joined, comments dropped), split
like a shell would, given a tiny horizon (``park=small days=2``, one seed and
one sequential job for figures) and a run directory under ``tmp_path``, and run
through the same entry point as the console script, in-process. A command
that sends jobs to SLURM is composed only (``--cfg hydra``); ``make
test-slurm`` runs such a sweep on a real cluster.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
TINY = ["park=small", "days=2", "output.figures=false", "progress=false"]


def readme_commands() -> list[list[str]]:
    """Each fenced parksim/parksim-figure command as an argv (program name first)."""
    text = README.read_text()
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            argv = shlex.split(line, comments=True)
            if argv and Path(argv[0]).name in ("parksim", "parksim-figure"):
                commands.append([Path(argv[0]).name, *argv[1:]])
    return commands


COMMANDS = readme_commands()


def test_readme_has_the_commands():
    # One run (4), sweeps (2), SLURM (1), figures (4) at the time of writing.
    names = [c[0] for c in COMMANDS]
    assert names.count("parksim") >= 6
    assert names.count("parksim-figure") >= 3


def _tiny(argv: list[str], tmp: Path) -> list[str]:
    prog, args = argv[0], list(argv[1:])
    if prog == "parksim":
        if "hydra/launcher=submitit_slurm" in args:
            return args
        return [*args, *TINY, f"hydra.run.dir={tmp / 'run'}", f"hydra.sweep.dir={tmp / 'sweep'}"]
    extra = ",".join(f'"{o}"' for o in TINY)
    for i, a in enumerate(args):
        if a.startswith("overrides=[") and a.endswith("]"):
            args[i] = a[:-1] + ("," if a != "overrides=[]" else "") + extra + "]"
            break
    else:
        args.append(f"overrides=[{extra}]")
    return [*args, "figure.seeds=[0]", "figure.n_jobs=1", f"hydra.run.dir={tmp / 'fig'}"]


def _compose_slurm_sweep(args: list[str]) -> None:
    """Validate every member, and compose each with its Hydra (launcher) config."""
    from hydra import compose, initialize_config_dir

    from simulation.cli import preflight, sweep_members
    from simulation.run import CONF_DIR

    assert args[0] == "-m"
    n, errors = preflight(args[1:], multirun=True)
    assert (n, errors) == (6, [])  # seed=1,2,3 × phase=orderly,efficiency
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        for member in sweep_members(args[1:], multirun=True):
            cfg = compose("config", overrides=member, return_hydra_config=True)
            assert cfg.hydra.launcher._target_.endswith(".SlurmLauncher")
            assert cfg.hydra.launcher.partition == "compute"
            assert cfg.hydra.launcher.mem_gb == 8


@pytest.mark.slow
@pytest.mark.parametrize("argv", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_readme_command_runs(argv, tmp_path, monkeypatch, capsys):
    args = _tiny(argv, tmp_path)
    monkeypatch.chdir(tmp_path)
    if "hydra/launcher=submitit_slurm" in args:
        _compose_slurm_sweep(args)
    elif argv[0] == "parksim":
        from simulation.cli import main

        main(args)
    else:
        from experiments.cli import main as figure_main

        monkeypatch.setattr(sys, "argv", ["parksim-figure", *args])
        figure_main()
    out = capsys.readouterr().out
    if "hydra/launcher=submitit_slurm" in args:
        pass
    elif argv[0] == "parksim":
        assert list(tmp_path.rglob("kpis.json")), out
    else:
        assert (tmp_path / "fig" / "table.csv").is_file()
