"""Running one simulation: compose a config, run the model, write the outputs.

A run owns these files in its run directory: ``kpis.json`` (written last: its
presence marks a complete run), ``config.json``, every ``*.parquet``,
``figures/*.png`` and, when it fails, ``error.json``. A run starts by
removing all of them (``kpis.json`` first) and any temporary file a killed
earlier run left (:func:`prepare_run_dir`), so a directory never mixes two
runs; Hydra's own ``.hydra/`` and ``*.log`` are left alone. The run directory
must be writable: that is checked before the simulation starts.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from simulation.config import ConfigError, register_configs, to_container, validate
from simulation.config._paths import conf_dir, experiment_names
from simulation.io import remove_stale_temp_files

__all__ = [
    "CONF_DIR",
    "OWNED_FILES",
    "RunDirError",
    "check_experiments",
    "compose_config",
    "format_kpis",
    "prepare_run_dir",
    "run_simulation",
]

#: The config directory (the checkout's ``conf/`` or the installed ``parksim_conf``).
CONF_DIR: Path = conf_dir()

#: Glob patterns (relative to the run directory) of the files a run owns.
OWNED_FILES: tuple[str, ...] = (
    "kpis.json",
    "error.json",
    "config.json",
    "*.parquet",
    "figures/*.png",
)


class RunDirError(ConfigError):
    """The run directory cannot be written."""


def check_experiments(overrides: Sequence[str]) -> None:
    """Reject an ``experiment=`` override that names no file in ``conf/experiment/``.

    Hydra skips a missing optional config silently, so without this a misspelt
    experiment would run the base config.

    Args:
        overrides: Command-line style overrides.

    Raises:
        ConfigError: Naming the experiment and listing the available ones.
    """
    names = experiment_names()
    for ovr in overrides:
        key, sep, value = ovr.partition("=")
        is_experiment = sep and key.lstrip("+~").split("@")[0] == "experiment"
        if is_experiment and value not in ("", "null", *names):
            raise ConfigError(
                f"experiment={value}: no such experiment; available: {', '.join(names)}"
            )


def compose_config(
    overrides: Sequence[str] = (), config_name: str = "config", return_hydra_config: bool = False
) -> DictConfig:
    """Compose a config from ``conf/`` with command-line style overrides.

    Works both inside a running Hydra app and from plain Python (tests,
    notebooks, benchmarks).

    Args:
        overrides: Overrides such as ``["park=small", "days=14"]``.
        config_name: Primary config name.
        return_hydra_config: Keep the ``hydra`` node (Hydra's own settings).

    Returns:
        The composed config (not yet validated).

    Raises:
        ConfigError: If an ``experiment=`` override names no experiment.
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register_configs()
    check_experiments(overrides)
    if GlobalHydra.instance().is_initialized():
        return compose(config_name, list(overrides), return_hydra_config)
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name, list(overrides), return_hydra_config)


def prepare_run_dir(out_dir: Path) -> None:
    """Make ``out_dir`` ready for a new run: writable, and without an earlier run's files.

    Args:
        out_dir: The run directory (created if missing).

    Raises:
        RunDirError: If the directory cannot be created or written.
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out_dir, prefix=".parksim-write-test-"):
            pass
        for pattern in OWNED_FILES:
            for path in sorted(out_dir.glob(pattern)):
                if path.is_file():
                    path.unlink()
        remove_stale_temp_files(out_dir)
    except OSError as err:
        raise RunDirError(
            f"run directory {out_dir}: not writable ({err.strerror or err}); "
            "set hydra.run.dir (or hydra.sweep.dir) to a writable directory"
        ) from None


def run_simulation(
    cfg: DictConfig, out_dir: Path | str | None = None, progress: bool | None = None
) -> dict[str, float]:
    """Validate a config, prepare the run directory, run the model and write its outputs.

    Args:
        cfg: A composed config.
        out_dir: Run directory for the output files; ``None`` writes nothing.
        progress: Show a progress bar; default: ``cfg.progress`` and stderr is a terminal.

    Returns:
        The run's KPIs.

    Raises:
        ConfigError: If a value is out of its allowed range, or the run
            directory is not writable (:class:`RunDirError`).
    """
    from simulation.heap import collector_paused, freeze_once

    with collector_paused():
        from simulation.model import ParkModel
        from simulation.outputs import compute_kpis, write_outputs

        freeze_once("run")  # the first run of the process: the model's modules, the config

    validate(cfg)
    if out_dir is not None:
        prepare_run_dir(Path(out_dir))
    # Mesa logs every step at INFO, and Hydra's job logging shows INFO: keep the
    # console and the run log to parksim's own messages.
    logging.getLogger("MESA").setLevel(logging.WARNING)
    if progress is None:
        progress = bool(cfg.progress) and sys.stderr.isatty()
    model = ParkModel(cfg)
    if out_dir is not None:
        # users.parquet is encoded while the model runs into an anonymous file on the
        # run directory's file system, so that finishing it is a link, not a copy.
        model.rec.spool_dir = Path(out_dir)
    model.run(progress=progress)
    kpis = compute_kpis(model)
    if out_dir is not None:
        write_outputs(model, Path(out_dir), kpis, to_container(cfg))
    return kpis


def format_kpis(kpis: dict[str, Any], names: Sequence[str] | None = None) -> str:
    """Render KPIs as an aligned two-column table."""
    keys = list(names) if names is not None else sorted(kpis)
    width = max(len(k) for k in keys)
    return "\n".join(f"{k:<{width}}  {kpis[k]:>16,.4f}" for k in keys)
