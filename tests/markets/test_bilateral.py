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
    settle_contract,
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


# ---------------------------------------------------------------- settle_contract (rule P3)

P3 = {
    "capacity_rate_cny_per_kw": 30.0,
    "energy_rate_cny_per_kwh": 0.4,
    "contracted_kw": 1000.0,
    "contracted_kwh": 450_000.0,
}


def test_settle_contract_overrun_and_penalty_hand_example():
    """D = 1100 kW > 1.05·1000 = 1050 → DC = 30·1100 + (2 − 1)·30·(1100 − 1050) = 33,000 + 1,500
    = 34,500 CNY. EC = 0.4·500,000 = 200,000. Δ = 500,000 − 450,000 = 50,000 kWh; band
    0.03·450,000 = 13,500 → penalised 36,500 kWh → PEN = 0.10·0.4·36,500 = 1,460.
    Total = 34,500 + 200,000 + 1,460 = 235,960 CNY."""
    s = settle_contract(1100.0, 500_000.0, **P3)
    assert s.demand_charge_cny == pytest.approx(34_500.0)
    assert s.energy_charge_cny == pytest.approx(200_000.0)
    assert s.penalty_cny == pytest.approx(1_460.0)
    assert s.total_cny == pytest.approx(235_960.0)
    assert s.billed_demand_kw == 1100.0
    assert s.overrun_kw == pytest.approx(50.0)
    assert s.overrun_charge_cny == pytest.approx(1_500.0)
    assert s.deviation_kwh == pytest.approx(50_000.0)
    assert s.tolerance_kwh == pytest.approx(13_500.0)
    assert s.penalised_kwh == pytest.approx(36_500.0)


def test_settle_contract_within_threshold_and_band():
    """D = 1040 kW ≤ 1050 → DC = a·P_c = 30,000 (take-or-pay on the contract, also for
    D = 600 < P_c). E = 440,000, curtailment 5,000 exempt → Δ = 445,000 − 450,000 = −5,000,
    |Δ| < 13,500 → no penalty. EC = 0.4·440,000 = 176,000; total 206,000 CNY."""
    for peak in (1040.0, 600.0, 1050.0):
        s = settle_contract(peak, 440_000.0, exempt_kwh=5_000.0, **P3)
        assert s.demand_charge_cny == pytest.approx(30_000.0)
        assert s.billed_demand_kw == 1000.0
        assert s.overrun_kw == 0.0
        assert s.deviation_kwh == pytest.approx(-5_000.0)
        assert s.penalty_cny == 0.0
        assert s.total_cny == pytest.approx(206_000.0)


def test_settle_contract_under_use_penalised_and_exemption_counts():
    """Under-use: E = 400,000, no exemption → Δ = −50,000, penalised 36,500 → PEN = 1,460
    (same as over-use). With 40,000 kWh curtailed exempt: Δ = −10,000, inside the band → 0."""
    assert settle_contract(900.0, 400_000.0, **P3).penalty_cny == pytest.approx(1_460.0)
    exempt = settle_contract(900.0, 400_000.0, exempt_kwh=40_000.0, **P3)
    assert exempt.penalty_cny == 0.0
    assert exempt.energy_charge_cny == pytest.approx(160_000.0)  # exempt energy is not billed


def test_settle_contract_options():
    """Overrun factor 3, threshold 1.10: D = 1200 > 1100 → DC = 30·1200 + 2·30·100 = 42,000.
    Tolerance 0.05, penalty 0.2 with Δ = +50,000: band 22,500 → PEN = 0.2·0.4·27,500 = 2,200."""
    s = settle_contract(
        1200.0,
        500_000.0,
        **P3,
        tolerance_share=0.05,
        penalty_share=0.2,
        overrun_threshold_share=1.10,
        overrun_factor=3.0,
    )
    assert s.demand_charge_cny == pytest.approx(42_000.0)
    assert s.penalty_cny == pytest.approx(2_200.0)


