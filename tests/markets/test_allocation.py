import dataclasses
import itertools

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from markets.allocation import (
    EXACT_MAX_USERS,
    RULES,
    allocate,
    coalition_costs_cny,
    in_core,
    is_efficient,
    load_factors,
    shapley,
    unit_load_rate_contribution,
)

# Two users, three hourly intervals; aggregate [2, 3, 3] kW ties at t = 1, 2.
L2 = np.array([[2.0, 1.0, 0.0], [0.0, 2.0, 3.0]])
A, B = 10.0, 1.0  # CNY/kW of aggregate peak, CNY/kWh
# Three users whose Shapley value leaves the core.
L3 = np.array([[3.0, 1.0], [1.0, 2.0], [2.0, 0.0]])


def total_cost(loads, a, b, dt=1.0):
    return a * loads.sum(axis=0).max() + b * loads.sum() * dt


def brute_force_shapley(loads, a, b):
    """Average marginal cost over all n! orders (independent of the bit-trick code)."""
    n = loads.shape[0]
    phi = np.zeros(n)
    orders = list(itertools.permutations(range(n)))
    for order in orders:
        running = np.zeros(loads.shape[1])
        previous = 0.0
        for i in order:
            running = running + loads[i]
            cost = a * running.max() + b * running.sum()
            phi[i] += cost - previous
            previous = cost
    return phi / len(orders)


load_matrices = st.integers(1, 5).flatmap(
    lambda n: st.integers(1, 5).flatmap(
        lambda t: arrays(np.float64, (n, t), elements=st.integers(0, 10).map(float))
    )
)


def test_coincident_peak_hand_example_with_tie():
    """Aggregate [2, 3, 3]: peak 3 kW at t = 1 and t = 2 (tie, both used).

    User 1 mean over peak = (1 + 0)/2 = 0.5 kW, user 2 = (2 + 3)/2 = 2.5 kW; E = [3, 5] kWh.
    x = [10·0.5 + 3, 10·2.5 + 5] = [8, 30]; F1 = 10·3 + 8 = 38.
    """
    x = allocate(L2, A, B, "coincident_peak")
    np.testing.assert_allclose(x, [8.0, 30.0])
    assert x.sum() == pytest.approx(total_cost(L2, A, B))


def test_shapley_two_user_closed_form():
    """φ_1 = ½(c(1) + c(12) − c(2)).

    c(1) = 10·2 + 3 = 23, c(2) = 10·3 + 5 = 35, c(12) = 38 → φ = [½(23+38−35), ½(35+38−23)]
    = [13, 25].
    """
    result = shapley(L2, A, B)
    np.testing.assert_allclose(result.values_cny, [13.0, 25.0])
    np.testing.assert_array_equal(result.std_error_cny, [0.0, 0.0])
    assert result.exact
    np.testing.assert_allclose(allocate(L2, A, B, "shapley"), [13.0, 25.0])


def test_pro_rata_energy_hand_example():
    """F1 = 38 split by energy 3 : 5 → [14.25, 23.75]."""
    np.testing.assert_allclose(allocate(L2, A, B, "pro_rata_energy"), [14.25, 23.75])


def test_coalition_costs_hand_example():
    """Bitmask order ∅, {1}, {2}, {1,2}: [0, 23, 35, 38]."""
    np.testing.assert_allclose(coalition_costs_cny(L2, A, B), [0.0, 23.0, 35.0, 38.0])


def test_shapley_three_users_hand_example_is_outside_core():
    """Loads (3,1), (1,2), (2,0), a = 1, b = 0.

    v: {1}=3, {2}=2, {3}=2, {12}=4, {13}=5, {23}=3, {123}=6.
    φ_1 = ⅓·3 + ⅙((4−2)+(5−2)) + ⅓(6−3) = 17/6; φ_2 = ⅓·2 + ⅙((4−3)+(3−2)) + ⅓(6−5) = 8/6;
    φ_3 = ⅓·2 + ⅙((5−3)+(3−2)) + ⅓(6−4) = 11/6. Coalition {1,2} pays 25/6 > c({1,2}) = 4,
    so the Shapley value is not in the core; the coincident-peak split (3, 1, 2) is.
    """
    phi = shapley(L3, 1.0, 0.0).values_cny
    np.testing.assert_allclose(phi, np.array([17.0, 8.0, 11.0]) / 6.0)
    assert not in_core(phi, L3, 1.0, 0.0)
    peak_split = allocate(L3, 1.0, 0.0, "coincident_peak")
    np.testing.assert_allclose(peak_split, [3.0, 1.0, 2.0])
    assert in_core(peak_split, L3, 1.0, 0.0)


