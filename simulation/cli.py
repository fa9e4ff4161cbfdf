"""The ``parksim`` command: one run, or a sweep with ``-m`` (Hydra app).

Before anything is written, every run the command line describes is composed
and validated: every member of a ``-m`` sweep before Hydra starts
(:func:`preflight`), all bad members reported at once, one line each; a single
run by Hydra's own composition, composed once (:func:`simulation.hydra_compose.compose_run`) and
validated before Hydra creates its run directory. A bad config exits with
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
import pickle
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from simulation.config import ConfigError, register_configs, validate
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

#: Exit status of a bad command line or config (nothing ran).
EXIT_CONFIG = 2
#: Exit status of a run (or of at least one sweep member) that failed at run time.
EXIT_FAILED = 1

# State shared between main() and the sweep callback (same process).
_state: dict[str, Any] = {"expected": 0, "failed": 0}
# Group choices -> (pickled composed config without its hydra node, its hydra.mode).
_composed: dict[tuple[str, ...], tuple[bytes, str | None]] = {}


def _one_line(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    cause = err.__cause__
    if cause is not None and str(cause).strip():
        text = f"{text} ({str(cause).strip().splitlines()[0]})"
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def _sets_mode(overrides: Sequence[str]) -> bool:
    """Whether the command line sets ``hydra.mode`` itself."""
    return any(o.lstrip("+~").startswith("hydra.mode") for o in overrides)


def _group_names() -> set[str]:
    from hydra.core.config_store import ConfigStore

    groups = {p.name for p in CONF_DIR.iterdir() if p.is_dir()}
    groups |= {k for k, v in ConfigStore.instance().repo.items() if isinstance(v, dict)}
    return groups


def sweep_members(overrides: Sequence[str], multirun: bool) -> list[list[str]]:
    """The override list of every run a command line describes.

    Args:
        overrides: The command line's overrides.
        multirun: ``-m`` was given.

    Returns:
        One override list per run (one list without ``-m``).

    Raises:
        ConfigError: If an override cannot be parsed, or is a sweep without ``-m``.
    """
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except HydraException as err:
        raise ConfigError(_one_line(err)) from None
    if not multirun:
        for o in parsed:
            if o.is_sweep_override():
                raise ConfigError(f"{o.input_line}: a sweep needs -m (parksim -m ...)")
        return [list(overrides)]
    try:
        return BasicSweeper.split_arguments(parsed, None)[0]
    except HydraException as err:
        raise ConfigError(_one_line(err)) from None


def _compose_member(member: list[str], groups: set[str]) -> tuple[DictConfig, str | None]:
    """Compose one run's config as Hydra does, reusing compositions of the same groups.

    Hydra composes the defaults list from the config-group overrides and then
    applies the value overrides to the result; this does the same, with the
    group composition cached, so validating a large sweep costs one
    composition per distinct choice of groups.

    Returns:
        The config (without its ``hydra`` node), and the ``hydra.mode`` its
        config files set (None: the command line decides), ignoring any
        ``hydra.mode`` override of the command line.
    """
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import open_dict

    from simulation.run import compose_config

    check_experiments(member)
    parsed = OverridesParser.create().parse_overrides(member)
    parsed = [o for o in parsed if not o.is_hydra_override()]
    group_ovr = [o for o in parsed if o.key_or_group.split("@")[0] in groups]
    value_ovr = [o for o in parsed if o not in group_ovr]
    key = tuple(str(o.input_line) for o in group_ovr)
    if key not in _composed:
        full = compose_config(list(key), return_hydra_config=True)
        mode = full.hydra.mode
        with open_dict(full):
            del full["hydra"]
        _composed[key] = (pickle.dumps(full), None if mode is None else str(mode))
    blob, mode = _composed[key]
    cfg = pickle.loads(blob)
    ConfigLoaderImpl._apply_overrides_to_config(value_ovr, cfg)
    return cfg, mode


def preflight(overrides: Sequence[str], multirun: bool) -> tuple[int, list[str]]:
    """Compose and validate every run of a command line before any starts.

    Args:
        overrides: The command line's overrides.
        multirun: ``-m`` was given.

    Returns:
        The number of runs, and one error line per bad run (empty if all are good).
    """
    try:
        members = sweep_members(overrides, multirun)
    except ConfigError as err:
        return 0, [str(err)]
    groups = _group_names()
    errors = []
    modes = set()
    for num, member in enumerate(members):
        try:
            cfg, mode = _compose_member(member, groups)
            modes.add(mode)
            validate(cfg)
        except (ConfigError, HydraException, OmegaConfBaseException) as err:
            where = f"run {num} ({' '.join(member)}): " if multirun else ""
            errors.append(f"{where}{_one_line(err)}")
    _state["mode_known"] = not errors and not _sets_mode(overrides) and modes == {None}
    hydra_ovr = {tuple(o for o in m if o.lstrip("+~").startswith("hydra")) for m in members}
    _state["batch_known"] = not errors and len(hydra_ovr) <= 1
    return len(members), errors


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


@contextlib.contextmanager
def _trust_preflight(mode_known: bool, batch_known: bool) -> Iterator[None]:
    """Let Hydra skip compositions the pre-flight check has already made.

    Before it runs, Hydra composes the whole config once just to read
    ``hydra.mode`` (``Hydra.get_mode``), and before a sweep it composes every
    member once to check the batch composes (``Sweeper.validate_batch_is_legal``)
    — in the parent process, one after the other, about 0.4 s a member — then
    composes each again to run it. The pre-flight check has composed and
    validated every member already:

    * when it found ``hydra.mode`` unset everywhere (no config file and no
      override sets it), Hydra's answer is known — ``None``, so Hydra picks the
      mode from ``-m`` exactly as after its own composition;
    * when, besides, no ``hydra`` override differs between members (the
      pre-flight composition leaves ``hydra.*`` value overrides out; the ones
      every member shares are composed by Hydra's own sweep composition first),
      every member is known to compose.

    Args:
        mode_known: ``hydra.mode`` is unset for every member.
        batch_known: Every member composed and validated, no swept ``hydra`` override.
    """
    from hydra._internal.hydra import Hydra
    from hydra.plugins.sweeper import Sweeper

    saved = (Hydra.get_mode, Sweeper.validate_batch_is_legal)
    if mode_known:
        Hydra.get_mode = lambda self, config_name, overrides: None  # type: ignore[method-assign]
    if batch_known:
        Sweeper.validate_batch_is_legal = lambda self, batch: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        Hydra.get_mode, Sweeper.validate_batch_is_legal = saved  # type: ignore[method-assign]


@contextlib.contextmanager
def _compose_once() -> Iterator[None]:
    """A single run: composed once, inside Hydra, and validated before anything is written.

    ``Hydra.get_mode`` is replaced by :func:`simulation.hydra_compose.compose_run` followed by
    :func:`simulation.config.validate`: a bad config is reported in one line and
    the command exits with status 2 before Hydra creates the run directory, as the
    pre-flight check of a sweep does. The composition is handed to ``Hydra.run``'s
    own request for it (same config name and overrides, plus ``hydra.mode=RUN``),
    so the config is composed once instead of three times (pre-flight, mode, run).
    When a config file sets ``hydra.mode``, Hydra composes again as usual.
    """
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra._internal.hydra import Hydra
    from omegaconf import open_dict

    from simulation import hydra_compose

    saved = (Hydra.get_mode, ConfigLoaderImpl.load_configuration)
    ready: dict[str, Any] = {}

    def get_mode(self: Any, config_name: str | None, overrides: list[str]) -> Any:
        try:
            cfg, mode = hydra_compose.compose_run(self.config_loader, config_name, overrides)
            plain = pickle.loads(pickle.dumps(cfg))
            with open_dict(plain):
                del plain["hydra"]
            validate(plain)
        except (ConfigError, HydraException, OmegaConfBaseException) as err:
            print(f"parksim: error: {_one_line(err)}", file=sys.stderr)
            sys.exit(EXIT_CONFIG)
        if mode is None:
            ready.update(key=(config_name, [*overrides, "hydra.mode=RUN"]), cfg=cfg)
        return mode

    def load_configuration(
        self: Any,
        config_name: str | None,
        overrides: list[str],
        run_mode: RunMode,
        from_shell: bool = True,
        validate_sweep_overrides: bool = True,
    ) -> DictConfig:
        key = (config_name, list(overrides))
        plain_run = run_mode == RunMode.RUN and from_shell and validate_sweep_overrides
        if plain_run and ready.get("key") == key:
            cfg: DictConfig = ready.pop("cfg")
            ready.clear()
            return cfg
        return saved[1](
            self, config_name, overrides, run_mode, from_shell, validate_sweep_overrides
        )

    Hydra.get_mode = get_mode  # type: ignore[method-assign]
    ConfigLoaderImpl.load_configuration = load_configuration  # type: ignore[method-assign]
    try:
        yield
    finally:
        Hydra.get_mode, ConfigLoaderImpl.load_configuration = saved  # type: ignore[method-assign]


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
    if once:  # composed and validated in Hydra (_compose_once)
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
        expected, errors = preflight(ns.overrides, bool(ns.multirun))
        if errors:
            for line in errors:
                print(f"parksim: error: {line}", file=sys.stderr)
            if len(errors) > 1 or ns.multirun:
                print(
                    f"parksim: {len(errors)} of {max(expected, 1)} runs have a bad config; "
                    "nothing was run",
                    file=sys.stderr,
                )
            sys.exit(EXIT_CONFIG)
        _state.update(expected=expected, failed=0)
    saved = sys.argv
    sys.argv = [saved[0] if saved else "parksim", *args]
    try:
        if once:
            with _compose_once():
                _app()
        else:
            trusted = not informational and bool(_state.get("mode_known"))
            with _trust_preflight(trusted, trusted and bool(_state.get("batch_known"))):
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
