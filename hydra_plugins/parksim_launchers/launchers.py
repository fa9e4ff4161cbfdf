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
plugin documents, the same ``joblib.Parallel`` call) that, when the sweep is
done — every member's outputs written and its result returned — stops the idle
loky workers at once: left to exit with the interpreter, each worker tears its
interpreter down (mesa, pandas, scipy, pyarrow) while the command waits, about
0.6 s here against 0.07 s.

References:
    hydra-submitit-launcher 1.2 (``hydra_plugins.hydra_submitit_launcher``),
    whose ``launch`` this follows.
    hydra-joblib-launcher 1.2 (``hydra_plugins.hydra_joblib_launcher``), which
    :class:`JoblibLauncher` extends.
    joblib 1.6 (``joblib.externals.loky``): the executor of the last ``Parallel``
    call is the reusable executor ``loky.reusable_executor._executor``.
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
from omegaconf import OmegaConf

from simulation.io import write_atomic

__all__ = [
    "JoblibConf",
    "JoblibLauncher",
    "LocalConf",
    "LocalLauncher",
    "SlurmConf",
    "SlurmLauncher",
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


def _stop_idle_workers() -> None:
    """Stop the loky workers of the sweep that just ended (none is running a job)."""
    from joblib.externals.loky import reusable_executor

    executor = getattr(reusable_executor, "_executor", None)
    if executor is not None:
        executor.shutdown(wait=True, kill_workers=True)


class JoblibLauncher(_PluginJoblibLauncher):
    """The joblib plugin's launcher; its workers are stopped as soon as the sweep is done."""

    def launch(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        """Run the members as the plugin does, then stop the idle workers."""
        results = super().launch(job_overrides, initial_job_idx)
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
