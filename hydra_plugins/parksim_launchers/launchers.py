"""Hydra launchers: submitit sweeps that survive a killed member; joblib's workers stopped.

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
plugin documents, the same ``joblib.Parallel`` call) with two changes for the
short runs of a sweep:

* a member's config is composed from the composition of its config groups,
  made once per worker and group choice (:func:`compose_sweep_member`), instead
  of from scratch (about 0.3 s a member here); the result is the config Hydra's
  own ``load_sweep_config`` composes;
* when the sweep is done — every member's outputs written and its result
  returned — the idle loky workers are stopped at once: left to exit with the
  interpreter, each tears its interpreter down (mesa, pandas, scipy, pyarrow)
  while the command waits, about 0.6 s here against 0.07 s.

References:
    hydra-submitit-launcher 1.2 (``hydra_plugins.hydra_submitit_launcher``),
    whose ``launch`` this follows.
    hydra-joblib-launcher 1.2 (``hydra_plugins.hydra_joblib_launcher``), which
    :class:`JoblibLauncher` extends; hydra-core 1.3
    ``hydra._internal.config_loader_impl`` (``load_sweep_config`` and
    ``_load_configuration_impl``), whose steps :func:`compose_sweep_member` follows.
    joblib 1.6 (``joblib.externals.loky``): the executor of the last ``Parallel``
    call is the reusable executor ``loky.reusable_executor._executor``.
"""

from __future__ import annotations

import copy
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, filter_overrides
from hydra.types import HydraContext, RunMode
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
from omegaconf import DictConfig, OmegaConf, open_dict

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
                record = {
                    "run": f"#{num} {' '.join(filter_overrides(overrides))}",
                    "job_id": str(job.job_id),
                    "error": type(err).__name__,
                    "message": " ".join(str(err).split())[:2000],
                }
                text = json.dumps(record, indent=2)
                write_atomic(sweep_dir / f"failed_job_{num}.json", _text_writer(text))
                log.error(f"job #{num} ({job.job_id}) failed: {type(err).__name__}")
                results.append(JobReturn(overrides=list(overrides), status=JobStatus.COMPLETED))
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


# Compositions of a sweep's group choices, in this process: (config name, group
# overrides, working directory) -> config. Cleared by every JoblibLauncher.launch
# (a serial sweep runs in the command's process); a worker lives for one sweep.
_BASES: dict[tuple[Any, ...], DictConfig] = {}


def compose_sweep_member(
    loader: Any, master_config: DictConfig, sweep_overrides: Sequence[str]
) -> DictConfig:
    """A sweep member's config, as Hydra's ``load_sweep_config`` composes it.

    Hydra composes a member from scratch: the command's hydra overrides plus the
    member's, into the defaults list, the merged config files, then the value
    overrides applied, and the hydra node's records (``hydra.overrides``,
    ``override_dirname``, ``runtime``) filled. Members that choose the same
    config groups differ only from the value overrides on, so the group
    composition is made once (per process) and each member repeats the later
    steps on a copy, in Hydra's order.

    Args:
        loader: Hydra's config loader.
        master_config: The sweep's config (``hydra.overrides.hydra`` holds the
            command's hydra overrides).
        sweep_overrides: The member's overrides.

    Returns:
        The member's config.
    """
    from hydra._internal.config_loader_impl import ConfigLoaderImpl, get_overrides_dirname
    from hydra.core.override_parser.overrides_parser import OverridesParser

    command: Any = OmegaConf.to_container(master_config.hydra.overrides.hydra)
    lines = [*command, *sweep_overrides]
    parsed = OverridesParser.create().parse_overrides([str(x) for x in lines])
    repo = loader.repository

    def is_value(o: Any) -> bool:  # as hydra._internal.defaults_list.Overrides
        return isinstance(o.value(), dict) or not repo.group_exists(o.key_or_group)

    config_name = master_config.hydra.job.config_name
    groups = [o.input_line for o in parsed if not is_value(o)]
    key = (config_name, tuple(groups), os.getcwd())
    if key not in _BASES:
        _BASES[key] = loader.load_configuration(
            config_name=config_name, overrides=groups, run_mode=RunMode.RUN
        )
    base = _BASES[key]
    cfg = copy.deepcopy(base)
    ConfigLoaderImpl._apply_overrides_to_config([o for o in parsed if is_value(o)], cfg)
    task = [o for o in parsed if not o.is_hydra_override()]
    hc = cfg.hydra
    with open_dict(hc):
        hc.overrides.hydra = [o.input_line for o in parsed if o.is_hydra_override()]
        hc.overrides.task = [o.input_line for o in task]
        hc.runtime.choices.update(base.hydra.runtime.choices)
        for name in ("version", "version_base", "cwd", "config_sources"):
            hc.runtime[name] = base.hydra.runtime[name]
    dirname = hc.job.config.override_dirname
    hc.job.override_dirname = get_overrides_dirname(
        overrides=task,
        kv_sep=dirname.kv_sep,
        item_sep=dirname.item_sep,
        exclude_keys=dirname.exclude_keys,
    )
    hc.job.config_name = config_name
    OmegaConf.copy_cache(from_config=master_config, to_config=cfg)
    return cfg


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


def _stop_idle_workers() -> None:
    """Stop the loky workers of the sweep that just ended (none is running a job)."""
    from joblib.externals.loky import reusable_executor

    executor = getattr(reusable_executor, "_executor", None)
    if executor is not None:
        executor.shutdown(wait=True, kill_workers=True)


class JoblibLauncher(_PluginJoblibLauncher):
    """The joblib plugin's launcher, composing members faster and stopping workers when done."""

    def launch(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        """Run the members as the plugin does, then stop the idle workers."""
        context: HydraContext | None = self.hydra_context  # type: ignore[has-type]
        assert context is not None
        _BASES.clear()
        self.hydra_context = HydraContext(
            config_loader=_ReusingLoader(context.config_loader),  # type: ignore[arg-type]
            callbacks=context.callbacks,
        )
        try:
            results = super().launch(job_overrides, initial_job_idx)
        finally:
            self.hydra_context = context
            _BASES.clear()
        _stop_idle_workers()
        return results


@dataclass
class JoblibConf(JobLibLauncherConf):
    """``hydra/launcher=joblib``: the plugin's settings, parksim's launcher."""

    _target_: str = "hydra_plugins.parksim_launchers.launchers.JoblibLauncher"


def _text_writer(text: str) -> Callable[[Path], object]:
    """A writer for ``write_atomic`` that writes ``text``."""

    def write(path: Path) -> object:
        return path.write_text(text)

    return write
