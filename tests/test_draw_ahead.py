"""Draw-ahead of the load noise: the generator's stream is bit for bit its own."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from simulation.config import validate
from simulation.draw_ahead import DrawAhead
from simulation.model import ParkModel
from simulation.run import compose_config

SHAPE = (300, 256)  # 76,800 values: above DrawAhead.MIN_VALUES


def _threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("parksim-draw-ahead")]


def test_primed_blocks_are_the_generators_own_draws():
    plain, ahead_rng = np.random.default_rng(7), np.random.default_rng(7)
    ahead = DrawAhead(ahead_rng, SHAPE)
    expected, got = [], []
    for day in range(5):
        # a day: other draws, then (primed) the noise, then more draws before the prime
        expected.append(plain.random(day + 1))
        got.append(ahead_rng.random(day + 1))
        ahead.prime()
        expected.append(plain.standard_normal(SHAPE, dtype=np.float32))
        got.append(ahead.draw())
    expected.append(plain.random(3))
    got.append(ahead_rng.random(3))
    ahead.close()
    for a, b in zip(expected, got, strict=True):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype
    assert (ahead.hits, ahead.misses) == (5, 0)
    assert _threads() == []


def test_a_draw_after_the_prime_drops_the_block_and_three_in_a_row_stop_it():
    plain, ahead_rng = np.random.default_rng(3), np.random.default_rng(3)
    ahead = DrawAhead(ahead_rng, SHAPE)
    expected, got = [], []
    for _ in range(4):
        ahead.prime()
        expected.append(plain.integers(0, 10, 2))  # drawn between the prime and the noise
        got.append(ahead_rng.integers(0, 10, 2))
        expected.append(plain.standard_normal(SHAPE, dtype=np.float32))
        got.append(ahead.draw())
    for a, b in zip(expected, got, strict=True):
        np.testing.assert_array_equal(a, b)
    # three dropped blocks in a row switch it off; the fourth prime does nothing
    assert (ahead.hits, ahead.misses, ahead.enabled) == (0, 3, False)
    ahead.close()


def test_the_transform_is_applied_to_primed_and_direct_blocks():
    def factor(z):
        z *= 0.1
        np.exp(z, out=z)
        return z

    plain, ahead_rng = np.random.default_rng(11), np.random.default_rng(11)
    ahead = DrawAhead(ahead_rng, SHAPE, np.float32, factor)
    ahead.prime()
    primed = ahead.draw()
    direct = ahead.draw()  # not primed: drawn and transformed on the main thread
    for block in (primed, direct):
        np.testing.assert_array_equal(block, factor(plain.standard_normal(SHAPE, np.float32)))
    assert (ahead.hits, ahead.misses) == (1, 0)
    ahead.close()


def test_a_copy_drops_the_primed_block_and_draws_the_same_numbers():
    import copy
    import pickle

    ahead = DrawAhead(np.random.default_rng(5), SHAPE)
    ahead.prime()
    twins = [copy.deepcopy(ahead), pickle.loads(pickle.dumps(ahead))]
    block = ahead.draw()
    for twin in twins:
        assert twin._pending is None and twin._pool is None
        np.testing.assert_array_equal(twin.draw(), block)
    ahead.close()


def test_small_blocks_are_not_drawn_ahead():
    ahead = DrawAhead(np.random.default_rng(0), (200, 24))  # 4,800 values
    assert not ahead.enabled
    ahead.prime()
    assert _threads() == [] and ahead._pending is None


def _kpis(n_users: int, monkeypatch: pytest.MonkeyPatch, min_values: int) -> tuple[dict, int]:
    monkeypatch.setattr(DrawAhead, "MIN_VALUES", min_values)
    cfg = compose_config(
        ["phase=orderly", "park=large", f"park.n_users={n_users}", "days=9", "progress=false"]
    )
    validate(cfg)
    model = ParkModel(cfg)
    model.run()
    kpis = {k: v for k, v in model.datacollector.get_model_vars_dataframe().sum().items()}
    return kpis, model.noise.hits


def test_a_run_drawing_ahead_equals_one_that_does_not(monkeypatch):
    # 3,000 users x 24 intervals = 72,000 values a day: drawn ahead on each of the 9 days
    ahead, hits = _kpis(3000, monkeypatch, DrawAhead.MIN_VALUES)
    plain, no_hits = _kpis(3000, monkeypatch, 10**9)
    assert (hits, no_hits) == (9, 0)
    assert ahead == plain
    assert _threads() == []