def test_cost_game_is_not_submodular():
    """Loads (1,0), (0,1), (1,0), a = 1, b = 0: user 1's marginal cost joining {2} is
    max(1,1) − 1 = 0 but joining {2,3} is max(2,1) − max(1,1) = 1 (increasing marginals)."""
    loads = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    c = coalition_costs_cny(loads, 1.0, 0.0)
    assert c[0b011] - c[0b010] == pytest.approx(0.0)
    assert c[0b111] - c[0b110] == pytest.approx(1.0)


def test_single_interval_game_is_additive():
    """With one interval c(S) = Σ_{i∈S} (a·L_i + b·L_i), so φ_i = (a + b)·L_i: [4, 6, 20]·1.5."""
    loads = np.array([[4.0], [6.0], [20.0]])
    np.testing.assert_allclose(shapley(loads, 1.0, 0.5).values_cny, [6.0, 9.0, 30.0])


def test_interval_length_scales_energy_term():
    """Half-hour intervals halve E: user energies [1.5, 2.5] kWh, F1 = 10·3 + 4 = 34.
    Coincident peak: [5 + 1.5, 25 + 2.5] = [6.5, 27.5]."""
    x = allocate(L2, A, B, "coincident_peak", interval_h=0.5)
    np.testing.assert_allclose(x, [6.5, 27.5])
    assert shapley(L2, A, B, interval_h=0.5).values_cny.sum() == pytest.approx(34.0)


@settings(max_examples=40, deadline=None)
@given(loads=load_matrices, a=st.floats(0.0, 50.0), b=st.floats(0.0, 2.0))
def test_exact_shapley_matches_permutation_enumeration(loads, a, b):
    np.testing.assert_allclose(
        shapley(loads, a, b).values_cny, brute_force_shapley(loads, a, b), atol=1e-9, rtol=1e-9
    )


