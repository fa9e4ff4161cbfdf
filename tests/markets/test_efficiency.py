"""Tests for markets.efficiency: hand-solved cases, properties and argument checks."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from omegaconf import OmegaConf

from markets.efficiency import (
    CATEGORIES,
    DEFAULT_SURCHARGES_CNY_PER_KWH,
    Measure,
    adoption_probability,
    annual_saving_cny,
    annuity_factor,
    base_load_ratio,
    combined_energy_saving_share,
    consideration_probability,
    diagnose,
    differential_surcharge_cny,
    differential_surcharge_cny_per_kwh,
    draw_thresholds_months,
    energy_intensity_tce_per_10k_cny,
    evaluate_measures,
    intensity_gap,
    intensity_target_tce_per_10k_cny,
    measures_from_config,
    npv_cny,
    payback_months,
    peer_share_by_industry,
)

SETTINGS = settings(max_examples=60, deadline=None, database=None)


# --------------------------------------------------------------------------- intensity


def test_energy_intensity_hand_case() -> None:
    """1,000,000 kWh x 0.1229 kgce/kWh = 122.9 tce; 1,007,377 CNY = 100.7377 (10^4 CNY).

    EI = 122.9 / 100.7377 = 1.2200 tce per 10^4 CNY; zero energy gives 0.
    """
    ei = energy_intensity_tce_per_10k_cny(np.array([1_000_000.0, 0.0]), 1_007_377.0)
    assert ei == pytest.approx([1.2200, 0.0], rel=1e-6)


def test_energy_intensity_custom_coefficient() -> None:
    """With 0.404 kgce/kWh (equal-value coefficient): 1e6 kWh -> 404 tce over 100 -> 4.04."""
    assert energy_intensity_tce_per_10k_cny(1e6, 1e6, kgce_per_kwh=0.404) == pytest.approx(4.04)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"energy_kwh": 1.0, "output_value_cny": 0.0}, "output_value_cny"),
        ({"energy_kwh": 1.0, "output_value_cny": -5.0}, "output_value_cny"),
        ({"energy_kwh": -1.0, "output_value_cny": 1.0}, "energy_kwh"),
        ({"energy_kwh": np.nan, "output_value_cny": 1.0}, "energy_kwh"),
        ({"energy_kwh": 1.0, "output_value_cny": 1.0, "kgce_per_kwh": 0.0}, "kgce_per_kwh"),
        ({"energy_kwh": [1.0, 2.0], "output_value_cny": [1.0, 2.0, 3.0]}, "energy_kwh"),
    ],
)
def test_energy_intensity_rejects_bad_input(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        energy_intensity_tce_per_10k_cny(**kwargs)


def test_intensity_target_hand_cases() -> None:
    """Base 1.22, -20 % over 5 years.

    linear: t=2.5 -> 1.22 (1 - 0.2 * 0.5) = 1.098; t=5 -> 0.976; held at t=7.
    geometric: t=2.5 -> 1.22 * 0.8^0.5 = 1.0912012; t=5 -> 0.976; held at t=7.
    """
    years = np.array([0.0, 2.5, 5.0, 7.0])
    linear = intensity_target_tce_per_10k_cny(1.22, years)
    geometric = intensity_target_tce_per_10k_cny(1.22, years, path="geometric")
    assert linear == pytest.approx([1.22, 1.098, 0.976, 0.976])
    assert geometric == pytest.approx([1.22, 1.0912012, 0.976, 0.976], rel=1e-7)


def test_intensity_target_per_user_base() -> None:
    """Per-user bases with reduction 0.1 over 2 years at t=1: factor 0.95 -> [0.95, 1.9]."""
    target = intensity_target_tce_per_10k_cny(
        np.array([1.0, 2.0]), 1.0, reduction=0.1, horizon_years=2.0
    )
    assert target == pytest.approx([0.95, 1.9])


@SETTINGS
@given(
    base=st.floats(0.0, 10.0),
    t1=st.floats(0.0, 10.0),
    t2=st.floats(0.0, 10.0),
    reduction=st.floats(0.0, 0.9),
    horizon=st.floats(0.5, 10.0),
)
def test_intensity_target_paths_properties(
    base: float, t1: float, t2: float, reduction: float, horizon: float
) -> None:
    """Both paths fall over time to base (1 - reduction); geometric <= linear (convexity)."""
    early, late = sorted((t1, t2))
    for path in ("linear", "geometric"):
        a, b, end = intensity_target_tce_per_10k_cny(
            base, [early, late, horizon], reduction, horizon, path
        )
        assert b <= a + 1e-12
        assert base * (1 - reduction) - 1e-12 <= b <= base + 1e-12
        assert end == pytest.approx(base * (1 - reduction), abs=1e-12)
    lin = intensity_target_tce_per_10k_cny(base, late, reduction, horizon, "linear")
    geo = intensity_target_tce_per_10k_cny(base, late, reduction, horizon, "geometric")
    assert geo <= lin + 1e-12


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"base": -1.0, "years_elapsed": 1.0}, "base"),
        ({"base": 1.0, "years_elapsed": -1.0}, "years_elapsed"),
        ({"base": 1.0, "years_elapsed": 1.0, "reduction": 1.0}, "reduction"),
        ({"base": 1.0, "years_elapsed": 1.0, "reduction": -0.1}, "reduction"),
        ({"base": 1.0, "years_elapsed": 1.0, "horizon_years": 0.0}, "horizon_years"),
        ({"base": 1.0, "years_elapsed": 1.0, "path": "exponential"}, "path"),
    ],
)
def test_intensity_target_rejects_bad_input(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        intensity_target_tce_per_10k_cny(**kwargs)


def test_intensity_gap_hand_case() -> None:
    """Actual 1.0 vs target 0.8 -> 1.0/0.8 - 1 = +0.25 (behind); 0.6 vs 0.8 -> -0.25 (ahead)."""
    assert intensity_gap([1.0, 0.6], 0.8) == pytest.approx([0.25, -0.25])


@pytest.mark.parametrize(
    ("actual", "target", "name"),
    [(1.0, 0.0, "target"), (-1.0, 1.0, "actual"), (1.0, np.inf, "target")],
)
def test_intensity_gap_rejects_bad_input(actual: float, target: float, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        intensity_gap(actual, target)


# --------------------------------------------------------------------------- diagnostics


def test_base_load_ratio_hand_cases() -> None:
    """Off-hours are the last two intervals.

    user 0: off mean 2, working mean 10 -> 0.2;
    user 1: no working load but off-hours load -> inf;
    user 2: idle -> 0.
    """
    loads = np.array([[10.0, 10.0, 2.0, 2.0], [0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    ratio = base_load_ratio(loads, np.array([False, False, True, True]))
    assert ratio.tolist() == [0.2, math.inf, 0.0]


def test_base_load_ratio_per_user_mask() -> None:
    """User 0 off = interval 3 only: 4 / mean(1, 2, 3) = 2; user 1 off = intervals 0, 1.

    User 1: mean(2, 2) = 2 over mean(8, 8) = 8 -> 0.25.
    """
    loads = np.array([[1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 8.0, 8.0]])
    mask = np.array([[False, False, False, True], [True, True, False, False]])
    assert base_load_ratio(loads, mask) == pytest.approx([2.0, 0.25])


@pytest.mark.parametrize(
    ("loads", "mask", "name"),
    [
        (np.ones(4), [False, False, True, True], "loads_kw"),
        (-np.ones((1, 4)), [False, False, True, True], "loads_kw"),
        (np.ones((1, 4)), [False, True, True], "off_hours_mask"),
        (np.ones((1, 4)), [False, False, False, False], "off_hours_mask"),
        (np.ones((1, 4)), [True, True, True, True], "off_hours_mask"),
        (np.ones((1, 4)), [0.0, 0.5, 1.0, 1.0], "off_hours_mask"),
        (np.ones((1, 4)), np.zeros((1, 1, 4), dtype=bool), "off_hours_mask"),
    ],
)
def test_base_load_ratio_rejects_bad_input(loads: np.ndarray, mask: object, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        base_load_ratio(loads, mask)


# Outputs of 1,229,000 CNY make EI = E x 0.1229 x 10 / 1,229,000 = E / 1e6.
OUTPUT_CNY = 1_229_000.0


def test_diagnose_hand_case() -> None:
    """Industry A: EI 1.0, 1.1, 1.5 -> median 1.1, ratios 0.909, 1, 1.364 (> 1.2: user 2).

    Industry B: EI 2.0, 2.6 -> median 2.3, ratios 0.870, 1.130 (none > 1.2).
    Base-load ratios 0.1, 0.35, 0.2, 0.3, 0.31 -> users 1 and 4 exceed 0.3 (0.3 does not).
    """
    energy = np.array([1.0e6, 1.1e6, 1.5e6, 2.0e6, 2.6e6])
    ratio = np.array([0.1, 0.35, 0.2, 0.3, 0.31])
    industry = np.array(["A", "A", "A", "B", "B"])
    d = diagnose(energy, np.full(5, OUTPUT_CNY), ratio, industry)
    assert d.intensity == pytest.approx([1.0, 1.1, 1.5, 2.0, 2.6])
    assert d.peer_median == pytest.approx([1.1, 1.1, 1.1, 2.3, 2.3])
    assert d.benchmark_ratio == pytest.approx([1 / 1.1, 1.0, 1.5 / 1.1, 2 / 2.3, 2.6 / 2.3])
    assert d.flag_intensity.tolist() == [False, False, True, False, False]
    assert d.flag_base_load.tolist() == [False, True, False, False, True]
    assert d.flagged.tolist() == [False, True, True, False, True]
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.flagged = d.flag_intensity  # type: ignore[misc]


def test_diagnose_singleton_and_zero_median_conventions() -> None:
    """A user alone in its industry has ratio 1 (never flagged for intensity).

    Industry Z has EI 0, 0, 0.5 -> median 0: ratios 1, 1, inf; only the third is flagged.
    With ei_factor 0.9 every ratio (1, 1, 1, inf) exceeds it, so all four are flagged.
    """
    energy = np.array([3.0e6, 0.0, 0.0, 0.5e6])
    industry = np.array(["S", "Z", "Z", "Z"])
    d = diagnose(energy, np.full(4, OUTPUT_CNY), np.zeros(4), industry)
    assert d.benchmark_ratio.tolist() == [1.0, 1.0, 1.0, math.inf]
    assert d.flagged.tolist() == [False, False, False, True]
    low = diagnose(energy, np.full(4, OUTPUT_CNY), np.zeros(4), industry, ei_factor=0.9)
    assert low.flag_intensity.tolist() == [True, True, True, True]


@SETTINGS
@given(
    data=st.lists(
        st.tuples(st.floats(0.0, 1e7), st.floats(1e3, 1e8), st.integers(0, 3)),
        min_size=1,
        max_size=30,
    ),
    seed=st.integers(0, 2**32 - 1),
)
@example(data=[(0.0, 1e3, 0), (1.0, 1e3, 0), (2.2250738585e-313, 1e3, 0)], seed=0)
def test_diagnose_peer_median_matches_numpy(
    data: list[tuple[float, float, int]], seed: int
) -> None:
    """The vectorised grouped median equals np.median per industry and is order-free."""
    energy, output, codes = (np.array(col) for col in zip(*data, strict=True))
    industry = np.array([f"ind{c}" for c in codes])
    d = diagnose(energy, output, np.zeros(len(data)), industry)
    for label in np.unique(industry):
        rows = industry == label
        assert d.peer_median[rows] == pytest.approx(np.median(d.intensity[rows]), rel=1e-12)
    perm = np.random.default_rng(seed).permutation(len(data))
    shuffled = diagnose(energy[perm], output[perm], np.zeros(len(data)), industry[perm])
    assert shuffled.peer_median == pytest.approx(d.peer_median[perm], rel=1e-12)
    assert np.array_equal(shuffled.flagged, d.flagged[perm])


def test_diagnose_subnormal_median_overflows_to_inf_silently() -> None:
    """EI 0, 1.229e-3 and ~2.7e-316 (subnormal) in one industry: the median is ~2.7e-316.

    1.229e-3 / 2.7e-316 exceeds the float range: the ratio is inf and the user is flagged,
    as with a zero median, without an overflow RuntimeWarning (an error under pytest).
    """
    energy = np.array([0.0, 1.0, 2.2250738585e-313])
    d = diagnose(energy, np.full(3, 1e3), np.zeros(3), np.array(["A", "A", "A"]))
    assert d.peer_median.tolist() == [d.intensity[2]] * 3
    assert 0.0 < d.peer_median[0] < np.finfo(np.float64).tiny
    assert d.benchmark_ratio.tolist() == [0.0, math.inf, 1.0]
    assert d.flagged.tolist() == [False, True, False]


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"industry": np.array(["A", "A"])}, "industry"),
        ({"base_load_ratio": np.array([0.1, -0.1, 0.1])}, "base_load_ratio"),
        ({"base_load_ratio": np.array([0.1, np.nan, 0.1])}, "base_load_ratio"),
        ({"output_value_cny": np.array([1.0, 0.0, 1.0])}, "output_value_cny"),
        ({"energy_kwh": np.ones((3, 1))}, "energy_kwh"),
        ({"ei_factor": 0.0}, "ei_factor"),
        ({"base_load_threshold": -0.1}, "base_load_threshold"),
        ({"industry": np.array(["A", None, 1], dtype=object)}, "industry"),
    ],
)
def test_diagnose_rejects_bad_input(change: dict, name: str) -> None:
    args = {
        "energy_kwh": np.ones(3),
        "output_value_cny": np.ones(3),
        "base_load_ratio": np.zeros(3),
        "industry": np.array(["A", "A", "B"]),
    } | change
    with pytest.raises(ValueError, match=name):
        diagnose(**args)


# --------------------------------------------------------------------------- measures

VSD = {
    "name": "variable_speed_drives",
    "capex_cny": 10_000,
    "capex_cny_per_kw": 100,
    "energy_saving_share": 0.1,
    "peak_saving_kw": 5,
    "peak_saving_share": 0.05,
    "lifetime_years": 10,
    "industries": ["a"],
}
LIGHT = {
    "name": "lighting_retrofit",
    "capex_cny": 5_000,
    "energy_saving_share": 0.02,
    "peak_saving_kw": 0,
    "lifetime_years": 5,
}


def test_measure_from_dict() -> None:
    m = Measure.from_dict(VSD)
    assert m.industries == ("a",)
    assert m.capex_cny == 10_000.0
    assert isinstance(m.capex_cny, float)
    light = Measure.from_dict(LIGHT)
    assert light.industries == ()
    assert (light.capex_cny_per_kw, light.peak_saving_share) == (0.0, 0.0)
    assert measures_from_config([VSD, LIGHT]) == (m, light)


def test_measures_from_config_catalogue_layout() -> None:
    """The conf layout: a DictConfig keyed by name, per-kW capex only, a standby flag."""
    conf = OmegaConf.create(
        {
            "lighting_retrofit": {
                "capex_cny_per_kw": 25.0,
                "energy_saving_share": 0.02,
                "peak_saving_share": 0.02,
                "lifetime_years": 8.0,
                "industries": [],
            },
            "standby_management": {
                "capex_cny_per_kw": 10.0,
                "energy_saving_share": 0.0,
                "peak_saving_share": 0.0,
                "lifetime_years": 5.0,
                "industries": ["batch_manufacturing"],
                "standby": True,
            },
        }
    )
    light, standby = measures_from_config(conf)
    assert light == Measure("lighting_retrofit", 0.0, 0.02, 0.0, 8.0, (), 25.0, 0.02, False)
    assert standby.name == "standby_management"
    assert standby.industries == ("batch_manufacturing",)
    assert standby.standby is True
    assert (standby.capex_cny, standby.peak_saving_kw) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("entry", "name"),
    [
        ({k: v for k, v in LIGHT.items() if k != "capex_cny"}, "capex_cny"),
        ({k: v for k, v in LIGHT.items() if k != "lifetime_years"}, "lifetime_years"),
        (LIGHT | {"capex_cny_per_kwh": 1.0}, "capex_cny_per_kwh"),
        (LIGHT | {"energy_saving_share": 1.2}, "energy_saving_share"),
        (LIGHT | {"peak_saving_share": -0.1}, "peak_saving_share"),
        (LIGHT | {"lifetime_years": 0}, "lifetime_years"),
        (LIGHT | {"capex_cny": "5000"}, "capex_cny"),
        (LIGHT | {"capex_cny": True}, "capex_cny"),
        (LIGHT | {"industries": "textiles"}, "industries"),
        (LIGHT | {"industries": ["a", 3]}, "industries"),
        (LIGHT | {"name": ""}, "name"),
        ({k: v for k, v in LIGHT.items() if k != "name"}, "name"),
        ({k: v for k, v in LIGHT.items() if k != "capex_cny"} | {"peak_saving_kw": 1}, "capex_"),
        (LIGHT | {"standby": "yes"}, "standby"),
    ],
)
def test_measure_from_dict_rejects_bad_entry(entry: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        Measure.from_dict(entry)


def test_measures_from_config_rejects_bad_catalogues() -> None:
    with pytest.raises(ValueError, match="lighting_retrofit"):
        measures_from_config([LIGHT, LIGHT])
    with pytest.raises(ValueError, match="entries"):
        measures_from_config("lighting_retrofit")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="differs"):
        measures_from_config({"lamps": LIGHT})
    with pytest.raises(ValueError, match="mapping"):
        measures_from_config(LIGHT)  # a single entry taken for a catalogue
    with pytest.raises(ValueError, match="mapping"):
        Measure.from_dict([("name", "x")])  # type: ignore[arg-type]


def test_annual_saving_hand_case() -> None:
    """100,000 kWh x 0.6 CNY/kWh + 30 kW x 30 CNY/(kW month) x 12 = 60,000 + 10,800 = 70,800."""
    assert annual_saving_cny(100_000.0, 0.6, 30.0, 30.0) == pytest.approx(70_800.0)


@pytest.mark.parametrize(
    ("args", "name"),
    [
        ((-1.0, 0.6, 30.0, 30.0), "energy_saving_kwh"),
        ((1.0, -0.6, 30.0, 30.0), "price_cny_per_kwh"),
        ((1.0, 0.6, -30.0, 30.0), "peak_saving_kw"),
        ((1.0, 0.6, 30.0, np.inf), "demand_charge_cny_per_kw_month"),
        (([1.0, 2.0], [0.6, 0.6, 0.6], 30.0, 30.0), "price_cny_per_kwh"),
    ],
)
def test_annual_saving_rejects_bad_input(args: tuple, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        annual_saving_cny(*args)


def test_payback_hand_cases() -> None:
    """12 x 60,000 / 70,800 = 10.1695 months; S <= 0 -> inf; K = 0 with S > 0 -> 0."""
    pb = payback_months([60_000.0, 1_000.0, 1_000.0, 0.0], [70_800.0, 0.0, -5.0, 1.0])
    assert pb == pytest.approx([10.1694915, math.inf, math.inf, 0.0])


def test_payback_of_vanishing_saving_is_inf_without_warning() -> None:
    """12 x 1 / 1e-310 overflows: the limit, inf, is returned (warnings are errors here)."""
    assert payback_months(1.0, 1e-310) == math.inf


@pytest.mark.parametrize(
    ("capex", "saving", "name"),
    [(-1.0, 1.0, "capex_cny"), (1.0, np.nan, "annual_saving_cny")],
)
def test_payback_rejects_bad_input(capex: float, saving: float, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        payback_months(capex, saving)


def test_npv_hand_cases() -> None:
    """-100,000 + 30,000 x (1 - 1.08^-5) / 0.08 = -100,000 + 30,000 x 3.99271 = 19,781.30.

    At r = 0: -100,000 + 5 x 30,000 = 50,000. Annuity factor (8 %, 5 y) = 3.992710.
    """
    assert npv_cny(100_000.0, 30_000.0, 5.0, 0.08) == pytest.approx(19_781.30, abs=0.01)
    assert npv_cny(100_000.0, 30_000.0, 5.0, 0.0) == pytest.approx(50_000.0)
    assert annuity_factor([5.0, 5.0], [0.08, 0.0]) == pytest.approx([3.992710, 5.0], rel=1e-6)


@SETTINGS
@given(
    capex=st.floats(0.0, 1e7),
    saving=st.floats(1.0, 1e6),
    life=st.floats(0.5, 30.0),
    r1=st.floats(-0.5, 0.5),
    r2=st.floats(-0.5, 0.5),
)
@example(capex=0.0, saving=1.0, life=0.5, r1=0.0, r2=-5e-324)
def test_npv_falls_with_rate_and_annuity_is_continuous_at_zero(
    capex: float, saving: float, life: float, r1: float, r2: float
) -> None:
    low, high = sorted((r1, r2))
    assert npv_cny(capex, saving, life, high) <= npv_cny(capex, saving, life, low) + 1e-6
    # The annuity factor near r = 0 is L (1 - r (L + 1) / 2 + ...): relative change ~1e-11.
    assert annuity_factor(life, 1e-12) == pytest.approx(life, rel=1e-9)
    assert annuity_factor(life, 0.0) == life


@pytest.mark.parametrize("rate", [5e-324, -5e-324, 1e-310, -1e-300, 1e-17])
def test_annuity_factor_at_tiny_rates_equals_lifetime(rate: float) -> None:
    """0.5 and 30 years at |r| ≤ 1e-17: (1 − (1 + r)^−L) / r = L (1 − r (L + 1) / 2 + …) = L.

    Regression: −L · log1p(r) underflowed to 0 for r = −5e-324, L = 0.5, so the direct
    formula gave 0 / r = 0 instead of 0.5.
    """
    assert annuity_factor([0.5, 30.0], rate) == pytest.approx([0.5, 30.0], rel=1e-15)
    assert npv_cny(0.0, 1.0, 0.5, rate) == pytest.approx(0.5, rel=1e-15)


@pytest.mark.parametrize(
    ("args", "name"),
    [
        ((1.0, 1.0, 5.0, -1.0), "discount_rate"),
        ((1.0, 1.0, -5.0, 0.05), "lifetime_years"),
        ((-1.0, 1.0, 5.0, 0.05), "capex_cny"),
        ((1.0, np.inf, 5.0, 0.05), "annual_saving_cny"),
    ],
)
def test_npv_rejects_bad_input(args: tuple, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        npv_cny(*args)


def _catalogue() -> tuple[Measure, ...]:
    return measures_from_config([VSD, LIGHT])


def test_evaluate_measures_hand_case() -> None:
    """Users: u0 industry a, 1e6 kWh, 500 kW; u1 industry b, 2e5 kWh, 100 kW; p 0.6, a 30.

    VSD (industry a only), u0: K = 10,000 + 100 x 500 = 60,000; dE = 0.1 x 1e6 = 100,000;
      dP = 5 + 0.05 x 500 = 30; S = 60,000 + 30 x 30 x 12 = 70,800; PB = 10.1695.
    Lighting (all): u0 K 5,000, dE 20,000, S 12,000, PB 5; u1 dE 4,000, S 2,400, PB 25.
    best: lighting for both (PB 5 and 25).
    """
    ev = evaluate_measures(
        _catalogue(),
        np.array(["a", "b"]),
        np.array([1e6, 2e5]),
        np.array([500.0, 100.0]),
        0.6,
        30.0,
        np.zeros((2, 2), dtype=bool),
    )
    assert ev.names == ("variable_speed_drives", "lighting_retrofit")
    assert ev.lifetime_years.tolist() == [10.0, 5.0]
    assert ev.applicable.tolist() == [[True, True], [False, True]]
    assert ev.capex_cny == pytest.approx(np.array([[60_000.0, 5_000.0], [0.0, 5_000.0]]))
    assert ev.energy_saving_kwh == pytest.approx(np.array([[1e5, 2e4], [0.0, 4e3]]))
    assert ev.peak_saving_kw == pytest.approx(np.array([[30.0, 0.0], [0.0, 0.0]]))
    assert ev.annual_saving_cny == pytest.approx(np.array([[70_800.0, 12_000.0], [0.0, 2_400.0]]))
    assert ev.payback_months == pytest.approx(np.array([[10.1694915, 5.0], [math.inf, 25.0]]))
    assert ev.best.tolist() == [1, 1]
    assert ev.best_payback_months == pytest.approx([5.0, 25.0])


def test_evaluate_measures_skips_installed() -> None:
    """u0 has lighting installed -> VSD (PB 10.17); u1 has lighting and VSD does not apply -> -1."""
    ev = evaluate_measures(
        _catalogue(),
        np.array(["a", "b"]),
        np.array([1e6, 2e5]),
        np.array([500.0, 100.0]),
        0.6,
        30.0,
        np.array([[False, True], [False, True]]),
    )
    assert ev.best.tolist() == [0, -1]
    assert ev.best_payback_months == pytest.approx([10.1694915, math.inf])


def test_evaluate_measures_per_user_prices_and_peak_cap() -> None:
    """Power-factor correction: K 2,000, no energy saving, dP = 150 kW fixed.

    u0 (contracted 100 kW): dP capped at 100; a = 20 -> S = 100 x 20 x 12 = 24,000; PB = 1.
    u1 (contracted 300 kW): dP 150; a = 0 -> S = 0 -> PB inf -> best -1.
    """
    pfc = Measure("power_factor_correction", 2_000.0, 0.0, 150.0, 10.0)
    ev = evaluate_measures(
        [pfc],
        ["x", "y"],
        [1e5, 1e5],
        [100.0, 300.0],
        np.array([0.5, 0.7]),
        np.array([20.0, 0.0]),
    )
    assert ev.peak_saving_kw[:, 0] == pytest.approx([100.0, 150.0])
    assert ev.annual_saving_cny[:, 0] == pytest.approx([24_000.0, 0.0])
    assert ev.payback_months[:, 0] == pytest.approx([1.0, math.inf])
    assert ev.best.tolist() == [0, -1]


def test_evaluate_measures_standby_waste() -> None:
    """Standby management: K = 10 CNY/kW x 200 kW = 2,000; removes the standby waste only.

    u0 wastes 10,000 kWh/year: S = 10,000 x 0.6 = 6,000 -> PB = 12 x 2,000 / 6,000 = 4 months.
    u1 wastes nothing: S = 0 -> PB inf -> best -1. Lighting ignores the waste: 0.02 x 1e5 = 2,000.
    """
    standby = Measure("standby_management", 0.0, 0.0, 0.0, 5.0, capex_cny_per_kw=10.0, standby=True)
    ev = evaluate_measures(
        [standby, Measure.from_dict(LIGHT)],
        ["a", "a"],
        [1e5, 1e5],
        [200.0, 200.0],
        0.6,
        30.0,
        standby_waste_kwh=np.array([10_000.0, 0.0]),
    )
    assert ev.capex_cny[:, 0] == pytest.approx([2_000.0, 2_000.0])
    assert ev.energy_saving_kwh == pytest.approx(np.array([[1e4, 2e3], [0.0, 2e3]]))
    assert ev.payback_months[:, 0] == pytest.approx([4.0, math.inf])
    assert ev.best.tolist() == [0, 1]


def test_evaluate_measures_empty_catalogue() -> None:
    ev = evaluate_measures([], ["a"], [1.0], [1.0], 0.6, 30.0)
    assert ev.capex_cny.shape == (1, 0)
    assert ev.best.tolist() == [-1]


@SETTINGS
@given(
    shares=hnp.arrays(np.float64, 4, elements=st.floats(0.0, 0.5)),
    capex=hnp.arrays(np.float64, 4, elements=st.floats(0.0, 1e6)),
    energy=hnp.arrays(np.float64, 6, elements=st.floats(0.0, 1e7)),
    installed=hnp.arrays(np.bool_, (6, 4)),
    codes=hnp.arrays(np.int64, 6, elements=st.integers(0, 2)),
)
def test_evaluate_measures_best_is_shortest_candidate(
    shares: np.ndarray,
    capex: np.ndarray,
    energy: np.ndarray,
    installed: np.ndarray,
    codes: np.ndarray,
) -> None:
    """best is an applicable, uninstalled, finite-payback measure of minimal payback."""
    measures = [
        Measure(f"m{j}", capex[j], shares[j], 0.0, 10.0, ("i0", "i1") if j % 2 else ())
        for j in range(4)
    ]
    industry = np.array([f"i{c}" for c in codes])
    ev = evaluate_measures(measures, industry, energy, np.full(6, 100.0), 0.6, 30.0, installed)
    candidate = ev.applicable & ~installed & np.isfinite(ev.payback_months)
    for i in range(6):
        if candidate[i].any():
            j = ev.best[i]
            assert candidate[i, j]
            assert ev.payback_months[i, j] == ev.payback_months[i][candidate[i]].min()
            assert ev.best_payback_months[i] == ev.payback_months[i, j]
        else:
            assert ev.best[i] == -1
            assert ev.best_payback_months[i] == math.inf
    assert np.all(ev.applicable[:, 1] == (codes < 2))
    assert np.all(ev.applicable[:, 0])


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"installed": np.zeros((2, 3), dtype=bool)}, "installed"),
        ({"industry": ["a"]}, "industry"),
        ({"contracted_kw": [1.0, -1.0]}, "contracted_kw"),
        ({"price_cny_per_kwh": [0.6, 0.6, 0.6]}, "price_cny_per_kwh"),
        ({"demand_charge_cny_per_kw_month": -1.0}, "demand_charge_cny_per_kw_month"),
        ({"annual_energy_kwh": [np.nan, 1.0]}, "annual_energy_kwh"),
        ({"standby_waste_kwh": [1.0, 1.0, 1.0]}, "standby_waste_kwh"),
        ({"measures": [LIGHT]}, "measures"),
        ({"measures": [Measure.from_dict(LIGHT)] * 2}, "measures"),
    ],
)
def test_evaluate_measures_rejects_bad_input(change: dict, name: str) -> None:
    args = {
        "measures": _catalogue(),
        "industry": ["a", "b"],
        "annual_energy_kwh": [1e6, 2e5],
        "contracted_kw": [500.0, 100.0],
        "price_cny_per_kwh": 0.6,
        "demand_charge_cny_per_kw_month": 30.0,
        "installed": np.zeros((2, 2), dtype=bool),
    } | change
    with pytest.raises(ValueError, match=name):
        evaluate_measures(**args)


def test_combined_energy_saving_share_hand_case() -> None:
    """Shares 0.1 and 0.2: both -> 1 - 0.9 x 0.8 = 0.28; first only -> 0.1; none -> 0."""
    installed = np.array([[True, True], [True, False], [False, False]])
    combined = combined_energy_saving_share(installed, [0.1, 0.2])
    assert combined == pytest.approx([0.28, 0.1, 0.0])
    with pytest.raises(ValueError, match="energy_saving_share"):
        combined_energy_saving_share(installed, [0.1])
    with pytest.raises(ValueError, match="installed"):
        combined_energy_saving_share(np.array([True, False]), [0.1, 0.2])


# --------------------------------------------------------------------------- adoption


def test_adoption_probability_hand_cases() -> None:
    """Defaults beta 4, peer_weight 2, threshold 15 months.

    PB 0 -> sigma(4) = 0.982014; PB 15 -> sigma(0) = 0.5; PB 30 -> sigma(-4) = 0.017986;
    PB inf -> 0; PB 15 with peer share 0.5 -> sigma(1) = 0.731059;
    PB 15 considered 0.3 -> 0.15.
    """
    p = adoption_probability([0.0, 15.0, 30.0, math.inf], 15.0, 0.0)
    assert p == pytest.approx([0.982014, 0.5, 0.017986, 0.0], abs=1e-6)
    assert p[3] == 0.0
    assert adoption_probability(15.0, 15.0, 0.5) == pytest.approx(0.731059, abs=1e-6)
    assert adoption_probability(15.0, 15.0, 0.0, considered=0.3) == pytest.approx(0.15)


def test_adoption_probability_infinite_payback_with_zero_beta() -> None:
    """beta = 0 ignores payback, yet an infinite payback (no saving) still gives exactly 0."""
    p = adoption_probability([math.inf, 100.0], 15.0, 0.0, beta=0.0)
    assert p.tolist() == [0.0, 0.5]


def test_adoption_probability_huge_payback_is_zero_without_warning() -> None:
    """(0.5 - 1e308) / 0.5 overflows to -inf: sigma(-inf) = 0; 20 x -2e307 overflows too.

    With beta = 0 the payback does not matter even then: sigma(0) = 0.5.
    """
    assert adoption_probability(1e308, 0.5, 0.0) == 0.0
    assert adoption_probability(1e307, 0.5, 0.0, beta=20.0) == 0.0
    assert adoption_probability(1e308, 0.5, 0.0, beta=0.0) == 0.5


@SETTINGS
@given(
    pb1=st.floats(0.0, 1e4),
    pb2=st.floats(0.0, 1e4),
    s1=st.floats(0.0, 1.0),
    s2=st.floats(0.0, 1.0),
    threshold=st.floats(0.5, 100.0),
    considered=st.floats(0.0, 1.0),
    beta=st.floats(0.0, 20.0),
    peer_weight=st.floats(0.0, 10.0),
)
def test_adoption_probability_properties(
    pb1: float,
    pb2: float,
    s1: float,
    s2: float,
    threshold: float,
    considered: float,
    beta: float,
    peer_weight: float,
) -> None:
    """In [0, 1]; non-increasing in payback; non-decreasing in peer share; 0 at inf payback."""
    kw = {"beta": beta, "peer_weight": peer_weight, "considered": considered}
    short, long_ = sorted((pb1, pb2))
    low, high = sorted((s1, s2))
    grid = adoption_probability(
        np.array([[short], [long_], [math.inf]]), threshold, np.array([low, high]), **kw
    )
    assert np.all((grid >= 0.0) & (grid <= 1.0))
    assert np.all(grid[1] <= grid[0])
    assert np.all(grid[:, 1] >= grid[:, 0])
    assert np.all(grid[2] == 0.0)


def test_adoption_probability_strictly_monotone_in_interior() -> None:
    """Away from saturation the effects are strict: 10 < 20 months, share 0.2 < 0.6."""
    p = adoption_probability(np.array([[10.0], [20.0]]), 15.0, np.array([0.2, 0.6]))
    assert p[0, 0] > p[1, 0]
    assert p[0, 1] > p[0, 0]


@pytest.mark.parametrize(
    ("args", "kwargs", "name"),
    [
        ((np.nan, 15.0, 0.0), {}, "payback_months"),
        ((-1.0, 15.0, 0.0), {}, "payback_months"),
        ((10.0, 0.0, 0.0), {}, "threshold_months"),
        ((10.0, 15.0, 1.5), {}, "peer_share"),
        ((10.0, 15.0, 0.0), {"considered": -0.1}, "considered"),
        ((10.0, 15.0, 0.0), {"beta": -1.0}, "beta"),
        ((10.0, 15.0, 0.0), {"peer_weight": -1.0}, "peer_weight"),
        ((10.0, 15.0, 0.0), {"intercept": math.inf}, "intercept"),
        (([10.0, 1.0], [15.0, 1.0, 1.0], 0.0), {}, "threshold_months"),
    ],
)
def test_adoption_probability_rejects_bad_input(args: tuple, kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        adoption_probability(*args, **kwargs)


def test_consideration_probability() -> None:
    p = consideration_probability(np.array([True, False]), base=0.05, after_report=0.4)
    assert p.tolist() == [0.4, 0.05]
    with pytest.raises(ValueError, match="after_report"):
        consideration_probability([True], base=0.05, after_report=1.5)
    with pytest.raises(ValueError, match="report_received"):
        consideration_probability(["yes"], base=0.05, after_report=0.5)


def test_draw_thresholds_moments() -> None:
    """Lognormal with mean 15 and cv 0.5: sigma^2 = ln 1.25, median = 15 / sqrt(1.25) = 13.416.

    n = 200,000: SE(mean) = 15 x 0.5 / sqrt(n) = 0.017, so +-0.1 is ~6 SE; the sample cv has an
    SE of about 0.0015 (lognormal kurtosis 8.0), so +-0.01 is ~6 SE.
    """
    t = draw_thresholds_months(np.random.default_rng(20240601), 200_000)
    assert t.shape == (200_000,)
    assert np.all(t > 0.0)
    assert t.mean() == pytest.approx(15.0, abs=0.1)
    assert t.std() / t.mean() == pytest.approx(0.5, abs=0.01)
    assert np.median(t) == pytest.approx(15.0 / math.sqrt(1.25), abs=0.1)


def test_draw_thresholds_determinism_and_degenerate_cases() -> None:
    a = draw_thresholds_months(np.random.default_rng(7), 5, mean=12.0, cv=0.3)
    b = draw_thresholds_months(np.random.default_rng(7), 5, mean=12.0, cv=0.3)
    assert np.array_equal(a, b)
    assert draw_thresholds_months(np.random.default_rng(7), 3, cv=0.0).tolist() == [15.0] * 3
    assert draw_thresholds_months(np.random.default_rng(7), 0).shape == (0,)


@pytest.mark.parametrize(
    ("args", "kwargs", "name"),
    [
        ((None, 3), {}, "rng"),
        ((np.random.RandomState(0), 3), {}, "rng"),
        (("gen", -1), {}, "n"),
        (("gen", 2.0), {}, "n"),
        (("gen", 3), {"mean": 0.0}, "mean"),
        (("gen", 3), {"cv": -0.1}, "cv"),
    ],
)
def test_draw_thresholds_rejects_bad_input(args: tuple, kwargs: dict, name: str) -> None:
    rng = np.random.default_rng(0) if args[0] == "gen" else args[0]
    with pytest.raises(ValueError, match=name):
        draw_thresholds_months(rng, *args[1:], **kwargs)


def test_peer_share_hand_case() -> None:
    """Adopted T, F, F in industry a; T in b; T in c.

    Including self: a -> 1/3 each; b, c -> 1.
    Excluding self: u0 -> 0/2 = 0; u1, u2 -> 1/2; singletons b, c -> 0.
    """
    adopted = np.array([True, False, False, True, True])
    industry = np.array(["a", "a", "a", "b", "c"])
    assert peer_share_by_industry(adopted, industry) == pytest.approx([1 / 3] * 3 + [1.0, 1.0])
    excl = peer_share_by_industry(adopted, industry, exclude_self=True)
    assert excl == pytest.approx([0.0, 0.5, 0.5, 0.0, 0.0])


@SETTINGS
@given(
    adopted=hnp.arrays(np.bool_, st.integers(1, 40)),
    data=st.data(),
)
def test_peer_share_matches_group_mean(adopted: np.ndarray, data: st.DataObject) -> None:
    codes = data.draw(hnp.arrays(np.int64, adopted.shape, elements=st.integers(0, 3)))
    share = peer_share_by_industry(adopted, codes)
    for c in np.unique(codes):
        rows = codes == c
        assert share[rows] == pytest.approx(adopted[rows].mean())


@pytest.mark.parametrize(
    ("adopted", "industry", "name"),
    [
        ([2.0, 0.0], ["a", "a"], "adopted"),
        ([1.0, 0.0], ["a"], "industry"),
        ([[1.0, 0.0]], ["a", "a"], "adopted"),
    ],
)
def test_peer_share_rejects_bad_input(adopted: list, industry: list, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        peer_share_by_industry(adopted, industry)


# --------------------------------------------------------------------------- surcharges


def test_differential_surcharge_hand_case() -> None:
    """1,000 / 2,000 kWh encouraged / permitted -> 0; 3,000 kWh restricted x 0.10 = 300;
    4,000 kWh eliminated x 0.30 = 1,200. Omitted categories pay 0.
    """
    energy = np.array([1_000.0, 2_000.0, 3_000.0, 4_000.0])
    surcharge = differential_surcharge_cny(
        energy, list(CATEGORIES), {"restricted": 0.10, "eliminated": 0.30}
    )
    assert surcharge == pytest.approx([0.0, 0.0, 300.0, 1_200.0])
    rates = differential_surcharge_cny_per_kwh(
        np.array([["eliminated", "permitted"]]), DEFAULT_SURCHARGES_CNY_PER_KWH
    )
    assert rates.shape == (1, 2)
    assert rates == pytest.approx(np.array([[0.30, 0.0]]))


@pytest.mark.parametrize(
    ("category", "surcharges", "name"),
    [
        (["restricted", "banned"], {"restricted": 0.1}, "banned"),
        (["restricted"], {"restrcited": 0.1}, "restrcited"),
        (["restricted"], {"restricted": -0.1}, "restricted"),
        (["restricted"], {"restricted": "0.1"}, "restricted"),
        (["restricted"], [("restricted", 0.1)], "surcharges_cny_per_kwh"),
    ],
)
def test_differential_surcharge_rejects_bad_input(
    category: list, surcharges: object, name: str
) -> None:
    with pytest.raises(ValueError, match=name):
        differential_surcharge_cny([1.0] * len(category), category, surcharges)  # type: ignore[arg-type]


def test_differential_surcharge_rejects_negative_energy() -> None:
    with pytest.raises(ValueError, match="energy_kwh"):
        differential_surcharge_cny([-1.0], ["restricted"], DEFAULT_SURCHARGES_CNY_PER_KWH)
