import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from markets.allocation import allocate
from markets.settlement import agency_settle


def test_hand_example():
    """E = [100, 200, 300] kWh, x = [40, 70, 90] CNY (F1 = 200), f2 = 0.5, α = 0.2.

    Pre = [50, 100, 150] (Σ 300); gross benefit = [10, 30, 60] (Σ 100);
    R = 0.8·gross = [8, 24, 48]; bill = Pre − R = [42, 76, 102]; agent keeps 0.2·100 = 20;
    300 = 200 + 20 + 80. Prices = [0.42, 0.38, 0.34] CNY/kWh.
    """
    s = agency_settle([100.0, 200.0, 300.0], [40.0, 70.0, 90.0], 0.5, 0.2)
    np.testing.assert_allclose(s.prepay_cny, [50.0, 100.0, 150.0])
    np.testing.assert_allclose(s.gross_benefit_cny, [10.0, 30.0, 60.0])
    np.testing.assert_allclose(s.benefit_cny, [8.0, 24.0, 48.0])
    np.testing.assert_allclose(s.refund_cny, [8.0, 24.0, 48.0])
    np.testing.assert_allclose(s.bill_cny, [42.0, 76.0, 102.0])
    np.testing.assert_allclose(s.settled_price_cny_per_kwh, [0.42, 0.38, 0.34])
    assert s.agent_profit_cny == pytest.approx(20.0)
    assert s.actual_cost_cny == pytest.approx(200.0)
    assert s.prepay_cny.sum() == pytest.approx(
        s.actual_cost_cny + s.agent_profit_cny + s.refund_cny.sum()
    )


def test_individual_cap_two_users():
    """E = [100, 100], x = [70, 30], f2 = 0.6, α = 0.5: Pre = [60, 60], Σ Pre = 120 ≥ F1 = 100.

    User 1 exceeds its prepayment by 10; user 2's headroom is 30 → x' = [60, 30 + 10] = [60, 40].
    Gross = [0, 20], R = [0, 10], bill = [60, 50], agent 10; 120 = 100 + 10 + 10.
    """
    s = agency_settle([100.0, 100.0], [70.0, 30.0], 0.6, 0.5)
    np.testing.assert_allclose(s.adjusted_cost_cny, [60.0, 40.0])
    np.testing.assert_allclose(s.refund_cny, [0.0, 10.0])
    np.testing.assert_allclose(s.bill_cny, [60.0, 50.0])
    assert s.agent_profit_cny == pytest.approx(10.0)
    assert np.all(s.bill_cny <= s.prepay_cny)


def test_individual_cap_redistributes_by_headroom():
    """E = 100 each, x = [80, 20, 40], f2 = 0.6: Pre = 60 each, excess 20, headroom [0, 40, 20].

    x' = [60, 20 + 20·40/60, 40 + 20·20/60] = [60, 33.333, 46.667]; Σ x' = 140 = F1.
    """
    s = agency_settle([100.0, 100.0, 100.0], [80.0, 20.0, 40.0], 0.6, 0.0)
    np.testing.assert_allclose(s.adjusted_cost_cny, [60.0, 20.0 + 40.0 / 3.0, 40.0 + 20.0 / 3.0])
    assert s.adjusted_cost_cny.sum() == pytest.approx(140.0)
    np.testing.assert_allclose(s.bill_cny, s.adjusted_cost_cny)  # α = 0: agent keeps nothing


def test_alpha_extremes():
    """α = 1: no refunds, bills = prepayments, agent keeps Σ Pre − F1 = 100.
    α = 0: agent keeps 0, bills = allocated costs."""
    energy, cost = [100.0, 200.0, 300.0], [40.0, 70.0, 90.0]
    full = agency_settle(energy, cost, 0.5, 1.0)
    np.testing.assert_allclose(full.refund_cny, 0.0)
    np.testing.assert_allclose(full.bill_cny, full.prepay_cny)
    assert full.agent_profit_cny == pytest.approx(100.0)
    none = agency_settle(energy, cost, 0.5, 0.0)
    assert none.agent_profit_cny == 0.0
    np.testing.assert_allclose(none.bill_cny, cost)


def test_f2_equal_to_average_cost_gives_no_benefit():
    """F1 = 0.1 + 0.2 = 0.3 CNY over 1 kWh: f2 = 0.3 is accepted despite rounding, benefit 0."""
    s = agency_settle([0.5, 0.5], [0.1, 0.2], 0.3, 0.3)
    np.testing.assert_allclose(s.refund_cny, 0.0, atol=1e-12)
    assert s.agent_profit_cny == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(s.bill_cny, s.prepay_cny)


