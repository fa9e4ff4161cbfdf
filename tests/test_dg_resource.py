import math

import numpy as np
import pytest

from agents.dg_resource import (
    NANJING_LATITUDE_DEG,
    daily_clearness,
    pv_profile_kw_per_kwp,
    turbine_nominal_kw,
    wind_profile_kw,
)


@pytest.fixture(scope="module")
def hourly() -> np.ndarray:
    return pv_profile_kw_per_kwp()  # Nanjing, 20° south, 2025, hourly, 1063 kWh/kWp


def test_pv_annual_sum_equals_the_yield(hourly):
    """Σ kW/kWp · 1 h over 365 days = 1063 kWh/kWp; 2024 (leap) at 15 min: 366 × 96 values,
    Σ · 0.25 h = 1304 kWh/kWp (Shandong's yield)."""
    assert NANJING_LATITUDE_DEG == 32.06
    assert hourly.shape == (365, 24)
    assert hourly.sum() == pytest.approx(1063.0)
    quarter = pv_profile_kw_per_kwp(
        year=2024, intervals_per_day=96, annual_yield_kwh_per_kwp=1304.0
    )
    assert quarter.shape == (366, 96)
    assert quarter.sum() * 0.25 == pytest.approx(1304.0)


def test_pv_is_zero_at_night_and_peaks_near_solar_noon(hourly):
    """At 32° N the sun rises after 05:00 and sets before 19:30 all year, so the intervals
    00:00–05:00 and 20:00–24:00 are 0. Solar noon at 118.8° E in UTC+8 is 12:00 + 1.2°·4
    min = 12:05, ± the equation of time (−14…+16 min): 11:49–12:21, so every day's hourly
    peak is the 11:00 or 12:00 interval, and at 15 min the peak midpoint is within 11:30–12:38.
    A south-facing 20° roof at 32° N: every value ≤ ~1.1 kW/kWp after scaling."""
    assert np.all(hourly[:, :5] == 0.0)
    assert np.all(hourly[:, 20:] == 0.0)
    assert set(np.argmax(hourly, axis=1).tolist()) <= {11, 12}
    quarter = pv_profile_kw_per_kwp(intervals_per_day=96)
    peak_h = (np.argmax(quarter, axis=1) + 0.5) * 0.25
    assert peak_h.min() >= 11.5 and peak_h.max() <= 12.65
    assert 0.3 < hourly.max() < 1.1


def test_pv_clearness_dims_days_but_keeps_the_yield(hourly):
    """Clearness 0.5 on every day but day 0 (1.0): the yield is still 1063 and day 0 gets a
    larger share than on the clear-sky profile (its energy relative to day 1 doubles)."""
    factor = np.full(365, 0.5)
    factor[0] = 1.0
    cloudy = pv_profile_kw_per_kwp(clearness=factor)
    assert cloudy.sum() == pytest.approx(1063.0)
    ratio_clear = hourly[0].sum() / hourly[1].sum()
    assert cloudy[0].sum() / cloudy[1].sum() == pytest.approx(2.0 * ratio_clear)
    rng = np.random.default_rng(0)
    draws = daily_clearness(rng, 10_000, mean=0.7)
    assert draws.mean() == pytest.approx(0.7, abs=0.01)  # SE ≈ 0.15/100 = 0.0015
    assert np.all((draws >= 0) & (draws <= 1))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"annual_yield_kwh_per_kwp": 0.0}, "annual_yield_kwh_per_kwp"),
        ({"annual_yield_kwh_per_kwp": -5.0}, "annual_yield_kwh_per_kwp"),
        ({"latitude_deg": 95.0}, "latitude_deg"),
        ({"tilt_deg": 100.0}, "tilt_deg"),
        ({"intervals_per_day": 0}, "intervals_per_day"),
        ({"clearness": np.ones(3)}, "clearness"),
    ],
)
def test_pv_rejects_bad_inputs(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pv_profile_kw_per_kwp(**kwargs)


def test_wind_capacity_factor_matches_the_weibull_integral():
    """With ρ = 0 the mean output of 200,000 draws equals ∫ P(v)·f_Weibull(v) dv (power curve
    of windpowerlib's E-126/4200, k = 2, mean 6 m/s → c = 6/Γ(1.5) = 6.770 m/s) within 4 SE;
    output lies in [0, 4200] kW."""
    from windpowerlib import WindTurbine

    curve = WindTurbine(turbine_type="E-126/4200", hub_height=100.0).power_curve
    k, c = 2.0, 6.0 / math.gamma(1.5)
    v = np.linspace(0.0, 40.0, 400_001)
    pdf = (k / c) * (v / c) ** (k - 1) * np.exp(-((v / c) ** k))
    p_kw = np.interp(v, curve["wind_speed"], curve["value"], left=0.0, right=0.0) / 1000.0
    expected = float(np.sum(p_kw * pdf) * (v[1] - v[0]))
    out = wind_profile_kw(np.random.default_rng(0), 200_000, autocorrelation=0.0)
    assert turbine_nominal_kw() == 4200.0
    assert out.min() >= 0.0 and out.max() <= 4200.0
    assert abs(out.mean() - expected) < 4.0 * out.std() / math.sqrt(out.size)


def test_wind_is_reproducible_autocorrelated_and_scales_with_turbines():
    """Same seed → same series; ρ = 0.9 gives a lag-one correlation of output well above the
    ρ = 0 series (≈ 0); three turbines give three times the output."""
    a = wind_profile_kw(np.random.default_rng(5), 5000)
    b = wind_profile_kw(np.random.default_rng(5), 5000)
    np.testing.assert_array_equal(a, b)
    white = wind_profile_kw(np.random.default_rng(5), 5000, autocorrelation=0.0)
    assert np.corrcoef(a[:-1], a[1:])[0, 1] > 0.7
    assert abs(np.corrcoef(white[:-1], white[1:])[0, 1]) < 0.1  # SE ≈ 1/√5000 = 0.014
    three = wind_profile_kw(np.random.default_rng(5), 5000, n_turbines=3)
    np.testing.assert_allclose(three, 3.0 * a)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_intervals": 0}, "n_intervals"),
        ({"mean_wind_speed_m_per_s": 0.0}, "mean_wind_speed_m_per_s"),
        ({"weibull_k": -1.0}, "weibull_k"),
        ({"autocorrelation": 1.0}, "autocorrelation"),
        ({"n_turbines": 0}, "n_turbines"),
        ({"turbine_type": "no-such-turbine"}, "turbine_type"),
    ],
)
def test_wind_rejects_bad_inputs(kwargs, match):
    args = {"n_intervals": 10}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        wind_profile_kw(np.random.default_rng(0), **args)
