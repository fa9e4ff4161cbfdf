import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from markets.prepayment_fund import draw_return, step


def test_positive_return_hand_example():
    """Balances [100, 300] + deposits [100, 100] → [200, 400], fund 600.

    Reserve κ·Σ expected = 0.5·200 = 100, invested 500, r = 2 % → return 10.
    Users get ρ·10 = 6 pro rata 200:400 → [2, 4]; operator 4. Bills [50, 100] paid →
    balances [152, 304]. Fund = 600 + 10 − 150 = 460 = 456 + 4.
    """
    r = step([100.0, 300.0], [100.0, 100.0], [50.0, 100.0], 0.02, 0.6, 0.5, [100.0, 100.0])
    assert r.reserve_cny == pytest.approx(100.0)
    assert r.invested_cny == pytest.approx(500.0)
    assert r.investment_return_cny == pytest.approx(10.0)
    np.testing.assert_allclose(r.returns_to_users_cny, [2.0, 4.0])
    assert r.operator_return_cny == pytest.approx(4.0)
    np.testing.assert_allclose(r.balances_cny, [152.0, 304.0])
    np.testing.assert_allclose(r.bills_paid_cny, [50.0, 100.0])
    np.testing.assert_allclose(r.arrears_cny, [0.0, 0.0])
    assert r.operator_profit_cny == pytest.approx(4.0)
    assert r.fund_cny == pytest.approx(460.0)
    assert r.liquidity_ok


def test_loss_absorbed_by_operator_first_then_users():
    """Balances [200, 200], operator profit 20, κ = 0: invested 420, r = −10 % → loss 42.

    Operator absorbs 20 (profit → 0); users lose 22 pro rata → [189, 189]. Fund 378.
    """
    r = step([200.0, 200.0], [0.0, 0.0], [0.0, 0.0], -0.1, 0.6, 0.0, 0.0, operator_profit_cny=20)
    assert r.investment_return_cny == pytest.approx(-42.0)
    assert r.operator_profit_cny == pytest.approx(0.0)
    assert r.operator_return_cny == pytest.approx(-20.0)
    np.testing.assert_allclose(r.returns_to_users_cny, [-11.0, -11.0])
    np.testing.assert_allclose(r.balances_cny, [189.0, 189.0])
    assert r.fund_cny == pytest.approx(378.0)


def test_small_loss_only_hits_operator():
    """Profit 50 is invested too: invested 400 + 50 = 450, r = −10 % → loss 45, absorbed
    entirely by the operator (profit 50 → 5); balances unchanged."""
    r = step([200.0, 200.0], [0.0, 0.0], [0.0, 0.0], -0.1, 0.6, 0.0, 0.0, operator_profit_cny=50)
    np.testing.assert_allclose(r.balances_cny, [200.0, 200.0])
    np.testing.assert_allclose(r.returns_to_users_cny, [0.0, 0.0])
    assert r.operator_profit_cny == pytest.approx(5.0)


def test_total_loss_leaves_no_negative_balance():
    """r = −100 % with κ = 0 wipes out the invested fund: balances and profit go to 0."""
    r = step([10.0, 30.0], [0.0, 0.0], [5.0, 0.0], -1.0, 0.5, 0.0, 0.0, operator_profit_cny=5)
    np.testing.assert_allclose(r.balances_cny, [0.0, 0.0], atol=1e-12)
    assert r.operator_profit_cny == 0.0
    np.testing.assert_allclose(r.arrears_cny, [5.0, 0.0])
    assert r.fund_cny == pytest.approx(0.0, abs=1e-9)


def test_bill_above_balance_becomes_arrears():
    """Balance 30, bill 50, no return: pays 30, arrears 20, balance 0 (never negative)."""
    r = step([30.0], [0.0], [50.0], 0.0, 0.5, 0.0, 0.0)
    np.testing.assert_allclose(r.bills_paid_cny, [30.0])
    np.testing.assert_allclose(r.arrears_cny, [20.0])
    np.testing.assert_allclose(r.balances_cny, [0.0])


def test_liquidity_rule_failure_invests_nothing():
    """Fund 100 < κ·expected = 1.0·150: liquidity not ok, all 100 kept liquid, a 50 % return
    earns nothing."""
    r = step([100.0], [0.0], [0.0], 0.5, 0.5, 1.0, 150.0)
    assert not r.liquidity_ok
    assert r.reserve_cny == pytest.approx(100.0)
    assert r.invested_cny == 0.0
    assert r.investment_return_cny == 0.0
    np.testing.assert_allclose(r.balances_cny, [100.0])


def test_return_with_no_user_balance_goes_to_operator():
    """Empty user balances, operator profit 100, κ = 0, r = 10 %: the whole 10 goes to the
    operator (there is nobody to share ρ with)."""
    r = step([0.0, 0.0], [0.0, 0.0], [0.0, 0.0], 0.1, 0.8, 0.0, 0.0, operator_profit_cny=100)
    np.testing.assert_allclose(r.returns_to_users_cny, [0.0, 0.0])
    assert r.operator_profit_cny == pytest.approx(110.0)


