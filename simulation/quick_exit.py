"""Leave the ``parksim`` command without the interpreter's teardown.

The console script (:mod:`simulation.console`) and ``python -m simulation.cli``
both end through :func:`exit_after`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import NoReturn

__all__ = ["exit_after"]


def exit_after(main: Callable[[], None], ran_a_sweep: Callable[[], bool]) -> NoReturn:
    """Run ``main`` (the ``parksim`` command), then leave with a quick exit.

    Tearing the interpreter down after a run — freeing every module and object of
    numpy, pandas, scipy, pyarrow, mesa and Hydra — takes about 0.5 s on this
    project's machine, a tenth of a default-park year through the CLI. After a
    single run nothing is left to do by then (every output file is closed, the
    ``users.parquet`` encoding thread joined), so this flushes stdout, stderr and
    the log handlers, runs the ``atexit`` handlers and leaves with ``os._exit``
    and the run's exit status. A sweep (``-m``) leaves the same way when nothing of
    its launcher is left running (:func:`_nothing_left_running`: its members ran in
    this process or in forked workers, all joined); a sweep that used loky's or
    submitit's workers exits the usual way, its machinery shutting down with the
    interpreter.

    Args:
        main: The command (:func:`simulation.cli.main`).
        ran_a_sweep: After ``main``, whether it ran a sweep
            (:func:`simulation.cli.ran_a_sweep`).
    """
    import atexit
    import logging
    import os

    code: str | int | None = 0
    try:
        main()
    except SystemExit as stop:
        code = stop.code
    if ran_a_sweep() and not _nothing_left_running():
        sys.exit(code)
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    atexit._run_exitfuncs()
    os._exit(code)


def _nothing_left_running() -> bool:
    """Whether a sweep left nothing that the interpreter's shutdown would stop.

    True when no other non-daemon thread is alive, no ``multiprocessing`` child
    process is running, joblib's loky executor was never started (or has been
    shut down) and submitit was not imported: the members ran in this process
    (``n_jobs=1``, the basic launcher) or in forked workers that
    :func:`simulation.forked_sweep.run_members` has joined. loky's executor has a
    non-daemon manager thread and worker processes, stopped by a hook of
    ``threading``'s shutdown, which ``os._exit`` skips.
    """
    import multiprocessing
    import threading

    main_thread = threading.main_thread()
    if any(t is not main_thread and not t.daemon for t in threading.enumerate()):
        return False
    if multiprocessing.active_children():
        return False
    loky = sys.modules.get("joblib.externals.loky.reusable_executor")
    if loky is not None and getattr(loky, "_executor", None) is not None:
        return False
    return "submitit" not in sys.modules
