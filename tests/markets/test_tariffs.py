import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from omegaconf import OmegaConf

from markets.tariffs import Package, bill, bills_cny, recommend, switch_probability

FLAT = Package("flat", "flat", price_cny_per_kwh=0.6)
TOU_PRICES = [0.3] * 8 + [0.9] * 14 + [0.3] * 2  # 08:00–22:00 at 0.9, otherwise 0.3
TOU = Package.from_dict(
    {"name": "tou", "kind": "time_of_use", "price_by_hour_cny_per_kwh": TOU_PRICES}
)
PEAK_VALLEY = Package(
    "pv",
    "peak_valley",
    peak_price_cny_per_kwh=1.0,
    valley_price_cny_per_kwh=0.3,
    flat_price_cny_per_kwh=0.6,
    peak_hours=[9, 10, 11, 18, 19, 20],
    valley_hours=[0, 1, 2, 3, 4, 5, 6],
)
DEMAND = Package(
    "demand",
    "demand_charge",
    energy_price_cny_per_kwh=0.5,
    demand_charge_cny_per_kw=30.0,
    fixed_cny_per_month=100.0,
)

NIGHT = np.zeros(24)
NIGHT[[22, 23, 0, 1, 2, 3, 4, 5]] = 100.0  # night shift 22:00–06:00
DAY = np.zeros(24)
DAY[8:16] = 100.0  # day shift 08:00–16:00


def test_flat_vs_tou_night_shift_prefers_tou():
    """Each shift uses 8 h · 100 kW = 800 kWh.

    Night shift: flat 800·0.6 = 480, TOU 800·0.3 = 240 → TOU, saving 240 versus flat.
    Day shift: flat 480, TOU 800·0.9 = 720 → flat, saving 0.
    """
    rec = recommend([FLAT, TOU], np.stack([NIGHT, DAY]))
    np.testing.assert_allclose(rec.bills_cny, [[480.0, 240.0], [480.0, 720.0]])
    np.testing.assert_array_equal(rec.best, ["tou", "flat"])
    np.testing.assert_array_equal(rec.best_index, [1, 0])
    np.testing.assert_allclose(rec.saving_cny, [240.0, 0.0])
    assert rec.package_names == ("flat", "tou")


def test_saving_versus_current_package():
    """Day-shift user currently on TOU (720) saves 720 − 480 = 240 by moving to flat; the
    night-shift user on TOU saves 0."""
    rec = recommend([FLAT, TOU], np.stack([NIGHT, DAY]), current=["tou", "tou"])
    np.testing.assert_allclose(rec.saving_cny, [0.0, 240.0])
    rec_all = recommend([FLAT, TOU], np.stack([NIGHT, DAY]), current="tou")
    np.testing.assert_allclose(rec_all.saving_cny, [0.0, 240.0])


def test_peak_valley_bill():
    """Constant 10 kW for 24 h: peak 6 h·10·1.0 = 60, valley 7·10·0.3 = 21,
    flat 11·10·0.6 = 66; total 147 CNY."""
    np.testing.assert_allclose(bill(PEAK_VALLEY, np.full((1, 24), 10.0)), [147.0])


def test_demand_charge_bill():
    """Curve with max 200 kW and 2000 kWh: 0.5·2000 + 30·200 + 100 fixed = 7100 CNY."""
    curve = np.array([200.0] * 5 + [100.0] * 10 + [0.0] * 9)  # 1000 + 1000 kWh, max 200 kW
    np.testing.assert_allclose(bill(DEMAND, curve[None, :]), [7100.0])


def test_quarter_hour_intervals_match_hourly():
    """96 intervals of 0.25 h repeating each hourly value four times give the same bills."""
    loads = np.stack([NIGHT, DAY, np.arange(24.0)])
    fine = np.repeat(loads, 4, axis=1)
    packages = [FLAT, TOU, PEAK_VALLEY, DEMAND]
    hourly = bills_cny(packages, loads)
    np.testing.assert_allclose(bills_cny(packages, fine, interval_h=0.25), hourly)
    hours = np.repeat(np.arange(24), 4)
    np.testing.assert_allclose(
        bills_cny(packages, fine, interval_h=0.25, hour_of_interval=hours), hourly
    )


def test_explicit_hour_of_interval():
    """Two intervals at hours 23 and 12 with 10 kW each on TOU: 10·0.3 + 10·0.9 = 12 CNY."""
    np.testing.assert_allclose(bill(TOU, [[10.0, 10.0]], hour_of_interval=np.array([23, 12])), [12])


def test_one_dimensional_curve_is_one_user():
    np.testing.assert_allclose(bill(FLAT, NIGHT), [480.0])


def test_ties_go_to_first_package():
    twin = Package("twin", "flat", price_cny_per_kwh=0.6)
    rec = recommend([FLAT, twin], DAY[None, :])
    np.testing.assert_array_equal(rec.best, ["flat"])


