"""Tests for markets.reserve (energy/reserve co-optimisation and sequential clearing)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from markets.reserve import ReserveResult, co_optimize, sequential

# Module-docstring example: A cheap but the only large reserve provider, B ramp-limited.
OPPORTUNITY = {
    "energy_cost_cny_per_mwh": [20.0, 50.0],
    "capacity_mw": [100.0, 120.0],
    "reserve_cap_mw": [100.0, 20.0],
    "reserve_cost_cny_per_mw": [0.0, 0.0],
    "demand_mw": 150.0,
    "requirement_mw": 50.0,
}


def test_reserve_price_equals_energy_opportunity_cost():
    """B holds at most 20 MW reserve, so A holds 30 and produces 70; B produces 80.
    Cost 20*70 + 50*80 = 5400. Energy price = B's 50 (B unconstrained). One more MW of
    reserve moves 1 MW of energy from A (20) to B (50): reserve price 50 - 20 = 30.
    """
    res = co_optimize(**OPPORTUNITY)
    np.testing.assert_allclose(res.dispatch_mw, [70.0, 80.0], atol=1e-7)
    np.testing.assert_allclose(res.reserve_mw, [30.0, 20.0], atol=1e-7)
    assert res.energy_price == pytest.approx(50.0)
    assert res.reserve_price == pytest.approx(30.0)
    assert res.energy_price_cny_per_mwh == res.energy_price
    assert res.cost_cny == pytest.approx(5400.0)
    assert res.reserve_cost_cny == 0.0
    assert res.status == "optimal"


def test_dual_signs_match_finite_differences():
    """Raising D by 1 MW adds 50 CNY and raising R by 1 MW adds 30 CNY (the example
    is non-degenerate, so the duals are the one-sided derivatives of the cost)."""
    base = co_optimize(**OPPORTUNITY)
    more_d = co_optimize(**{**OPPORTUNITY, "demand_mw": 151.0})
    more_r = co_optimize(**{**OPPORTUNITY, "requirement_mw": 51.0})
    assert more_d.cost_cny - base.cost_cny == pytest.approx(base.energy_price)
    assert more_r.cost_cny - base.cost_cny == pytest.approx(base.reserve_price)


def test_interval_length_scales_energy_cost_not_the_energy_price():
    """interval_h = 0.25: cost 5400 * 0.25 = 1350; energy price still 50 CNY/MWh;
    the reserve price per MW for the interval is 30 * 0.25 = 7.5 (the displaced
    energy is 1 MW for a quarter hour)."""
    res = co_optimize(**OPPORTUNITY, interval_h=0.25)
    assert res.cost_cny == pytest.approx(1350.0)
    assert res.energy_price == pytest.approx(50.0)
    assert res.reserve_price == pytest.approx(7.5)


def test_sequential_reports_shortfall_where_co_optimisation_succeeds():
    """Merit order: A 100, B 50. Headroom: A 0, B min(70, 20) = 20 < 50 -> 30 MW short."""
    res = sequential(**OPPORTUNITY)
    np.testing.assert_allclose(res.dispatch_mw, [100.0, 50.0])
    np.testing.assert_allclose(res.reserve_mw, [0.0, 20.0])
    assert res.status == "reserve_shortfall"
    assert res.reserve_shortfall_mw == pytest.approx(30.0)
    assert math.isnan(res.reserve_price)
    assert res.energy_price == 50.0


NO_OPPORTUNITY = {
    "energy_cost_cny_per_mwh": [20.0, 50.0],
    "capacity_mw": [100.0, 100.0],
    "reserve_cap_mw": [100.0, 50.0],
    "reserve_cost_cny_per_mw": [2.0, 5.0],
    "demand_mw": 80.0,
    "requirement_mw": 30.0,
}


def test_reserve_priced_at_marginal_offer_without_opportunity_cost():
    """A produces 80, keeps 20 MW headroom as reserve at 2; B adds 10 MW at 5.
    Cost 20*80 + 2*20 + 5*10 = 1690. Reserve price = B's offer 5 (B idle, no
    opportunity cost). Energy price: 1 more MW from A frees 1 MW of A's reserve that
    B replaces: 20 + 5 - 2 = 23 < 50 (B's energy), so 23 CNY/MWh.
    """
    res = co_optimize(**NO_OPPORTUNITY)
    np.testing.assert_allclose(res.dispatch_mw, [80.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(res.reserve_mw, [20.0, 10.0], atol=1e-7)
    assert res.reserve_price == pytest.approx(5.0)
    assert res.energy_price == pytest.approx(23.0)
    assert res.cost_cny == pytest.approx(1690.0)


def test_sequential_matches_when_no_reserve_displaces_energy():
    """Sequential: energy A 80; reserve by cost A 20 @2, B 10 @5 -> same dispatch and
    cost 1690; its prices are the marginal offers: energy 20, reserve 5."""
    res = sequential(**NO_OPPORTUNITY)
    np.testing.assert_allclose(res.dispatch_mw, [80.0, 0.0])
    np.testing.assert_allclose(res.reserve_mw, [20.0, 10.0])
    assert res.cost_cny == pytest.approx(1690.0)
    assert (res.energy_price, res.reserve_price) == (20.0, 5.0)
    assert res.status == "cleared"
    assert res.reserve_shortfall_mw == 0.0


def test_co_optimisation_cheaper_than_sequential_hand_example():
    """A 20 CNY/MWh cap 100; B 25 cap 100 reserve cap 10; C 60 cap 50 reserve at 40;
    A, B reserve free. D = 100, R = 40.
    Sequential: energy A 100; reserve B 10 (free) + C 30 @ 40 = 1200; total 2000 + 1200
    = 3200; reserve price 40.
    Co-optimised: B holds 10, A holds 30 by shifting 30 MW of energy to B at 25 - 20 = 5
    each: g = (70, 30, 0), r = (30, 10, 0); cost 1400 + 750 = 2150; energy price 25,
    reserve price 5.
    """
    case = {
        "energy_cost_cny_per_mwh": [20.0, 25.0, 60.0],
        "capacity_mw": [100.0, 100.0, 50.0],
        "reserve_cap_mw": [100.0, 10.0, 50.0],
        "reserve_cost_cny_per_mw": [0.0, 0.0, 40.0],
        "demand_mw": 100.0,
        "requirement_mw": 40.0,
    }
    seq = sequential(**case)
    np.testing.assert_allclose(seq.reserve_mw, [0.0, 10.0, 30.0])
    assert seq.cost_cny == pytest.approx(3200.0)
    assert seq.reserve_price == 40.0
    co = co_optimize(**case)
    np.testing.assert_allclose(co.dispatch_mw, [70.0, 30.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(co.reserve_mw, [30.0, 10.0, 0.0], atol=1e-7)
    assert co.cost_cny == pytest.approx(2150.0)
    assert co.energy_price == pytest.approx(25.0)
    assert co.reserve_price == pytest.approx(5.0)


def test_zero_requirement_sequential_prices():
    """R = 0: no reserve, reserve price 0. D = 0: energy price is the cheapest offer
    with capacity (plant 1 has none)."""
    res = sequential([10.0, 5.0, 30.0], [50.0, 0.0, 50.0], [10.0, 10.0, 10.0], [1.0] * 3, 0.0, 0.0)
    assert res.reserve_price == 0.0
    assert res.energy_price == 10.0
    assert res.cost_cny == 0.0


# ---------------------------------------------------------------- infeasible / bad inputs


@pytest.mark.parametrize("func", [co_optimize, sequential])
@pytest.mark.parametrize(
    ("case", "pattern"),
    [
        # sum cap 200 < D + R = 150 + 80 = 230
        (([20, 50], [100, 100], [100, 100], [0, 0], 150.0, 80.0), "infeasible: requirement_mw"),
        (([20, 50], [100, 100], [100, 100], [0, 0], 250.0, 0.0), "infeasible: demand_mw 250"),
        # reserve caps: at most 10 + 10 = 20 < 30 although capacity suffices
        (([20, 50], [100, 100], [10, 10], [0, 0], 50.0, 30.0), r"infeasible: .*\(20.0 MW"),
    ],
)
def test_infeasible_instances_raise(func, case, pattern):
    with pytest.raises(ValueError, match=pattern):
        func(*case)


@pytest.mark.parametrize("func", [co_optimize, sequential])
@pytest.mark.parametrize(
    ("case", "kwargs", "pattern"),
    [
        (([20, 50], [100], [10, 10], [0, 0], 50.0, 10.0), {}, "capacity_mw has 1 plants"),
        (([20, np.nan], [100, 100], [10, 10], [0, 0], 50.0, 10.0), {}, "energy_cost.*NaN"),
        (([20, 50], [100, -1], [10, 10], [0, 0], 50.0, 10.0), {}, "capacity_mw must be >= 0"),
        (([20, 50], [100, 100], [10, -1], [0, 0], 50.0, 10.0), {}, "reserve_cap_mw must be >= 0"),
        (([20, 50], [100, 100], [10, 10], [0, np.inf], 50.0, 10.0), {}, "reserve_cost.*NaN"),
        (([20, 50], [100, 100], [10, 10], [0, 0], -5.0, 10.0), {}, "demand_mw must be finite"),
        (([20, 50], [100, 100], [10, 10], [0, 0], 50.0, np.nan), {}, "requirement_mw must be"),
        (([20, 50], [100, 100], [10, 10], [0, 0], 50.0, 1.0), {"interval_h": 0.0}, "interval_h"),
        (([[20, 50]], [100, 100], [10, 10], [0, 0], 50.0, 1.0), {}, "energy_cost.*1-D"),
        (([], [], [], [], 0.0, 0.0), {}, "non-empty 1-D"),
    ],
)
def test_bad_inputs_raise(func, case, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        func(*case, **kwargs)


# ---------------------------------------------------------------- properties


@st.composite
def instances(draw):
    n = draw(st.integers(1, 5))
    vec = lambda lo, hi: [draw(st.floats(lo, hi)) for _ in range(n)]  # noqa: E731
    c_e, cap, rcap, c_r = vec(0, 100), vec(0, 100), vec(0, 100), vec(0, 20)
    cap_a, rcap_a = np.array(cap), np.array(rcap)
    d = draw(st.floats(0, 1)) * cap_a.sum()
    max_r = min(np.minimum(rcap_a, cap_a).sum(), cap_a.sum() - d)
    r = draw(st.floats(0, 1)) * max(max_r, 0.0)
    return c_e, cap, rcap, c_r, d, r


def assert_feasible(res: ReserveResult, case, tol: float = 1e-6) -> None:
    c_e, cap, rcap, c_r, d, r = (np.asarray(x, dtype=float) for x in case)
    g, rr = res.dispatch_mw, res.reserve_mw
    assert np.all(g >= -tol) and np.all(rr >= -tol)
    assert np.all(g + rr <= cap + tol)
    assert np.all(rr <= rcap + tol)
    assert g.sum() == pytest.approx(d, abs=tol)
    assert rr.sum() >= r - res.reserve_shortfall_mw - tol
    assert res.energy_cost_cny == pytest.approx(float(c_e @ g), abs=tol)
    assert res.reserve_cost_cny == pytest.approx(float(c_r @ rr), abs=tol)
    assert res.cost_cny == pytest.approx(res.energy_cost_cny + res.reserve_cost_cny)


# HiGHS accepts a basis as optimal once every reduced cost is >= -1e-7 (its default dual
# feasibility tolerance), so its cost may exceed the true optimum by up to about 1e-7 CNY
# per MW dispatched or held: cost differences below that are not resolved by the solver.
HIGHS_DUAL_TOL = 1e-7


@settings(max_examples=60, deadline=None, database=None)
@given(instances())
@example(
    case=([0.0, 0.0, 0.0], [1.0, 0.0, 17.0], [1.0, 0.0, 17.0], [0.0, 0.0, 2.0**-24], 0.0, 0.5625)
)
def test_co_optimised_is_feasible_and_no_costlier_than_sequential(case):
    """Co-optimisation is never costlier than merit-order clearing, up to the LP tolerance.

    Regression (found with 3,000 examples): reserve offers 0 and 2**-24 = 6e-8 CNY/MW, below
    HiGHS' dual tolerance, so HiGHS may put all 17 MW of reserve on the 6e-8 CNY/MW plant
    (cost 1.01e-6 CNY) where sequential clearing pays 0.
    """
    co = co_optimize(*case)
    seq = sequential(*case)
    assert_feasible(co, case)
    assert co.reserve_shortfall_mw == 0.0
    assert co.reserve_price >= -1e-7
    assert_feasible(seq, case)
    if seq.status == "cleared":
        # sum(g + r) <= sum(cap); twice that for HiGHS' internal scaling of the costs.
        solver_tol = 2.0 * HIGHS_DUAL_TOL * float(np.sum(case[1]))
        assert co.cost_cny <= seq.cost_cny + 1e-6 * max(1.0, seq.cost_cny) + solver_tol
        assert seq.reserve_mw.sum() >= case[5] - 1e-6
    else:
        assert seq.status == "reserve_shortfall"
        assert seq.reserve_shortfall_mw > 0
        assert seq.reserve_shortfall_mw == pytest.approx(case[5] - seq.reserve_mw.sum())
        assert math.isnan(seq.reserve_price)


@settings(max_examples=60, deadline=None, database=None)
@given(instances(), st.sampled_from([1.0, 0.25]))
def test_prices_are_optimal_lp_duals(case, interval_h):
    """Strong duality with the reported prices (lambda = energy price * h, mu = reserve
    price). The dual LP is max lambda*D + mu*R - sum sigma*cap - sum rho*rcap subject to
    sigma >= lambda - c_e*h, rho >= mu - c_r - sigma, sigma, rho, mu >= 0; for fixed
    (lambda, mu) the best choice is sigma = max(0, lambda - c_e*h) and
    rho = max(0, mu - c_r - sigma) (raising sigma to lower rho never pays since
    rcap <= cap). Its value must equal the optimal cost; a wrong dual sign breaks it.
    """
    c_e, cap, rcap, c_r, d, r = (np.asarray(x, dtype=float) for x in case)
    co = co_optimize(*case, interval_h=interval_h)
    lam, mu = co.energy_price * interval_h, co.reserve_price
    assert mu >= -1e-7
    sigma = np.maximum(0.0, lam - c_e * interval_h)
    rho = np.maximum(0.0, mu - c_r - sigma)
    dual = lam * d + mu * r - sigma @ cap - rho @ np.minimum(rcap, cap)
    assert dual == pytest.approx(co.cost_cny, rel=1e-6, abs=1e-4)
