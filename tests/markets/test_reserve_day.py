import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from markets.reserve import co_optimize
from markets.reserve_day import co_optimize_day, reserve_requirement_mw

# Plants A and B of markets/reserve.py's worked example.
C_E = [20.0, 50.0]
CAP = [100.0, 120.0]
RCAP = [100.0, 20.0]
C_R = [0.0, 0.0]


def test_day_hand_example_with_relief():
    """t0: D = 150, R = 50 → B holds its 20 MW reserve cap, A the other 30 and produces 70,
    B 80: cost 20·70 + 50·80 = 5400, λ = 50, μ = 50 − 20 = 30 (energy opportunity cost).
    t1: D = 90, R = 10 → A 90 (reserve from spare room), cost 1800, λ = 20, μ = 0.
    t2: D = 250 > Σcap 220 → served 220, energy shortfall 30; R = 10 cut to Σcap − 220 = 0
    (reserve shortfall 10); A 100, B 120, cost 2000 + 6000 = 8000; price = cap 1500.
    t3: A's reserve cap 10 this hour: D = 150, R = 50 → R' = min(50, 10 + 20, 220 − 150) = 30
    (shortfall 20); A 90 + 10, B 60 + 20 → cost 1800 + 3000 = 4800, λ = 50 (B marginal)."""
    rcap = np.array([RCAP, RCAP, RCAP, [10.0, 20.0]])
    day = co_optimize_day(
        C_E, CAP, rcap, C_R, [150.0, 90.0, 250.0, 150.0], [50.0, 10.0, 10.0, 50.0]
    )
    np.testing.assert_allclose(day.energy_cost_cny + day.reserve_cost_cny, [5400, 1800, 8000, 4800])
    assert day.cost_cny == pytest.approx(20_000.0)
    np.testing.assert_allclose(day.dispatch_mw[0], [70.0, 80.0])
    np.testing.assert_allclose(day.reserve_mw[0], [30.0, 20.0])
    np.testing.assert_allclose(day.dispatch_mw[2], [100.0, 120.0])
    np.testing.assert_allclose(day.dispatch_mw[3], [90.0, 60.0])
    np.testing.assert_allclose(day.energy_price_cny_per_mwh[[0, 1, 2, 3]], [50, 20, 1500, 50])
    np.testing.assert_allclose(day.reserve_price_cny_per_mw[:2], [30.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(day.served_demand_mw, [150.0, 90.0, 220.0, 150.0])
    np.testing.assert_allclose(day.energy_shortfall_mw, [0.0, 0.0, 30.0, 0.0])
    np.testing.assert_allclose(day.requirement_mw, [50.0, 10.0, 0.0, 30.0])
    np.testing.assert_allclose(day.reserve_shortfall_mw, [0.0, 0.0, 10.0, 20.0])
    assert day.scarcity.tolist() == [False, False, True, True]


def test_day_prices_are_clipped_and_interval_length_scales_energy():
    """Offers 2000 and −100 CNY/MWh with caps [1500 floor 0]: one plant at a time is
    marginal → prices clip to 1500 and 0. Δt = 0.25 h: energy cost = c_e·g·Δt =
    −100·10·0.25 = −250 CNY for the negative-offer plant."""
    day = co_optimize_day(
        [[2000.0, 3000.0], [-100.0, 50.0]],
        [50.0, 50.0],
        [0.0, 0.0],
        [0.0, 0.0],
        [10.0, 10.0],
        0.0,
        interval_h=0.25,
    )
    np.testing.assert_allclose(day.shadow_energy_price_cny_per_mwh, [2000.0, -100.0])
    np.testing.assert_allclose(day.energy_price_cny_per_mwh, [1500.0, 0.0])
    np.testing.assert_allclose(day.energy_cost_cny, [2000 * 10 * 0.25, -250.0])


def test_reserve_requirement_wecc():
    """max(R_cont, 3 % D + 3 % G): D = 100, G = 20 → 3.6 MW; with R_cont = 5 → 5."""
    np.testing.assert_allclose(reserve_requirement_mw([100.0, 0.0], [20.0, 0.0]), [3.6, 0.0])
    np.testing.assert_allclose(reserve_requirement_mw([100.0], contingency_mw=5.0), [5.0])
    with pytest.raises(ValueError, match="dg_mw"):
        reserve_requirement_mw([1.0], [-1.0])


def test_day_result_is_frozen():
    day = co_optimize_day(C_E, CAP, RCAP, C_R, [10.0], 0.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        day.status = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"demand_mw": [[1.0]]}, "demand_mw"),
        ({"demand_mw": [-1.0, 1.0]}, "demand_mw"),
        ({"capacity_mw": [1.0, 2.0, 3.0]}, "capacity_mw has 3 plants"),
        ({"capacity_mw": [-1.0, 2.0]}, "capacity_mw"),
        ({"reserve_cap_mw": np.ones((3, 2))}, "reserve_cap_mw"),
        ({"energy_cost_cny_per_mwh": [np.nan, 1.0]}, "energy_cost_cny_per_mwh"),
        ({"requirement_mw": [1.0, 2.0, 3.0]}, "requirement_mw"),
        ({"requirement_mw": -1.0}, "requirement_mw"),
        ({"interval_h": 0.0}, "interval_h"),
        ({"price_floor_cny_per_mwh": 2000.0}, "price_floor_cny_per_mwh"),
        ({"time_limit_s": 0.0}, "time_limit_s"),
    ],
)
def test_day_rejects_bad_inputs(kwargs, match):
    args = {
        "energy_cost_cny_per_mwh": C_E,
        "capacity_mw": CAP,
        "reserve_cap_mw": RCAP,
        "reserve_cost_cny_per_mw": C_R,
        "demand_mw": [100.0, 50.0],
        "requirement_mw": 10.0,
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        co_optimize_day(**args)


def _cost(c_e, cap, rcap, c_r, d, r):
    return co_optimize(c_e, cap, rcap, c_r, d, r).cost_cny


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(1, 4),
    t=st.integers(1, 3),
    data=st.data(),
)
def test_day_equals_per_interval_co_optimize(n, t, data):
    """On random feasible markets each interval's optimal cost equals co_optimize's; the
    balance holds (Σ g = D), reserve covers R within each plant's limits, and where the
    interval is non-degenerate (cost(D ± ε) gives the same slope on both sides) the day's
    λ equals that slope, which is co_optimize's price too; likewise μ for the requirement.
    Prices, inside the default [0, 1500] band, are unchanged by the clip."""
    floats = st.floats(1.0, 100.0)
    c_e = np.array(data.draw(st.lists(st.floats(0.0, 200.0), min_size=n, max_size=n)))
    cap = np.array(
        data.draw(st.lists(st.lists(floats, min_size=n, max_size=n), min_size=t, max_size=t))
    )
    rcap = np.array(data.draw(st.lists(floats, min_size=n, max_size=n)))
    c_r = np.array(data.draw(st.lists(st.floats(0.0, 20.0), min_size=n, max_size=n)))
    d_share = np.array(data.draw(st.lists(st.floats(0.0, 0.9), min_size=t, max_size=t)))
    r_share = np.array(data.draw(st.lists(st.floats(0.0, 0.9), min_size=t, max_size=t)))
    demand = d_share * cap.sum(axis=1)
    max_r = np.minimum(np.minimum(rcap, cap).sum(axis=1), cap.sum(axis=1) - demand)
    requirement = r_share * max_r
    day = co_optimize_day(c_e, cap, rcap, c_r, demand, requirement)
    assert not day.scarcity.any()
    np.testing.assert_allclose(day.dispatch_mw.sum(axis=1), demand, atol=1e-6)
    assert np.all(day.reserve_mw.sum(axis=1) >= requirement - 1e-6)
    assert np.all(day.dispatch_mw + day.reserve_mw <= cap + 1e-6)
    assert np.all(day.reserve_mw <= np.minimum(rcap, cap) + 1e-6)
    eps = 1e-3
    for k in range(t):
        args = (c_e, cap[k], rcap, c_r)
        single = co_optimize(*args, demand[k], requirement[k])
        total = day.energy_cost_cny[k] + day.reserve_cost_cny[k]
        # both are HiGHS optima within its dual feasibility tolerance 1e-7 (CNY per MW):
        # with offers below it (hypothesis draws 6e-8) two HiGHS versions may stop at
        # different vertices, costs apart by <= 1e-7 · Σ(cap + rcap) MW
        slack = 1e-7 * (cap[k].sum() + np.minimum(rcap, cap[k]).sum())
        assert total == pytest.approx(single.cost_cny, rel=1e-7, abs=1e-6 + slack)
        assert 0.0 <= day.energy_price_cny_per_mwh[k] <= 1500.0
        if (
            demand[k] > 2 * eps
            and max_r[k] - requirement[k] > 2 * eps
            and demand[k] + eps <= (cap[k].sum() - requirement[k])
        ):
            up = (_cost(*args, demand[k] + eps, requirement[k]) - single.cost_cny) / eps
            down = (single.cost_cny - _cost(*args, demand[k] - eps, requirement[k])) / eps
            if abs(up - down) < 1e-6 * max(1.0, abs(up)):
                assert day.shadow_energy_price_cny_per_mwh[k] == pytest.approx(up, abs=1e-5)
                assert single.energy_price_cny_per_mwh == pytest.approx(up, abs=1e-5)
        if requirement[k] > 2 * eps and max_r[k] - requirement[k] > 2 * eps:
            up = (_cost(*args, demand[k], requirement[k] + eps) - single.cost_cny) / eps
            down = (single.cost_cny - _cost(*args, demand[k], requirement[k] - eps)) / eps
            if abs(up - down) < 1e-6 * max(1.0, abs(up)):
                assert day.reserve_price_cny_per_mw[k] == pytest.approx(up, abs=1e-5)


