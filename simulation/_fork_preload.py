"""What a sweep's fork server imports before it forks a worker, frozen for the collector.

Only the fork server of :mod:`simulation.forked_sweep` imports this module
(``multiprocessing``'s fork server imports its preload modules by name). It
imports :data:`simulation.forked_sweep.PRELOAD` with the collector paused and then
moves every object they created into the collector's permanent generation
(:func:`simulation.heap.freeze_once`, as the command does with its own imports).
Each worker is forked from the server and inherits that heap frozen: a worker's
young-generation collections no longer scan the preloaded modules while it
unpickles the sweep's state (measured: 70 ms without the freeze, 18 ms with it)
and runs its first member, before the run freezes again
(:func:`simulation.heap.freeze_once`).

References:
    Python 3.11 documentation, ``gc.freeze`` ("If a process will fork() without
    exec(), avoiding unnecessary copy-on-write in child processes will maximize
    memory sharing and reduce overall memory usage").
"""

from __future__ import annotations

import importlib

from simulation.forked_sweep import PRELOAD
from simulation.heap import collector_paused, for_command, freeze_once

for_command()  # the server and its workers are the command's (simulation.heap)
with collector_paused():
    for _name in PRELOAD:
        importlib.import_module(_name)
    freeze_once("imports")
