"""The ``parksim`` console script: a sweep's fork server first, then the command, then a quick exit.

:func:`simulation.forked_sweep.prestart_for` runs before :mod:`simulation.cli` is
imported (Hydra, the config schemas: about 0.8 s), so that the fork server of a
sweep imports the model on the other core meanwhile. The command then ends
through :func:`simulation.quick_exit.exit_after`, without the interpreter's
teardown when nothing is left to shut down.
"""

from __future__ import annotations

import sys

from simulation.forked_sweep import prestart_for

__all__ = ["main"]


def main() -> None:
    """Start a sweep's fork server if the command line is one, then run ``parksim``."""
    prestart_for(sys.argv[1:])
    from simulation.heap import collector_paused, for_command, freeze_once

    for_command()
    with collector_paused():
        from simulation.cli import main as command
        from simulation.cli import ran_a_sweep
        from simulation.quick_exit import exit_after

        freeze_once("imports")  # Hydra's and the config schemas' objects (simulation.heap)
    exit_after(command, ran_a_sweep)
