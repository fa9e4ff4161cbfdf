"""The next day's load noise drawn on the second core, bit for bit the generator's own draws.

The load noise is a day's largest draw: ``n_users × intervals`` standard normals
(87.6 million a year at 10,000 users hourly, about 1.3 s on this project's 2-core
benchmark machine), and a generator draws sequentially. NumPy's generators
release the GIL while they fill an array (NumPy documentation, "Multithreaded
Generation"), so a worker thread can draw tomorrow's noise while the main thread
meters and settles today.

:meth:`DrawAhead.prime` copies the generator's state and starts the draw on the
copy in a worker thread, followed by a pure transform of the block (the load
noise's lognormal factor). :meth:`DrawAhead.draw` returns that block only if
the model's generator is still in the copied state (nothing else drew in
between), and then moves the generator to the state the copy ended in: the
generator's stream is exactly what it would have been had the block been drawn
there and then. Otherwise the block is dropped and the draw is made on the
generator. Results are identical either way; only the time differs.

References:
    NumPy documentation, "Multithreaded Generation" (``numpy.random``): fills
    release the GIL; a ``BitGenerator``'s ``state`` is its whole state.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["DrawAhead"]


class DrawAhead:
    """Standard normals of one shape, drawn a day ahead from a copy of the generator.

    Args:
        rng: The model's generator (its stream is never changed).
        shape: Shape of the block drawn each day, e.g. ``(n_users, ipd)``.
        dtype: Its dtype (``float32`` or ``float64``).
        transform: A pure function applied to each block (it may work in place),
            in the worker thread for a primed block; default: none.

    Attributes:
        enabled: Whether :meth:`prime` draws ahead. Off for blocks under
            :attr:`MIN_VALUES` values, and after :attr:`MAX_MISSES` primed
            blocks in a row were dropped (something else draws between days).
        hits: Primed blocks used.
        misses: Primed blocks dropped.
    """

    MIN_VALUES = 1 << 16
    """Smallest block drawn ahead: below it, handing the block over costs about what
    drawing it does (a 4,800-value block: 64 µs drawn, 115 µs through a thread, measured)."""

    MAX_MISSES = 3
    """Dropped blocks in a row after which draw-ahead stops for the run."""

    def __init__(
        self,
        rng: np.random.Generator,
        shape: tuple[int, ...],
        dtype: Any = np.float32,
        transform: Callable[[NDArray[Any]], NDArray[Any]] | None = None,
    ) -> None:
        self.rng = rng
        self.transform = transform
        self.shape = tuple(int(s) for s in shape)
        self.dtype: Any = np.dtype(dtype)
        self.enabled = math.prod(self.shape) >= self.MIN_VALUES
        self.hits = 0
        self.misses = 0
        self._in_a_row = 0
        self._pool: ThreadPoolExecutor | None = None
        self._twin: np.random.Generator | None = None  # used by the worker thread only
        self._pending: tuple[Mapping[str, Any], Future[Any]] | None = None

    def prime(self) -> None:
        """Start drawing the next block from a copy of the generator's current state."""
        if not self.enabled or self._pending is not None:
            return
        state = self.rng.bit_generator.state
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="parksim-draw-ahead")
            self._twin = copy.deepcopy(self.rng)  # the worker's generator, state set per draw
        self._pending = (state, self._pool.submit(self._draw, state))

    def _draw(self, state: Mapping[str, Any]) -> tuple[NDArray[Any], Mapping[str, Any]]:
        """The worker thread's draw, on its own generator set to ``state``."""
        twin = self._twin
        assert twin is not None
        twin.bit_generator.state = state
        block = self._transformed(twin.standard_normal(self.shape, dtype=self.dtype))
        return block, twin.bit_generator.state

    def _transformed(self, block: NDArray[Any]) -> NDArray[Any]:
        return block if self.transform is None else self.transform(block)

    def draw(self) -> NDArray[Any]:
        """The next block: ``transform(rng.standard_normal(shape, dtype=dtype))``.

        Returns:
            The block; the generator is left where drawing it leaves it.
        """
        pending, self._pending = self._pending, None
        if pending is not None:
            start, future = pending
            if self.rng.bit_generator.state == start:
                block, end = future.result()
                self.rng.bit_generator.state = end
                self.hits += 1
                self._in_a_row = 0
                return block
            self.misses += 1
            self._in_a_row += 1
            if self._in_a_row >= self.MAX_MISSES:
                self.enabled = False
        return self._transformed(self.rng.standard_normal(self.shape, dtype=self.dtype))

    def __getstate__(self) -> dict[str, Any]:
        """Pickled and copied without the worker thread and its block (drawn anew)."""
        return {**self.__dict__, "_pool": None, "_twin": None, "_pending": None}

    def close(self) -> None:
        """Drop a primed block and stop the worker thread (it restarts if primed again)."""
        self._pending = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
