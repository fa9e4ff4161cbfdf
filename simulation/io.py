"""File output shared by the run writer and the figure writers.

Every file a run writes goes through :func:`write_atomic`: to a temporary
sibling in the same directory, then renamed, so a reader never sees a
half-written file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

__all__ = ["write_atomic"]


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
