"""Shortage events and decision blocks from a park deficit profile (kW, intervals).

References:
    NDRC (2011) 《有序用电管理办法》 (curtailment in runs with advance notice);
    parksim DESIGN.md, "Orderly plan" (shortage events and blocks).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from markets._checks import check_int, finite_array

__all__ = ["ShortageBlocks", "shortage_blocks"]


@dataclass(frozen=True)
class ShortageBlocks:
    """Decision blocks derived from a deficit profile (see module docstring).

    Attributes:
        start: First interval of each block, shape ``(n_blocks,)``, chronological.
        stop: One past the last interval of each block, shape ``(n_blocks,)``.
        event: Index of the (padded, merged) shortage event of each block.
        first: ``True`` for the first sub-block of its event (a call starts there).
        prev: Index of the preceding sub-block of the same event, ``-1`` for firsts.
        block_of_interval: Block index of every interval, ``-1`` outside blocks,
            shape ``(n_intervals,)``.

    References:
        parksim DESIGN.md, "Orderly plan" (shortage events and blocks).
    """

    start: NDArray[np.int64]
    stop: NDArray[np.int64]
    event: NDArray[np.int64]
    first: NDArray[np.bool_]
    prev: NDArray[np.int64]
    block_of_interval: NDArray[np.int64]

    @property
    def n_blocks(self) -> int:
        """Number of blocks."""
        return int(self.start.size)

    @property
    def length(self) -> NDArray[np.int64]:
        """Length of each block (intervals)."""
        return self.stop - self.start


def shortage_blocks(
    deficit_kw: ArrayLike,
    *,
    min_duration: int = 1,
    intervals_per_day: int = 24,
    sub_block_intervals: int | None = None,
) -> ShortageBlocks:
    """Split a deficit profile into shortage events and decision blocks.

    Events are maximal runs of positive deficit cut at day boundaries, padded to
    ``min_duration`` within their day (right first, then left), merged when they overlap
    or touch, and optionally cut into sub-blocks (see the module docstring).

    Args:
        deficit_kw: Park deficit ``Σ_i load − capacity`` per interval (kW), 1-D; only its
            sign matters.
        min_duration: Minimum curtailment run (intervals), ``1 ≤ m ≤ intervals_per_day``.
        intervals_per_day: Intervals per day; interval 0 starts a day.
        sub_block_intervals: If given (``≥ 1``), cut each event into
            ``⌊len / m'⌋`` near-equal sub-blocks, ``m' = max(min_duration, this)``.

    Returns:
        The blocks, chronological and disjoint.

    Raises:
        ValueError: On NaN deficit, non-integer or out-of-range durations.

    References:
        parksim DESIGN.md, "Orderly plan".
    """
    d = finite_array(deficit_kw, "deficit_kw", allow_inf=True)
    if d.ndim != 1:
        raise ValueError(f"deficit_kw must be 1-D, got shape {d.shape}")
    ipd = check_int(intervals_per_day, "intervals_per_day", 1)
    m = check_int(min_duration, "min_duration", 1)
    if m > ipd:
        raise ValueError(
            f"min_duration ({m}) must not exceed intervals_per_day ({ipd}): runs never "
            "cross a day boundary"
        )
    sub = (
        None
        if sub_block_intervals is None
        else check_int(sub_block_intervals, "sub_block_intervals", 1)
    )
    n = d.size
    pos = d > 0
    day = np.arange(n) // ipd
    new_day = np.ones(n, dtype=bool)
    new_day[1:] = day[1:] != day[:-1]
    end_day = np.ones(n, dtype=bool)
    end_day[:-1] = new_day[1:]
    prev_pos = np.zeros(n, dtype=bool)
    prev_pos[1:] = pos[:-1]
    next_pos = np.zeros(n, dtype=bool)
    next_pos[:-1] = pos[1:]
    starts = np.flatnonzero(pos & (~prev_pos | new_day))
    stops = np.flatnonzero(pos & (~next_pos | end_day)) + 1

    events: list[list[int]] = []
    for a0, b0 in zip(starts.tolist(), stops.tolist(), strict=True):  # loop over events
        a, b = a0, b0
        d0 = (a // ipd) * ipd
        d1 = min(d0 + ipd, n)
        need = m - (b - a)
        if need > 0:
            ext = min(need, d1 - b)
            b += ext
            a = max(d0, a - (need - ext))
        if events and events[-1][0] >= d0 and events[-1][1] >= a:
            events[-1][1] = max(events[-1][1], b)
        else:
            events.append([a, b])

    bs: list[int] = []
    be: list[int] = []
    bev: list[int] = []
    for e, (a, b) in enumerate(events):
        length = b - a
        n_sub = 1 if sub is None else max(1, length // max(m, sub))
        sizes = np.full(n_sub, length // n_sub)
        sizes[: length % n_sub] += 1
        edges = a + np.concatenate(([0], np.cumsum(sizes)))
        bs.extend(edges[:-1].tolist())
        be.extend(edges[1:].tolist())
        bev.extend([e] * n_sub)
    start = np.asarray(bs, dtype=np.int64)
    stop = np.asarray(be, dtype=np.int64)
    event = np.asarray(bev, dtype=np.int64)
    first = np.ones(start.size, dtype=bool)
    first[1:] = event[1:] != event[:-1]
    prev = np.where(first, -1, np.arange(start.size) - 1).astype(np.int64)
    block_of = np.full(n, -1, dtype=np.int64)
    if start.size:
        idx = np.repeat(np.arange(start.size), stop - start)
        block_of[np.concatenate([np.arange(a, b) for a, b in zip(bs, be, strict=True)])] = idx
    return ShortageBlocks(start, stop, event, first, prev, block_of)
