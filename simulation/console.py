"""The ``parksim`` console script: a sweep's fork server first, then the command.

:func:`simulation.forked_sweep.prestart_for` runs before :mod:`simulation.cli` is
imported (Hydra, the config schemas: about 0.8 s), so that the fork server of a
sweep imports the model on the other core meanwhile.
"""

from __future__ import annotations

import sys

from simulation.forked_sweep import prestart_for

__all__ = ["main"]


def main() -> None:
    """Start a sweep's fork server if the command line is one, then run ``parksim``."""
    prestart_for(sys.argv[1:])
    from simulation.cli import console

    console()
