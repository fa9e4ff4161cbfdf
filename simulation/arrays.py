"""Vectorised helpers over users × intervals arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Runs", "runs", "spread"]


@dataclass(frozen=True)
class Runs:
    """Maximal runs of ``True`` along the interval axis of a users × intervals mask.

    Attributes:
        user: Row of each run.
        start: First interval of each run.
        stop: One past the last interval of each run.
        run_id: Array like the mask: index of the run covering each cell, -1 elsewhere.
    """

    user: NDArray[np.int64]
    start: NDArray[np.int64]
    stop: NDArray[np.int64]
    run_id: NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.user.shape[0])


def runs(mask: NDArray[np.bool_]) -> Runs:
    """Find the runs of consecutive ``True`` cells in each row of ``mask``.

    Args:
        mask: Boolean array ``(n_rows, n_cols)``.

    Returns:
        The runs, ordered by row then start.
    """
    m = np.asarray(mask, dtype=bool)
    padded = np.zeros((m.shape[0], m.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = m
    diff = np.diff(padded, axis=1)
    su, sc = np.nonzero(diff == 1)
    eu, ec = np.nonzero(diff == -1)
    # np.nonzero walks row-major, so starts and stops pair up in order.
    run_id = np.full(m.shape, -1, dtype=np.int64)
    if len(su):
        starts_flat = np.zeros(m.size + 1, dtype=np.int64)
        np.add.at(starts_flat, su * m.shape[1] + sc, 1)
        ids = np.cumsum(starts_flat[:-1]).reshape(m.shape) - 1
        run_id = np.where(m, ids, -1)
    return Runs(
        user=su.astype(np.int64), start=sc.astype(np.int64), stop=ec.astype(np.int64), run_id=run_id
    )


def spread(values: NDArray, r: Runs, fill: float = np.nan) -> NDArray[np.float64]:
    """Broadcast one value per run onto the cells the run covers.

    Args:
        values: One value per run.
        r: The runs.
        fill: Value of cells outside every run.

    Returns:
        Array shaped like the mask.
    """
    out = np.full(r.run_id.shape, fill, dtype=float)
    covered = r.run_id >= 0
    if len(r):
        out[covered] = np.asarray(values, dtype=float)[r.run_id[covered]]
    return out
