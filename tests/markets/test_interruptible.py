import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from markets.interruptible import call, offers, procure


def test_offers_hand_example():
    """Peaks [1000, 200, 600] kW, shares [0.3, 0.1, 0.1], losses [5, 2, 12] CNY/kWh, 2-h
    events: blocks min(0.3, 0.2)·1000 = 200, 0.1·200 = 20 (< 50 kW: not offered), 60 kW;
    bids 5·2 = 10, 4, 24 CNY/kW·event. Share 0 (class 0) offers nothing."""
    o = offers([1000.0, 200.0, 600.0], [0.3, 0.1, 0.1], [5.0, 2.0, 12.0])
    np.testing.assert_allclose(o.block_kw, [200.0, 0.0, 60.0])
    np.testing.assert_allclose(o.bid_cny_per_kw_event, [10.0, 4.0, 24.0])
    assert o.eligible.tolist() == [True, False, True]
    z = offers([1000.0], 0.0, 5.0, block_min_kw=0.0)
    assert z.block_kw.tolist() == [0.0] and not z.eligible[0]


def test_procure_hand_example():
    """Blocks [200, 60, 100, 80], bids [10, 24, 35, 10], target 150 kW, cap 30: user 2 (35)
    is above the cap; order user 0 (10), user 3 (10, tie → user order), user 1 (24): user 0
    gives 150 of its 200 kW; nothing else. Target 400: 200 + 80 + 60 = 340 → shortfall 60,
    marginal bid 24."""
    blocks, bids = [200.0, 60.0, 100.0, 80.0], [10.0, 24.0, 35.0, 10.0]
    p = procure(blocks, bids, 150.0)
    np.testing.assert_allclose(p.accepted_kw, [150.0, 0.0, 0.0, 0.0])
    assert p.total_kw == pytest.approx(150.0) and p.shortfall_kw == 0.0
    assert p.marginal_bid_cny_per_kw_event == 10.0
    q = procure(blocks, bids, 400.0)
    np.testing.assert_allclose(q.accepted_kw, [200.0, 60.0, 0.0, 80.0])
    assert q.shortfall_kw == pytest.approx(60.0)
    assert q.marginal_bid_cny_per_kw_event == 24.0
    assert np.isnan(procure(blocks, bids, 0.0).marginal_bid_cny_per_kw_event)


def test_call_hand_example():
    """Blocks [100, 50, 80] kW, bids [12, 8, 20], shortfalls [120, 0, 40], 1 h: t = 0 calls
    user 1 (50 < 120) then user 0 (150 ≥ 120): covered 150; t = 2 calls user 1 (50 ≥ 40).
    User 1: called at t = 0 and t = 2 (not consecutive) → 2 events, 2·8·50 = 800 CNY, 100 kWh;
    user 0: 1 event, 12·100 = 1200 CNY, 100 kWh; user 2 never."""
    c = call([120.0, 0.0, 40.0], [100.0, 50.0, 80.0], [12.0, 8.0, 20.0])
    np.testing.assert_array_equal(
        c.called, [[True, True, False], [False, False, False], [False, True, False]]
    )
    np.testing.assert_allclose(c.covered_kw, [150.0, 0.0, 50.0])
    np.testing.assert_allclose(c.uncovered_kw, 0.0)
    assert c.events.tolist() == [1, 2, 0]
    np.testing.assert_allclose(c.payment_cny, [1200.0, 800.0, 0.0])
    np.testing.assert_allclose(c.energy_kwh, [100.0, 100.0, 0.0])


