"""Sweep members in worker processes forked from the sweep's own process (Linux).

Hydra's joblib launcher runs the members in loky workers: fresh interpreters
that import Hydra, omegaconf, the launcher and the config schemas again before
their first member can start (0.5–1 s here), and receive the sweep's state (its
config loader, config, task function and Hydra's singletons) pickled with every
member. A worker forked from the sweep's process already holds all of that:
only a member's number and overrides travel to it, and its result (Hydra's
``JobReturn``) back.

:func:`run_members` forks each worker with a pipe of its own and hands it one
member at a time, so a worker that dies (killed by a signal, out of memory)
leaves exactly one member without a result: that member is returned as
:class:`WorkerDied` (the launcher records it as failed), a new worker takes
its place and the other members run on. Workers are forked only while the
calling process runs no thread besides the main one (:func:`can_fork`): a fork
copies a lock held by another thread in its locked state. Each member runs as
the joblib plugin's ``execute_job`` runs it, and a worker is killed when the
sweep's process dies.

References:
    hydra-joblib-launcher 1.2, ``hydra_plugins.hydra_joblib_launcher._core``
    (``launch``, ``execute_job``), whose steps :func:`run_members` follows;
    Python 3.11 ``multiprocessing`` (``get_context("fork")``, ``Pipe``,
    ``connection.wait``); Linux ``prctl(2)`` (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import multiprocessing
import os
import pickle
import signal
import sys
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

__all__ = ["WorkerDied", "can_fork", "run_members"]

# The sweep's state, set in the parent just before the workers are forked, so that
# every worker inherits it; None outside run_members. It lives here, not in the
# launcher's module: Hydra's plugin scan executes hydra_plugins modules again,
# which would reset it.
_SWEEP: tuple[Any, Any, Any, dict[Any, Any]] | None = None
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


@dataclass(frozen=True)
class WorkerDied:
    """A member left without a result: the worker process running it died.

    Attributes:
        reason: How the worker ended (the signal that killed it, or its exit code).
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

    Args:
        jobs: ``(job number, overrides)`` of each member.
        n_workers: Worker processes at a time (``≥ 1``; no more than members).
        hydra_context: The sweep's Hydra context (its config loader composes a
            member's config).
        config: The sweep's config.
        task_function: The Hydra task to run.
        singleton_state: ``hydra.core.singleton.Singleton.get_state()`` of the sweep.

    Returns:
        Per member, in the order of ``jobs``: its ``JobReturn``, or
        :class:`WorkerDied` if its worker died before returning it.
    """
    global _SWEEP
    _SWEEP = (hydra_context, config, task_function, singleton_state)
    context = multiprocessing.get_context("fork")
    results: list[Any] = [None] * len(jobs)
    todo = deque(range(len(jobs)))
    running: dict[Connection, tuple[Any, int]] = {}  # pipe -> (worker, member index)
    idle: list[tuple[Connection, Any]] = []
    try:
        while todo or running:
            while todo and len(running) < max(1, n_workers):
                conn, worker = idle.pop() if idle else _start(context)
                i = todo.popleft()
                conn.send(jobs[i])
                running[conn] = (worker, i)
            for ready in wait(list(running)):
                assert isinstance(ready, Connection)
                conn = ready
                worker, i = running.pop(conn)
                try:
                    results[i] = pickle.loads(conn.recv_bytes())
                except EOFError:  # the worker died with the member
                    worker.join()
                    conn.close()
                    results[i] = WorkerDied(_how_it_ended(worker.exitcode))
                else:
                    idle.append((conn, worker))
        return results
    finally:
        _SWEEP = None
        stopping = [*running.items(), *((c, (w, -1)) for c, w in idle)]
        early = bool(running)  # leaving early (Ctrl-C, an error): stop the members at once
        for conn, (worker, _) in stopping:
            with contextlib.suppress(OSError):  # it died meanwhile
                if early:
                    worker.kill()
                else:
                    conn.send(None)  # the worker's loop ends
        for conn, (worker, _) in stopping:
            worker.join()
            conn.close()


def _start(context: Any) -> tuple[Connection, Any]:
    """Fork a worker serving members over a pipe of its own: (pipe, process)."""
    ours, theirs = context.Pipe()
    worker = context.Process(target=_serve, args=(theirs, os.getpid()), daemon=True)
    worker.start()
    theirs.close()  # the worker's end lives in the worker only: its death is our EOF
    return ours, worker


def _how_it_ended(exitcode: int | None) -> str:
    """A worker's exit code in words (negative: the signal that killed it)."""
    if exitcode is not None and exitcode < 0:
        return f"its worker process was killed by {signal.Signals(-exitcode).name}"
    return f"its worker process exited with status {exitcode} before returning the result"


def _serve(conn: Connection, parent_pid: int) -> None:
    """In a worker: run the members sent over ``conn`` until it sends None."""
    _die_with_parent(parent_pid)
    while (job := conn.recv()) is not None:
        conn.send_bytes(_run_member(*job))
    conn.close()


def _die_with_parent(parent_pid: int) -> None:
    """In a new worker: be killed when the sweep's process dies (Linux).

    Without it a worker whose parent was killed would wait for work forever.
    The signal is SIGKILL: a member turns SIGTERM into an exception, and there
    is nobody left to take its result.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before the call
        os._exit(1)


def _run_member(num: int, overrides: Sequence[str]) -> bytes:
    """In a worker: one member, as the joblib plugin's ``execute_job`` runs it.

    Returns:
        Its ``JobReturn``, pickled by :class:`_Pickler`.
    """
    from hydra_plugins.hydra_joblib_launcher._core import execute_job

    assert _SWEEP is not None, "only in a worker forked by run_members"
    hydra_context, config, task_function, singleton_state = _SWEEP
    ret = execute_job(num, list(overrides), hydra_context, config, task_function, singleton_state)
    buf = io.BytesIO()
    _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(ret)
    return buf.getvalue()


class _Pickler(pickle.Pickler):
    """Pickle, with a class its module no longer holds pickled by its import path.

    Hydra's plugin scan executes the plugin modules again, so a composed config's
    launcher and sweeper nodes are typed by classes that are no longer the ones
    at their import path, which plain pickle refuses. They are sent by path and
    the sweep's process takes the class its module holds now; cloudpickle, as
    loky uses, would send them by value, ten times slower (0.1 s a result here).
    """

    def reducer_override(self, obj: Any) -> Any:
        """Reduce such a class to :func:`_class_at`; everything else as pickle does."""
        if isinstance(obj, type) and _class_at(obj.__module__, obj.__qualname__) is not obj:
            return _class_at, (obj.__module__, obj.__qualname__)
        return NotImplemented


def _class_at(module: str, qualname: str) -> Any:
    """The object at ``module``'s ``qualname`` (imported if need be), or None."""
    import importlib

    try:
        found: Any = importlib.import_module(module)
    except ImportError:
        return None
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return found
