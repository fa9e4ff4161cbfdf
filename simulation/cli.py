"""The ``parksim`` command: one run, or a sweep with ``-m`` (Hydra app).

Before anything is written, every run the command line describes is composed
and validated (:mod:`simulation.command_check`): every member of a ``-m`` sweep
inside Hydra, before it composes the sweep, all bad members reported at once,
one line each, the group compositions kept for the sweep's own config and its
members; a single run by Hydra's own composition, composed once
(:func:`simulation.hydra_compose.compose_run`) and validated before Hydra
creates its run directory. A bad config exits with
status 2 without running anything. A run that fails at
run time writes ``error.json`` into its run directory; in a sweep it fails
alone: the other members finish, and a summary (printed, and written to
``sweep_summary.json`` in the sweep directory) says which failed and why, and
the command exits with status 1. SIGTERM ends a run like Ctrl-C does
(temporary files removed) with status 143.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":  # ``python -m simulation.cli -m ...``: before the imports below
    import gc

    from simulation.forked_sweep import prestart_for

    prestart_for(sys.argv[1:])
    gc.disable()  # during the imports; frozen and enabled again at the end (simulation.heap)

import contextlib
import json
import logging
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig

from simulation.command_check import (
    EXIT_CONFIG,
    checked_in_hydra,
    compose_once,
    preflight,
    sweep_members,
)
from simulation.command_check import STATE as _state
from simulation.command_check import one_line as _one_line
from simulation.command_check import sets_mode as _sets_mode
from simulation.config import ConfigError, register_configs
from simulation.forked_sweep import forks_workers
from simulation.io import sigterm_as_exit, write_atomic
from simulation.run import CONF_DIR, check_experiments, format_kpis, run_simulation

__all__ = [
    "SweepSummary",
    "main",
    "preflight",
    "ran_a_sweep",
    "sweep_members",
]

log = logging.getLogger("parksim")

#: Exit status of a run (or of at least one sweep member) that failed at run time.
EXIT_FAILED = 1


def _record_failure(out_dir: Path, err: BaseException) -> None:
    record = {
        "error": type(err).__name__,
        "message": _one_line(err),
        "traceback": traceback.format_exc(),
    }
    with contextlib.suppress(OSError):
        write_atomic(out_dir / "error.json", lambda p: p.write_text(json.dumps(record, indent=2)))


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def _app(cfg: DictConfig) -> float | None:
    from simulation.heap import for_command

    for_command()  # also in a sweep's worker: its first run freezes (simulation.heap)
    hc = HydraConfig.get()
    out_dir = Path(hc.runtime.output_dir)
    multirun = hc.mode == RunMode.MULTIRUN
    with sigterm_as_exit():
        try:
            kpis = run_simulation(cfg, out_dir)
        except Exception as err:
            _record_failure(out_dir, err)
            code = EXIT_CONFIG if isinstance(err, ConfigError) else EXIT_FAILED
            print(f"parksim: error: {out_dir}: {_one_line(err)}", file=sys.stderr)
            log.debug("run failed", exc_info=True)
            if multirun:
                return None
            sys.exit(code)
    print(f"parksim: {cfg.phase.name} phase, {cfg.park.name} park, seed {cfg.seed} -> {out_dir}")
    from simulation.outputs import KPI_NAMES

    print(format_kpis(kpis, KPI_NAMES))
    return float(kpis["user_cost_cny"])


def summarise_sweep(sweep_dir: Path, expected: int) -> dict[str, Any]:
    """Which members of a sweep finished and which failed (from their run directories).

    Args:
        sweep_dir: The sweep directory.
        expected: Number of members launched.

    Returns:
        ``{"sweep_dir", "expected", "finished", "failed": [{"run", "error",
        "message"}], "missing"}``: ``missing`` counts members that left neither
        ``kpis.json`` nor ``error.json`` (killed before they could write).
    """
    finished = sorted(str(p.parent.relative_to(sweep_dir)) for p in sweep_dir.rglob("kpis.json"))
    failed = []
    for path in sorted(sweep_dir.rglob("error.json")):
        rec = json.loads(path.read_text())
        failed.append(
            {
                "run": str(path.parent.relative_to(sweep_dir)),
                "error": rec.get("error", ""),
                "message": rec.get("message", ""),
            }
        )
    for path in sorted(sweep_dir.glob("failed_job_*.json")):  # the scheduler's failures
        rec = json.loads(path.read_text())
        failed.append({k: rec.get(k, "") for k in ("run", "error", "message")})
    missing = max(0, expected - len(finished) - len(failed))
    return {
        "sweep_dir": str(sweep_dir),
        "expected": expected,
        "finished": finished,
        "failed": failed,
        "missing": missing,
    }


class SweepSummary(Callback):
    """Hydra callback: after a sweep, report which members failed and why."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Print the summary, write ``sweep_summary.json`` and record the failure count."""
        sweep_dir = Path(str(config.hydra.sweep.dir))
        expected = int(_state["expected"]) or len(list(sweep_dir.rglob(".hydra")))
        summary = summarise_sweep(sweep_dir, expected)
        write_atomic(
            sweep_dir / "sweep_summary.json",
            lambda p: p.write_text(json.dumps(summary, indent=2)),
        )
        n_bad = len(summary["failed"]) + summary["missing"]
        _state["failed"] = n_bad
        print(
            f"parksim: sweep: {len(summary['finished'])} of {expected} runs finished "
            f"-> {sweep_dir}",
            file=sys.stderr if n_bad else sys.stdout,
        )
        for f in summary["failed"]:
            print(f"parksim: failed: {f['run']}: {f['error']}: {f['message']}", file=sys.stderr)
        if summary["missing"]:
            print(
                f"parksim: failed: {summary['missing']} runs left no result (killed?)",
                file=sys.stderr,
            )


