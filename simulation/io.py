"""File output shared by the run writer and the figure writers.

Every file a run writes goes through :func:`write_atomic`: to a temporary
sibling ``.<name>.tmp-<pid>`` in the same directory, then renamed, so a reader
never sees a half-written file. The temporary file is removed when the write
fails or is interrupted — by Ctrl-C (``KeyboardInterrupt``) and, inside
:func:`sigterm_as_exit`, by SIGTERM (a ``timeout``, a SLURM kill), which then
ends the process with exit code 143 (128 + SIGTERM). Temporary files left by a
process that was killed outright (SIGKILL) are removed by the next run in the
directory (:func:`remove_stale_temp_files`).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

__all__ = [
    "SIGTERM_EXIT_CODE",
    "Terminated",
    "remove_stale_temp_files",
    "sigterm_as_exit",
    "write_atomic",
]

#: Exit code of a process ended by SIGTERM (the shell's 128 + 15).
SIGTERM_EXIT_CODE: int = 128 + signal.SIGTERM

_TMP = re.compile(r"^\..+\.tmp-(\d+)$")


class Terminated(SystemExit):
    """Raised in the main thread when SIGTERM arrives inside :func:`sigterm_as_exit`."""


def write_atomic(path: Path, writer: Callable[[Path], object]) -> None:
    """Write a file through a temporary sibling, then rename it into place.

    Args:
        path: Final path.
        writer: Called with the temporary path; must write the whole file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        writer(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temp_files(directory: Path) -> list[Path]:
    """Remove ``.<name>.tmp-<pid>`` files of processes that no longer run.

    Searches ``directory`` and its subdirectories (``figures/``).

    Args:
        directory: A run directory.

    Returns:
        The files removed.
    """
    removed: list[Path] = []
    if not directory.is_dir():
        return removed
    for path in directory.rglob(".*.tmp-*"):
        m = _TMP.match(path.name)
        if m and path.is_file() and not _alive(int(m.group(1))):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


@contextlib.contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` (exit code 143).

    Like Ctrl-C, the exception unwinds the stack, so :func:`write_atomic`
    removes its temporary file. Outside the main thread this does nothing.

    Yields:
        Nothing; the previous SIGTERM handler is restored on exit.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _handler(signum: int, frame: FrameType | None) -> None:
        raise Terminated(SIGTERM_EXIT_CODE)

    previous = signal.signal(signal.SIGTERM, _handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