@settings(max_examples=60, deadline=None)
@given(
    loads=load_matrices,
    a=st.floats(0.0, 50.0),
    b=st.floats(0.0, 2.0),
    rule=st.sampled_from(RULES),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_rule_is_efficient(loads, a, b, rule, seed):
    x = allocate(loads, a, b, rule, rng=np.random.default_rng(seed))
    assert x.shape == (loads.shape[0],)
    assert is_efficient(x, total_cost(loads, a, b))


def test_sampled_shapley_is_efficient_for_large_n():
    """Above 12 users sampling is used; every permutation telescopes to c(N), so the
    estimate sums to F1 exactly (up to rounding)."""
    loads = np.random.default_rng(3).random((20, 24))
    x = allocate(loads, 5.0, 0.5, "shapley", rng=np.random.default_rng(4), n_permutations=50)
    assert is_efficient(x, total_cost(loads, 5.0, 0.5))


def test_sampled_shapley_converges_to_exact():
    """n = 8 users × 24 h: with 3000 sampled permutations every user's estimate lies within
    4 standard errors of the exact value, and the standard errors are positive."""
    rng = np.random.default_rng(11)
    loads = rng.random((8, 24)) * 100.0
    exact = shapley(loads, 20.0, 0.5).values_cny
    sampled = shapley(loads, 20.0, 0.5, rng, n_permutations=3000, method="sampled")
    assert not sampled.exact
    assert sampled.n_permutations == 3000
    assert np.all(sampled.std_error_cny > 0)
    assert np.all(np.abs(sampled.values_cny - exact) <= 4.0 * sampled.std_error_cny + 1e-9)


def test_sampled_standard_error_shrinks_with_permutations():
    """Standard error ∝ 1/√m: quadrupling m roughly halves it (ratio within 0.35–0.65)."""
    loads = np.random.default_rng(5).random((6, 12))
    few = shapley(loads, 1.0, 0.0, np.random.default_rng(1), n_permutations=500, method="sampled")
    many = shapley(loads, 1.0, 0.0, np.random.default_rng(2), n_permutations=2000, method="sampled")
    ratio = many.std_error_cny.mean() / few.std_error_cny.mean()
    assert 0.35 < ratio < 0.65


@settings(max_examples=60, deadline=None)
@given(loads=load_matrices, a=st.floats(0.0, 50.0), b=st.floats(0.0, 2.0))
def test_coincident_peak_is_in_core(loads, a, b):
    """Σ_{i∈S} L_{i,t*} ≤ max_t Σ_{i∈S} L_it for every coalition S."""
    assert in_core(allocate(loads, a, b, "coincident_peak"), loads, a, b)


@settings(max_examples=60, deadline=None)
@given(loads=load_matrices, a=st.floats(0.0, 50.0), b=st.floats(0.0, 2.0))
def test_shapley_is_individually_rational(loads, a, b):
    """Marginal peak costs lie in [min_t L_it, max_t L_it] (max is monotone and subadditive)."""
    phi = shapley(loads, a, b).values_cny
    energy_cny = b * loads.sum(axis=1)
    stand_alone = a * loads.max(axis=1) + energy_cny
    floor = a * loads.min(axis=1) + energy_cny
    assert np.all(phi <= stand_alone + 1e-9)
    assert np.all(phi >= floor - 1e-9)


@settings(max_examples=60, deadline=None)
@given(
    loads=st.integers(1, 6).flatmap(
        lambda t: arrays(np.float64, (2, t), elements=st.floats(0.0, 100.0))
    ),
    a=st.floats(0.0, 50.0),
    b=st.floats(0.0, 2.0),
)
def test_two_user_shapley_is_in_core(loads, a, b):
    """For n = 2, φ_1 ≤ c(1) ⇔ c(12) ≤ c(1) + c(2), which subadditivity guarantees."""
    assert in_core(shapley(loads, a, b).values_cny, loads, a, b)


def test_unit_load_rate_contribution_hand_example():
    """User 1: mean 1 kW, mean over peak intervals 0.5 kW → 2.0; user 2: mean 5/3, at peak
    2.5 → 2/3. Aggregate LF = (8/3)/3 = 8/9 = (0.5·2 + 2.5·2/3) / 3 (peak-load-weighted mean)."""
    lf = unit_load_rate_contribution(L2)
    np.testing.assert_allclose(lf, [2.0, 2.0 / 3.0])
    at_peak = np.array([0.5, 2.5])
    assert (at_peak * lf).sum() / at_peak.sum() == pytest.approx(8.0 / 9.0)


def test_unit_load_rate_zero_conventions():
    """User with energy but nothing at the peak → inf; user with no energy → 0."""
    loads = np.array([[5.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    np.testing.assert_array_equal(unit_load_rate_contribution(loads), [1.0 / 2.0, np.inf, 0.0])


def test_load_factors_of_complementary_loads():
    """Two users at 100 kW in alternate halves of four hours: each alone has energy 200 kWh
    over a 100 kW peak × 4 h → LF 0.5; together a flat 100 kW → LF 1.0 (gain 0.5)."""
    loads = np.array([[100.0, 100.0, 0.0, 0.0], [0.0, 0.0, 100.0, 100.0]])
    lf = load_factors(loads)
    assert lf.aggregate == pytest.approx(1.0)
    assert lf.standalone == pytest.approx(0.5)


def test_load_factors_of_coincident_peaks_show_no_gain():
    """A flat 100 kW user (LF 1) and one at 100 kW for two of four hours (LF 0.5): the peaks
    coincide, so aggregation gains nothing: 600 kWh / (200 kW × 4 h) = 0.75 both ways. (The
    energy-weighted mean of the own LFs, (400·1 + 200·0.5)/600 = 0.83, would show a loss.)"""
    lf = load_factors(np.array([[100.0] * 4, [100.0, 100.0, 0.0, 0.0]]))
    assert lf.aggregate == pytest.approx(0.75)
    assert lf.standalone == pytest.approx(0.75)
    empty = load_factors(np.zeros((2, 3)))
    assert (empty.aggregate, empty.standalone) == (0.0, 0.0)


@settings(max_examples=60, deadline=None)
@given(loads=load_matrices, a=st.floats(0.0, 50.0), b=st.floats(0.0, 2.0))
def test_standalone_load_factor_prices_the_standalone_bills(loads, a, b):
    """Aggregate ≥ standalone, and the members' standalone two-part bills Σ(a·P_i + b·E_i)
    per kWh equal b + a / (LF_standalone · T) (one-hour intervals)."""
    lf = load_factors(loads)
    assert lf.aggregate >= lf.standalone - 1e-12
    energy = loads.sum()
    if energy > 0:
        bills = a * loads.max(axis=1).sum() + b * energy
        expected = b + a / (lf.standalone * loads.shape[1])
        assert bills / energy == pytest.approx(expected, rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(loads=load_matrices, a=st.floats(0.0, 50.0), b=st.floats(0.0, 2.0))
@example(loads=np.array([[0.0, 0.0], [1.0, 1.0]]), a=5e-324, b=5e-324)
def test_coincident_peak_price_matches_two_part_formula(loads, a, b):
    """x_i / E_i = b + a / (LF_i · T) for users loaded at the peak.

    Both sides are rounded differently, so near zero only an absolute tolerance works: with
    subnormal rates a = b = 5e-324 they are one ulp (5e-324 CNY/kWh) apart, a relative error
    of 1. 1e-12 CNY/kWh is far below any tariff resolution.
    """
    lf = unit_load_rate_contribution(loads)
    energy = loads.sum(axis=1)
    x = allocate(loads, a, b, "coincident_peak")
    ok = np.isfinite(lf) & (lf > 0)
    expected = b + a / (lf[ok] * loads.shape[1])
    np.testing.assert_allclose(x[ok] / energy[ok], expected, rtol=1e-9, atol=1e-12)


def test_zero_loads_allocate_zero():
    loads = np.zeros((3, 4))
    for rule in RULES:
        np.testing.assert_array_equal(allocate(loads, 1.0, 1.0, rule), np.zeros(3))


def test_is_efficient():
    assert is_efficient([1.0, 2.0], 3.0)
    assert not is_efficient([1.0, 2.0], 3.1)
    with pytest.raises(ValueError, match="allocation"):
        is_efficient([[1.0]], 1.0)
    with pytest.raises(ValueError, match="total"):
        is_efficient([1.0], np.nan)


def test_in_core_rejects_inefficient_allocation():
    """The coincident-peak split (3, 1, 2) of L3 plus 1 CNY is not efficient → not in core."""
    assert not in_core([4.0, 1.0, 2.0], L3, 1.0, 0.0)


def test_in_core_errors():
    big = np.ones((EXACT_MAX_USERS + 1, 2))
    with pytest.raises(ValueError, match="at most"):
        in_core(np.ones(EXACT_MAX_USERS + 1), big, 1.0, 1.0)
    with pytest.raises(ValueError, match="allocation"):
        in_core([1.0, 2.0], L3, 1.0, 0.0)
    with pytest.raises(ValueError, match="allocation"):
        in_core([1.0, np.nan, 2.0], L3, 1.0, 0.0)


def test_exact_limit_and_rng_requirements():
    big = np.random.default_rng(0).random((EXACT_MAX_USERS + 1, 3))
    with pytest.raises(ValueError, match="rng"):
        allocate(big, 1.0, 1.0, "shapley")
    with pytest.raises(ValueError, match="rng"):
        shapley(L2, 1.0, 1.0, method="sampled")
    with pytest.raises(ValueError, match="exact"):
        shapley(big, 1.0, 1.0, method="exact")
    with pytest.raises(ValueError, match="rng"):
        shapley(big, 1.0, 1.0, rng=np.random.RandomState(0))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_permutations"):
        shapley(big, 1.0, 1.0, np.random.default_rng(0), n_permutations=1)
    with pytest.raises(ValueError, match="method"):
        shapley(L2, 1.0, 1.0, method="fast")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("loads", "match"),
    [
        ([1.0, 2.0], "2-D"),
        (np.zeros((0, 3)), "at least one"),
        ([[1.0, np.nan]], "NaN"),
        ([[1.0, -1.0]], "negative"),
    ],
)
def test_bad_loads(loads, match):
    with pytest.raises(ValueError, match=match):
        allocate(loads, 1.0, 1.0)
    with pytest.raises(ValueError, match=match):
        unit_load_rate_contribution(loads)


def test_bad_rates_rule_and_interval():
    with pytest.raises(ValueError, match="capacity_rate_cny_per_kw"):
        allocate(L2, -1.0, 1.0)
    with pytest.raises(ValueError, match="energy_rate_cny_per_kwh"):
        allocate(L2, 1.0, np.inf)
    with pytest.raises(ValueError, match="rule"):
        allocate(L2, 1.0, 1.0, "nucleolus")
    with pytest.raises(ValueError, match="interval_h"):
        allocate(L2, 1.0, 1.0, interval_h=0.0)
    with pytest.raises(ValueError, match="capacity_rate_cny_per_kw"):
        coalition_costs_cny(L2, np.nan, 1.0)


def test_shapley_result_is_frozen():
    result = shapley(L2, A, B)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.exact = False  # type: ignore[misc]


def test_exact_shapley_at_the_user_limit_on_additive_game():
    """With one interval the game is additive, so the size weights s!(n−s−1)!/n! must sum to
    one over each user's marginal terms: 12 users with loads 1..12 kW, a = 2 → φ_i = 2·L_i."""
    n = EXACT_MAX_USERS
    loads = np.arange(1.0, n + 1.0)[:, None]
    np.testing.assert_allclose(shapley(loads, 2.0, 0.0).values_cny, 2.0 * loads[:, 0])
