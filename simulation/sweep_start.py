"""The ``parksim`` command's first step: a sweep's fork server, started before its imports.

A sweep on the joblib launcher runs its members in workers of a fork server
(:mod:`simulation.forked_sweep`) that imports what a member's run imports, about
2.5 s on the other core. The command's own imports (Hydra, the config schemas,
the run module) take about 0.8 s before :func:`simulation.cli.main` could start
it, and until the server is ready no member starts. So the console script and
``python -m simulation.cli`` call :func:`prestart_for` first, with nothing but the
standard library imported; :func:`simulation.cli.main` calls it again after
parsing the command line with Hydra's parser (starting the server is idempotent).

The early check reads the command line as Hydra's parser does for what it needs
(the ``-m``/``--multirun`` flag, no informational flag, the overrides): a command
it misstakes for a sweep gets its server started anyway by ``main`` or not at all,
and a server nobody uses ends with the command's process.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["console", "forks_workers", "is_forking_sweep", "prestart_for"]

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
        from simulation import forked_sweep

        forked_sweep.prestart()


def console() -> None:
    """The ``parksim`` console script: :func:`prestart_for`, then the command."""
    prestart_for(sys.argv[1:])
    from simulation.cli import console as run

    run()
