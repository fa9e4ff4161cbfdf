"""The process's long-lived objects kept out of Python's cyclic garbage collector.

A full collection of CPython's cyclic garbage collector scans every container
object it tracks. After a run's imports (numpy, pandas, pyarrow, Hydra, mesa, the
model: about 100,000 objects) one full collection takes 0.06–0.1 s on this
project's 2-core machine, and the collector ran for 0.18 s of a default-park
mature year through the CLI (measured with ``gc.callbacks``: 290 young, 26 middle
and 2 full collections). Modules, classes, functions and the composed config live
as long as the process, and a collection never frees them.

:func:`collector_paused` keeps the collector from running during imports, and
:func:`freeze_once` moves every object tracked so far into the collector's
permanent generation (``gc.freeze``), which no later collection scans; it does
nothing the second time a process calls it for the same stage, and nothing in a
process that is not the ``parksim`` command's (:func:`for_command`: the command
and its sweep's workers; a notebook's heap is left alone). The command calls it
for ``"imports"`` once its own modules are imported, and
:func:`simulation.run.run_simulation` for ``"run"`` before it builds the first
model of the process. A single run has no cyclic garbage at that point (measured:
``gc.collect()`` there finds none); a serial sweep's later members freeze nothing,
so what they leave behind is collected as usual, and at most what was garbage when
the first member froze is kept (under a thousand objects, measured). Results do not
depend on it: the collector frees memory only.

References:
    Python 3.11 documentation, ``gc.freeze`` ("… avoiding unnecessary copy-on-write
    in child processes will maximize memory sharing and reduce overall memory
    usage"; frozen objects are ignored by all future collections).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["collector_paused", "for_command", "freeze_once"]

_FROZEN: set[str] = set()
_COMMAND = [False]


def for_command() -> None:
    """Mark this process as the ``parksim`` command's (or a worker of its sweep).

    :func:`freeze_once` freezes only in such a process: a notebook or a program that
    calls :func:`simulation.run.run_simulation` keeps its collector as it was.
    """
    _COMMAND[0] = True


def freeze_once(stage: str) -> bool:
    """Freeze every object the collector tracks now, the first time ``stage`` is seen.

    Args:
        stage: A name for the point of the process (``"imports"``, ``"run"``).

    Returns:
        Whether this call froze (False: the process had frozen at ``stage`` before,
        or is not the command's, :func:`for_command`).
    """
    if stage in _FROZEN or not _COMMAND[0]:
        return False
    _FROZEN.add(stage)
    gc.freeze()
    return True


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic collection inside (``gc.disable``), the collector's state restored after.

    For imports: they create about 100,000 long-lived objects and little cyclic
    garbage, and the collector, run every 700 new objects, scans them again and
    again (about 0.03 s of the command's imports, measured with ``gc.callbacks``).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
