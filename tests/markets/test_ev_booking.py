import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from markets.ev_booking import schedule, unmanaged, v2g_discharge

PRICE = np.array([0.5, 0.2, 0.2, 0.8])
HEADROOM = np.array([10.0, 5.0, 10.0, 10.0])


def _bookings(rows):
    return pd.DataFrame(rows, columns=["arrival", "departure", "energy_kwh", "pmax_kw"])


def test_schedule_hand_example():
    """Booking 0, [0, 4), 12 kWh, 7 kW: t = 1 and t = 2 are cheapest (0.2; tie → earliest
    first): t = 1 takes min(7, 5) = 5, t = 2 takes the other 7 → [0, 5, 7, 0], cost 0.2·12 =
    2.4 CNY; headroom left [10, 0, 3, 10]. Booking 1, [1, 3), 5 kWh: only 0 + 3 kWh fit →
    rejected, nothing charged. Booking 2, [0, 2), 8 kWh, 10 kW: t = 1 is full → 8 kW at t = 0,
    cost 4.0. Headroom left [2, 0, 3, 10]."""
    b = _bookings([(0, 4, 12.0, 7.0), (1, 3, 5.0, 7.0), (0, 2, 8.0, 10.0)])
    s = schedule(HEADROOM, PRICE, b)
    np.testing.assert_array_equal(s.accepted, [True, False, True])
    np.testing.assert_allclose(
        s.charge_kw, [[0.0, 5.0, 7.0, 0.0], [0.0, 0.0, 0.0, 0.0], [8.0, 0.0, 0.0, 0.0]]
    )
    np.testing.assert_allclose(s.load_kw, [8.0, 5.0, 7.0, 0.0])
    np.testing.assert_allclose(s.cost_cny, [2.4, 0.0, 4.0])
    np.testing.assert_allclose(s.grid_energy_kwh, [12.0, 0.0, 8.0])
    np.testing.assert_allclose(s.headroom_left_kw, [2.0, 0.0, 3.0, 10.0])


def test_schedule_efficiency_partial_and_quarter_hours():
    """η = 0.8: 4 kWh into the battery needs 4/0.8 = 5 kWh from the grid; with Δt = 0.5 h and
    5 kW at the cheapest t = 1 (2.5 kWh), then t = 2 (2.5 kWh) → [0, 5, 5, 0] kW, delivered
    5·0.8 = 4 kWh. partial=True: booking [3, 4), 10 kWh, 7 kW, headroom 10 → 3.5 kWh charged,
    not accepted; partial=False charges nothing."""
    b = _bookings([(0, 4, 4.0, 5.0), (3, 4, 10.0, 7.0)])
    s = schedule(10.0, PRICE, b, interval_h=0.5, eta=0.8)
    np.testing.assert_allclose(s.charge_kw[0], [0.0, 5.0, 5.0, 0.0])
    assert s.grid_energy_kwh[0] == pytest.approx(5.0)
    assert s.delivered_kwh[0] == pytest.approx(4.0)
    assert s.accepted.tolist() == [True, False]
    np.testing.assert_allclose(s.charge_kw[1], 0.0)
    p = schedule(10.0, PRICE, b, interval_h=0.5, eta=0.8, partial=True)
    np.testing.assert_allclose(p.charge_kw[1], [0.0, 0.0, 0.0, 7.0])
    assert p.grid_energy_kwh[1] == pytest.approx(3.5)
    assert p.accepted.tolist() == [True, False]


def test_schedule_negative_headroom_is_no_room_and_zero_energy_is_accepted():
    """Headroom −5 kW counts as 0: a 1 kWh booking is rejected; a 0 kWh booking is accepted
    with nothing charged; an empty bookings table gives a 0 × T schedule."""
    s = schedule(-5.0, PRICE, _bookings([(0, 4, 1.0, 7.0), (0, 1, 0.0, 7.0)]))
    assert s.accepted.tolist() == [False, True]
    np.testing.assert_allclose(s.charge_kw, 0.0)
    empty = schedule(HEADROOM, PRICE, _bookings([]))
    assert empty.charge_kw.shape == (0, 4)
    np.testing.assert_allclose(empty.load_kw, 0.0)


