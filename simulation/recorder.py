"""Result arrays of a run (interval rows and user rows), user rows streamed.

Interval-level series are stored as ``(days, intervals_per_day)`` arrays of
park totals (small: one row of park totals per interval). User-level results
are kept as run totals per user (``*peak_kw``: the maximum) and, when
``per_day`` is on, as one row per user per day that is *streamed*: days are
buffered in blocks of about :data:`SPOOL_VALUES` values per field and each
full block is appended to an anonymous temporary file, so memory does not grow
with days × users; :meth:`Recorder.user_days` reads the rows back block by
block. After :meth:`Recorder.stream` (the core calls it before the first day)
each full block is instead appended as a row group to the ``users.parquet``
file itself (:class:`simulation.user_rows.ParquetSpool`, encoded while the model
runs), which :meth:`Recorder.write_users` puts in place without a rewrite.
The fields are registered when the model is built — the core's and each
active module's ``INTERVAL_FIELDS`` / ``USER_FIELDS`` — and a field a day does
not record stays 0.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

import numpy as np
from numpy.typing import NDArray

from simulation.user_rows import ParquetSpool, UserRows

__all__ = ["SPOOL_VALUES", "Recorder"]

#: User fields aggregated by their maximum (not their sum) in run totals.
_MAX_FIELDS = frozenset({"peak_kw"})
#: Values per field held in memory before a block of days is spooled to disk.
SPOOL_VALUES = 1 << 19
#: Smallest block (days × users) streamed early at the end of a run
#: (:meth:`Recorder._ends_tail_block`); a smaller one is not worth its own row group.
TAIL_MIN_VALUES = 1 << 16


class Recorder:
    """Result arrays filled once per day.

    Args:
        n_days: Days in the run.
        ipd: Intervals per day.
        n_users: Number of users.
        per_day: Keep user rows per day (else run totals only; ``*peak_kw`` is the max).
        interval_fields: Names of the park-level per-interval fields, in column order.
        user_fields: Names of the per-user fields, in column order.
        spool_values: Values per field buffered in memory before spooling a block
            of days (default :data:`SPOOL_VALUES`).
    """

    def __init__(
        self,
        n_days: int,
        ipd: int,
        n_users: int,
        per_day: bool = True,
        *,
        interval_fields: Iterable[str],
        user_fields: Iterable[str],
        spool_values: int = SPOOL_VALUES,
    ) -> None:
        self.n_days, self.ipd, self.n_users, self.per_day = n_days, ipd, n_users, per_day
        self.intervals: dict[str, NDArray[np.float64]] = {
            k: np.zeros((n_days, ipd)) for k in dict.fromkeys(interval_fields)
        }
        self.fields: tuple[str, ...] = tuple(dict.fromkeys(user_fields))
        self.totals: dict[str, NDArray[np.float64]] = {k: np.zeros(n_users) for k in self.fields}
        self.block_days = max(1, min(n_days, spool_values // max(n_users, 1)))
        self._buf = np.zeros((len(self.fields), self.block_days if per_day else 0, n_users))
        self._buf_start = 0  # model day of the buffer's first row
        self._spare: NDArray[np.float64] | None = None  # the block being encoded (streaming)
        self._spool: IO[bytes] | None = None
        self._spooled: list[tuple[int, int, int]] = []  # (first day, days, byte offset)
        self._index = {k: i for i, k in enumerate(self.fields)}
        self.days_recorded = 0
        self._rows: UserRows | None = None
        self._stream: ParquetSpool | None = None
        self._stream_days: list[int] = []  # first day of each streamed row group
        #: Directory of the streamed file while it is written (default: the
        #: temporary directory); on the run directory's file system
        #: :meth:`write_users` links the file into place instead of copying it.
        self.spool_dir: Path | None = None

    @property
    def streaming(self) -> bool:
        """Whether user rows go straight to a ``users.parquet`` stream (:meth:`stream`)."""
        return self._rows is not None

    def stream(self, rows: UserRows) -> None:
        """From now on, append each full block of days to a Parquet stream of ``rows``' tables.

        Call before the first day is recorded; no effect without ``per_day``.

        Args:
            rows: Builds the Arrow table of a block (its fields must be :attr:`fields`).

        Raises:
            ValueError: If days were recorded already, or the fields differ.
        """
        if not self.per_day:
            return
        if self.days_recorded:
            raise ValueError("stream() must be called before the first day is recorded")
        if tuple(rows.fields) != self.fields:
            raise ValueError(f"rows have fields {rows.fields}, the recorder {self.fields}")
        self._rows = rows

    @property
    def users(self) -> dict[str, NDArray[np.float64]]:
        """Run totals per user field, ``(1, n_users)`` each (max for ``*peak_kw``)."""
        return {k: v[None, :] for k, v in self.totals.items()}

    def record(
        self,
        day: int,
        *,
        intervals: dict[str, NDArray[np.float64]],
        users: dict[str, NDArray[np.float64]],
    ) -> None:
        """Store one day's park totals per interval and results per user.

        Args:
            day: Model day index (days are recorded in order).
            intervals: Interval fields, ``(intervals_per_day,)`` each.
            users: User fields, ``(n_users,)`` each.

        Raises:
            KeyError: If a field was not registered.
        """
        for k, v in intervals.items():
            self.intervals[k][day] = v
        if self.per_day:
            row = day - self._buf_start
            if row >= self.block_days:
                self._flush()
                row = day - self._buf_start
        for k, v in users.items():
            total = self.totals[k]
            if k in _MAX_FIELDS:
                np.maximum(total, v, out=total)
            else:
                total += v
            if self.per_day:
                self._buf[self._index[k], row] = v
        self.days_recorded = day + 1
        if self._rows is not None and self._ends_tail_block():
            self._flush()

    def _ends_tail_block(self) -> bool:
        """Whether to stream the buffered days now, before the block is full.

        The last block is encoded after the run, while the run waits (about 0.3 s
        for a 52-day block at 10,000 users). Towards the end of a large run, a
        block is therefore sent as soon as it holds twice the days still to come,
        so each is encoded while those days run (encoding a day takes about a
        third of simulating it): the blocks shrink by halves until they are under
        :data:`TAIL_MIN_VALUES`, and only that last small block is encoded at the
        end (5 days at 10,000 users). The rows are the same; only the row groups
        of ``users.parquet`` differ.
        """
        rows = self.days_recorded - self._buf_start
        left = self.n_days - self.days_recorded
        return left > 0 and rows >= 2 * left and rows * self.n_users >= TAIL_MIN_VALUES

    def _flush(self) -> None:
        """Append the buffered block of days to the spool file and start a new block."""
        n_rows = self.days_recorded - self._buf_start
        if n_rows <= 0:
            return
        if self._rows is not None:
            block = {k: self._buf[i, :n_rows] for i, k in enumerate(self.fields)}
            self._user_stream(self._rows).write(self._rows.table(self._buf_start, block))
            self._stream_days.append(self._buf_start)
            # The table views the buffer while it is encoded, so recording goes on in
            # the other of two buffers; write() has waited for the previous block's
            # encoding, so that one is free to reset (reusing it spares the page faults
            # of a fresh buffer: 0.4 s a year at 10,000 users, measured).
            spare, self._spare = self._spare, self._buf
            if spare is None:
                spare = np.zeros_like(self._buf)
            else:
                spare[:] = 0.0
            self._buf = spare
            self._buf_start = self.days_recorded
            return
        if self._spool is None:
            # Closed by close() or when the recorder is collected (__del__).
            self._spool = tempfile.TemporaryFile(prefix="parksim-users-")  # noqa: SIM115
        offset = self._spool.seek(0, 2)
        self._spool.write(np.ascontiguousarray(self._buf[:, :n_rows]).data)  # no bytes copy
        self._spool.flush()  # np.fromfile reads the file descriptor, not Python's buffer
        self._spooled.append((self._buf_start, n_rows, offset))
        self._buf[:] = 0.0
        self._buf_start = self.days_recorded

    def user_days(self) -> Iterator[tuple[int, dict[str, NDArray[np.float64]]]]:
        """The per-day user rows, block by block in day order.

        Yields:
            ``(first_day, {field: (days_in_block, n_users) array})``; with
            ``per_day`` off one block of run totals ``(1, n_users)`` at day 0.
        """
        if not self.per_day:
            yield 0, self.users
            return
        if self._stream is not None:
            for first, table in zip(
                self._stream_days, self._stream.tables(self.fields), strict=True
            ):
                rows = table.num_rows // max(self.n_users, 1)
                yield (
                    first,
                    {
                        k: table.column(k).to_numpy().reshape(rows, self.n_users)
                        for k in self.fields
                    },
                )
        shape = (len(self.fields),)
        for first, n_rows, offset in self._spooled:
            assert self._spool is not None
            self._spool.seek(offset)
            count = shape[0] * n_rows * self.n_users
            data = np.frombuffer(self._spool.read(count * 8), dtype=np.float64)
            block = data.reshape(shape[0], n_rows, self.n_users)
            yield first, {k: block[i] for i, k in enumerate(self.fields)}
        n_rows = self.days_recorded - self._buf_start
        if n_rows > 0:
            yield self._buf_start, {k: self._buf[i, :n_rows] for i, k in enumerate(self.fields)}

    def user_field(self, name: str) -> NDArray[np.float64]:
        """Every recorded day of one user field, ``(days_recorded, n_users)``.

        Reads the spooled blocks back (for dashboards and small parks); with
        ``per_day`` off, the one row of run totals.
        """
        if not self.per_day:
            return self.users[name]
        parts = [block[name] for _, block in self.user_days()]
        return np.concatenate(parts, axis=0) if parts else np.zeros((0, self.n_users))

    def user_totals(self, name: str) -> NDArray[np.float64]:
        """Run total (max for ``peak_kw``) of a user field, per user."""
        return self.totals[name].copy()

    def write_users(self, path: Path) -> None:
        """Put the streamed ``users.parquet`` at ``path`` (atomically; after :meth:`stream`).

        Appends the days still buffered, then links (or copies) the stream into place.

        Raises:
            RuntimeError: If the recorder is not streaming.
        """
        if self._rows is None:
            raise RuntimeError("write_users() needs stream()")
        self._flush()
        self._user_stream(self._rows).finish(path)

    def _user_stream(self, rows: UserRows) -> ParquetSpool:
        """The ``users.parquet`` stream, opened in :attr:`spool_dir` on first use."""
        if self._stream is None:
            self._stream = ParquetSpool(rows.schema, self.spool_dir)
        return self._stream

    def __del__(self) -> None:
        self.close()

    def close(self) -> None:
        """Delete the spool file (the rows cannot be read afterwards)."""
        stream = getattr(self, "_stream", None)
        if stream is not None:
            stream.close()
            self._stream = None
            self._stream_days.clear()
        if self._spool is not None:
            self._spool.close()
            self._spool = None
            self._spooled.clear()
