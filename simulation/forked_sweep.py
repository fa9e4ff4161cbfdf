"""Sweep members in worker processes forked from the sweep's own process (Linux).

Hydra's joblib launcher runs the members in loky workers: fresh interpreters
that import Hydra, omegaconf, the launcher and the config schemas again, and
receive the sweep's state (its config loader, config, task function and Hydra's
singletons) pickled with every member — about 2 s of start-up a worker here
before its first member can start, and 0.3–0.4 s between two members. A
worker forked from the sweep's process already holds all of that: only a
member's number and overrides travel to it, and its result (Hydra's
``JobReturn``) back.

:func:`run_members` forks the workers before any thread starts (the standard
library's ``ProcessPoolExecutor`` with the ``fork`` context starts every worker
up front, then its manager thread), and only when the calling process has no
thread besides the main one (:func:`can_fork`): a fork copies a lock held by
another thread in its locked state. Each member runs as the joblib plugin's
``execute_job`` runs it. A worker that dies (killed by a signal, out of memory)
breaks the pool; the members it left without a result run again (see
:func:`run_members`), and one that dies alone too is returned as
:class:`WorkerDied`, which the launcher records as failed.

References:
    hydra-joblib-launcher 1.2, ``hydra_plugins.hydra_joblib_launcher._core``
    (``launch``, ``execute_job``), whose steps :func:`run_members` follows;
    Python 3.11 ``concurrent.futures.ProcessPoolExecutor`` (``mp_context``, and
    ``BrokenProcessPool`` when a worker dies).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import pickle
import signal
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import cloudpickle  # imported before the fork: each worker's first result needs it

__all__ = ["WorkerDied", "can_fork", "run_members"]

# The sweep's state, set in the parent just before the workers are forked, so that
# every worker inherits it; None outside run_members. It lives here, not in the
# launcher's module: Hydra's plugin scan executes hydra_plugins modules again,
# which would reset it.
_SWEEP: tuple[Any, Any, Any, dict[Any, Any]] | None = None
_PR_SET_PDEATHSIG = 1  # linux/prctl.h
# Per pool: a shared byte per member, set by the worker when the member begins.
_STARTED: Any = None


@dataclass(frozen=True)
class WorkerDied:
    """A member left without a result: the worker process running it died.

    Attributes:
        reason: What the pool reported (``BrokenProcessPool``'s message).
    """

    reason: str


def can_fork() -> bool:
    """Whether members can run in workers forked from this process.

    Linux only (macOS's system libraries are not fork-safe, and Windows cannot
    fork), and only while this process runs no thread besides the main one.
    """
    return (
        sys.platform.startswith("linux")
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
    )


def run_members(
    jobs: Sequence[tuple[int, Sequence[str]]],
    n_workers: int,
    hydra_context: Any,
    config: Any,
    task_function: Any,
    singleton_state: dict[Any, Any],
) -> list[Any]:
    """Run sweep members in ``n_workers`` forked workers, results in job order.

    When a worker dies the pool stops every worker: the members that had not
    started run in a new pool, then each member that had started but left no
    result runs once more alone, so that one that kills its worker again (out of
    memory, say) is told apart from the members stopped with it.

    Args:
        jobs: ``(job number, overrides)`` of each member.
        n_workers: Worker processes (``≥ 1``; no more are started than members).
        hydra_context: The sweep's Hydra context (its config loader composes a
            member's config).
        config: The sweep's config.
        task_function: The Hydra task to run.
        singleton_state: ``hydra.core.singleton.Singleton.get_state()`` of the sweep.

    Returns:
        Per member, in the order of ``jobs``: its ``JobReturn``, or
        :class:`WorkerDied` if its worker died before returning it, alone too.
    """
    global _SWEEP
    _SWEEP = (hydra_context, config, task_function, singleton_state)
    try:
        results: list[Any] = [None] * len(jobs)
        todo = list(range(len(jobs)))
        stopped: list[int] = []
        while todo:
            got, started = _pool_round([jobs[i] for i in todo], n_workers)
            waiting = []
            for i, ret, began in zip(todo, got, started, strict=True):
                if not isinstance(ret, WorkerDied):
                    results[i] = ret
                elif began:
                    stopped.append(i)
                else:
                    waiting.append(i)
            if len(waiting) == len(todo):  # a worker died before any member began
                for i in waiting:
                    results[i] = got[todo.index(i)]
                break
            todo = waiting
        for i in stopped:
            results[i] = _pool_round([jobs[i]], 1)[0][0]
        return results
    finally:
        _SWEEP = None


def _pool_round(
    jobs: Sequence[tuple[int, Sequence[str]]], n_workers: int
) -> tuple[list[Any], list[bool]]:
    """One pool of forked workers over ``jobs``: results, and which members began."""
    global _STARTED
    context = multiprocessing.get_context("fork")
    started = context.Array("b", len(jobs), lock=False)  # shared with the forked workers
    _STARTED = started
    results: list[Any] = []
    try:
        n = max(1, min(n_workers, len(jobs)))
        init = (_die_with_parent, (os.getpid(),))
        with ProcessPoolExecutor(
            n, mp_context=context, initializer=init[0], initargs=init[1]
        ) as pool:
            futures = []
            broken: WorkerDied | None = None
            for slot, (num, ov) in enumerate(jobs):
                try:
                    futures.append(pool.submit(_run_member, slot, num, list(ov)))
                except BrokenProcessPool as err:  # a worker died while submitting
                    broken = WorkerDied(" ".join(str(err).split()))
                    break
            try:
                for future in futures:
                    try:
                        results.append(pickle.loads(future.result()))
                    except BrokenProcessPool as err:
                        results.append(WorkerDied(" ".join(str(err).split())))
                results += [broken] * (len(jobs) - len(futures))
            except BaseException:  # Ctrl-C, SystemExit: stop the workers, begin no member
                _stop_workers(pool)
                raise
    finally:
        _STARTED = None
    return results, [bool(b) for b in started]


def _die_with_parent(parent_pid: int) -> None:
    """In a new worker: be killed when the sweep's process dies (Linux).

    A forked worker holds both ends of the pool's pipes, so it never reads an end
    of file when its parent dies: without this it would wait for work forever, or
    run the members already queued to it with nobody to take their results. The
    signal is SIGKILL, not SIGTERM: a member turns SIGTERM into an exception the
    pool's worker loop catches, and the loop would go on to the next member.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before the call
        os._exit(1)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Terminate a pool's workers (SIGTERM) and cancel the members not yet begun."""
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14
    if terminate is not None:
        terminate()
        return
    for process in list(getattr(pool, "_processes", {}).values()):
        process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def _run_member(slot: int, num: int, overrides: list[str]) -> bytes:
    """In a worker: one member, as the joblib plugin's ``execute_job`` runs it.

    The ``JobReturn`` goes back pickled by cloudpickle (as loky sends it): its
    config's launcher node is typed by a class of the launcher module that
    Hydra's plugin scan has executed again, which plain pickle cannot find by
    its import path.
    """
    from hydra_plugins.hydra_joblib_launcher._core import execute_job

    assert _SWEEP is not None and _STARTED is not None, "only in a worker of run_members"
    _STARTED[slot] = 1
    hydra_context, config, task_function, singleton_state = _SWEEP
    ret = execute_job(num, overrides, hydra_context, config, task_function, singleton_state)
    return cloudpickle.dumps(ret)
