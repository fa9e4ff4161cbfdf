import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from markets.bilateral import (
    PlantOffer,
    average_price_cny_per_kwh,
    cheapest_offer,
    contract_cost_cny,
    load_factor,
)

OFFER = PlantOffer("coal", capacity_rate_cny_per_kw=30.0, energy_rate_cny_per_kwh=0.4)


def test_contract_cost_hand_example():
    """Load [100, 200, 150] kW hourly, a = 30 CNY/kW, b = 0.4 CNY/kWh.

    P_max = 200 kW, E = 450 kWh, F = 30·200 + 0.4·450 = 6000 + 180 = 6180 CNY.
    """
    assert contract_cost_cny([100.0, 200.0, 150.0], OFFER) == pytest.approx(6180.0)


def test_contract_cost_quarter_hour_intervals():
    """Load [100, 200, 150, 50] kW in 15-min intervals: E = 500·0.25 = 125 kWh.

    F = 30·200 + 0.4·125 = 6050 CNY (the capacity part uses the peak demand, not energy).
    """
    cost = contract_cost_cny([100.0, 200.0, 150.0, 50.0], OFFER, interval_h=0.25)
    assert cost == pytest.approx(6050.0)


def test_load_factor_hand_example_and_zero_convention():
    """Mean 150 kW / peak 200 kW = 0.75; flat curve 1.0; all-zero curve 0.0 by convention."""
    assert load_factor([100.0, 200.0, 150.0]) == pytest.approx(0.75)
    assert load_factor([5.0, 5.0]) == pytest.approx(1.0)
    assert load_factor([0.0, 0.0, 0.0]) == 0.0


def test_average_price_hand_example_equals_cost_over_energy():
    """LF = 0.75, T = 3 h: p̄ = 0.4 + 30/(0.75·3) = 0.4 + 13.333… = 13.7333 = 6180/450."""
    price = average_price_cny_per_kwh(OFFER, 0.75, 3.0)
    assert price == pytest.approx(0.4 + 30.0 / 2.25)
    assert price == pytest.approx(6180.0 / 450.0)


def test_average_price_falls_with_load_factor():
    """p̄ = b + a/(LF·T) is strictly decreasing in LF when a > 0; LF = 1 over 720 h gives
    0.4 + 30/720 = 0.441667 CNY/kWh."""
    lfs = np.linspace(0.1, 1.0, 10)
    prices = np.array([average_price_cny_per_kwh(OFFER, lf, 720.0) for lf in lfs])
    assert np.all(np.diff(prices) < 0)
    assert prices[-1] == pytest.approx(0.4 + 30.0 / 720.0)


@settings(max_examples=60, deadline=None)
@given(
    load=arrays(np.float64, st.integers(1, 48), elements=st.floats(0.0, 1e4)),
    a=st.floats(0.0, 100.0),
    b=st.floats(0.0, 2.0),
    dt=st.sampled_from([0.25, 0.5, 1.0]),
)
def test_average_price_equals_cost_over_energy(load, a, b, dt):
    offer = PlantOffer("p", a, b)
    energy = load.sum() * dt
    if energy <= 1e-6:
        return
    price = average_price_cny_per_kwh(offer, load_factor(load), load.size * dt)
    assert price == pytest.approx(contract_cost_cny(load, offer, dt) / energy, rel=1e-9)


def test_cheapest_offer_depends_on_load_factor():
    """Offers A (a=40, b=0.30) and B (a=10, b=0.45).

    Peaky 3-h curve [100, 200, 150]: A = 40·200 + 0.30·450 = 8135, B = 10·200 + 0.45·450 = 2202.5
    → B. Flat 720 h at 100 kW (E = 72000): A = 4000 + 21600 = 25600, B = 1000 + 32400 = 33400 → A.
    """
    a_offer = PlantOffer("A", 40.0, 0.30)
    b_offer = PlantOffer("B", 10.0, 0.45)
    peaky = cheapest_offer([100.0, 200.0, 150.0], [a_offer, b_offer])
    assert peaky.offer is b_offer
    assert peaky.cost_cny == pytest.approx(2202.5)
    np.testing.assert_allclose(peaky.costs_cny, [8135.0, 2202.5])
    assert peaky.names == ("A", "B")
    flat = cheapest_offer(np.full(720, 100.0), [a_offer, b_offer])
    assert flat.offer is a_offer
    np.testing.assert_allclose(flat.costs_cny, [25600.0, 33400.0])


def test_cheapest_offer_tie_goes_to_first():
    """Identical rates give identical costs; the first listed offer wins."""
    first = PlantOffer("first", 10.0, 0.5)
    second = PlantOffer("second", 10.0, 0.5)
    assert cheapest_offer([1.0, 2.0], [first, second]).offer is first


def test_offer_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        OFFER.energy_rate_cny_per_kwh = 0.1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": "", "capacity_rate_cny_per_kw": 1.0, "energy_rate_cny_per_kwh": 1.0}, "name"),
        (
            {"name": "x", "capacity_rate_cny_per_kw": -1.0, "energy_rate_cny_per_kwh": 1.0},
            "capacity_rate_cny_per_kw",
        ),
        (
            {"name": "x", "capacity_rate_cny_per_kw": 1.0, "energy_rate_cny_per_kwh": np.nan},
            "energy_rate_cny_per_kwh",
        ),
    ],
)
def test_offer_rejects_bad_fields(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PlantOffer(**kwargs)


@pytest.mark.parametrize(
    ("load", "match"),
    [
        ([[1.0, 2.0]], "1-D"),
        ([], "at least one"),
        ([1.0, np.nan], "NaN"),
        ([1.0, -2.0], "negative"),
    ],
)
def test_bad_load_curves(load, match):
    with pytest.raises(ValueError, match=match):
        contract_cost_cny(load, OFFER)
    with pytest.raises(ValueError, match=match):
        load_factor(load)


def test_bad_interval():
    with pytest.raises(ValueError, match="interval_h"):
        contract_cost_cny([1.0], OFFER, interval_h=0.0)
    with pytest.raises(ValueError, match="interval_h"):
        cheapest_offer([1.0], [OFFER], interval_h=-1.0)


@pytest.mark.parametrize("lf", [0.0, -0.1, 1.5, np.nan])
def test_average_price_bad_load_factor(lf):
    with pytest.raises(ValueError, match="load_factor"):
        average_price_cny_per_kwh(OFFER, lf, 24.0)


def test_average_price_bad_period():
    with pytest.raises(ValueError, match="period_h"):
        average_price_cny_per_kwh(OFFER, 0.5, 0.0)


def test_cheapest_offer_bad_offers():
    with pytest.raises(ValueError, match="at least one"):
        cheapest_offer([1.0], [])
    with pytest.raises(ValueError, match="duplicate"):
        cheapest_offer([1.0], [OFFER, PlantOffer("coal", 1.0, 1.0)])
    with pytest.raises(ValueError, match="PlantOffer"):
        cheapest_offer([1.0], [OFFER, "gas"])  # type: ignore[list-item]