def test_schedule_is_frozen():
    s = schedule(HEADROOM, PRICE, _bookings([(0, 1, 1.0, 1.0)]))
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.accepted = None  # type: ignore[misc]


@pytest.mark.parametrize(
    ("rows", "kwargs", "match"),
    [
        ([(2, 2, 1.0, 1.0)], {}, "departure 2 must be after arrival 2"),
        ([(3, 1, 1.0, 1.0)], {}, "departure"),
        ([(0, 5, 1.0, 1.0)], {}, r"\[0, 4\]"),
        ([(-1, 2, 1.0, 1.0)], {}, r"\[0, 4\]"),
        ([(0.5, 2, 1.0, 1.0)], {}, "integer"),
        ([(0, 2, -1.0, 1.0)], {}, "energy_kwh"),
        ([(0, 2, 1.0, -1.0)], {}, "pmax_kw"),
        ([(0, 2, 1.0, 1.0)], {"eta": 0.0}, "eta"),
        ([(0, 2, 1.0, 1.0)], {"eta": 1.1}, "eta"),
        ([(0, 2, 1.0, 1.0)], {"interval_h": 0.0}, "interval_h"),
        ([(0, 2, 1.0, 1.0)], {"headroom_kw": [1.0, 2.0]}, "headroom_kw"),
    ],
)
def test_schedule_rejects_bad_inputs(rows, kwargs, match):
    args = {"headroom_kw": HEADROOM, "price_cny_per_kwh": PRICE, "bookings": _bookings(rows)}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        schedule(**args)


def test_schedule_rejects_missing_columns():
    with pytest.raises(ValueError, match="lacks columns"):
        schedule(1.0, PRICE, pd.DataFrame({"arrival": [0], "departure": [1]}))
    with pytest.raises(ValueError, match="DataFrame"):
        schedule(1.0, PRICE, [(0, 1, 1.0, 1.0)])  # type: ignore[arg-type]


_booking = st.tuples(
    st.integers(0, 11), st.integers(1, 12), st.floats(0.0, 80.0), st.sampled_from([0.0, 7.0, 22.0])
)


@settings(max_examples=80, deadline=None)
@given(
    rows=st.lists(_booking, max_size=8),
    headroom=st.lists(st.floats(-10.0, 60.0), min_size=12, max_size=12),
    price=st.lists(st.sampled_from([0.3, 0.6, 1.0]), min_size=12, max_size=12),
    eta=st.floats(0.5, 1.0),
    dt=st.sampled_from([0.25, 1.0]),
    partial=st.booleans(),
)
def test_schedule_respects_headroom_power_and_energy(rows, headroom, price, eta, dt, partial):
    """Σ charging ≤ max(headroom, 0); each booking ≤ its P̄ and 0 outside [a, d); an accepted
    booking gets exactly energy/η from the grid, a rejected one (partial=False) nothing and
    less than energy/η with partial=True; headroom_left = max(headroom, 0) − load."""
    rows = [(a, max(d, a + 1), e, p) for a, d, e, p in rows]
    rows = [(a, min(d, 12), e, p) for a, d, e, p in rows if a < 12]
    b = _bookings(rows)
    s = schedule(headroom, price, b, interval_h=dt, eta=eta, partial=partial)
    room = np.clip(headroom, 0.0, None)
    assert np.all(s.load_kw <= room + 1e-9)
    np.testing.assert_allclose(s.headroom_left_kw, room - s.load_kw, atol=1e-9)
    t = np.arange(12)
    for k, (a, d, e, p) in enumerate(rows):
        assert np.all(s.charge_kw[k] <= p + 1e-12)
        assert np.all(s.charge_kw[k][(t < a) | (t >= d)] == 0.0)
        if s.accepted[k]:
            assert s.grid_energy_kwh[k] == pytest.approx(e / eta, rel=1e-9, abs=1e-9)
        elif partial:
            assert s.grid_energy_kwh[k] < e / eta
        else:
            assert s.grid_energy_kwh[k] == 0.0
    assert np.all(s.charge_kw >= 0.0)


