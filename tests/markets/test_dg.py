import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from markets.dg import evaluate_sizes, npv_cny, payback_years, scale_profile, split

ANNUITY_8_25 = (1.0 - 1.08**-25) / 0.08  # 10.674776 years


def test_split_hand_example():
    """G = [0, 50, 120], L = [80, 80, 80] kW, 1 h: S = [0, 50, 80] (130 kWh), X = [0, 0, 40]
    (40 kWh). Fee = 0.85·0.6·130 = 66.3; saving = 0.15·0.6·130 = 11.7; export revenue =
    0.391·40 = 15.64 CNY; net load [80, 30, 0] kW."""
    s = split([0.0, 50.0, 120.0], [80.0, 80.0, 80.0], 0.6, 0.15, 0.391)
    assert s.self_consumed_kwh == pytest.approx(130.0)
    assert s.export_kwh == pytest.approx(40.0)
    assert s.generation_kwh == pytest.approx(170.0)
    assert s.fee_cny == pytest.approx(66.3)
    assert s.host_saving_cny == pytest.approx(11.7)
    assert s.export_revenue_cny == pytest.approx(15.64)
    np.testing.assert_allclose(s.net_load_kw, [80.0, 30.0, 0.0])
    np.testing.assert_allclose(s.self_consumed_interval_kwh, [0.0, 50.0, 80.0])
    np.testing.assert_allclose(s.export_interval_kwh, [0.0, 0.0, 40.0])
    assert isinstance(s.fee_cny, float)


def test_split_users_by_intervals_tou_prices_and_quarter_hours():
    """Two users, one PV curve [40, 40] kW broadcast, Δt = 0.25 h, TOU price [1.0, 0.5].
    User 0 (L = [100, 10]): S = [40, 10] kW → kWh [10, 2.5]; X = [0, 30]·0.25 = 7.5 kWh.
    Avoided = 1.0·10 + 0.5·2.5 = 11.25 → fee (δ = 0.2) 9.0, saving 2.25.
    User 1 (L = [0, 50]), δ = 0: S = [0, 40] → 10 kWh, X = 10 kWh; avoided 0.5·10 = 5 → fee 5.
    Export at 0.3: 2.25 and 3.0 CNY."""
    s = split(
        [40.0, 40.0],
        [[100.0, 10.0], [0.0, 50.0]],
        [1.0, 0.5],
        [0.2, 0.0],
        0.3,
        interval_h=0.25,
    )
    np.testing.assert_allclose(s.self_consumed_kwh, [12.5, 10.0])
    np.testing.assert_allclose(s.export_kwh, [7.5, 10.0])
    np.testing.assert_allclose(s.fee_cny, [9.0, 5.0])
    np.testing.assert_allclose(s.host_saving_cny, [2.25, 0.0])
    np.testing.assert_allclose(s.export_revenue_cny, [2.25, 3.0])
    np.testing.assert_allclose(s.net_load_kw, [[60.0, 0.0], [0.0, 10.0]])


