"""The information platform: an event log between the park's parties.

Every message is one row ``(sent_at, effective_at, sender, recipient, kind,
quantity, until, payload)``. The orderly plan is published ``plan_lead_days``
before it takes effect, reminded ``reminder_lead_h`` before and notified
``notice_lead_min`` before. A user's notice lead time τ for a curtailment is
read back from the log as ``effective_at − earliest sent_at`` of the messages
it received about it, so switching the platform off (only the final notice
is delivered) measures the platform's value.

Recipients are user row indices (``-1`` for a broadcast); senders are account
names. Messages are stored in vectorised batches, a value shared by a whole
batch once (so a year of 10,000 users' plans, reminders and notices, about
four million rows, holds 32–40 bytes a row); the per-day notice index keeps
only the earliest ``sent_at`` of each (recipient, moment), and the log is
written block by block in ``sent_at`` order (:meth:`InformationPlatform.frames`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["ALWAYS_DELIVERED", "FRAME_ROWS", "InformationPlatform"]

#: Kinds delivered even when the platform is disabled (the statutory last-minute notice).
ALWAYS_DELIVERED: frozenset[str] = frozenset({"notice"})
#: Messages per block of :meth:`InformationPlatform.frames`.
FRAME_ROWS = 1 << 20

_DAY_NS = 86_400 * 10**9
_NAT = np.iinfo(np.int64).min  # NaT as int64 nanoseconds
_COLUMNS = ("sent_at", "effective_at", "sender", "recipient", "kind", "quantity", "until")
_TIMES = frozenset({"sent_at", "effective_at", "until"})


@dataclass(frozen=True)
class _Batch:
    """One published batch; a column is 0-d when the batch shares one value."""

    n: int
    sent_at: NDArray[np.int64]  # ns since the epoch
    effective_at: NDArray[np.int64]
    recipient: NDArray[np.int64]
    quantity: NDArray[np.float64]
    until: NDArray[np.int64]
    sender: str
    kind: str
    payload: Any  # NDArray[np.object_] (0-d or (n,)), or a function returning the payloads


#: A block's positions split by batch: (batch, indices into the block, rows in the batch).
_Groups = list[tuple[int, NDArray[np.intp], NDArray[np.intp]]]


def _column(x: ArrayLike, dtype: str | type, n: int) -> NDArray:
    """``x`` as a 0-d array when it is one value, else a private ``(n,)`` copy."""
    a = np.asarray(x, dtype=dtype)
    if a.ndim == 0 or a.shape == (n,):
        return a.copy()
    return np.broadcast_to(a, (n,)).copy()


def _ns(x: ArrayLike) -> NDArray[np.int64]:
    return np.atleast_1d(np.asarray(x, dtype="datetime64[ns]")).view(np.int64)


class InformationPlatform:
    """Append-only event log with a per-day index for lead-time look-ups.

    Args:
        enabled: When false only kinds in :data:`ALWAYS_DELIVERED` are delivered.
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._batches: list[_Batch] = []
        self._n = 0
        # Notice index per day, key = recipient * 86,400 + second of the day it takes
        # effect: batches not yet merged, and the merged (sorted unique key, earliest sent_at).
        self._pending: dict[int, list[tuple[NDArray[np.int64], NDArray[np.int64]]]] = defaultdict(
            list
        )
        self._index: dict[int, tuple[NDArray[np.int64], NDArray[np.int64]]] = {}

    def publish(
        self,
        sent_at: ArrayLike,
        effective_at: ArrayLike,
        sender: str,
        recipient: ArrayLike,
        kind: str,
        quantity: ArrayLike = np.nan,
        until: ArrayLike | None = None,
        payload: ArrayLike = "",
        *,
        notice: bool = True,
    ) -> int:
        """Publish a batch of messages.

        Args:
            sent_at: When each message is sent (``datetime64``).
            effective_at: When what it announces takes effect.
            sender: Sending account name (e.g. ``grid``).
            recipient: User row indices, or -1 for a broadcast.
            kind: Message kind (``plan``, ``reminder``, ``notice``, ``report``, ...).
            quantity: A number the message carries (e.g. curtailed kW).
            until: When what it announces ends.
            payload: Free text (JSON) per message, or a function returning it, called
                when the log is read (``frames``, ``tables``): a large payload is
                formatted only when ``events.parquet`` is written, by its worker thread.
            notice: The message gives notice of a curtailment (indexed for
                :meth:`lead_time_h`); statements and announcements pass False.

        Returns:
            The number of messages delivered (0 when the platform is off and the
            kind is not always delivered).
        """
        if not self.enabled and kind not in ALWAYS_DELIVERED:
            return 0
        rec = np.atleast_1d(np.asarray(recipient, dtype=np.int64))
        sent, eff = _ns(sent_at), _ns(effective_at)
        n = max(len(rec), len(sent), len(eff))
        if n == 0 or (len(rec) == 0):
            return 0
        batch = _Batch(
            n=n,
            sent_at=_column(sent if len(sent) > 1 else sent[0], np.int64, n),
            effective_at=_column(eff if len(eff) > 1 else eff[0], np.int64, n),
            recipient=_column(rec if len(rec) > 1 else rec[0], np.int64, n),
            quantity=_column(quantity, float, n),
            until=(
                np.array(_NAT)
                if until is None
                else _column(np.asarray(until, dtype="datetime64[ns]").view(np.int64), np.int64, n)
            ),
            sender=str(sender),
            kind=str(kind),
            payload=payload if callable(payload) else _column(payload, object, n),
        )
        self._batches.append(batch)
        self._n += n
        if not notice:
            return n
        eff_b = np.broadcast_to(eff, (n,))
        days = eff_b // _DAY_NS
        keys = np.broadcast_to(rec, (n,)) * 86_400 + (eff_b - days * _DAY_NS) // 10**9
        sent_b = np.broadcast_to(sent, (n,))
        for day in np.unique(days):
            sel = days == day
            self._pending[int(day)].append((keys[sel], sent_b[sel]))
        return n

    def lead_time_h(self, recipient: ArrayLike, effective_at: ArrayLike) -> NDArray[np.float64]:
        """Notice lead time of each (recipient, effective_at) pair, hours.

        Args:
            recipient: User row indices.
            effective_at: When the announced event takes effect (``datetime64``).

        Returns:
            ``effective_at − earliest sent_at`` over the messages the recipient
            got about that moment, in hours; 0 where it got none.
        """
        rec = np.atleast_1d(np.asarray(recipient, dtype=np.int64))
        eff = _ns(effective_at)
        out = np.zeros(len(rec))
        if len(rec) == 0:
            return out
        days = eff // _DAY_NS
        for day in np.unique(days):
            index = self._day_index(int(day))
            if index is None:
                continue
            keys, first_sent = index
            sel = np.flatnonzero(days == day)
            query = rec[sel] * 86_400 + (eff[sel] - day * _DAY_NS) // 10**9
            pos = np.searchsorted(keys, query).clip(0, len(keys) - 1)
            found = keys[pos] == query
            out[sel] = np.where(found, (eff[sel] - first_sent[pos]) / 3.6e12, 0.0)
        return out

    def _day_index(self, day: int) -> tuple[NDArray[np.int64], NDArray[np.int64]] | None:
        """Sorted unique (recipient, effective time) keys of a day and their earliest sent_at.

        Batches published since the last look-up are merged into the day's index,
        which keeps one row per key.
        """
        pending = self._pending.pop(day, None)
        index = self._index.get(day)
        if not pending:
            return index
        parts = pending if index is None else [index, *pending]
        keys = np.concatenate([k for k, _ in parts])
        sent = np.concatenate([t for _, t in parts])
        order = np.lexsort((sent, keys))
        keys, sent = keys[order], sent[order]
        first = np.ones(len(keys), dtype=bool)
        first[1:] = keys[1:] != keys[:-1]
        index = self._index[day] = (keys[first], sent[first])
        return index

    def __len__(self) -> int:
        return self._n

    def _order(self) -> NDArray[np.intp]:
        """Positions of all messages sorted by ``(sent_at, recipient)``, stable, NaT last."""
        bs = self._batches
        whole = all(
            ((b.sent_at != _NAT) & (b.sent_at % 10**9 == 0)).all() for b in bs
        )  # whole seconds, no NaT
        if whole:
            # One int64 key (second, recipient) sorts as the pair; built batch by batch
            # into one array (no log-sized temporaries) and sorted in one stable pass.
            s0 = min(int(b.sent_at.min()) for b in bs) // 10**9
            s1 = max(int(b.sent_at.max()) for b in bs) // 10**9
            r0 = min(int(b.recipient.min()) for b in bs)
            span = max(int(b.recipient.max()) for b in bs) - r0 + 1
            if (s1 - s0 + 1) < np.iinfo(np.int64).max // span:
                key = np.empty(self._n, dtype=np.int64)
                lo = 0
                for b in bs:
                    k = key[lo : lo + b.n]
                    k[:] = b.sent_at // 10**9 - s0
                    k *= span
                    k += b.recipient - r0
                    lo += b.n
                return np.argsort(key, kind="stable")
        sent = self._full("sent_at")
        sent[sent == _NAT] = np.iinfo(np.int64).max
        return np.lexsort((self._full("recipient"), sent))

    def _full(self, name: str) -> NDArray:
        """One numeric column of every message, in publish order."""
        return np.concatenate([np.broadcast_to(getattr(b, name), (b.n,)) for b in self._batches])

    def _gather(self, name: str, pos: NDArray[np.intp], groups: _Groups) -> NDArray:
        """Column ``name`` at global positions ``pos`` (batch by batch)."""
        out = np.empty(len(pos), dtype=np.asarray(getattr(self._batches[0], name)).dtype)
        for b_id, where, local in groups:
            col = getattr(self._batches[b_id], name)
            out[where] = col if col.ndim == 0 else col[local]
        return out

    def _payloads(self, groups: _Groups, n: int, arrow_type: Any) -> pa.Array:
        """The payload column of a block as an Arrow string array.

        A batch with one payload for all its messages adds one string, taken for
        each of its rows (Arrow's ``take``), instead of one Python string per row.
        """
        import pyarrow as pa

        parts, index, size = [], np.empty(n, dtype=np.int64), 0
        for b_id, where, local in groups:
            col = self._batches[b_id].payload
            values = col.reshape(1) if col.ndim == 0 else col[local]
            parts.append(_text_array(values, arrow_type))
            index[where] = size if col.ndim == 0 else size + np.arange(len(local))
            size += len(values)
        return pa.concat_arrays(parts).take(pa.array(index))

    def _groups(self, pos: NDArray[np.intp], starts: NDArray[np.int64]) -> _Groups:
        """``pos`` split by batch: (batch, indices into ``pos``, positions within the batch)."""
        bid = np.searchsorted(starts, pos, side="right") - 1
        order = np.argsort(bid, kind="stable")
        sorted_bid = bid[order]
        cut = np.flatnonzero(np.diff(sorted_bid)) + 1
        lo, hi = np.r_[0, cut], np.r_[cut, len(pos)]
        return [
            (int(sorted_bid[a]), order[a:b], pos[order[a:b]] - starts[sorted_bid[a]])
            for a, b in zip(lo.tolist(), hi.tolist(), strict=True)
        ]

    def _categories(self) -> dict[str, list[str]]:
        """The sorted senders and kinds of all batches (the categories of those columns)."""
        return {c: sorted({getattr(b, c) for b in self._batches}) for c in ("sender", "kind")}

    def _blocks(
        self, rows: int, cats: dict[str, list[str]]
    ) -> Iterator[tuple[NDArray[np.intp], _Groups, dict[str, NDArray[np.int64]]]]:
        """The sorted log in blocks of ``rows``: positions, their batch groups, category codes."""
        # payloads published as functions are formatted now, once (publish's ``payload``)
        self._batches = [
            replace(b, payload=_column(b.payload(), object, b.n)) if callable(b.payload) else b
            for b in self._batches
        ]
        order = self._order()
        starts = np.cumsum([0] + [b.n for b in self._batches[:-1]], dtype=np.int64)
        batch_codes = {
            c: np.array([cats[c].index(getattr(b, c)) for b in self._batches]) for c in cats
        }
        for lo in range(0, len(order), rows):
            pos = order[lo : lo + rows]
            groups = self._groups(pos, starts)
            bid = np.empty(len(pos), dtype=np.int64)
            for b_id, where, _ in groups:
                bid[where] = b_id
            yield pos, groups, {c: batch_codes[c][bid] for c in cats}

    def frames(self, rows: int = FRAME_ROWS) -> Iterator[pd.DataFrame]:
        """The log in blocks of ``rows`` messages, sorted by ``sent_at`` then ``recipient``.

        Concatenated, the blocks equal :meth:`to_frame`; every block has the same
        columns, dtypes and categories (so they can be row groups of one Parquet file).

        Args:
            rows: Messages per block.

        Yields:
            DataFrames with the columns of :meth:`to_frame`.
        """
        if not self._batches:
            yield self._empty()
            return
        cats = self._categories()
        for pos, groups, codes in self._blocks(rows, cats):
            yield self._frame(pos, groups, codes, cats)

    def _frame(
        self,
        pos: NDArray[np.intp],
        groups: _Groups,
        codes: dict[str, NDArray[np.int64]],
        cats: dict[str, list[str]],
    ) -> pd.DataFrame:
        """One block of :meth:`frames` (messages at ``pos``, split by batch in ``groups``)."""
        data: dict[str, object] = {}
        for c in _COLUMNS:
            if c in cats:
                data[c] = pd.Categorical.from_codes(codes[c], categories=cats[c])
            elif c in _TIMES:
                data[c] = self._gather(c, pos, groups).view("datetime64[ns]")
            else:
                data[c] = self._gather(c, pos, groups)
        data["payload"] = pd.Series(self._gather("payload", pos, groups)).astype(str)
        return pd.DataFrame(data)

    def tables(self, rows: int = FRAME_ROWS) -> Iterator[pa.Table]:
        """The blocks of :meth:`frames` as Arrow tables, built from the arrays directly.

        Each equals ``pa.Table.from_pandas(frame, preserve_index=False)`` of the
        matching frame (schema and its pandas metadata included), without building
        the DataFrame: writing ``events.parquet`` at 10,000 users x 365 days
        (1.5 million messages) takes about 0.4 s less.

        Args:
            rows: Messages per block.

        Yields:
            Tables with the columns of :meth:`to_frame`.
        """
        import pyarrow as pa

        if not self._batches:
            yield pa.Table.from_pandas(self._empty(), preserve_index=False)
            return
        cats = self._categories()
        none = np.zeros(0, dtype=np.intp)  # a block of no messages: the frames' schema
        empty = self._frame(none, [], {c: none.astype(np.int64) for c in cats}, cats)
        schema = pa.Table.from_pandas(empty, preserve_index=False).schema
        for pos, groups, codes in self._blocks(rows, cats):
            arrays = []
            for field in schema:
                c = field.name
                if c in cats:
                    index = pa.array(codes[c].astype(field.type.index_type.to_pandas_dtype()))
                    values = pa.array(cats[c], type=field.type.value_type)
                    arrays.append(pa.DictionaryArray.from_arrays(index, values))
                elif c in _TIMES:
                    times = self._gather(c, pos, groups).view("datetime64[ns]")
                    arrays.append(pa.array(times, type=field.type, from_pandas=True))
                elif c == "payload":
                    arrays.append(self._payloads(groups, len(pos), field.type))
                else:
                    values = self._gather(c, pos, groups)  # NaN as null, as from a frame
                    arrays.append(pa.array(values, type=field.type, from_pandas=True))
            yield pa.Table.from_arrays(arrays, schema=schema)

    @staticmethod
    def _empty() -> pd.DataFrame:
        cols = [*_COLUMNS, "payload"]
        frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in cols})
        for c in _TIMES:
            frame[c] = frame[c].astype("datetime64[ns]")
        frame["recipient"] = frame["recipient"].astype(np.int64)
        frame["quantity"] = frame["quantity"].astype(float)
        frame["payload"] = frame["payload"].astype(str)
        return frame

    def to_frame(self) -> pd.DataFrame:
        """All messages as a DataFrame sorted by ``sent_at`` (recipient -1 = broadcast)."""
        blocks = list(self.frames())
        if len(blocks) == 1:
            return blocks[0]
        return pd.concat(blocks, ignore_index=True)


def _text_array(values: NDArray[np.object_], arrow_type: Any) -> Any:
    """Payloads as an Arrow string array, as ``pd.Series(values).astype(str)`` converts them."""
    import pyarrow as pa

    try:
        out = pa.array(values, type=arrow_type)
        if out.null_count == 0:
            return out
    except (pa.ArrowTypeError, pa.ArrowInvalid):  # not all str: pandas' conversion
        pass
    return pa.array(pd.Series(values).astype(str), type=arrow_type)