def test_settle_contract_is_frozen():
    s = settle_contract(1000.0, 450_000.0, **P3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.total_cny = 0.0  # type: ignore[misc]


@pytest.mark.parametrize(
    "name",
    [
        "peak_kw",
        "energy_kwh",
        "capacity_rate_cny_per_kw",
        "energy_rate_cny_per_kwh",
        "contracted_kw",
        "contracted_kwh",
        "exempt_kwh",
        "tolerance_share",
        "penalty_share",
        "overrun_threshold_share",
        "overrun_factor",
    ],
)
@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf, "x"])
def test_settle_contract_rejects_bad_inputs_naming_them(name, bad):
    args = {"peak_kw": 1000.0, "energy_kwh": 450_000.0, **P3}
    args[name] = bad
    with pytest.raises(ValueError, match=name):
        settle_contract(**args)


def test_settle_contract_rejects_factor_below_one_and_zero_threshold():
    with pytest.raises(ValueError, match="overrun_factor"):
        settle_contract(1000.0, 1.0, **P3, overrun_factor=0.5)
    with pytest.raises(ValueError, match="overrun_threshold_share"):
        settle_contract(1000.0, 1.0, **P3, overrun_threshold_share=0.0)


_money = st.floats(0.0, 100.0)
_kw = st.floats(0.0, 1e4)
_kwh = st.floats(0.0, 1e7)


@settings(max_examples=80, deadline=None)
@given(
    peaks=st.tuples(_kw, _kw),
    energy=_kwh,
    a=_money,
    b=st.floats(0.0, 2.0),
    p_c=_kw,
    q_c=_kwh,
    exempts=st.tuples(_kwh, _kwh),
    k=st.floats(0.0, 1.0),
    theta=st.floats(0.0, 0.2),
)
def test_settle_contract_monotone_in_peak_and_deviation(
    peaks, energy, a, b, p_c, q_c, exempts, k, theta
):
    """Total is non-decreasing in the peak; with E fixed (so EC fixed) it is non-decreasing
    in |Δ| (varied through the exemption); the penalty is 0 inside the band; parts add up."""
    common = {
        "capacity_rate_cny_per_kw": a,
        "energy_rate_cny_per_kwh": b,
        "contracted_kw": p_c,
        "contracted_kwh": q_c,
        "penalty_share": k,
        "tolerance_share": theta,
    }
    lo, hi = sorted(peaks)
    s_lo = settle_contract(lo, energy, **common)
    s_hi = settle_contract(hi, energy, **common)
    assert s_lo.total_cny <= s_hi.total_cny + 1e-9 * max(1.0, s_hi.total_cny)
    assert s_lo.demand_charge_cny >= a * min(p_c, lo) - 1e-6  # never below the contract
    results = [settle_contract(lo, energy, exempt_kwh=c, **common) for c in exempts]
    results.sort(key=lambda r: abs(r.deviation_kwh))
    assert results[0].total_cny <= results[1].total_cny + 1e-9 * max(1.0, results[1].total_cny)
    for r in [*results, s_lo, s_hi]:
        if abs(r.deviation_kwh) <= theta * q_c:
            assert r.penalty_cny == 0.0
        assert r.total_cny == pytest.approx(
            r.demand_charge_cny + r.energy_charge_cny + r.penalty_cny
        )
        assert min(r.demand_charge_cny, r.energy_charge_cny, r.penalty_cny) >= 0.0


@settings(max_examples=60, deadline=None)
@given(energies=st.tuples(_kwh, _kwh), q_c=_kwh, k=st.floats(0.0, 1.0), b=st.floats(0.0, 2.0))
def test_settle_contract_monotone_in_energy(energies, q_c, k, b):
    """With k ≤ 1 the saving in penalty of one more kWh below Q_c (k·b) never exceeds its
    energy charge (b), so the total is non-decreasing in E."""
    lo, hi = sorted(energies)
    common = {
        "capacity_rate_cny_per_kw": 30.0,
        "energy_rate_cny_per_kwh": b,
        "contracted_kw": 100.0,
        "contracted_kwh": q_c,
        "penalty_share": k,
    }
    t_lo = settle_contract(50.0, lo, **common).total_cny
    t_hi = settle_contract(50.0, hi, **common).total_cny
    assert t_lo <= t_hi + 1e-9 * max(1.0, t_hi)