def test_split_is_frozen():
    s = split([1.0], [1.0], 1.0, 0.1, 0.1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.fee_cny = 0.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"discount_share": -0.1}, "discount_share must be >= 0"),
        ({"discount_share": 1.2}, "discount_share must be <= 1"),
        ({"discount_share": np.nan}, "discount_share"),
        ({"gen_kw": [1.0, -1.0]}, "gen_kw holds negative generation"),
        ({"load_kw": [np.inf, 1.0]}, "load_kw"),
        ({"user_price_cny_per_kwh": -0.5}, "user_price_cny_per_kwh"),
        ({"export_price_cny_per_kwh": np.nan}, "export_price_cny_per_kwh"),
        ({"interval_h": 0.0}, "interval_h"),
        ({"gen_kw": [1.0, 2.0, 3.0]}, "broadcast"),
        ({"gen_kw": 1.0, "load_kw": 2.0}, "interval axis"),
    ],
)
def test_split_rejects_bad_inputs(kwargs, match):
    args = {
        "gen_kw": [1.0, 2.0],
        "load_kw": [1.0, 1.0],
        "user_price_cny_per_kwh": 0.6,
        "discount_share": 0.15,
        "export_price_cny_per_kwh": 0.391,
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        split(**args)


def test_split_accepts_negative_spot_export_price():
    """Export 10 kWh at −0.05 CNY/kWh: the provider pays 0.5 CNY (revenue −0.5)."""
    assert split([10.0], [0.0], 0.6, 0.1, -0.05).export_revenue_cny == pytest.approx(-0.5)


@settings(max_examples=80, deadline=None)
@given(
    data=arrays(
        np.float64,
        st.tuples(st.integers(1, 3), st.integers(1, 24), st.just(2)),
        elements=st.floats(0.0, 1e4),
    ),
    price=st.floats(0.0, 3.0),
    delta=st.floats(0.0, 1.0),
    export=st.floats(-1.0, 1.0),
    dt=st.sampled_from([0.25, 1.0]),
)
def test_split_conserves_energy_and_host_never_pays_more(data, price, delta, export, dt):
    """S + X = G per interval; 0 ≤ S ≤ min(G, L); net load = max(L − G, 0); the host's bill
    with DG, p·(L − S)·Δt + fee, never exceeds p·L·Δt (the saving δ·p·S·Δt ≥ 0)."""
    gen, load = data[..., 0], data[..., 1]
    s = split(gen, load, price, delta, export, dt)
    np.testing.assert_allclose(
        s.self_consumed_interval_kwh + s.export_interval_kwh, gen * dt, rtol=1e-12, atol=1e-9
    )
    np.testing.assert_allclose(s.self_consumed_kwh + s.export_kwh, s.generation_kwh, rtol=1e-12)
    assert np.all(s.self_consumed_interval_kwh <= np.minimum(gen, load) * dt + 1e-9)
    np.testing.assert_allclose(s.net_load_kw, np.maximum(load - gen, 0.0), atol=1e-9)
    without = price * load.sum(axis=-1) * dt
    with_dg = price * s.net_load_kw.sum(axis=-1) * dt + s.fee_cny
    assert np.all(with_dg <= without + 1e-9 * np.maximum(1.0, without))
    np.testing.assert_allclose(without - with_dg, s.host_saving_cny, rtol=1e-9, atol=1e-6)


def test_scale_profile_hits_the_yield():
    """Shape [0, 1, 3, 0] in 15-min steps: Σ shape·Δt = 4·0.25 = 1 kWh/kWp → ×1063 gives
    [0, 1063, 3189, 0] kW/kWp; yield 0 or an all-zero shape is an error."""
    np.testing.assert_allclose(
        scale_profile([0.0, 1.0, 3.0, 0.0], 1063.0, 0.25), [0.0, 1063.0, 3189.0, 0.0]
    )
    with pytest.raises(ValueError, match="annual_yield_kwh_per_kwp"):
        scale_profile([1.0], 0.0)
    with pytest.raises(ValueError, match="no energy"):
        scale_profile([0.0, 0.0], 1063.0)
    with pytest.raises(ValueError, match="shape_kw_per_kwp"):
        scale_profile([1.0, -1.0], 1063.0)


def test_payback_and_npv_hand_examples():
    """Payback 600,000/101,690 = 5.9003 yr; no positive cash flow → inf; zero capex → 0.
    NPV at r = 0: −100 + 10·10 = 0; at 8 % over 25 yr: −600,000 + 101,690·10.674776."""
    np.testing.assert_allclose(
        payback_years([600_000.0, 1.0, 0.0], [101_690.0, -5.0, 3.0]),
        [600_000.0 / 101_690.0, np.inf, 0.0],
    )
    assert npv_cny(100.0, 10.0, 10.0, 0.0) == pytest.approx(0.0)
    assert npv_cny(600_000.0, 101_690.0, 25.0, 0.08) == pytest.approx(
        -600_000.0 + 101_690.0 * ANNUITY_8_25
    )
    with pytest.raises(ValueError, match="lifetime_yr"):
        npv_cny(1.0, 1.0, 0.0, 0.08)
    with pytest.raises(ValueError, match="discount_rate"):
        npv_cny(1.0, 1.0, 25.0, -0.01)
    with pytest.raises(ValueError, match="capex_cny"):
        payback_years(-1.0, 1.0)


def test_evaluate_sizes_hand_example():
    """A year as two 4380-h intervals (day, night); profile [0.25, 0] kW/kWp (1095 kWh/kWp).
    p = 0.6, δ = 0.15, p_exp = 0.4, capex 3 CNY/W, O&M 0.05 CNY/W·yr, 25 yr at 8 %.
    User 0, load [100, 100] kW:
      K = 200: G = 50 kW ≤ L → S = 219,000 kWh, fee 0.51·219,000 = 111,690, O&M 10,000 →
        A = 101,690, capex 600,000 → payback 5.90 ≤ 6, share 1 → admissible.
      K = 400: G = 100 → S = 438,000, fee 223,380, O&M 20,000 → A = 203,380, capex 1.2 M,
        payback 5.90, NPV twice K = 200's → best.
      K = 800: S = 438,000, X = 438,000 → fee 223,380 + export 175,200 − 40,000 = 358,580,
        capex 2.4 M → payback 6.69 > 6 → inadmissible (share 0.5 passes).
      K = 1000: share 438,000/1,095,000 = 0.4 < 0.5 → inadmissible. K = 0: nothing to build.
    User 1, load [10, 10]: K = 200 self-consumes 43,800 of 219,000 (0.2) → no admissible
    size → best_index −1, best_kwp 0."""
    sizes = [0.0, 200.0, 400.0, 800.0, 1000.0]
    ev = evaluate_sizes(
        sizes,
        [0.25, 0.0],
        [[100.0, 100.0], [10.0, 10.0]],
        0.6,
        0.15,
        0.4,
        interval_h=4380.0,
    )
    npv_200 = -600_000.0 + 101_690.0 * ANNUITY_8_25
    np.testing.assert_allclose(ev.annual_fee_cny[0, 1:3], [111_690.0, 223_380.0])
    np.testing.assert_allclose(ev.annual_net_cny[0, 1:], [101_690, 203_380, 358_580, 436_180])
    np.testing.assert_allclose(ev.npv_cny[0, 1:3], [npv_200, 2 * npv_200])
    np.testing.assert_allclose(ev.payback_yr[0, 3], 2_400_000.0 / 358_580.0)
    np.testing.assert_allclose(ev.self_consumption_share[0], [0.0, 1.0, 1.0, 0.5, 0.4])
    np.testing.assert_array_equal(ev.admissible[0], [False, True, True, False, False])
    assert ev.best_index.tolist() == [2, -1]
    np.testing.assert_allclose(ev.best_kwp, [400.0, 0.0])
    np.testing.assert_allclose(ev.best_npv_cny, [2 * npv_200, 0.0])
    assert ev.self_consumption_share[1, 1] == pytest.approx(0.2)
    np.testing.assert_allclose(ev.annual_host_saving_cny[0, 1], 0.09 * 219_000.0)


def test_evaluate_sizes_window_is_annualised():
    """The same two intervals read as one day of 12-h intervals repeated 365 times
    (window_years = 24/8760) give the same annual flows as the 4380-h reading."""
    a = evaluate_sizes([200.0], [0.25, 0.0], [100.0, 100.0], 0.6, 0.15, 0.4, interval_h=4380.0)
    b = evaluate_sizes([200.0], [0.25, 0.0], [100.0, 100.0], 0.6, 0.15, 0.4, interval_h=12.0)
    np.testing.assert_allclose(a.annual_fee_cny, b.annual_fee_cny)
    np.testing.assert_allclose(a.npv_cny, b.npv_cny)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"profile_kw_per_kwp": [0.0, 0.0]}, "PV yield of 0"),
        ({"profile_kw_per_kwp": [-0.1, 0.3]}, "profile_kw_per_kwp"),
        ({"discount_share": -0.1}, "discount_share"),
        ({"discount_share": 1.5}, "discount_share"),
        ({"sizes_kwp": [-1.0]}, "sizes_kwp"),
        ({"load_kw": [1.0, 2.0, 3.0]}, "load_kw"),
        ({"min_self_consumption_share": 1.5}, "min_self_consumption_share"),
        ({"lifetime_yr": 0.0}, "lifetime_yr"),
    ],
)
def test_evaluate_sizes_rejects_bad_inputs(kwargs, match):
    args = {
        "sizes_kwp": [100.0],
        "profile_kw_per_kwp": [0.25, 0.0],
        "load_kw": [100.0, 100.0],
        "user_price_cny_per_kwh": 0.6,
        "discount_share": 0.15,
        "export_price_cny_per_kwh": 0.4,
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        evaluate_sizes(**args)


@settings(max_examples=40, deadline=None)
@given(
    loads=arrays(np.float64, st.tuples(st.integers(1, 4), st.just(24)), elements=st.floats(0, 500)),
    sizes=arrays(np.float64, st.integers(1, 5), elements=st.floats(0.0, 2000.0)),
    price=st.floats(0.3, 1.5),
)
def test_evaluate_sizes_choice_is_best_admissible(loads, sizes, price):
    """The chosen size is admissible with the largest NPV among admissible sizes; users with
    no admissible size get −1 and 0 kWp; per-user rows equal one-user calls."""
    hours = np.arange(24)
    profile = np.clip(np.sin((hours - 6) / 12 * np.pi), 0.0, None)
    ev = evaluate_sizes(sizes, profile, loads, price, 0.15, 0.391)
    for i in range(loads.shape[0]):
        adm = ev.admissible[i]
        if adm.any():
            assert adm[ev.best_index[i]]
            assert ev.best_npv_cny[i] == pytest.approx(ev.npv_cny[i][adm].max())
        else:
            assert ev.best_index[i] == -1 and ev.best_kwp[i] == 0.0
        one = evaluate_sizes(sizes, profile, loads[i], price, 0.15, 0.391)
        np.testing.assert_allclose(one.npv_cny[0], ev.npv_cny[i], rtol=1e-9, atol=1e-6)
    assert np.all(ev.annual_self_consumed_kwh <= ev.annual_generation_kwh + 1e-6)


def test_evaluate_sizes_user_blocks_and_per_user_inputs(monkeypatch):
    """Blocks of one user (memory bound forced to 24 elements) with per-user sizes (shares of
    each roof) and per-user δ give the same result as one call per user."""
    import markets.dg as dg

    rng = np.random.default_rng(0)
    loads = rng.uniform(0.0, 300.0, size=(3, 24))
    profile = np.clip(np.sin((np.arange(24) - 6) / 12 * np.pi), 0.0, None)
    sizes = np.array([[0.0, 100.0, 200.0], [0.0, 50.0, 400.0], [10.0, 20.0, 30.0]])
    delta = np.array([0.1, 0.2, 0.15])
    full = evaluate_sizes(sizes, profile, loads, 0.8, delta, 0.391)
    monkeypatch.setattr(dg, "_CHUNK_ELEMENTS", 24)
    blocked = evaluate_sizes(sizes, profile, loads, 0.8, delta, 0.391)
    np.testing.assert_allclose(blocked.npv_cny, full.npv_cny)
    for i in range(3):
        one = evaluate_sizes(sizes[i], profile, loads[i], 0.8, delta[i], 0.391)
        np.testing.assert_allclose(one.npv_cny[0], full.npv_cny[i])
        np.testing.assert_allclose(one.annual_host_saving_cny[0], full.annual_host_saving_cny[i])