def test_zero_energy_member():
    """A member with E = 0 prepays 0, so any cost allocated to it moves to the others and its
    price is NaN (undefined). E = [0, 100], x = [5, 20], f2 = 1 → x' = [0, 25], bill = [0, …]."""
    s = agency_settle([0.0, 100.0], [5.0, 20.0], 1.0, 0.5)
    np.testing.assert_allclose(s.adjusted_cost_cny, [0.0, 25.0])
    assert s.bill_cny[0] == 0.0
    assert np.isnan(s.settled_price_cny_per_kwh[0])
    assert s.settled_price_cny_per_kwh[1] == pytest.approx((100.0 - 0.5 * 75.0) / 100.0)


def test_works_with_allocation():
    """End to end: two users, a = 10, b = 1 (F1 = 38, E = [3, 5]); f2 = 6 ≥ 38/8 = 4.75."""
    loads = np.array([[2.0, 1.0, 0.0], [0.0, 2.0, 3.0]])
    x = allocate(loads, 10.0, 1.0, "coincident_peak")
    s = agency_settle(loads.sum(axis=1), x, 6.0, 0.25)
    assert s.actual_cost_cny == pytest.approx(38.0)
    assert s.prepay_cny.sum() == pytest.approx(38.0 + s.agent_profit_cny + s.refund_cny.sum())
    assert s.agent_profit_cny == pytest.approx(0.25 * (48.0 - 38.0))


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 8).flatmap(
        lambda n: st.tuples(
            arrays(np.float64, n, elements=st.floats(0.0, 1e4)),
            arrays(np.float64, n, elements=st.floats(0.0, 1e4)),
        )
    ),
    margin=st.floats(0.0, 2.0),
    alpha=st.floats(0.0, 1.0),
)
def test_money_conservation_and_ceiling(n, margin, alpha):
    energy, cost = n
    if energy.sum() <= 1e-3:
        return
    f2 = cost.sum() / energy.sum() * (1.0 + margin)
    s = agency_settle(energy, cost, f2, alpha)
    scale = 1e-9 * max(1.0, s.prepay_cny.sum())
    assert s.prepay_cny.sum() == pytest.approx(
        s.actual_cost_cny + s.agent_profit_cny + s.refund_cny.sum(), abs=scale
    )
    assert s.adjusted_cost_cny.sum() == pytest.approx(cost.sum(), abs=scale)
    assert np.all(s.bill_cny <= f2 * energy + scale)
    assert np.all(s.refund_cny >= 0.0)
    assert np.all(s.bill_cny >= s.adjusted_cost_cny - scale)
    assert s.agent_profit_cny == pytest.approx(alpha * (s.prepay_cny.sum() - cost.sum()), abs=scale)


def test_result_is_frozen():
    s = agency_settle([1.0], [0.5], 1.0, 0.1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.agent_profit_cny = 0.0  # type: ignore[misc]


def test_f2_below_average_cost():
    """F1 = 200 over 600 kWh is 0.333 CNY/kWh; f2 = 0.3 cannot cover it."""
    with pytest.raises(ValueError, match="f2_cny_per_kwh"):
        agency_settle([100.0, 200.0, 300.0], [40.0, 70.0, 90.0], 0.3, 0.2)
    with pytest.raises(ValueError, match="f2_cny_per_kwh"):
        agency_settle([0.0], [1.0], 1.0, 0.2)


@pytest.mark.parametrize("alpha", [-0.1, 1.1, np.nan])
def test_bad_alpha(alpha):
    with pytest.raises(ValueError, match="alpha"):
        agency_settle([1.0], [0.5], 1.0, alpha)


@pytest.mark.parametrize(
    ("energy", "cost", "f2", "match"),
    [
        ([-1.0, 2.0], [0.5, 0.5], 1.0, "energy_kwh"),
        ([np.nan, 2.0], [0.5, 0.5], 1.0, "energy_kwh"),
        ([1.0, 2.0], [0.5, np.nan], 1.0, "allocated_cost_cny"),
        ([1.0, 2.0], [0.5, -0.5], 1.0, "allocated_cost_cny"),
        ([1.0, 2.0], [0.5], 1.0, "shape"),
        ([[1.0, 2.0]], [[0.5, 0.5]], 1.0, "1-D"),
        ([1.0], [0.5], np.nan, "f2_cny_per_kwh"),
        ([1.0], [0.0], -1.0, "f2_cny_per_kwh"),
    ],
)
def test_bad_inputs(energy, cost, f2, match):
    with pytest.raises(ValueError, match=match):
        agency_settle(energy, cost, f2, 0.1)