@settings(max_examples=60, deadline=None)
@given(
    loads=st.integers(1, 4).flatmap(
        lambda n: arrays(np.float64, (n, 24), elements=st.floats(0.0, 1e3))
    ),
    scale=st.floats(0.0, 5.0),
)
def test_recommendation_is_argmin_and_bills_are_linear(loads, scale):
    packages = [FLAT, TOU, PEAK_VALLEY, DEMAND]
    rec = recommend(packages, loads)
    rows = np.arange(loads.shape[0])
    np.testing.assert_allclose(rec.bills_cny[rows, rec.best_index], rec.bills_cny.min(axis=1))
    assert np.all(rec.saving_cny >= 0.0)
    np.testing.assert_allclose(rec.saving_cny, rec.bills_cny[:, 0] - rec.bills_cny.min(axis=1))
    fixed = np.array([p.fixed_cny_per_month for p in packages])
    scaled = bills_cny(packages, scale * loads)
    np.testing.assert_allclose(
        scaled - fixed, scale * (rec.bills_cny - fixed), rtol=1e-9, atol=1e-6
    )


def test_from_dict_equals_constructor_and_accepts_omegaconf():
    spec = {
        "name": "pv",
        "kind": "peak_valley",
        "peak_price_cny_per_kwh": 1.0,
        "valley_price_cny_per_kwh": 0.3,
        "flat_price_cny_per_kwh": 0.6,
        "peak_hours": [9, 10, 11, 18, 19, 20],
        "valley_hours": [0, 1, 2, 3, 4, 5, 6],
    }
    assert Package.from_dict(spec) == PEAK_VALLEY
    assert Package.from_dict(OmegaConf.create(spec)) == PEAK_VALLEY
    assert PEAK_VALLEY.peak_hours == (9, 10, 11, 18, 19, 20)


def test_package_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        FLAT.price_cny_per_kwh = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"kind": "flat", "price_cny_per_kwh": 1.0}, "'name'"),
        ({"name": "x", "price_cny_per_kwh": 1.0}, "'kind'"),
        ({"name": "x", "kind": "nightly"}, "'kind'"),
        ({"name": "x", "kind": "flat", "price_cny_per_kw": 1.0}, "'price_cny_per_kw'"),
        ({"name": "x", "kind": "flat"}, "'price_cny_per_kwh'"),
        (
            {"name": "x", "kind": "flat", "price_cny_per_kwh": 1.0, "peak_hours": [1]},
            "'peak_hours'",
        ),
        (
            {"name": "x", "kind": "time_of_use", "price_by_hour_cny_per_kwh": [0.5] * 23},
            "price_by_hour_cny_per_kwh",
        ),
        ({"name": "x", "kind": "flat", "price_cny_per_kwh": -0.1}, "price_cny_per_kwh"),
        ({"name": "x", "kind": "flat", "price_cny_per_kwh": "cheap"}, "price_cny_per_kwh"),
        (
            {"name": "x", "kind": "flat", "price_cny_per_kwh": 1.0, "fixed_cny_per_month": -5},
            "fixed_cny_per_month",
        ),
        (
            {
                "name": "x",
                "kind": "demand_charge",
                "energy_price_cny_per_kwh": 0.5,
                "demand_charge_cny_per_kw": float("nan"),
            },
            "demand_charge_cny_per_kw",
        ),
    ],
)
def test_from_dict_errors_name_the_key(spec, match):
    with pytest.raises(ValueError, match=match):
        Package.from_dict(spec)


def test_bad_hours():
    base = {
        "name": "x",
        "kind": "peak_valley",
        "peak_price_cny_per_kwh": 1.0,
        "valley_price_cny_per_kwh": 0.3,
        "flat_price_cny_per_kwh": 0.6,
    }
    with pytest.raises(ValueError, match="peak_hours"):
        Package.from_dict({**base, "peak_hours": [24], "valley_hours": [1]})
    with pytest.raises(ValueError, match="valley_hours"):
        Package.from_dict({**base, "peak_hours": [9], "valley_hours": [1, 1]})
    with pytest.raises(ValueError, match="overlap"):
        Package.from_dict({**base, "peak_hours": [9, 10], "valley_hours": [10]})
    with pytest.raises(ValueError, match="peak_hours"):
        Package.from_dict({**base, "peak_hours": "9", "valley_hours": [1]})