def main(argv: Sequence[str] | None = None) -> None:
    """The ``parksim`` command (the console script, :mod:`simulation.console`, runs it).

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).
    """
    from hydra._internal.utils import get_args_parser

    register_configs()
    args = list(sys.argv[1:] if argv is None else argv)
    ns, _ = get_args_parser().parse_known_args(args)
    _state["multirun"] = bool(ns.multirun)
    informational = (
        ns.help or ns.hydra_help or ns.cfg or ns.info or ns.shell_completion or ns.config_dir
    )
    once = not informational and not ns.multirun and not _sets_mode(ns.overrides)
    if once:  # composed and validated in Hydra (compose_once)
        try:
            sweep_members(ns.overrides, False)
            check_experiments(ns.overrides)
        except ConfigError as err:
            print(f"parksim: error: {err}", file=sys.stderr)
            sys.exit(EXIT_CONFIG)
        _state.update(expected=1, failed=0)
    elif not informational:
        if ns.multirun and forks_workers(ns.overrides):
            from simulation import forked_sweep

            forked_sweep.prestart()  # imports the model on the other core meanwhile
        _state.update(expected=0, failed=0)
    saved = sys.argv
    sys.argv = [saved[0] if saved else "parksim", *args]
    try:
        if once:
            with compose_once():
                _app()
        elif informational:
            _app()
        else:  # checked, every run, inside Hydra before any runs (checked_in_hydra)
            with checked_in_hydra(bool(ns.multirun)):
                _app()
    finally:
        sys.argv = saved
    if _state["failed"]:
        sys.exit(EXIT_FAILED)


def ran_a_sweep() -> bool:
    """Whether the last :func:`main` of this process was a sweep (``-m``)."""
    return bool(_state.get("multirun"))


if __name__ == "__main__":
    # ``python -m simulation.cli``: the imported module's main, so that the sweep
    # callback (which Hydra imports as simulation.cli) shares its state.
    from simulation.cli import main as _main
    from simulation.cli import ran_a_sweep as _ran_a_sweep
    from simulation.heap import for_command, freeze_once
    from simulation.quick_exit import exit_after

    for_command()
    freeze_once("imports")  # Hydra's and the config schemas' objects (simulation.heap)
    gc.enable()
    exit_after(_main, _ran_a_sweep)