def test_call_consecutive_intervals_are_one_event_and_scalar_shortfall():
    """A block called in t = 0, 1 (consecutive, 15-min) is one event: payment 8·50 = 400,
    energy 50·0.5 h = 25 kWh. A scalar shortfall of 500 kW beyond all blocks (230 kW) calls
    every block and leaves 270 kW uncovered."""
    c = call([10.0, 10.0], [100.0, 50.0, 80.0], [12.0, 8.0, 20.0], interval_h=0.25)
    assert c.events.tolist() == [0, 1, 0]
    np.testing.assert_allclose(c.payment_cny, [0.0, 400.0, 0.0])
    np.testing.assert_allclose(c.energy_kwh, [0.0, 25.0, 0.0])
    s = call(500.0, [100.0, 50.0, 80.0], [12.0, 8.0, 20.0])
    assert s.called.tolist() == [True, True, True]
    assert s.uncovered_kw == pytest.approx(270.0)
    assert s.covered_kw == pytest.approx(230.0)


@pytest.mark.parametrize(
    ("fn", "args", "match"),
    [
        (offers, ([-1.0], 0.1, 1.0), "peak_kw"),
        (offers, ([1.0], [0.1, 0.2], 1.0), "share"),
        (offers, ([1.0], 0.1, np.nan), "loss_cny_per_kwh"),
        (procure, ([1.0], [1.0, 2.0], 1.0), "bids"),
        (procure, ([1.0], [1.0], -1.0), "target_kw"),
        (call, (-1.0, [1.0], [1.0]), "shortfall_kw"),
        (call, ([[1.0]], [1.0], [1.0]), "shortfall_kw"),
        (call, (1.0, [-1.0], [1.0]), "blocks_kw"),
    ],
)
def test_bad_inputs(fn, args, match):
    with pytest.raises(ValueError, match=match):
        fn(*args)


_blocks = arrays(np.float64, st.integers(1, 6), elements=st.sampled_from([0.0, 50.0, 80.0, 200.0]))


@settings(max_examples=80, deadline=None)
@given(
    blocks=_blocks,
    data=st.data(),
    shortfall=arrays(np.float64, st.integers(1, 6), elements=st.floats(0.0, 800.0)),
)
def test_call_covers_minimally_in_bid_order(blocks, data, shortfall):
    """Covered ≥ shortfall whenever the blocks suffice, else every block is called; the called
    set is a prefix of the bid order (cheapest first) and minimal: without its dearest block
    the shortfall would not be covered. Payments = bid·block·events ≥ 0."""
    n = blocks.size
    bids = np.array(data.draw(st.lists(st.sampled_from([5.0, 10.0, 20.0]), min_size=n, max_size=n)))
    c = call(shortfall, blocks, bids)
    total = blocks.sum()
    order = np.lexsort((np.arange(n), bids))
    positive = order[blocks[order] > 0]
    for t, s in enumerate(shortfall):
        called = c.called[t]
        if s <= total:
            assert c.covered_kw[t] >= s - 1e-9
        else:
            assert np.all(called[blocks > 0])
        k = int(called[positive].sum())
        assert np.all(called[positive[:k]]) and not np.any(called[positive[k:]])
        if k:
            assert c.covered_kw[t] - blocks[positive[k - 1]] < s
        assert not np.any(called[blocks == 0])
    np.testing.assert_allclose(c.payment_cny, bids * blocks * c.events)


@settings(max_examples=60, deadline=None)
@given(blocks=_blocks, target=st.floats(0.0, 1000.0), cap=st.floats(0.0, 30.0))
def test_procure_meets_target_with_cheapest_bids_under_cap(blocks, target, cap):
    """Accepted ≤ block; nothing above the cap; total = min(target, offered at ≤ cap); a bid
    is accepted only if every strictly cheaper eligible block is fully accepted."""
    bids = np.linspace(1.0, 40.0, blocks.size)
    p = procure(blocks, bids, target, cap)
    assert np.all(p.accepted_kw <= blocks + 1e-12)
    assert not np.any(p.accepted_kw[bids > cap] > 0)
    offered = blocks[bids <= cap].sum()
    assert p.total_kw == pytest.approx(min(target, offered), abs=1e-9)
    for i in np.flatnonzero(p.accepted):
        cheaper = (bids < bids[i]) & (bids <= cap)
        np.testing.assert_allclose(p.accepted_kw[cheaper], blocks[cheaper])
