"""Tests for markets.real_time (imbalance settlement and imbalance prices)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from markets.real_time import ImbalancePrices, imbalance_prices, settle

# Hand example used by several tests: 3 participants x 2 intervals.
SCHEDULED = np.array([[100.0, 100.0], [50.0, 50.0], [0.0, 0.0]])
METERED = np.array([[110.0, 90.0], [45.0, 50.0], [-5.0, 3.0]])
# imbalance = metered - scheduled = [[+10, -10], [-5, 0], [-5, +3]]
# system imbalance = [0, -7]
PRICES = ImbalancePrices(up_cny_per_kwh=[0.8, 0.6], down_cny_per_kwh=[0.3, 0.2])


def test_dual_pricing_hand_example():
    """Short pays up, long receives down.

    P1: +10 * 0.8 = 8.0 ; -10 * 0.2 = -2.0  -> 6.0
    P2: -5 * 0.3 = -1.5 ; 0              -> -1.5
    P3: -5 * 0.3 = -1.5 ; +3 * 0.6 = 1.8  -> 0.3
    total 4.8; per interval 5.0 and -0.2.
    """
    res = settle(SCHEDULED, METERED, PRICES, "dual")
    np.testing.assert_allclose(res.imbalance_kwh, [[10, -10], [-5, 0], [-5, 3]])
    np.testing.assert_allclose(res.system_imbalance_kwh, [0, -7])
    np.testing.assert_allclose(res.charges_cny, [[8.0, -2.0], [-1.5, 0.0], [-1.5, 1.8]])
    np.testing.assert_allclose(res.charges_by_participant_cny, [6.0, -1.5, 0.3])
    np.testing.assert_allclose(res.charges_by_interval_cny, [5.0, -0.2])
    assert res.total_cny == pytest.approx(4.8)
    assert res.mode == "dual"


def test_single_pricing_derived_from_system_direction():
    """Interval 0 balanced (system 0) -> single = (0.8 + 0.3) / 2 = 0.55;
    interval 1 long (system -7) -> single = down = 0.2.

    t0: 10*0.55 = 5.5, -5*0.55 = -2.75, -2.75 (sum 0 = 0.55 * 0)
    t1: -10*0.2 = -2.0, 0, 3*0.2 = 0.6     (sum -1.4 = 0.2 * -7)
    per participant 3.5, -2.75, -2.15; total -1.4.
    """
    res = settle(SCHEDULED, METERED, PRICES, "single")
    np.testing.assert_allclose(res.price_cny_per_kwh, [[0.55, 0.2]] * 3)
    np.testing.assert_allclose(res.charges_cny, [[5.5, -2.0], [-2.75, 0.0], [-2.75, 0.6]])
    np.testing.assert_allclose(res.charges_by_participant_cny, [3.5, -2.75, -2.15])
    assert res.total_cny == pytest.approx(-1.4)


def test_single_pricing_with_explicit_price():
    """single = [0.5, 0.4]: t0 charges 5, -2.5, -2.5; t1 -4, 0, 1.2; total -2.8 = 0.4 * -7."""
    prices = ImbalancePrices([0.8, 0.6], [0.3, 0.2], single_cny_per_kwh=[0.5, 0.4])
    res = settle(SCHEDULED, METERED, prices, "single")
    np.testing.assert_allclose(res.charges_cny, [[5.0, -4.0], [-2.5, 0.0], [-2.5, 1.2]])
    assert res.total_cny == pytest.approx(-2.8)


def test_system_short_single_price_is_up_price():
    """Two consumers each 5 kWh over schedule: system +10 (short) -> single = up = 0.8;
    each pays 5 * 0.8 = 4 CNY."""
    res = settle(np.zeros((2, 1)), np.full((2, 1), 5.0), ImbalancePrices([0.8], [0.3]), "single")
    np.testing.assert_allclose(res.charges_cny, [[4.0], [4.0]])


def test_generator_sign_convention():
    """A generator scheduled to export 100 kWh (net consumption -100) that exports only
    90 (metered -90) has imbalance -90 - (-100) = +10: short, pays 10 * up 0.8 = 8 CNY.
    One exporting 110 (metered -110) is long by 10 and receives 10 * down 0.3 = 3 CNY.
    """
    res = settle([[-100.0], [-100.0]], [[-90.0], [-110.0]], ImbalancePrices([0.8], [0.3]), "dual")
    np.testing.assert_allclose(res.imbalance_kwh, [[10.0], [-10.0]])
    np.testing.assert_allclose(res.charges_cny, [[8.0], [-3.0]])


def test_dataframe_inputs_are_accepted():
    sched = pd.DataFrame(SCHEDULED, columns=["t0", "t1"])
    met = pd.DataFrame(METERED, columns=["t0", "t1"])
    res = settle(sched, met, PRICES, "dual")
    assert res.total_cny == pytest.approx(4.8)


def test_imbalance_price_model_hand_example():
    """DA [0.4, 0.5, 0.6], system [+100 (short), -50 (long), 0], up premium 0.2,
    down premium [0.1, 0.15, 0.1]:
    up     = [0.4+0.2, 0.5, 0.6]       = [0.6, 0.5, 0.6]
    down   = [0.4, 0.5-0.15, 0.6]      = [0.4, 0.35, 0.6]
    single = [up, down, DA]            = [0.6, 0.35, 0.6]
    """
    p = imbalance_prices([0.4, 0.5, 0.6], [100.0, -50.0, 0.0], 0.2, [0.1, 0.15, 0.1])
    np.testing.assert_allclose(p.up_cny_per_kwh, [0.6, 0.5, 0.6])
    np.testing.assert_allclose(p.down_cny_per_kwh, [0.4, 0.35, 0.6])
    np.testing.assert_allclose(p.single_cny_per_kwh, [0.6, 0.35, 0.6])


def test_model_prices_in_dual_settlement_penalise_only_the_aggravating_side():
    """DA 0.5, premia 0.2/0.1. System short (+5): the short participant (+10) pays
    10 * 0.7 = 7, the long one (-5) receives 5 * DA 0.5 = 2.5."""
    p = imbalance_prices([0.5], [5.0], 0.2, 0.1)
    res = settle([[0.0], [0.0]], [[10.0], [-5.0]], p, "dual")
    np.testing.assert_allclose(res.charges_cny, [[7.0], [-2.5]])


def test_price_arrays_are_read_only():
    with pytest.raises(ValueError, match="read-only"):
        PRICES.up_cny_per_kwh[0] = 1.0


# ---------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("scheduled", "metered", "pattern"),
    [
        (np.zeros((3, 2)), np.zeros((2, 2)), r"scheduled_kwh shape \(3, 2\) differs"),
        (np.zeros(2), np.zeros(2), "scheduled_kwh must be 2-D"),
        (np.zeros((3, 2)), np.zeros((3, 3)), "differs from metered_kwh"),
        (np.zeros((3, 3)), np.zeros((3, 3)), "prices cover 2 intervals"),
        ([[np.nan, 0.0]], [[0.0, 0.0]], "scheduled_kwh holds NaN"),
        ([[0.0, 0.0]], [[0.0, np.inf]], "metered_kwh holds NaN or infinite"),
        ([["a", 0.0]], [[0.0, 0.0]], "scheduled_kwh must be numeric"),
    ],
)
def test_settle_rejects_bad_energy_inputs(scheduled, metered, pattern):
    with pytest.raises(ValueError, match=pattern):
        settle(scheduled, metered, PRICES, "dual")


def test_settle_rejects_unknown_mode():
    with pytest.raises(ValueError, match="mode must be one of"):
        settle(SCHEDULED, METERED, PRICES, "triple")  # type: ignore[arg-type]


def test_settle_rejects_non_price_object():
    with pytest.raises(ValueError, match="prices must be an ImbalancePrices"):
        settle(SCHEDULED, METERED, {"up": [0.8, 0.6]}, "dual")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"up_cny_per_kwh": [0.1, np.nan], "down_cny_per_kwh": [0.1, 0.1]}, "up_cny_per_kwh holds"),
        ({"up_cny_per_kwh": [0.1, 0.1], "down_cny_per_kwh": [0.1]}, "down_cny_per_kwh has 1"),
        (
            {"up_cny_per_kwh": [0.1], "down_cny_per_kwh": [0.1], "single_cny_per_kwh": [np.nan]},
            "single_cny_per_kwh holds NaN",
        ),
        ({"up_cny_per_kwh": [[0.1]], "down_cny_per_kwh": [0.1]}, "up_cny_per_kwh must be 1-D"),
    ],
)
def test_imbalance_prices_container_validates(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        ImbalancePrices(**kwargs)


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        (([0.5, 0.5], [1.0], 0.1, 0.1), "system_imbalance_kwh has 1 intervals, expected 2"),
        (([0.5], [1.0], -0.1, 0.1), "up_premium_cny_per_kwh must be non-negative"),
        (([0.5], [1.0], 0.1, [0.1, 0.2]), "down_premium_cny_per_kwh has 2 intervals"),
        (([np.nan], [1.0], 0.1, 0.1), "da_price_cny_per_kwh holds NaN"),
        (([0.5], [np.nan], 0.1, 0.1), "system_imbalance_kwh holds NaN"),
        (([0.5], [1.0], np.nan, 0.1), "up_premium_cny_per_kwh holds NaN"),
    ],
)
def test_imbalance_price_model_validates(args, pattern):
    with pytest.raises(ValueError, match=pattern):
        imbalance_prices(*args)


# ---------------------------------------------------------------- properties

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
price = st.floats(-1.0, 5.0, allow_nan=False, allow_infinity=False)


@st.composite
def cases(draw):
    n_p = draw(st.integers(1, 6))
    n_t = draw(st.integers(1, 8))
    sched = draw(hnp.arrays(np.float64, (n_p, n_t), elements=finite))
    meter = draw(hnp.arrays(np.float64, (n_p, n_t), elements=finite))
    up = draw(hnp.arrays(np.float64, n_t, elements=price))
    gap = draw(hnp.arrays(np.float64, n_t, elements=st.floats(0.0, 2.0)))
    return sched, meter, up, up - gap  # down <= up


@settings(max_examples=60, deadline=None, database=None)
@given(cases(), st.booleans())
def test_single_pricing_charges_sum_to_price_times_net_system_imbalance(case, explicit):
    sched, meter, up, down = case
    single = 0.5 * (up + down) if explicit else None
    prices = ImbalancePrices(up, down, single_cny_per_kwh=single)
    res = settle(sched, meter, prices, "single")
    system = (meter - sched).sum(axis=0)
    applied = res.price_cny_per_kwh[0]
    np.testing.assert_allclose(res.price_cny_per_kwh, np.broadcast_to(applied, sched.shape))
    if explicit:
        np.testing.assert_allclose(applied, single)
    else:
        np.testing.assert_allclose(
            applied, np.where(system > 0, up, np.where(system < 0, down, 0.5 * (up + down)))
        )
    np.testing.assert_allclose(res.charges_by_interval_cny, applied * system, rtol=1e-9, atol=1e-6)
    assert res.total_cny == pytest.approx(float(applied @ system), rel=1e-9, abs=1e-6)


@settings(max_examples=60, deadline=None, database=None)
@given(cases())
def test_dual_charges_dominate_any_single_price_between_down_and_up(case):
    """With down <= up, max(e*up, e*down) >= e*p for every p in [down, up]."""
    sched, meter, up, down = case
    prices = ImbalancePrices(up, down)
    dual = settle(sched, meter, prices, "dual")
    single = settle(sched, meter, prices, "single")
    assert np.all(dual.charges_cny >= single.charges_cny - 1e-9)
    np.testing.assert_allclose(
        dual.charges_by_participant_cny, dual.charges_cny.sum(axis=1), rtol=1e-12
    )
    short = dual.imbalance_kwh > 0
    assert np.all(dual.price_cny_per_kwh[short] == np.broadcast_to(up, sched.shape)[short])
    assert np.all(dual.price_cny_per_kwh[~short] == np.broadcast_to(down, sched.shape)[~short])


@settings(max_examples=60, deadline=None, database=None)
@given(cases(), st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.sampled_from(["single", "dual"]))
def test_model_prices_never_settle_below_day_ahead_value(case, up_prem, down_prem, mode):
    """With the two-price model, the operator's imbalance revenue per interval is at
    least DA x system imbalance (the premia only ever penalise deviations)."""
    sched, meter, da, _ = case
    system = (meter - sched).sum(axis=0)
    prices = imbalance_prices(da, system, up_prem, down_prem)
    assert np.all(prices.up_cny_per_kwh >= prices.down_cny_per_kwh)
    res = settle(sched, meter, prices, mode)
    assert np.all(res.charges_by_interval_cny >= da * system - 1e-6)
