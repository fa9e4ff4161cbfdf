"""Array helpers: runs of ``True`` cells in masks, average ranks, the logistic, immutable arrays.

Runs are the consecutive ``True`` cells of users × intervals masks (dimensionless
indices); :func:`average_ranks` ranks values as ``scipy.stats.rankdata`` does;
:func:`logistic` is ``scipy.special.expit``; :func:`immutable` tells whether an array
can no longer change.

References:
    NumPy reference, ``numpy.flatnonzero`` and ``numpy.diff``, https://numpy.org/doc/stable/.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Runs", "average_ranks", "immutable", "logistic", "runs"]


def average_ranks(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Ranks 1..n of finite values, ties sharing the mean of their ranks (dimensionless).

    The algorithm of ``scipy.stats.rankdata(method="average")`` (same operations, so
    the same floats), without importing ``scipy.stats`` (about 0.8 s a process).

    Args:
        values: Finite values (n,).

    Returns:
        The average ranks (n,), float64.
    """
    order = np.argsort(values, kind="mergesort")
    inverse = np.empty(order.size, dtype=np.intp)
    inverse[order] = np.arange(order.size, dtype=np.intp)
    ordered = values[order]
    first = np.r_[True, ordered[1:] != ordered[:-1]]
    dense = np.cumsum(first)[inverse]
    count = np.r_[np.flatnonzero(first), first.size]
    ranks: NDArray[np.float64] = 0.5 * (count[dense] + count[dense - 1] + 1)
    return ranks


def logistic(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """The logistic function 1 / (1 + e^(−x)) (dimensionless), elementwise.

    ``scipy.special.expit``'s formula (so the same floats: the tests compare them),
    without importing ``scipy.special`` (about 0.4-0.5 s a process). A large negative
    ``x`` overflows e^(−x) to +inf and gives exactly 0, as expit does.

    Args:
        x: Log-odds, any shape.

    Returns:
        The probabilities, in [0, 1], float64, ``x``'s shape.
    """
    with np.errstate(over="ignore"):
        p = 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))
    return np.asarray(p, dtype=np.float64)  # a 0-d array, not a scalar, for a 0-d x


def immutable(a: object) -> bool:
    """Whether ``a`` is a read-only array whose every base array is read-only (dimensionless).

    Such an array's values cannot change (nothing can write to its memory), so it may
    be kept by reference instead of copied. A view of another kind of buffer (bytes,
    an mmap) is not: it may change under the array.

    Args:
        a: Any object.

    Returns:
        True for an array read-only down to the array owning its memory.
    """
    while isinstance(a, np.ndarray):
        if a.flags.writeable:
            return False
        if a.base is None:
            return True
        a = a.base
    return False


@dataclass(frozen=True)
class Runs:
    """Maximal runs of ``True`` along the interval axis of a users × intervals mask.

    Indices are dimensionless positions (rows, intervals).

    Attributes:
        user: Row of each run.
        start: First interval of each run.
        stop: One past the last interval of each run.
        shape: Shape of the mask.
    """

    user: NDArray[np.int64]
    start: NDArray[np.int64]
    stop: NDArray[np.int64]
    shape: tuple[int, int]

    def __len__(self) -> int:
        return int(self.user.shape[0])

    def cells(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """Covered cells as ``(row, column, run index)`` arrays."""
        lengths = self.stop - self.start
        run = np.repeat(np.arange(len(self)), lengths)
        offset = np.arange(run.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        return self.user[run], self.start[run] + offset, run


def runs(mask: NDArray[np.bool_]) -> Runs:
    """Find the runs of consecutive ``True`` cells in each row of ``mask``.

    Args:
        mask: Boolean array ``(n_rows, n_cols)`` (dimensionless flags, e.g. users ×
            intervals curtailed).

    Returns:
        The runs, ordered by row then start; indices are interval positions.
    """
    m = np.ascontiguousarray(mask, dtype=bool)
    shape = (int(m.shape[0]), int(m.shape[1]))
    n_cols = shape[1]
    # Curtailment is sparse: work on the True cells only (row-major flat indices).
    cell = np.flatnonzero(m)
    if len(cell) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Runs(user=empty, start=empty, stop=empty.copy(), shape=shape)
    row, col = np.divmod(cell, n_cols)
    # A run starts where the previous True cell is not the cell just before it in the same
    # row, and ends where the next one is not the cell just after it.
    brk = np.flatnonzero((np.diff(cell) != 1) | (col[1:] == 0))
    first = np.concatenate(([0], brk + 1))
    last = np.concatenate((brk, [len(cell) - 1]))
    return Runs(
        user=row[first].astype(np.int64),
        start=col[first].astype(np.int64),
        stop=(col[last] + 1).astype(np.int64),
        shape=shape,
    )
