"""The information platform: an event log between the park's parties.

Every message is one row ``(sent_at, effective_at, sender, recipient, kind,
quantity, until, payload)``. The orderly plan is published ``plan_lead_days``
before it takes effect, reminded ``reminder_lead_h`` before and notified
``notice_lead_min`` before. A user's notice lead time τ for a curtailment is
read back from the log as ``effective_at − earliest sent_at`` of the messages
it received about it, so switching the platform off (only the final notice
is delivered) measures the platform's value.

Recipients are user row indices (``-1`` for a broadcast); senders are account
names. Messages are stored in vectorised batches.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

__all__ = ["ALWAYS_DELIVERED", "InformationPlatform"]

#: Kinds delivered even when the platform is disabled (the statutory last-minute notice).
ALWAYS_DELIVERED: frozenset[str] = frozenset({"notice"})

_DAY_NS = 86_400 * 10**9


class InformationPlatform:
    """Append-only event log with a per-day index for lead-time look-ups.

    Args:
        enabled: When false only kinds in :data:`ALWAYS_DELIVERED` are delivered.
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._chunks: list[dict[str, NDArray]] = []
        self._by_day: dict[int, list[tuple[NDArray, NDArray, NDArray]]] = defaultdict(list)
        self._index_cache: dict[int, tuple[int, tuple[NDArray, NDArray]]] = {}

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
            payload: Free text (JSON) per message.
            notice: The message gives notice of a curtailment (indexed for
                :meth:`lead_time_h`); statements and announcements pass False.

        Returns:
            The number of messages delivered (0 when the platform is off and the
            kind is not always delivered).
        """
        if not self.enabled and kind not in ALWAYS_DELIVERED:
            return 0
        rec = np.atleast_1d(np.asarray(recipient, dtype=np.int64))
        sent = np.atleast_1d(np.asarray(sent_at, dtype="datetime64[ns]"))
        eff = np.atleast_1d(np.asarray(effective_at, dtype="datetime64[ns]"))
        n = max(len(rec), len(sent), len(eff))
        if n == 0 or (len(rec) == 0):
            return 0
        rec, sent, eff = (np.broadcast_to(a, (n,)).copy() for a in (rec, sent, eff))
        qty = np.broadcast_to(np.asarray(quantity, dtype=float), (n,)).copy()
        end = (
            np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
            if until is None
            else np.broadcast_to(np.asarray(until, dtype="datetime64[ns]"), (n,)).copy()
        )
        pay = np.asarray(payload, dtype=object)
        self._chunks.append(
            {
                "sent_at": sent,
                "effective_at": eff,
                "recipient": rec,
                "quantity": qty,
                "until": end,
                # per-batch constants, expanded only when the log is written
                "sender": np.asarray(sender, dtype=object),
                "kind": np.asarray(kind, dtype=object),
                "payload": pay if pay.ndim else pay.reshape(()),
            }
        )
        if not notice:
            return n
        eff_ns = eff.astype(np.int64)
        days = eff_ns // _DAY_NS
        for day in np.unique(days):
            sel = days == day
            self._by_day[int(day)].append((rec[sel], eff_ns[sel], sent.astype(np.int64)[sel]))
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
        eff = np.atleast_1d(np.asarray(effective_at, dtype="datetime64[ns]")).astype(np.int64)
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
        """Sorted (recipient, effective time) keys of a day and their earliest sent_at."""
        chunks = self._by_day.get(day)
        if not chunks:
            return None
        cached = self._index_cache.get(day)
        if cached is not None and cached[0] == len(chunks):
            return cached[1]
        rec = np.concatenate([c[0] for c in chunks])
        eff = np.concatenate([c[1] for c in chunks])
        sent = np.concatenate([c[2] for c in chunks])
        # one int64 key: recipient and the second of the day it takes effect
        keys = rec * 86_400 + (eff - day * _DAY_NS) // 10**9
        order = np.lexsort((sent, keys))
        keys, sent = keys[order], sent[order]
        first = np.ones(len(keys), dtype=bool)
        first[1:] = keys[1:] != keys[:-1]
        index = (keys[first], sent[first])
        self._index_cache[day] = (len(chunks), index)
        return index

    def __len__(self) -> int:
        return sum(len(c["recipient"]) for c in self._chunks)

    def to_frame(self) -> pd.DataFrame:
        """All messages as a DataFrame sorted by ``sent_at`` (recipient -1 = broadcast)."""
        cols = ["sent_at", "effective_at", "sender", "recipient", "kind", "quantity", "until"]
        if not self._chunks:
            frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in [*cols, "payload"]})
            for c in ("sent_at", "effective_at", "until"):
                frame[c] = frame[c].astype("datetime64[ns]")
            frame["recipient"] = frame["recipient"].astype(np.int64)
            frame["quantity"] = frame["quantity"].astype(float)
            frame["payload"] = frame["payload"].astype(str)
            return frame

        def column(c: str) -> NDArray:
            return np.concatenate(
                [np.broadcast_to(ch[c], ch["recipient"].shape) for ch in self._chunks]
            )

        data = {c: column(c) for c in [*cols, "payload"]}
        frame = pd.DataFrame(data)
        frame["sender"] = frame["sender"].astype("category")
        frame["kind"] = frame["kind"].astype("category")
        frame["payload"] = frame["payload"].astype(str)
        return frame.sort_values(["sent_at", "recipient"], kind="stable", ignore_index=True)
