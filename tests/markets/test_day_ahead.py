"""Tests for markets.day_ahead.clear (uniform-price double auction)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from markets.day_ahead import DayAheadResult, clear

FLOOR = 0.0
CAP = 100.0
COLUMNS = ["product", "side", "price_cny_per_mwh", "quantity_mwh", "bidder"]


def book(rows, index=None) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS, index=index)


# ---------------------------------------------------------------- helpers


def assert_competitive_equilibrium(bids: pd.DataFrame, res: DayAheadResult) -> None:
    """Check the CE conditions of every product (see markets.day_ahead docstring)."""
    acc_all = res.accepted_mwh
    assert acc_all.index.equals(bids.index)
    assert (acc_all >= 0).all()
    assert (acc_all <= bids["quantity_mwh"] + 1e-12).all()
    for product, grp in bids.groupby("product", sort=False):
        p = res.prices[product]
        acc = acc_all.loc[grp.index].to_numpy()
        q = grp["quantity_mwh"].to_numpy()
        price = grp["price_cny_per_mwh"].to_numpy()
        supply = (grp["side"] == "supply").to_numpy()
        scale = max(q.sum(), 1.0)
        atol = 1e-9 * scale
        if res.status[product] == "one_sided":
            assert supply.all() or (~supply).all()
            assert math.isnan(p)
            assert res.volumes[product] == 0
            assert np.all(acc == 0)
            continue
        assert np.isfinite(p)
        assert res.price_lower_cny_per_mwh[product] <= p <= res.price_upper_cny_per_mwh[product]
        accepted = acc > atol
        rejected = acc < q - atol
        partial = accepted & rejected
        assert np.all(price[supply & accepted] <= p)
        assert np.all(price[~supply & accepted] >= p)
        assert np.all(price[supply & rejected] >= p)
        assert np.all(price[~supply & rejected] <= p)
        assert np.all(price[partial] == p)
        vol = res.volumes[product]
        assert math.isclose(acc[supply].sum(), vol, rel_tol=1e-9, abs_tol=atol)
        assert math.isclose(acc[~supply].sum(), vol, rel_tol=1e-9, abs_tol=atol)
        assert (vol > 0) == (res.status[product] == "cleared")
        welfare = (price[~supply] * acc[~supply]).sum() - (price[supply] * acc[supply]).sum()
        assert math.isclose(res.welfare_cny[product], welfare, rel_tol=1e-9, abs_tol=1e-6)


def lp_optimum(bids: pd.DataFrame) -> tuple[float, pd.Series]:
    """Welfare optimum by LP, and the largest volume per product among the optima.

    Variables x_i in [0, q_i]; max sum_demand p x - sum_supply p x subject to
    supply = demand per product. A second LP maximises total volume subject to
    welfare >= optimum - 1e-7.
    """
    supply = (bids["side"] == "supply").to_numpy()
    price = bids["price_cny_per_mwh"].to_numpy(float)
    q = bids["quantity_mwh"].to_numpy(float)
    products = pd.unique(bids["product"])
    a_eq = np.array(
        [np.where(supply, 1.0, -1.0) * (bids["product"] == k).to_numpy() for k in products]
    )
    b_eq = np.zeros(len(products))
    cost = np.where(supply, price, -price)
    bounds = list(zip(np.zeros_like(q), q, strict=True))
    first = linprog(cost, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    assert first.status == 0
    welfare = -first.fun
    second = linprog(
        -supply.astype(float),
        A_ub=cost[None, :],
        b_ub=[-welfare + 1e-7],
        A_eq=a_eq,
        b_eq=b_eq,
        bounds=bounds,
        method="highs",
    )
    assert second.status == 0
    x = second.x
    volumes = pd.Series({k: x[supply & (bids["product"] == k).to_numpy()].sum() for k in products})
    return welfare, volumes


@st.composite
def books(draw, max_bids: int = 24, grid_prices: bool = True) -> pd.DataFrame:
    """Random books over <= 3 products; grid prices (multiples of 5) force ties."""
    n = draw(st.integers(1, max_bids))
    grid = st.integers(0, 20).map(lambda k: 5.0 * k)
    price = grid if grid_prices else st.one_of(grid, st.floats(FLOOR, CAP, allow_nan=False))
    quantity = st.one_of(st.integers(1, 10).map(float), st.floats(0.01, 100.0, allow_nan=False))
    rows = [
        (
            draw(st.sampled_from(["h1", "h2", "h3"])),
            draw(st.sampled_from(["supply", "demand"])),
            draw(price),
            draw(quantity),
            f"b{i}",
        )
        for i in range(n)
    ]
    return book(rows, index=pd.Index([f"bid{i}" for i in range(n)]))


# ---------------------------------------------------------------- worked examples


def test_kirschen_strbac_pool_example():
    """Pool example of Kirschen & Strbac, "Fundamentals of Power System Economics",
    ch. 3 (electricity pools; Red/Green/Blue producers, Yellow/Purple/Orange
    consumers; prices in $/MWh, used here as CNY/MWh).

    Offers sorted: Red 200@12, Blue 100@13, Red 50@15, Green 150@16, Green 50@17,
    Blue 50@18, Red 150@20 -> cumulative 200, 300, 350, 500, ...
    Bids sorted:   Orange 200@25, Yellow 100@23, Purple 150@22, Yellow 50@13,
    Purple 50@11, Orange 50@10 -> cumulative 200, 300, 450, 500, ...
    At 16 $/MWh supply offers up to 500 MWh and demand bids 450 MWh (bids >= 16);
    at 15 supply is only 350. Published result: price 16 $/MWh, 450 MWh traded,
    Green's 16 $/MWh offer partly accepted (100 of 150 MWh).
    Welfare = 200*25 + 100*23 + 150*22 - (200*12 + 100*13 + 50*15 + 100*16)
            = 10600 - 6050 = 4550.
    """
    rows = [
        ("9:00", "supply", 12.0, 200.0, "Red"),
        ("9:00", "supply", 15.0, 50.0, "Red"),
        ("9:00", "supply", 20.0, 150.0, "Red"),
        ("9:00", "supply", 16.0, 150.0, "Green"),
        ("9:00", "supply", 17.0, 50.0, "Green"),
        ("9:00", "supply", 13.0, 100.0, "Blue"),
        ("9:00", "supply", 18.0, 50.0, "Blue"),
        ("9:00", "demand", 13.0, 50.0, "Yellow"),
        ("9:00", "demand", 23.0, 100.0, "Yellow"),
        ("9:00", "demand", 11.0, 50.0, "Purple"),
        ("9:00", "demand", 22.0, 150.0, "Purple"),
        ("9:00", "demand", 10.0, 50.0, "Orange"),
        ("9:00", "demand", 25.0, 200.0, "Orange"),
    ]
    bids = book(rows)
    res = clear(bids, price_floor=0.0, price_cap=1000.0)
    assert res.prices["9:00"] == 16.0
    assert res.volumes["9:00"] == pytest.approx(450.0)
    expected = [200, 50, 0, 100, 0, 100, 0, 0, 100, 0, 150, 0, 200]
    np.testing.assert_allclose(res.accepted_mwh.to_numpy(), expected)
    assert res.welfare_cny["9:00"] == pytest.approx(4550.0)
    assert res.status["9:00"] == "cleared"
    assert_competitive_equilibrium(bids, res)


def test_hand_example_marginal_supply_sets_price():
    """Supply A 10@20, B 10@30; demand C 15@50, D 10@25.

    S(p): 10 for p in [20, 30), 20 from 30. D(p): 25 for p <= 25, 15 above.
    max_p min(S, D) = min(20, 15) = 15 at p = 30 -> A 10, B 5 (partial, so the
    price is B's 30), C 15, D rejected (25 <= 30). Welfare = 15*50 - 10*20 - 5*30 = 400.
    """
    bids = book(
        [
            (1, "supply", 20.0, 10.0, "A"),
            (1, "supply", 30.0, 10.0, "B"),
            (1, "demand", 50.0, 15.0, "C"),
            (1, "demand", 25.0, 10.0, "D"),
        ]
    )
    res = clear(bids, FLOOR, CAP)
    assert res.prices[1] == 30.0
    assert res.volumes[1] == 15.0
    np.testing.assert_allclose(res.accepted_mwh.to_numpy(), [10, 5, 15, 0])
    assert res.welfare_cny[1] == pytest.approx(400.0)


def test_vertical_segment_reports_midpoint_of_clearing_interval():
    """Supply 10@20, 10@40; demand 10@60, 10@10.

    Volume 10: offer@20 and bid@60 accepted whole, offer@40 and bid@10 rejected.
    Any p with 20 <= p <= 60 (accepted), p <= 40 (rejected offer), p >= 10
    (rejected bid) clears -> interval [20, 40], reported price 30.
    """
    bids = book(
        [
            ("h", "supply", 20.0, 10.0, "s1"),
            ("h", "supply", 40.0, 10.0, "s2"),
            ("h", "demand", 60.0, 10.0, "d1"),
            ("h", "demand", 10.0, 10.0, "d2"),
        ]
    )
    res = clear(bids, FLOOR, CAP)
    assert res.volumes["h"] == 10.0
    assert res.price_lower_cny_per_mwh["h"] == 20.0
    assert res.price_upper_cny_per_mwh["h"] == 40.0
    assert res.prices["h"] == 30.0
    np.testing.assert_allclose(res.accepted_mwh.to_numpy(), [10, 0, 10, 0])


def test_no_crossing_zero_volume_midpoint_price():
    """Cheapest offer 50 > highest bid 30: zero volume, price (30 + 50) / 2 = 40."""
    bids = book(
        [
            ("h", "supply", 50.0, 10.0, "s"),
            ("h", "supply", 70.0, 10.0, "s2"),
            ("h", "demand", 30.0, 10.0, "d"),
            ("h", "demand", 5.0, 10.0, "d2"),
        ]
    )
    res = clear(bids, FLOOR, CAP)
    assert res.volumes["h"] == 0.0
    assert res.prices["h"] == 40.0
    assert (res.price_lower_cny_per_mwh["h"], res.price_upper_cny_per_mwh["h"]) == (30.0, 50.0)
    assert res.status["h"] == "no_crossing"
    assert (res.accepted_mwh == 0).all()
    assert res.welfare_cny["h"] == 0.0


def test_one_sided_products_have_zero_volume_and_nan_price():
    """h1 only supply, h2 only demand -> NaN price, zero volume; h3 (10@20 vs 5@50)
    clears independently at 20 with 5 MWh (offer partly accepted)."""
    bids = book(
        [
            ("h1", "supply", 20.0, 10.0, "s"),
            ("h2", "demand", 50.0, 10.0, "d"),
            ("h3", "supply", 20.0, 10.0, "s"),
            ("h3", "demand", 50.0, 5.0, "d"),
        ]
    )
    res = clear(bids, FLOOR, CAP)
    assert list(res.prices.index) == ["h1", "h2", "h3"]
    assert math.isnan(res.prices["h1"]) and math.isnan(res.prices["h2"])
    assert res.volumes["h1"] == res.volumes["h2"] == 0.0
    assert res.status["h1"] == res.status["h2"] == "one_sided"
    assert res.prices["h3"] == 20.0
    assert res.volumes["h3"] == 5.0
    np.testing.assert_allclose(res.accepted_mwh.to_numpy(), [0, 0, 5, 5])


def test_shortage_price_cap_supply_fully_accepted_demand_rationed_pro_rata():
    """Supply 60@20 + 40@45 = 100 MWh; price-taking demand (at the 100 cap) 100 + 50
    = 150 MWh, plus 20 MWh bid at 80.

    All 100 MWh of supply accepted; the cap-priced demand is rationed pro rata at
    100/150 = 2/3 -> 66.67 and 33.33 MWh; the bid at 80 is rejected; price = cap.
    """
    bids = book(
        [
            ("h", "supply", 20.0, 60.0, "g1"),
            ("h", "supply", 45.0, 40.0, "g2"),
            ("h", "demand", CAP, 100.0, "u1"),
            ("h", "demand", CAP, 50.0, "u2"),
            ("h", "demand", 80.0, 20.0, "u3"),
        ]
    )
    res = clear(bids, FLOOR, CAP)
    assert res.prices["h"] == CAP
    assert res.volumes["h"] == pytest.approx(100.0)
    np.testing.assert_allclose(res.accepted_mwh.to_numpy(), [60, 40, 200 / 3, 100 / 3, 0])


def test_price_taking_demand_with_ample_supply_pays_marginal_offer():
    """Demand 30 MWh at the cap; offers 20@10, 20@35, 20@60 -> 20 + 10 accepted,
    the 35 offer is marginal (partly accepted) and sets the price 35."""
    bids = book(
        [
            ("h", "demand", CAP, 30.0, "u"),
            ("h", "supply", 10.0, 20.0, "a"),
            ("h", "supply", 35.0, 20.0, "b"),
            ("h", "supply", 60.0, 20.0, "c"),
        ]
    )
    res = clear(bids, FLOOR, CAP)
    assert res.prices["h"] == 35.0
    np.testing.assert_allclose(res.accepted_mwh.to_numpy(), [30, 20, 10, 0])


def test_exact_supply_ties_at_the_margin_split_pro_rata():
    """Offers A 10@20, B 10@25, C 30@25; demand 30@40.

    A is accepted whole (10); the 25 level holds 40 MWh for the remaining 20, so B
    and C each get half: B 5, C 15. Price 25 (partly accepted offers).
    """
    bids = book(
        [
            ("h", "supply", 20.0, 10.0, "A"),
            ("h", "supply", 25.0, 10.0, "B"),
            ("h", "supply", 25.0, 30.0, "C"),
            ("h", "demand", 40.0, 30.0, "D"),
        ]
    )
    res = clear(bids, FLOOR, CAP)
    np.testing.assert_allclose(res.accepted_mwh.to_numpy(), [10, 5, 15, 30])
    assert res.prices["h"] == 25.0


def test_exact_demand_ties_at_the_margin_split_pro_rata():
    """Offer 20@10; bids D1 10@40, D2 30@40 -> 20 of 40 MWh at 40: D1 5, D2 15; price 40."""
    bids = book(
        [
            ("h", "supply", 10.0, 20.0, "S"),
            ("h", "demand", 40.0, 10.0, "D1"),
            ("h", "demand", 40.0, 30.0, "D2"),
        ]
    )
    res = clear(bids, FLOOR, CAP)
    np.testing.assert_allclose(res.accepted_mwh.to_numpy(), [20, 5, 15])
    assert res.prices["h"] == 40.0


def test_zero_surplus_trades_are_executed():
    """Offer 10@30 and bid 10@30: welfare 0 either way; the maximum-volume
    convention trades 10 MWh at 30."""
    bids = book([("h", "supply", 30.0, 10.0, "s"), ("h", "demand", 30.0, 10.0, "d")])
    res = clear(bids, FLOOR, CAP)
    assert res.volumes["h"] == 10.0
    assert res.prices["h"] == 30.0
    assert res.welfare_cny["h"] == 0.0


def test_exact_match_of_price_taking_demand_and_all_supply_uses_midpoint():
    """Demand 50 at the cap (100) equals all supply 50@20: interval [20, 100], price 60."""
    bids = book([("h", "supply", 20.0, 50.0, "s"), ("h", "demand", CAP, 50.0, "d")])
    res = clear(bids, FLOOR, CAP)
    assert res.volumes["h"] == 50.0
    assert res.prices["h"] == 60.0


def test_floating_point_rounding_does_not_create_a_spurious_marginal_bid():
    """Offers 0.1@10, 0.2@20, 1@50; bids 0.3@60, 1@5. In exact arithmetic 0.1 + 0.2 =
    0.3 = demand, so both cheap offers are accepted whole, the 50 offer and the 5 bid
    are rejected and the clearing interval is [20, 50] -> price 35. In floating point
    0.1 + 0.2 = 0.30000000000000004 > 0.3, which without tolerance would make the 20
    offer "partly accepted" (fraction 0.9999999999999999) and force the price to 20.
    """
    bids = book(
        [
            ("h", "supply", 10.0, 0.1, "s1"),
            ("h", "supply", 20.0, 0.2, "s2"),
            ("h", "supply", 50.0, 1.0, "s3"),
            ("h", "demand", 60.0, 0.3, "d1"),
            ("h", "demand", 5.0, 1.0, "d2"),
        ]
    )
    res = clear(bids, FLOOR, CAP)
    assert res.accepted_mwh.tolist() == [0.1, 0.2, 0.0, 0.3, 0.0]
    assert res.prices["h"] == 35.0


def test_result_aligned_with_custom_index_and_independent_of_row_order():
    """Same book as the hand example (price 30, A 10, B 5, C 15, D 0), string index,
    rows reversed: accepted quantities follow the index labels."""
    bids = book(
        [
            (1, "supply", 20.0, 10.0, "A"),
            (1, "supply", 30.0, 10.0, "B"),
            (1, "demand", 50.0, 15.0, "C"),
            (1, "demand", 25.0, 10.0, "D"),
        ],
        index=["a", "b", "c", "d"],
    )
    res = clear(bids.iloc[::-1], FLOOR, CAP)
    assert list(res.accepted_mwh.index) == ["d", "c", "b", "a"]
    assert res.accepted_mwh.to_dict() == {"a": 10.0, "b": 5.0, "c": 15.0, "d": 0.0}
    assert res.prices[1] == 30.0


def test_empty_book_and_summary():
    res = clear(book([]), FLOOR, CAP)
    assert res.prices.empty and res.volumes.empty and res.accepted_mwh.empty
    full = clear(book([("h", "supply", 20.0, 10.0, "s"), ("h", "demand", 50.0, 5.0, "d")]), 0, 100)
    summary = full.summary()
    assert list(summary.columns) == [
        "price_cny_per_mwh",
        "price_lower_cny_per_mwh",
        "price_upper_cny_per_mwh",
        "volume_mwh",
        "welfare_cny",
        "status",
    ]
    assert summary.loc["h", "volume_mwh"] == 5.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        full.prices = full.volumes  # type: ignore[misc]


# ---------------------------------------------------------------- bad inputs


GOOD = [("h", "supply", 20.0, 10.0, "gen"), ("h", "demand", 50.0, 5.0, "load")]


@pytest.mark.parametrize(
    ("row", "pattern"),
    [
        (("h", "supply", 20.0, 0.0, "zed"), "zero-quantity bid"),
        (("h", "supply", 20.0, -1.0, "neg"), "quantity_mwh must be positive"),
        (("h", "supply", 20.0, np.nan, "nanq"), "quantity_mwh must be a finite number"),
        (("h", "supply", np.nan, 1.0, "nanp"), "price_cny_per_mwh must be a finite number"),
        (("h", "supply", "cheap", 1.0, "str"), "price_cny_per_mwh must be a finite number"),
        (("h", "buy", 20.0, 1.0, "side"), "side must be 'supply' or 'demand', got 'buy'"),
        (("h", "demand", 100.5, 1.0, "cap"), r"100.5 is outside \[price_floor, price_cap\]"),
        (("h", "supply", -0.5, 1.0, "flr"), r"-0.5 is outside \[price_floor, price_cap\]"),
        ((None, "supply", 20.0, 1.0, "prod"), "product must not be missing"),
        (("h", "supply", 20.0, 1.0, None), "bidder must not be missing"),
    ],
)
def test_bad_bid_raises_value_error_naming_bid(row, pattern):
    bids = book([*GOOD, row], index=["g", "l", "x"])
    bidder = r"(None|nan)" if row[4] is None else repr(row[4])
    with pytest.raises(ValueError, match=rf"^bid 'x' \(bidder {bidder}\): .*{pattern}"):
        clear(bids, FLOOR, CAP)


def test_error_counts_further_offending_bids():
    bids = book([*GOOD, ("h", "supply", 1.0, 0.0, "z1"), ("h", "supply", 1.0, 0.0, "z2")])
    with pytest.raises(ValueError, match=r"bid 2 \(bidder 'z1'\).*1 more bid"):
        clear(bids, FLOOR, CAP)


def test_missing_column_raises():
    with pytest.raises(ValueError, match=r"missing column\(s\) \['bidder'\]"):
        clear(book(GOOD).drop(columns="bidder"), FLOOR, CAP)


def test_non_dataframe_raises():
    with pytest.raises(ValueError, match="bids must be a pandas DataFrame"):
        clear(GOOD, FLOOR, CAP)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("floor", "cap", "pattern"),
    [
        (50.0, 50.0, "must be below price_cap"),
        (np.nan, 100.0, "price_floor must be finite"),
        (0.0, np.inf, "price_cap must be finite"),
    ],
)
def test_bad_price_limits_raise(floor, cap, pattern):
    with pytest.raises(ValueError, match=pattern):
        clear(book(GOOD), floor, cap)


# ---------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None, database=None)
@given(books(grid_prices=False))
def test_competitive_equilibrium_conditions_hold(bids):
    assert_competitive_equilibrium(bids, clear(bids, FLOOR, CAP))


@settings(max_examples=60, deadline=None, database=None)
@given(books(grid_prices=True))
def test_competitive_equilibrium_conditions_hold_with_ties(bids):
    assert_competitive_equilibrium(bids, clear(bids, FLOOR, CAP))


@settings(max_examples=50, deadline=None, database=None)
@given(books(grid_prices=False))
def test_welfare_equals_lp_optimum(bids):
    res = clear(bids, FLOOR, CAP)
    lp_welfare, _ = lp_optimum(bids)
    assert res.welfare_cny.sum() == pytest.approx(lp_welfare, rel=1e-7, abs=1e-5)


@settings(max_examples=50, deadline=None, database=None)
@given(books(grid_prices=True))
def test_volume_is_largest_among_welfare_optima(bids):
    res = clear(bids, FLOOR, CAP)
    lp_welfare, lp_volumes = lp_optimum(bids)
    assert res.welfare_cny.sum() == pytest.approx(lp_welfare, rel=1e-7, abs=1e-5)
    for product, vol in lp_volumes.items():
        assert res.volumes[product] == pytest.approx(vol, rel=1e-6, abs=1e-5)


@settings(max_examples=40, deadline=None, database=None)
@given(books(grid_prices=True), st.randoms(use_true_random=False))
def test_row_order_does_not_change_the_result(bids, random):
    res = clear(bids, FLOOR, CAP)
    positions = list(range(len(bids)))
    random.shuffle(positions)
    shuffled = clear(bids.iloc[positions], FLOOR, CAP)
    pd.testing.assert_series_equal(
        shuffled.accepted_mwh.loc[bids.index], res.accepted_mwh, rtol=1e-12
    )
    pd.testing.assert_series_equal(shuffled.prices, res.prices)