def test_constructor_rejects_field_of_other_kind():
    with pytest.raises(ValueError, match="demand_charge_cny_per_kw"):
        Package("x", "flat", price_cny_per_kwh=1.0, demand_charge_cny_per_kw=3.0)
    with pytest.raises(ValueError, match="needs price_cny_per_kwh"):
        Package("x", "flat")
    with pytest.raises(ValueError, match="kind"):
        Package("x", "weird", price_cny_per_kwh=1.0)
    with pytest.raises(ValueError, match="name"):
        Package("", "flat", price_cny_per_kwh=1.0)
    with pytest.raises(ValueError, match="price_by_hour_cny_per_kwh"):
        Package("x", "time_of_use", price_by_hour_cny_per_kwh=0.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="package spec"):
        Package.from_dict([("name", "x")])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"load_curves_kw": [[1.0, -1.0]]}, "negative"),
        ({"load_curves_kw": [[1.0, np.nan]]}, "NaN"),
        ({"load_curves_kw": np.zeros((1, 0))}, "load_curves_kw"),
        ({"load_curves_kw": np.zeros((1, 2, 3))}, "load_curves_kw"),
        ({"load_curves_kw": [[1.0, 1.0]], "interval_h": 0.0}, "interval_h"),
        ({"load_curves_kw": [[1.0, 1.0]], "hour_of_interval": np.array([1])}, "hour_of_interval"),
        (
            {"load_curves_kw": [[1.0, 1.0]], "hour_of_interval": np.array([1.0, 2.0])},
            "hour_of_interval",
        ),
        (
            {"load_curves_kw": [[1.0, 1.0]], "hour_of_interval": np.array([1, 24])},
            "hour_of_interval",
        ),
    ],
)
def test_bill_bad_inputs(kwargs, match):
    with pytest.raises(ValueError, match=match):
        bill(FLAT, **kwargs)


def test_recommend_bad_inputs():
    loads = np.stack([NIGHT, DAY])
    with pytest.raises(ValueError, match="current"):
        recommend([FLAT, TOU], loads, current="gold")
    with pytest.raises(ValueError, match="current"):
        recommend([FLAT, TOU], loads, current=["flat"])
    with pytest.raises(ValueError, match="duplicate"):
        recommend([FLAT, FLAT], loads)
    with pytest.raises(ValueError, match="at least one"):
        recommend([], loads)
    with pytest.raises(ValueError, match="Package"):
        recommend([FLAT, {"name": "tou"}], loads)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="package"):
        bill("flat", loads)  # type: ignore[arg-type]


def test_switch_probability_hand_values():
    """P = 1/(1 + e^{−β(s − c)}): β = 0.01/CNY, saving 300, cost 100 → 1/(1 + e^{−2}) = 0.880797.
    Saving = cost → 0.5; β = 0 → 0.5; huge β·(s − c) saturates without overflow warnings."""
    assert float(switch_probability(300.0, 100.0, 0.01)) == pytest.approx(1 / (1 + np.exp(-2)))
    assert float(switch_probability(50.0, 50.0, 3.0)) == pytest.approx(0.5)
    assert float(switch_probability(500.0, 0.0, 0.0)) == pytest.approx(0.5)
    np.testing.assert_allclose(switch_probability([1e6, -1e6], 0.0, 1.0), [1.0, 0.0])


@settings(max_examples=60, deadline=None)
@given(
    s1=st.floats(-1e4, 1e4),
    s2=st.floats(-1e4, 1e4),
    cost=st.floats(0.0, 1e3),
    beta=st.floats(0.0, 1.0),
)
def test_switch_probability_monotone_in_saving(s1, s2, cost, beta):
    low, high = sorted([s1, s2])
    p = switch_probability([low, high], cost, beta)
    assert 0.0 <= p[0] <= p[1] <= 1.0


def test_switch_probability_errors():
    with pytest.raises(ValueError, match="beta"):
        switch_probability(1.0, 0.0, -0.1)
    with pytest.raises(ValueError, match="saving_cny"):
        switch_probability(np.nan, 0.0, 1.0)
    with pytest.raises(ValueError, match="switching_cost_cny"):
        switch_probability(1.0, np.inf, 1.0)
    with pytest.raises(ValueError, match="broadcast"):
        switch_probability([1.0, 2.0], [1.0, 2.0, 3.0], 1.0)


def test_a_users_bills_do_not_depend_on_who_else_is_billed() -> None:
    # Each user's bill is summed on its own (no BLAS matrix product, whose blocking
    # and thread count change the rounding with the matrix's shape): billing the
    # park at once gives every user the bits of billing that user alone.
    rng = np.random.default_rng(3)
    menu = [FLAT, TOU, PEAK_VALLEY, DEMAND]
    loads = rng.gamma(2.0, 40.0, (37, 31 * 24))
    park = bills_cny(menu, loads)
    for u in range(loads.shape[0]):
        np.testing.assert_array_equal(park[u], bills_cny(menu, loads[u : u + 1])[0])
    # and the bill is the definition: Σ_t L·Δt·price(hour) + demand·max L + fixed
    hours = np.arange(loads.shape[1]) % 24
    want = [
        [
            math.fsum(loads[u] * p.hourly_price_cny_per_kwh()[hours])
            + p.demand_rate_cny_per_kw * loads[u].max()
            + p.fixed_cny_per_month
            for p in menu
        ]
        for u in range(loads.shape[0])
    ]
    np.testing.assert_allclose(park, want, rtol=1e-12)