def _reference_schedule(head, price, rows, dt, eta):
    """The window-by-window greedy of rule E1 as first written (each window lexsorted)."""
    price = np.asarray(price, dtype=float)
    remaining = np.clip(np.asarray(head, dtype=float), 0.0, None)
    charge = np.zeros((len(rows), price.size))
    for k, (a, d, e, p) in enumerate(rows):
        need = e / eta
        window = np.arange(a, d)
        order = window[np.lexsort((window, price[window]))]
        room_kwh = np.minimum(p, remaining[order]) * dt
        before = np.cumsum(room_kwh) - room_kwh
        if room_kwh.sum() < need - 1e-9 * max(1.0, need):
            continue
        take_kwh = np.clip(need - before, 0.0, room_kwh)
        charge[k, order] = take_kwh / dt
        remaining[order] = np.maximum(remaining[order] - take_kwh / dt, 0.0)
    return charge, remaining


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(_booking, max_size=8),
    headroom=st.lists(st.floats(-10.0, 60.0), min_size=12, max_size=12),
    price=st.lists(st.sampled_from([0.3, 0.6, 1.0]), min_size=12, max_size=12),
    eta=st.floats(0.5, 1.0),
)
def test_schedule_matches_the_window_greedy_and_takes_a_mapping(rows, headroom, price, eta):
    """The day-wide cheapest-first order restricted to a window is the window's own order:
    the schedule equals the window-by-window greedy bit for bit, and a mapping of column
    arrays gives the same schedule as the DataFrame."""
    rows = [(a, min(max(d, a + 1), 12), e, p) for a, d, e, p in rows if a < 12]
    charge, left = _reference_schedule(headroom, price, rows, 1.0, eta)
    s = schedule(headroom, price, _bookings(rows), eta=eta)
    np.testing.assert_array_equal(s.charge_kw, charge)
    np.testing.assert_array_equal(s.headroom_left_kw, left)
    cols = ["arrival", "departure", "energy_kwh", "pmax_kw"]
    mapping = {c: np.array([r[i] for r in rows]) for i, c in enumerate(cols)}
    m = schedule(headroom, price, mapping, eta=eta)
    np.testing.assert_array_equal(m.charge_kw, s.charge_kw)
    np.testing.assert_array_equal(m.accepted, s.accepted)


def test_schedule_rejects_ragged_column_mappings():
    ragged = {"arrival": [0, 1], "departure": [2], "energy_kwh": [1.0], "pmax_kw": [7.0]}
    with pytest.raises(ValueError, match="one length"):
        schedule(10.0, PRICE, ragged)


@settings(max_examples=40, deadline=None)
@given(
    price=st.lists(st.sampled_from([0.3, 0.6, 1.0]), min_size=12, max_size=12),
    energy=st.floats(0.0, 100.0),
)
def test_single_booking_without_limits_takes_the_cheapest_intervals(price, energy):
    """One booking over the whole day with ample headroom: the cost equals the sum of the
    cheapest intervals (greedy on a fractional knapsack is optimal) and never exceeds the
    unmanaged cost."""
    b = _bookings([(0, 12, energy, 10.0)])
    s = schedule(1e6, price, b)
    sorted_price = np.sort(price)
    full, rest = divmod(energy, 10.0)
    full = int(full)
    best = 10.0 * sorted_price[:full].sum() + (rest * sorted_price[full] if full < 12 else 0.0)
    if energy <= 120.0:
        assert s.accepted[0]
        assert s.cost_cny[0] == pytest.approx(best, abs=1e-9)
        assert s.cost_cny[0] <= unmanaged(price, b).cost_cny[0] + 1e-9


