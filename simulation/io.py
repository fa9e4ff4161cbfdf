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
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

__all__ = [
    "SIGTERM_EXIT_CODE",
    "Terminated",
    "parquet_writer",
    "remove_stale_temp_files",
    "sigterm_as_exit",
    "write_atomic",
    "write_frame",
    "write_tables",
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


def parquet_writer(
    where: Path | IO[bytes], schema: pa.Schema, *, plain_floats: bool
) -> pq.ParquetWriter:
    """A pyarrow ``ParquetWriter`` of ``schema`` into a path or an open binary file.

    Args:
        where: The file.
        schema: The schema of every table written.
        plain_floats: Write float columns without dictionary encoding (the others
            with it): many-valued users × days results are written in about half the
            time, for a file about 10 % larger. Otherwise every column is
            dictionary-encoded (pyarrow's default).

    Returns:
        The open writer (close it, or use it as a context manager).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    coded: bool | list[str] = True
    if plain_floats:
        coded = [f.name for f in schema if not pa.types.is_floating(f.type)]
    return pq.ParquetWriter(where, schema, use_dictionary=coded)


def write_frame(path: Path, frame: pd.DataFrame) -> None:
    """Write a table to a Parquet file: the file ``frame.to_parquet(path, index=False)`` writes.

    Byte for byte the same file (tested), with the columns converted in this
    thread: pandas' call converts them in a thread pool started anew for each
    table (about 20 ms of a mature year's 13 tables). Write through
    :func:`write_atomic` for a file that appears whole or not at all.

    Args:
        path: The file to write.
        frame: The table (string column names; its index is not written).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False, nthreads=1), path)


def write_tables(
    path: Path,
    tables: Iterable[pa.Table],
    *,
    plain_floats: bool,
    schema: pa.Schema | None = None,
) -> None:
    """Write Arrow tables of one schema as the row groups of one Parquet file.

    The file's schema (and metadata) is ``schema``, else the first table's; every
    table keeps its values and takes that metadata. Write through
    :func:`write_atomic` for a file that appears whole or not at all.

    Args:
        path: The file to write.
        tables: The tables, one row group each.
        plain_floats: As :func:`parquet_writer`.
        schema: The file's schema; given, a file without tables is still written
            (no rows). Without it and without tables, nothing is written.
    """
    writer = None if schema is None else parquet_writer(path, schema, plain_floats=plain_floats)
    try:
        for table in tables:
            if writer is None:
                writer = parquet_writer(path, table.schema, plain_floats=plain_floats)
            else:
                table = table.replace_schema_metadata(writer.schema.metadata)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
