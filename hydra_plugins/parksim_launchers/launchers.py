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
:mod:`simulation.hydra_compose`), instead of from scratch (about 0.3 s a member
here); the result is the config Hydra's own ``load_sweep_config`` composes.

References:
    hydra-submitit-launcher 1.2 (``hydra_plugins.hydra_submitit_launcher``),
    whose ``launch`` this follows.
    hydra-joblib-launcher 1.2 (``hydra_plugins.hydra_joblib_launcher``), which
    :class:`JoblibLauncher` extends; hydra-core 1.3
    ``hydra._internal.config_loader_impl.load_sweep_config``, which
    :func:`compose_sweep_member` follows.
"""

from __future__ import annotations

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

    command: Any = OmegaConf.to_container(master_config.hydra.overrides.hydra)
    cfg = hydra_compose.compose(
        loader, master_config.hydra.job.config_name, [*command, *sweep_overrides]
    )
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


class JoblibLauncher(_PluginJoblibLauncher):
    """The joblib plugin's launcher, composing each member from its groups' composition."""

    def launch(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        """Run the members as the plugin does, each composed by :func:`compose_sweep_member`."""
        from simulation import hydra_compose

        context: HydraContext | None = self.hydra_context  # type: ignore[has-type]
        assert context is not None
        hydra_compose.clear()
        self.hydra_context = HydraContext(
            config_loader=_ReusingLoader(context.config_loader),  # type: ignore[arg-type]
            callbacks=context.callbacks,
        )
        try:
            return super().launch(job_overrides, initial_job_idx)
        finally:
            self.hydra_context = context
            hydra_compose.clear()


@dataclass
class JoblibConf(JobLibLauncherConf):
    """``hydra/launcher=joblib``: the plugin's settings, parksim's launcher."""

    _target_: str = "hydra_plugins.parksim_launchers.launchers.JoblibLauncher"


def _text_writer(text: str) -> Callable[[Path], object]:
    """A writer for ``write_atomic`` that writes ``text``."""

    def write(path: Path) -> object:
        return path.write_text(text)

    return write