@settings(max_examples=30, deadline=None)
@given(
    demand=st.lists(st.floats(0.0, 400.0), min_size=1, max_size=6),
    requirement=st.floats(0.0, 100.0),
)
def test_day_relief_always_clears(demand, requirement):
    """Any demand and requirement clear: served = min(D, Σcap), R' = min(R, Σ min(rcap, cap),
    Σcap − served), the shortfalls make up the difference, prices stay in [0, 1500] and are
    1500 in energy-shortfall intervals."""
    demand = np.array(demand)
    day = co_optimize_day(C_E, CAP, RCAP, C_R, demand, requirement)
    served = np.minimum(demand, 220.0)
    np.testing.assert_allclose(day.served_demand_mw, served)
    np.testing.assert_allclose(day.dispatch_mw.sum(axis=1), served, atol=1e-6)
    expected_r = np.minimum(requirement, np.minimum(120.0, 220.0 - served))
    np.testing.assert_allclose(day.requirement_mw, expected_r, atol=1e-9)
    np.testing.assert_allclose(day.reserve_shortfall_mw, requirement - expected_r, atol=1e-9)
    assert np.all(day.reserve_mw.sum(axis=1) >= expected_r - 1e-6)
    assert np.all((day.energy_price_cny_per_mwh >= 0) & (day.energy_price_cny_per_mwh <= 1500))
    short = demand > 220.0 + 1e-6
    np.testing.assert_allclose(day.energy_price_cny_per_mwh[short], 1500.0)