def test_unmanaged_hand_example():
    """[1, 4), 10 kWh, 4 kW → [0, 4, 4, 2] kW (full, cost 0.2·4 + 0.2·4 + 0.8·2 = 3.2);
    [0, 2), 10 kWh, 4 kW → [4, 4, 0, 0], 8 kWh: not full; η = 0.8 on a 4 kWh booking [0, 4),
    5 kW → 5 kWh from the grid: [5, 0, 0, 0]."""
    s = unmanaged(PRICE, _bookings([(1, 4, 10.0, 4.0), (0, 2, 10.0, 4.0)]))
    np.testing.assert_allclose(s.charge_kw, [[0.0, 4.0, 4.0, 2.0], [4.0, 4.0, 0.0, 0.0]])
    assert s.accepted.tolist() == [True, False]
    np.testing.assert_allclose(s.cost_cny, [3.2, 0.5 * 4 + 0.2 * 4])
    assert s.headroom_left_kw is None
    e = unmanaged(PRICE, _bookings([(0, 4, 4.0, 5.0)]), eta=0.8)
    np.testing.assert_allclose(e.charge_kw, [[5.0, 0.0, 0.0, 0.0]])


def test_managed_stays_under_headroom_where_unmanaged_breaks_it():
    """Three 22 kW cars arriving at t = 0 with 22 kWh each, headroom 30 kW for 4 h: unmanaged
    they draw 66 kW at t = 0 (> 30); managed they are all accepted within 30 kW."""
    b = _bookings([(0, 4, 22.0, 22.0)] * 3)
    assert unmanaged(PRICE, b).load_kw.max() == pytest.approx(66.0)
    s = schedule(30.0, PRICE, b)
    assert s.accepted.all()
    assert s.load_kw.max() <= 30.0 + 1e-9


def test_v2g_discharge_hand_example():
    """η = 1, [0, 4), 40 kWh, 7 kW, mask [F, T, T, F], p_v2g 1.22 > 0.3 + 0.1 → discharge
    min(7·2, 0.5·40) = 14 kWh at 7 kW in t = 1, 2; payment 1.22·14 = 17.08; net 17.08 − 14·0.3
    − 14·0.1 = 11.48 CNY. A second booking with recharge price 1.2 (> 1.22 − 0.1) does not
    discharge. η = 0.9 on the first: limit 0.5·40·0.9 = 18 kWh > 14 → 14 kWh; recharge
    14/0.81 = 17.28 kWh."""
    b = _bookings([(0, 4, 40.0, 7.0), (0, 4, 40.0, 7.0)])
    mask = np.array([False, True, True, False])
    v = v2g_discharge(b, mask, [0.3, 1.2], 1.22, 0.1)
    np.testing.assert_allclose(v.discharge_kw, [[0.0, 7.0, 7.0, 0.0], [0.0] * 4])
    np.testing.assert_allclose(v.payment_cny, [17.08, 0.0])
    np.testing.assert_allclose(v.net_value_cny, [11.48, 0.0])
    w = v2g_discharge(b.iloc[:1], mask, 0.3, 1.22, 0.1, eta=0.9)
    assert w.discharge_kwh[0] == pytest.approx(14.0)
    assert w.recharge_kwh[0] == pytest.approx(14.0 / 0.81)
    small = v2g_discharge(_bookings([(0, 4, 10.0, 7.0)]), mask, 0.3, 1.22, 0.1)
    np.testing.assert_allclose(small.discharge_kw, [[0.0, 5.0, 0.0, 0.0]])  # 0.5·10 = 5 kWh
    with pytest.raises(ValueError, match="discharge_mask"):
        v2g_discharge(b, [1, 0, 1, 0], 0.3, 1.22, 0.1)
    with pytest.raises(ValueError, match="max_share"):
        v2g_discharge(b, mask, 0.3, 1.22, 0.1, max_share=1.5)
