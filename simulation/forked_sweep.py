"""Sweep members in worker processes forked by a fork server started with the sweep.

Hydra's joblib launcher runs the members in loky workers: fresh interpreters
that import Hydra, the launcher, the config schemas and then, in their first
member, the model, pandas, scipy and pyarrow (about 2 s here), and receive the
sweep's state (its config loader, config, task function and Hydra's
singletons) pickled with every member. A serial sweep pays those imports once;
two loky workers pay them again, each, after the sweep's own start.

Here a fork server (``multiprocessing``'s ``forkserver``) is started as the
sweep starts and imports those modules on the second core while the sweep's
process imports Hydra and composes and checks its members. Each worker is forked
from the server, ready, and receives the sweep's state once; only a member's
number and overrides travel to it then, and its result (Hydra's ``JobReturn``)
back.

The command's own imports (Hydra, the config schemas, the run module) take about
0.8 s, and no member starts before the server is ready, so the ``parksim``
script (:mod:`simulation.console`) and ``python -m simulation.cli`` call
:func:`prestart_for` first, with only the standard library imported; it reads
the command line for what it needs (the ``-m``/``--multirun`` flag, no
informational flag, the overrides). :func:`simulation.cli.main` (which tests and
callers may run without either entry) and :func:`run_members` call
:func:`prestart` again: starting the server is idempotent, and a server nobody
uses ends with the command's process.

:func:`run_members` gives each worker a pipe of its own and one member at a
time, so a worker that dies (killed by a signal, out of memory) leaves exactly
one member without a result: that member is returned as :class:`WorkerDied`
(the launcher records it as failed), a new worker takes its place and the
other members run on. Each member runs as the joblib plugin's ``execute_job``
runs it, and a worker kills itself when the sweep's process has ended.

References:
    hydra-joblib-launcher 1.2, ``hydra_plugins.hydra_joblib_launcher._core``
    (``launch``, ``execute_job``), whose steps :func:`run_members` follows;
    Python 3.11 ``multiprocessing`` (``forkserver``, ``set_forkserver_preload``,
    ``Pipe``, ``connection.wait``).
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # multiprocessing is imported where it is used: a single run never is
    from multiprocessing.connection import Connection

__all__ = [
    "PRELOAD",
    "WorkerDied",
    "available",
    "forks_workers",
    "is_forking_sweep",
    "prestart",
    "prestart_for",
    "run_members",
]

#: What the fork server imports before it forks a worker: what every member's run
#: imports (Hydra, the configs, the model, its outputs) and what unpickling the
#: sweep's state imports (the run module, the launchers, Hydra's sweeper and
#: config sources). Not ``scipy.optimize`` (0.3-0.4 s): the orderly plan's LP
#: bound is solved on highspy, so only a MILP, the reserve LP or pvlib imports it,
#: in the worker that needs it. Not ``simulation.cli``: a worker of ``python -m
#: simulation.cli`` runs that module as its ``__mp_main__``, and runpy warns if it
#: is imported already. The server imports them by :mod:`simulation._fork_preload`.
PRELOAD: tuple[str, ...] = (
    "simulation.config",
    "hydra_plugins.hydra_joblib_launcher._core",
    "simulation.model",
    "simulation.outputs",
    "pyarrow.parquet",
    "demandlib.particular_profiles",
    "simulation.run",
    "hydra_plugins.parksim_launchers.launchers",
    "hydra._internal.core_plugins.basic_sweeper",
    "hydra._internal.core_plugins.file_config_source",
    "hydra._internal.core_plugins.importlib_resources_config_source",
    "hydra._internal.core_plugins.structured_config_source",
)


@dataclass(frozen=True)
class WorkerDied:
    """A member left without a result: the worker process running it died.

    Attributes:
        reason: How the worker ended (the signal that killed it, or its exit code).
    """

    reason: str


def available() -> bool:
    """Whether members can run in workers of a fork server (Linux only).

    macOS's system libraries are not safe to use in a forked child, and Windows
    cannot fork.
    """
    import multiprocessing

    return (
        sys.platform.startswith("linux") and "forkserver" in multiprocessing.get_all_start_methods()
    )


def prestart() -> None:
    """Start the fork server now: it imports :data:`PRELOAD` while the sweep starts.

    The server is a fresh interpreter (so it starts safely whatever threads
    this process runs), imports :data:`PRELOAD` by :mod:`simulation._fork_preload`
    (which freezes what they create for the collector, so each worker inherits
    it frozen), ends when this process does, and is reused by every
    :func:`run_members` of the process. Without this call the first
    :func:`run_members` starts it, and waits for its imports.
    """
    if not available():
        return
    from multiprocessing import forkserver

    forkserver.set_forkserver_preload(["simulation._fork_preload"])
    forkserver.ensure_running()


_MULTIRUN = frozenset({"-m", "--multirun"})
#: Flags with which the command runs nothing (help, the config, shell completion).
_INFORMATIONAL = frozenset(
    {
        "-h",
        "--help",
        "--hydra-help",
        "--version",
        "-c",
        "--cfg",
        "-i",
        "--info",
        "-sc",
        "--shell-completion",
        "-cd",
        "--config-dir",
    }
)


def forks_workers(overrides: Sequence[str]) -> bool:
    """Whether a sweep with these overrides may run its members in forked workers.

    Not with another launcher than joblib chosen, nor with ``n_jobs=1`` (members
    run in this process then); the joblib launcher decides the rest
    (``hydra_plugins.parksim_launchers.launchers``).
    """
    for text in overrides:
        key, _, value = text.lstrip("+~").partition("=")
        if key == "hydra/launcher" and value not in ("joblib", "joblib_bounded"):
            return False
        if key == "hydra.launcher.n_jobs" and value.strip() == "1":
            return False
    return True


def is_forking_sweep(argv: Sequence[str]) -> bool:
    """Whether a command line is a sweep whose members may run in forked workers.

    Args:
        argv: The command's arguments (``sys.argv[1:]``).
    """
    flags = {a.partition("=")[0] for a in argv if a.startswith("-")}
    if not flags & _MULTIRUN or flags & _INFORMATIONAL:
        return False
    return forks_workers([a for a in argv if not a.startswith("-")])


def prestart_for(argv: Sequence[str]) -> None:
    """Start the fork server now if ``argv`` is a sweep that forks its workers.

    Args:
        argv: The command's arguments (``sys.argv[1:]``).
    """
    if is_forking_sweep(argv):
        prestart()


def run_members(
    jobs: Sequence[tuple[int, Sequence[str]]],
    n_workers: int,
    hydra_context: Any,
    config: Any,
    task_function: Any,
    singleton_state: dict[Any, Any],
    execute: Callable[..., Any] | None = None,
) -> list[Any]:
    """Run sweep members in ``n_workers`` workers of the fork server, results in job order.

    Args:
        jobs: ``(job number, overrides)`` of each member.
        n_workers: Worker processes at a time (``≥ 1``; no more than members).
        hydra_context: The sweep's Hydra context (its config loader composes a
            member's config).
        config: The sweep's config.
        task_function: The Hydra task to run.
        singleton_state: ``hydra.core.singleton.Singleton.get_state()`` of the sweep.
        execute: Runs one member, ``execute(num, overrides, hydra_context,
            config, task_function, singleton_state)``; default the joblib
            plugin's ``execute_job``.

    Returns:
        Per member, in the order of ``jobs``: its ``JobReturn``, or
        :class:`WorkerDied` if its worker died before returning it.
    """
    import multiprocessing
    from multiprocessing.connection import Connection, wait

    import cloudpickle  # the sweep's state holds classes and functions loky sends so too

    prestart()
    if execute is None:
        from hydra_plugins.hydra_joblib_launcher._core import execute_job

        execute = execute_job
    state = cloudpickle.dumps((execute, hydra_context, config, task_function, singleton_state))
    context = multiprocessing.get_context("forkserver")
    results: list[Any] = [None] * len(jobs)
    todo = deque(range(len(jobs)))
    running: dict[Connection, tuple[Any, int]] = {}  # pipe -> (worker, member index)
    idle: list[tuple[Connection, Any]] = []
    alive, alive_w = context.Pipe(duplex=False)  # see _watch; alive_w is never written
    try:
        while todo or running:
            while todo and len(running) < max(1, n_workers):
                conn, worker = idle.pop() if idle else _start(context, state, alive)
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
        alive.close()
        alive_w.close()


def _start(context: Any, state: bytes, alive: Connection) -> tuple[Connection, Any]:
    """Start a worker serving members over a pipe of its own: (pipe, process)."""
    ours, theirs = context.Pipe()
    worker = context.Process(target=_serve, args=(theirs, state, alive), daemon=True)
    worker.start()
    theirs.close()  # the worker's end lives in the worker only: its death is our EOF
    return ours, worker


def _how_it_ended(exitcode: int | None) -> str:
    """A worker's exit code in words (negative: the signal that killed it)."""
    if exitcode is not None and exitcode < 0:
        return f"its worker process was killed by {signal.Signals(-exitcode).name}"
    return f"its worker process exited with status {exitcode} before returning the result"


def _serve(conn: Connection, state: bytes, alive: Connection) -> None:
    """In a worker: run the members sent over ``conn`` until it sends None."""
    threading.Thread(target=_watch, args=(alive,), name="parksim-watch", daemon=True).start()
    execute, *sweep = pickle.loads(state)
    while (job := conn.recv()) is not None:
        num, overrides = job
        buf = io.BytesIO()
        _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(execute(num, list(overrides), *sweep))
        conn.send_bytes(buf.getvalue())
    conn.close()


def _watch(alive: Connection) -> None:
    """In a worker's thread: kill the worker when the sweep's process has ended.

    The sweep's process holds the only writing end of ``alive`` and never
    writes: reading it ends when that process does, killed or not. A worker is
    the fork server's child, not the sweep's, and the fork server lives as long
    as any worker does, so nothing else would stop a worker of a killed sweep.
    SIGKILL, not SIGTERM: a member turns SIGTERM into an exception, and nobody
    is left to take its result.
    """
    with contextlib.suppress(EOFError, OSError):
        alive.recv_bytes()
    os.kill(os.getpid(), signal.SIGKILL)


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