def test_day_two_generators_price_500_and_no_carry_over_between_days():
    """Plants 300 and 500 CNY/MWh, caps 100 and 200 MW, no reserve: D = 150 > 100 → the
    first runs flat out, the second serves 50, λ = 500; D = 80 → λ = 300. The day solver
    is reused per shape and starts cold: the D = 150 day solved again after the other day
    returns the same arrays bit for bit."""
    args = ([300.0, 500.0], [100.0, 200.0], [0.0, 0.0], [0.0, 0.0])
    first = co_optimize_day(*args, [150.0, 150.0], 0.0)
    np.testing.assert_allclose(first.dispatch_mw, [[100.0, 50.0]] * 2)
    np.testing.assert_allclose(first.energy_price_cny_per_mwh, [500.0, 500.0])
    other = co_optimize_day(*args, [80.0, 80.0], 0.0)
    np.testing.assert_allclose(other.energy_price_cny_per_mwh, [300.0, 300.0])
    again = co_optimize_day(*args, [150.0, 150.0], 0.0)
    for field in (
        "dispatch_mw",
        "reserve_mw",
        "shadow_energy_price_cny_per_mwh",
        "reserve_price_cny_per_mw",
    ):
        assert np.array_equal(getattr(again, field), getattr(first, field))


@pytest.mark.parametrize(("n_t", "n"), [(1, 1), (3, 2), (24, 5)])
def test_day_matrix_is_the_block_construction(n_t, n):
    """The column-wise matrix built without scipy is, entry for entry and in HiGHS's
    order, ``vstack([A_ub, A_eq], format="csc")`` of the block construction
    A_ub = [[0, −I_T ⊗ 1ᵀ_n], [I_m, I_m]], A_eq = [I_T ⊗ 1ᵀ_n, 0] (m = T·n)."""
    import scipy.sparse as sp

    from markets.reserve_day import _day_matrix

    m = n_t * n
    ones = sp.kron(sp.eye(n_t), np.ones((1, n)))
    a_ub = sp.vstack(
        [sp.hstack([sp.csr_matrix((n_t, m)), -ones]), sp.hstack([sp.eye(m), sp.eye(m)])]
    )
    a_eq = sp.hstack([ones, sp.csr_matrix((n_t, m))])
    ref = sp.vstack([a_ub, a_eq], format="csc")
    ref.eliminate_zeros()
    ref.sort_indices()
    start, index, value = _day_matrix(n_t, n)
    assert ref.shape == (2 * n_t + m, 2 * m)
    np.testing.assert_array_equal(start, ref.indptr)
    np.testing.assert_array_equal(index, ref.indices)
    np.testing.assert_array_equal(value, ref.data)
    assert start.dtype == index.dtype == np.int32 and value.dtype == np.float64
