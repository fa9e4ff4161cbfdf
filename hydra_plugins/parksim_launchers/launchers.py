"""Hydra launchers: submitit sweeps that survive a killed member; joblib members composed fast.

Hydra's submitit launchers wait for each job in turn and raise at the first
one that failed at the scheduler level (killed, out of time, a failing
``setup`` line): the sweep stops waiting for the others and no summary is
written. These subclasses wait for every job; a failed job is recorded as
``failed_job_<num>.json`` in the sweep directory (the scheduler's reason
included), which :func:`simulation.cli.summarise_sweep` reports.
:func:`simulation.config.register_configs` stores :class:`SlurmConf` and
:class:`LocalConf` — the plugin's schemas with these launchers as target —
under the plugin's names, so ``hydra/launcher=submitit_slurm`` (and
``submitit_local``) select them with every setting the plugin documents.

:class:`JoblibLauncher` is the joblib plugin's launcher (every setting the
plugin documents, the same ``joblib.Parallel`` call), except that a member's
config is composed from the composition of its config groups, made once per
worker and group choice (:func:`compose_sweep_member`, by
:mod:`simulation.hydra_compose`; in the sweep's process the pre-flight check's,
:mod:`simulation.command_check`), instead of from scratch (about 0.3 s a member
here); the result is the config Hydra's own ``load_sweep_config`` composes.
On Linux, with every joblib setting but ``n_jobs`` at the plugin's default, it
runs the members in workers forked by a fork server that has imported the model
while the sweep started (:mod:`simulation.forked_sweep`) instead of loky's fresh
interpreters, which import everything after it and receive the sweep's state
with every member; the first member's group composition is made by the sweep's
process and sent to the workers with the sweep's state, so that no worker
composes it again from cold caches before its first member; any other joblib
setting (``hydra.launcher.backend=loky``, say) runs them by ``joblib.Parallel`` as
the plugin does. A member whose forked worker dies
(killed, out of memory) is recorded as ``failed_job_<num>.json``, as a
submitit job the scheduler failed, and the others run on.

References:
    hydra-submitit-launcher 1.2 (``hydra_plugins.hydra_submitit_launcher``),
    whose ``launch`` this follows.
    hydra-joblib-launcher 1.2 (``hydra_plugins.hydra_joblib_launcher``), which
    :class:`JoblibLauncher` extends; hydra-core 1.3
    ``hydra._internal.config_loader_impl.load_sweep_config``, which
    :func:`compose_sweep_member` follows.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, filter_overrides
from hydra.types import HydraContext
from hydra_plugins.hydra_joblib_launcher.config import JobLibLauncherConf
from hydra_plugins.hydra_joblib_launcher.joblib_launcher import (
    JoblibLauncher as _PluginJoblibLauncher,
)
from hydra_plugins.hydra_submitit_launcher.config import (
    BaseQueueConf,
    LocalQueueConf,
    SlurmQueueConf,
)
from hydra_plugins.hydra_submitit_launcher.submitit_launcher import BaseSubmititLauncher
from omegaconf import DictConfig, OmegaConf

from simulation.io import write_atomic

__all__ = [
    "JoblibConf",
    "JoblibLauncher",
    "LocalConf",
    "LocalLauncher",
    "SlurmConf",
    "SlurmLauncher",
    "compose_sweep_member",
]

log = logging.getLogger(__name__)


class _SurvivingLauncher(BaseSubmititLauncher):
    def launch(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        """Submit every job, wait for all, record the ones that failed."""
        import submitit

        assert self.config is not None
        assert len(job_overrides) > 0
        init_params: dict[str, Any] = {"folder": self.params["submitit_folder"]}
        specific_init_keys = {"max_num_timeout"}
        init_params.update(
            **{
                f"{self._EXECUTOR}_{x}": y
                for x, y in self.params.items()
                if x in specific_init_keys
            }
        )
        init_keys = specific_init_keys | {"submitit_folder"}
        executor = submitit.AutoExecutor(cluster=self._EXECUTOR, **init_params)
        baseparams = set(OmegaConf.structured(BaseQueueConf).keys())
        params = {
            x if x in baseparams else f"{self._EXECUTOR}_{x}": y
            for x, y in self.params.items()
            if x not in init_keys
        }
        executor.update_parameters(**params)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        log.info(f"Submitit '{self._EXECUTOR}' sweep output dir : {sweep_dir}")
        sweep_dir.mkdir(parents=True, exist_ok=True)
        job_params: list[Any] = []
        for idx, overrides in enumerate(job_overrides, start=initial_job_idx):
            log.info(f"\t#{idx} : {' '.join(filter_overrides(overrides))}")
            job_params.append(
                (
                    list(overrides),
                    "hydra.sweep.dir",
                    idx,
                    f"job_id_for_{idx}",
                    Singleton.get_state(),
                )
            )
        jobs = executor.map_array(self, *zip(*job_params, strict=True))
        results: list[JobReturn] = []
        for idx, (job, overrides) in enumerate(zip(jobs, job_overrides, strict=True)):
            num = initial_job_idx + idx
            try:
                results.append(job.results()[0])
            except Exception as err:  # the scheduler's failure: record it, keep waiting
                message = " ".join(str(err).split())
                results.append(
                    _record_failed(
                        sweep_dir, num, overrides, str(job.job_id), type(err).__name__, message
                    )
                )
        return results


class LocalLauncher(_SurvivingLauncher):
    """submitit's local executor (jobs as local processes)."""

    _EXECUTOR = "local"