paths = st.integers(1, 5).flatmap(
    lambda n: st.integers(1, 12).flatmap(
        lambda periods: st.tuples(
            arrays(np.float64, n, elements=st.floats(0.0, 1e4)),
            arrays(np.float64, (periods, n), elements=st.floats(0.0, 1e3)),
            arrays(np.float64, (periods, n), elements=st.floats(0.0, 2e3)),
            arrays(np.float64, periods, elements=st.floats(-1.0, 0.5)),
        )
    )
)


@settings(max_examples=60, deadline=None)
@given(path=paths, rho=st.floats(0.0, 1.0), kappa=st.floats(0.0, 3.0))
def test_fund_invariant_over_random_paths(path, rho, kappa):
    """Track the fund independently from its flows and compare with Σ balances + profit."""
    balances, deposits, bills, rates = path
    profit = 0.0
    fund = balances.sum()
    for d, b, r in zip(deposits, bills, rates, strict=True):
        expected = b.sum()
        res = step(balances, d, b, r, rho, kappa, expected, operator_profit_cny=profit)
        fund += d.sum()
        invested = max(fund - kappa * expected, 0.0)
        assert res.invested_cny == pytest.approx(invested, rel=1e-9, abs=1e-6)
        fund += r * invested - res.bills_paid_cny.sum()
        balances, profit = res.balances_cny, res.operator_profit_cny
        tol = 1e-9 * max(1.0, fund)
        assert fund == pytest.approx(balances.sum() + profit, abs=tol)
        assert res.fund_cny == pytest.approx(fund, abs=tol)
        assert np.all(balances >= 0.0)
        assert profit >= 0.0
        np.testing.assert_allclose(res.bills_paid_cny + res.arrears_cny, b)
        assert np.all(res.arrears_cny >= 0.0)
        if res.investment_return_cny > 0:
            assert res.returns_to_users_cny.sum() <= rho * res.investment_return_cny + tol
        if np.any(res.returns_to_users_cny < 0):
            assert profit == pytest.approx(0.0, abs=tol)  # operator absorbed losses first


def test_draw_return_is_seeded_and_clipped():
    """Same seed → same draws; mean −5 with std 0.1 is floored at −1; std 0 returns the mean."""
    a = draw_return(np.random.default_rng(7), 0.01, 0.05, size=5)
    b = draw_return(np.random.default_rng(7), 0.01, 0.05, size=5)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(draw_return(np.random.default_rng(0), -5.0, 0.1, size=4), -1.0)
    assert draw_return(np.random.default_rng(0), 0.003, 0.0) == 0.003
    assert isinstance(draw_return(np.random.default_rng(0), 0.0, 0.1), float)


def test_draw_return_mean():
    """10 000 draws with mean 0.5 %, std 2 %: sample mean within 4·0.02/√10000 = 0.0008."""
    draws = draw_return(np.random.default_rng(1), 0.005, 0.02, size=10_000)
    assert abs(draws.mean() - 0.005) < 0.0008


def test_draw_return_errors():
    with pytest.raises(ValueError, match="rng"):
        draw_return(np.random.RandomState(0), 0.0, 0.1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="std"):
        draw_return(np.random.default_rng(0), 0.0, -0.1)
    with pytest.raises(ValueError, match="mean"):
        draw_return(np.random.default_rng(0), np.nan, 0.1)
    with pytest.raises(ValueError, match="size"):
        draw_return(np.random.default_rng(0), 0.0, 0.1, size=-1)


def test_result_is_frozen():
    r = step([1.0], [0.0], [0.0], 0.0, 0.5, 0.0, 0.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.fund_cny = 0.0  # type: ignore[misc]


GOOD = {
    "balances_cny": [1.0, 2.0],
    "deposits_cny": [0.0, 0.0],
    "bills_cny": [0.0, 0.0],
    "return_rate": 0.01,
    "user_share": 0.5,
    "liquidity_floor": 1.0,
    "expected_bills_cny": [1.0, 1.0],
}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("balances_cny", [-1.0, 2.0]),
        ("balances_cny", [[1.0, 2.0]]),
        ("deposits_cny", [0.0]),
        ("deposits_cny", [np.nan, 0.0]),
        ("bills_cny", [0.0, -3.0]),
        ("return_rate", -1.5),
        ("return_rate", np.inf),
        ("user_share", 1.2),
        ("liquidity_floor", -0.1),
        ("expected_bills_cny", [1.0, 1.0, 1.0]),
        ("expected_bills_cny", -5.0),
        ("expected_bills_cny", [[1.0, 1.0]]),
        ("operator_profit_cny", -1.0),
    ],
)
def test_bad_inputs(key, value):
    with pytest.raises(ValueError, match=key):
        step(**{**GOOD, key: value})
