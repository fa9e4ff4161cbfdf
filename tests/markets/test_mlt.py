import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from markets.mlt import allocate_contracts, cfd


def test_cfd_hand_example():
    """Q = 100 kWh, K = 0.391: p_DA = 0.30 → 100·0.091 = 9.1 (retailer pays the plant);
    p_DA = 0.50 → 100·(−0.109) = −10.9 (the plant pays); net −1.8 CNY. A negative spot price
    −0.05 → 100·0.441 = 44.1."""
    s = cfd([100.0, 100.0, 100.0], 0.391, [0.30, 0.50, -0.05])
    np.testing.assert_allclose(s.payment_cny, [9.1, -10.9, 44.1])
    np.testing.assert_allclose(s.buyer_pays_cny, [9.1, 0.0, 44.1])
    np.testing.assert_allclose(s.seller_pays_cny, [0.0, 10.9, 0.0])
    assert s.net_cny == pytest.approx(42.3)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (([-1.0], 0.391, [0.3]), "contract_kwh"),
        (([1.0], -0.1, [0.3]), "strike_cny_per_kwh"),
        (([1.0], 0.391, [np.nan]), "da_price_cny_per_kwh"),
        (([1.0, 2.0], 0.391, [0.3, 0.3, 0.3]), "broadcast"),
    ],
)
def test_cfd_rejects_bad_inputs(args, match):
    with pytest.raises(ValueError, match=match):
        cfd(*args)


@settings(max_examples=60, deadline=None)
@given(
    q=arrays(np.float64, 24, elements=st.floats(0.0, 1e5)),
    strike=st.floats(0.0, 1.0),
    p=arrays(np.float64, 24, elements=st.floats(-0.1, 1.5)),
)
def test_cfd_hedges_the_buyer_at_the_strike(q, strike, p):
    """Spot purchase plus CfD payment = Q·K in every interval (the hedge); the two
    one-directional parts are ≥ 0 and net to the payment."""
    s = cfd(q, strike, p)
    np.testing.assert_allclose(q * p + s.payment_cny, q * strike, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(s.buyer_pays_cny - s.seller_pays_cny, s.payment_cny)
    assert np.all(s.buyer_pays_cny >= 0) and np.all(s.seller_pays_cny >= 0)


def test_allocate_contracts_hand_example():
    """Offers [0.35, 0.30, 0.40], capacities [50, 30, 100] kW, Δt = 1 h. Interval 0: volumes
    40 and 20 kWh → V = 60: plant 1 (cheapest) 30, plant 0 the other 30 → retailer 0 (2/3)
    [20, 20, 0], retailer 1 (1/3) [10, 10, 0]. Interval 1: V = 200 > 180 → plants full
    [50, 30, 100], 20 kWh unallocated, split 150:50 → 15 and 5."""
    a = allocate_contracts([[40.0, 150.0], [20.0, 50.0]], [50.0, 30.0, 100.0], [0.35, 0.30, 0.40])
    np.testing.assert_allclose(a.plant_kwh, [[30.0, 30.0, 0.0], [50.0, 30.0, 100.0]])
    np.testing.assert_allclose(a.volume_kwh[0, 0], [20.0, 20.0, 0.0])
    np.testing.assert_allclose(a.volume_kwh[1, 0], [10.0, 10.0, 0.0])
    np.testing.assert_allclose(a.unallocated_kwh, [[0.0, 15.0], [0.0, 5.0]])


def test_allocate_contracts_one_retailer_quarter_hours_and_ties():
    """One retailer (retailer axis dropped), Δt = 0.25 h: capacity 40 kW holds 10 kWh per
    interval; equal offers → plant order: 15 kWh → [10, 5]."""
    a = allocate_contracts([15.0, 0.0], [40.0, 40.0], [0.3, 0.3], interval_h=0.25)
    np.testing.assert_allclose(a.volume_kwh, [[10.0, 5.0], [0.0, 0.0]])
    np.testing.assert_allclose(a.unallocated_kwh, [0.0, 0.0])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"volume_kwh": [-1.0]}, "volume_kwh"),
        ({"capacity_kw": [1.0, -1.0]}, "capacity_kw"),
        ({"capacity_kw": [1.0, 1.0, 1.0]}, "capacity_kw"),
        ({"merit_cny_per_kwh": [[0.3, 0.3]]}, "merit_cny_per_kwh"),
        ({"interval_h": -1.0}, "interval_h"),
    ],
)
def test_allocate_contracts_rejects_bad_inputs(kwargs, match):
    args = {"volume_kwh": [10.0], "capacity_kw": [5.0, 5.0], "merit_cny_per_kwh": [0.3, 0.4]}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        allocate_contracts(**args)


@settings(max_examples=60, deadline=None)
@given(
    vol=arrays(
        np.float64, st.tuples(st.integers(1, 3), st.integers(1, 6)), elements=st.floats(0.0, 500.0)
    ),
    cap=arrays(np.float64, 4, elements=st.floats(0.0, 200.0)),
    merit=arrays(np.float64, 4, elements=st.sampled_from([0.3, 0.35, 0.4])),
)
def test_allocate_contracts_conserves_volume_and_respects_merit(vol, cap, merit):
    """Allocated + unallocated = volume; plants ≤ capacity; unallocated only when every plant
    is full; a dearer plant takes volume only if every cheaper one is full."""
    a = allocate_contracts(vol, cap, merit)
    np.testing.assert_allclose(a.volume_kwh.sum(axis=2) + a.unallocated_kwh, vol, atol=1e-7)
    assert np.all(a.plant_kwh <= cap + 1e-9)
    assert np.all(a.unallocated_kwh >= -1e-9)
    full = np.isclose(a.plant_kwh, cap, atol=1e-9)
    short = a.unallocated_kwh.sum(axis=0) > 1e-7
    assert np.all(full[short])
    for i in range(4):
        for j in range(4):
            if merit[j] < merit[i]:
                used = a.plant_kwh[:, i] > 1e-9
                assert np.all(full[used, j])