class SlurmLauncher(_SurvivingLauncher):
    """submitit's SLURM executor (a job array of ``sbatch`` jobs)."""

    _EXECUTOR = "slurm"


@dataclass
class SlurmConf(SlurmQueueConf):
    """``hydra/launcher=submitit_slurm``: the plugin's settings, parksim's launcher."""

    _target_: str = "hydra_plugins.parksim_launchers.launchers.SlurmLauncher"


@dataclass
class LocalConf(LocalQueueConf):
    """``hydra/launcher=submitit_local``: the plugin's settings, parksim's launcher."""

    _target_: str = "hydra_plugins.parksim_launchers.launchers.LocalLauncher"


def compose_sweep_member(
    loader: Any, master_config: DictConfig, sweep_overrides: Sequence[str]
) -> DictConfig:
    """A sweep member's config, as Hydra's ``load_sweep_config`` composes it.

    The command's hydra overrides and the member's, composed by
    :func:`simulation.hydra_compose.compose` (the config groups' composition made
    once per process and choice of groups), with the sweep config's resolver cache
    copied, as ``load_sweep_config`` does.

    Args:
        loader: Hydra's config loader.
        master_config: The sweep's config (``hydra.overrides.hydra`` holds the
            command's hydra overrides).
        sweep_overrides: The member's overrides.

    Returns:
        The member's config.
    """
    from simulation import hydra_compose

    name, overrides = _member_overrides(master_config, sweep_overrides)
    cfg = hydra_compose.compose(loader, name, overrides)
    OmegaConf.copy_cache(from_config=master_config, to_config=cfg)
    return cfg


def _member_overrides(
    master_config: DictConfig, sweep_overrides: Sequence[str]
) -> tuple[str, list[str]]:
    """A member's config name and overrides: the command's hydra overrides, then its own."""
    command: Any = OmegaConf.to_container(master_config.hydra.overrides.hydra)
    return master_config.hydra.job.config_name, [*command, *sweep_overrides]


class _ReusingLoader:
    """Hydra's config loader, composing sweep members by :func:`compose_sweep_member`."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def load_sweep_config(
        self, master_config: DictConfig, sweep_overrides: list[str]
    ) -> DictConfig:
        """The member's config (Hydra's ``ConfigLoader.load_sweep_config``)."""
        return compose_sweep_member(self.loader, master_config, sweep_overrides)

    def __getattr__(self, name: str) -> Any:
        if name == "loader":  # not set yet (unpickling)
            raise AttributeError(name)
        return getattr(self.loader, name)


class JoblibLauncher(_PluginJoblibLauncher):
    """The joblib plugin's launcher, composing each member from its groups' composition."""

    def launch(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        """Run the members as the plugin does, each composed by :func:`compose_sweep_member`."""
        from simulation import hydra_compose

        context: HydraContext | None = self.hydra_context  # type: ignore[has-type]
        assert context is not None
        # kept: the pre-flight check's group compositions (simulation.command_check), used again
        self.hydra_context = HydraContext(
            config_loader=_ReusingLoader(context.config_loader),  # type: ignore[arg-type]
            callbacks=context.callbacks,
        )
        try:
            n_workers = _fork_workers(self.joblib, len(job_overrides))
            if n_workers > 1:
                return self._launch_forked(job_overrides, initial_job_idx, n_workers)
            return super().launch(job_overrides, initial_job_idx)
        finally:
            self.hydra_context = context
            hydra_compose.clear()

    def _launch_forked(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int, n_workers: int
    ) -> Sequence[JobReturn]:
        """The plugin's ``launch``, with the members in workers of a fork server."""
        from hydra.core.utils import configure_log, setup_globals

        from simulation import forked_sweep

        setup_globals()
        assert self.config is not None and self.task_function is not None
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        log.info(f"{n_workers} forked workers are launching {len(job_overrides)} jobs")
        log.info(f"Launching jobs, sweep output dir : {sweep_dir}")
        jobs = [(initial_job_idx + i, list(ov)) for i, ov in enumerate(job_overrides)]
        for num, overrides in jobs:
            log.info(f"\t#{num} : {' '.join(filter_overrides(overrides))}")
        context = self.hydra_context
        groups = {} if context is None else _first_groups(context, self.config, jobs[0][1])
        returns = forked_sweep.run_members(
            jobs,
            n_workers,
            context,
            self.config,
            self.task_function,
            Singleton.get_state(),
            functools.partial(_execute_composed, groups),
        )
        results: list[JobReturn] = []
        for (num, overrides), ret in zip(jobs, returns, strict=True):
            if isinstance(ret, forked_sweep.WorkerDied):
                results.append(
                    _record_failed(sweep_dir, num, overrides, "", "WorkerDied", ret.reason)
                )
            else:
                results.append(ret)
        return results


