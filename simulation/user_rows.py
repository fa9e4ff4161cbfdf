"""``users.parquet`` rows: Arrow tables of blocks of days, streamed to one Parquet file.

:class:`UserRows` turns a block of recorded user days ``{field: (days, n_users)}``
into the Arrow table of ``users.parquet`` rows (date, user, industry, klass, the
recorded fields, energy intensity) straight from the NumPy arrays. Its schema,
pandas metadata included, is the one ``pa.Table.from_pandas`` gives the same
rows as a DataFrame, so ``pd.read_parquet`` reads back the same frame.

:class:`ParquetSpool` writes such tables as the row groups of one Parquet file
while the model runs, so the file is never rewritten: into an anonymous file
(Linux ``O_TMPFILE``, else an unlinked temporary file), each row group encoded
by a worker thread (pyarrow releases the GIL while encoding) while the model
simulates the next days. :meth:`ParquetSpool.finish` then gives the finished
file its name through :func:`simulation.io.write_atomic`: linked into place
when the file systems allow, else copied; a run that fails or is killed leaves
no file behind. Reading the rows back before the end (dashboards) seals the
file written so far as a segment; a later ``finish`` joins the segments.

Units: energy kWh, money CNY, energy intensity tce per 10⁴ CNY of output.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from simulation.io import parquet_writer, write_atomic, write_tables

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["ParquetSpool", "UserRows"]

_DAY = np.timedelta64(1, "D")


class UserRows:
    """Builds the ``users.parquet`` table of a block of days.

    Args:
        start: Date of model day 0 (``datetime64[ns]``).
        industry: Industry code per user ``(n_users,)``.
        industry_names: Industry names (the categories of ``industry``).
        klass: Interruptibility class per user ``(n_users,)``.
        kgce_per_kwh: Standard coal per kWh, kgce/kWh (energy intensity).
        fields: The recorded user fields, in column order.
        per_day: Rows are per user per day (else one row of run totals per user,
            dated ``start``).
    """

    def __init__(
        self,
        start: np.datetime64,
        industry: NDArray[np.int64],
        industry_names: Sequence[str],
        klass: NDArray[np.int64],
        kgce_per_kwh: float,
        fields: Sequence[str],
        *,
        per_day: bool = True,
    ) -> None:
        import pandas as pd
        import pyarrow as pa

        self.start = np.asarray(start).astype("datetime64[ns]")[()]
        self.n = int(industry.size)
        self.kgce = float(kgce_per_kwh)
        self.fields = tuple(fields)
        self.per_day = per_day
        self.klass = np.asarray(klass, dtype=np.int64)
        codes = pd.Categorical.from_codes(industry[:1], categories=list(industry_names))
        self.codes = np.asarray(industry).astype(codes.codes.dtype)
        # The schema (and pandas metadata) pandas gives one such row.
        proto = pd.DataFrame(
            {
                "date": np.repeat(self.start, 1),
                "user": np.zeros(1, dtype=np.int64),
                "industry": codes,
                "klass": self.klass[:1],
                **{k: np.zeros(1) for k in self.fields},
                "energy_intensity_tce_per_10k_cny": np.zeros(1),
            }
        )
        self.schema: pa.Schema = pa.Table.from_pandas(proto, preserve_index=False).schema
        itype = self.schema.field("industry").type
        self._dictionary = pa.array(list(industry_names), type=itype.value_type)
        self._index_type = itype.index_type

    def table(self, first_day: int, block: dict[str, NDArray[np.float64]]) -> pa.Table:
        """The rows of a block of days as an Arrow table of :attr:`schema`.

        Args:
            first_day: Model day of the block's first row.
            block: ``{field: (days, n_users)}`` for every field of :attr:`fields`.

        Returns:
            ``days · n_users`` rows, day-major (all users of a day, then the next day).
        """
        import pyarrow as pa

        rows = next(iter(block.values())).shape[0] if block else 1
        n = self.n
        if self.per_day:
            days = self.start + (first_day + np.arange(rows)) * _DAY
        else:
            days = np.repeat(self.start, rows)
        industry = pa.DictionaryArray.from_arrays(
            pa.array(np.tile(self.codes, rows), type=self._index_type), self._dictionary
        )
        served = block["served_kwh"].ravel()
        output = block["output_cny"].ravel()
        with np.errstate(invalid="ignore", divide="ignore"):
            ei = served * self.kgce / 1000.0 / (output / 1e4)
        ei = np.where(output > 0, ei, 0.0)
        arrays = [
            pa.array(np.repeat(days, n), type=self.schema.field("date").type),
            pa.array(np.tile(np.arange(n, dtype=np.int64), rows)),
            industry,
            pa.array(np.tile(self.klass, rows)),
            *(pa.array(np.ascontiguousarray(block[k]).ravel()) for k in self.fields),
            pa.array(ei),
        ]
        return pa.Table.from_arrays(arrays, schema=self.schema)


def _anonymous_file(directory: Path | None) -> tuple[IO[bytes], bool]:
    """A temporary file without a name: ``(file, can be linked into place)``."""
    where = str(directory) if directory is not None else tempfile.gettempdir()
    flag = getattr(os, "O_TMPFILE", 0)
    if flag and os.path.isdir("/proc/self/fd"):
        try:
            fd = os.open(where, flag | os.O_RDWR, 0o666)  # less the umask, as open()
        except OSError:
            pass
        else:
            return os.fdopen(fd, "w+b"), True
    return tempfile.TemporaryFile(dir=where), False


def _link(f: IO[bytes], path: Path) -> None:
    """Give an ``O_TMPFILE`` file a name (``linkat`` with ``AT_SYMLINK_FOLLOW``).

    A directory fd makes :func:`os.link` call ``linkat`` rather than ``link``,
    which would link the ``/proc`` symlink itself.
    """
    fds = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.link(str(f.fileno()), path, src_dir_fd=fds, follow_symlinks=True)
    finally:
        os.close(fds)


class ParquetSpool:
    """Row groups of one Parquet file, written while the model runs.

    Args:
        schema: The Arrow schema of every table written.
        directory: Where the anonymous file lives (default: the temporary
            directory); on the run directory's file system the finished file is
            linked into place rather than copied.
    """

    def __init__(self, schema: pa.Schema, directory: Path | None = None) -> None:
        self.schema = schema
        self.directory = directory
        self._file: IO[bytes] | None = None
        self._linkable = False
        self._writer: Any = None
        self._segments: list[tuple[IO[bytes], bool]] = []
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def write(self, table: pa.Table) -> None:
        """Append a table as one row group (encoded by the worker thread).

        Raises:
            BaseException: The error of an earlier row group's encoding, if any.
        """
        self._wait()
        if self._writer is None:
            self._file, self._linkable = _anonymous_file(self.directory)
            self._writer = parquet_writer(self._file, self.schema, plain_floats=True)
        # Not a daemon: a run that stops early (an error, a notebook's interrupt) lets the
        # row group's encoding finish before the interpreter exits; a daemon thread still
        # inside pyarrow at finalisation can abort the process (PyGILState_Release).
        self._thread = threading.Thread(
            target=self._encode, args=(self._writer, table), name="parksim-users"
        )
        self._thread.start()

    def _encode(self, writer: Any, table: pa.Table) -> None:
        try:
            writer.write_table(table)
        except BaseException as err:  # re-raised in the main thread by _wait()
            self._error = err

    def _wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            err, self._error = self._error, None
            raise err

    def _seal(self) -> None:
        """Finish the file written so far as a readable segment."""
        self._wait()
        if self._writer is not None:
            self._writer.close()
            assert self._file is not None
            self._file.flush()
            self._segments.append((self._file, self._linkable))
            self._writer, self._file = None, None

    def tables(self, columns: Sequence[str] | None = None) -> Iterator[pa.Table]:
        """Every row group written so far, in order (seals the current file).

        Args:
            columns: Columns to read (default: all).
        """
        import pyarrow.parquet as pq

        self._seal()
        for f, _ in self._segments:
            f.seek(0)
            pf = pq.ParquetFile(f)
            for i in range(pf.num_row_groups):
                yield pf.read_row_group(i, columns=list(columns) if columns else None)

    def finish(self, path: Path) -> None:
        """Write the file to ``path`` atomically (linked or copied; segments joined)."""
        self._seal()
        write_atomic(path, self._place)

    def _place(self, tmp: Path) -> None:
        if len(self._segments) == 1:
            f, linkable = self._segments[0]
            if linkable:
                try:
                    _link(f, tmp)
                    return
                except OSError:
                    pass  # another file system: copy
            f.seek(0)
            with open(tmp, "wb") as out:
                shutil.copyfileobj(f, out, 1 << 24)
            return
        # read back with string, not large_string, values: cast to the schema
        tables = (t.cast(self.schema) for t in self.tables())
        write_tables(tmp, tables, plain_floats=True, schema=self.schema)

    def close(self) -> None:
        """Drop the spooled rows (the anonymous files vanish)."""
        with contextlib.suppress(BaseException):  # closing: the rows are dropped anyway
            self._wait()
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
            self._writer = None
        if self._file is not None:
            self._file.close()
            self._file = None
        for f, _ in self._segments:
            f.close()
        self._segments.clear()