def _first_groups(context: HydraContext, config: DictConfig, overrides: list[str]) -> Any:
    """The first member's config-group composition, made here to be sent to the workers.

    Each forked worker would otherwise compose its first member's config groups
    itself, from cold caches (about 0.25 s each on 2 cores, in every worker at
    once), before its first member runs; kept here (by the pre-flight check of
    :mod:`simulation.command_check` already, in a sweep of the ``parksim``
    command), the workers of a sweep whose members share their groups (a seed
    sweep) start their first member by applying its value overrides only.

    Returns:
        :mod:`simulation.hydra_compose`'s kept compositions, the first member's
        groups among them (a mapping, sent with the sweep's state); without them
        if they do not compose (its worker then reports the error, as for any
        member).
    """
    from simulation import hydra_compose

    try:
        hydra_compose.keep_groups(context.config_loader, *_member_overrides(config, overrides))
    except Exception:  # the member's worker composes it again and reports why
        log.debug("the first member did not compose here", exc_info=True)
    return hydra_compose.kept()


def _execute_composed(groups: Any, *args: Any) -> JobReturn:
    """In a worker: keep ``groups`` (:func:`_first_groups`), then run the member as joblib does."""
    from hydra_plugins.hydra_joblib_launcher._core import execute_job

    from simulation import hydra_compose

    hydra_compose.keep(groups)
    return execute_job(*args)


@dataclass
class JoblibConf(JobLibLauncherConf):
    """``hydra/launcher=joblib``: the plugin's settings, parksim's launcher."""

    _target_: str = "hydra_plugins.parksim_launchers.launchers.JoblibLauncher"


def _fork_workers(settings: Any, n_members: int) -> int:
    """Forked workers for a joblib sweep, or 0 to run it as the plugin does.

    Members run in forked workers (:mod:`simulation.forked_sweep`) when the
    platform has them (:func:`simulation.forked_sweep.available`), more than one
    worker would run, and every joblib setting but ``n_jobs`` is the plugin's
    default: ``backend``, ``prefer``, ``timeout``, ``batch_size`` and the rest
    are ``joblib.Parallel``'s, so setting any of them (``backend=loky``, say)
    runs the sweep by ``joblib.Parallel`` with that setting, as the plugin does.
    ``n_jobs`` counts as joblib counts it (``joblib.effective_n_jobs``): ``-1``
    every CPU, ``-2`` all but one.

    Args:
        settings: The launcher's joblib settings (``hydra.launcher`` without
            ``_target_``).
        n_members: Members in the batch.

    Returns:
        The number of workers to fork (at most ``n_members``), or 0.
    """
    from joblib import effective_n_jobs

    from simulation import forked_sweep

    defaults = {
        k: v for k, v in vars(JobLibLauncherConf()).items() if k not in ("_target_", "n_jobs")
    }
    given = dict(settings)
    if any(given.get(k, v) != v for k, v in defaults.items()):
        return 0
    try:
        n_workers = min(effective_n_jobs(given.get("n_jobs", -1)), n_members)
    except (TypeError, ValueError):
        return 0  # joblib.Parallel gives its own message for a bad n_jobs
    return n_workers if n_workers > 1 and forked_sweep.available() else 0


def _record_failed(
    sweep_dir: Path, num: int, overrides: Sequence[str], job_id: str, error: str, message: str
) -> JobReturn:
    """Record a member that left no result as ``failed_job_<num>.json``.

    :func:`simulation.cli.summarise_sweep` reports it. The returned ``JobReturn``
    is marked completed so that Hydra's sweeper does not stop at it.
    """
    record = {
        "run": f"#{num} {' '.join(filter_overrides(overrides))}",
        "job_id": job_id,
        "error": error,
        "message": message[:2000],
    }
    write_atomic(sweep_dir / f"failed_job_{num}.json", _text_writer(json.dumps(record, indent=2)))
    log.error(f"job #{num} ({job_id or 'no job id'}) failed: {error}")
    return JobReturn(overrides=list(overrides), status=JobStatus.COMPLETED)


def _text_writer(text: str) -> Callable[[Path], object]:
    """A writer for ``write_atomic`` that writes ``text``."""

    def write(path: Path) -> object:
        return path.write_text(text)

    return write
