import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from markets.credit import grade, loan_decision, loan_outcome, score, true_pd

# A: steady 1000 kWh, always on time. B: 500 → 1000 kWh, half on time. C: steady 2000, 75 %.
ENERGY = np.array([[1000.0] * 12, [500.0] * 6 + [1000.0] * 6, [2000.0] * 12])
RECORD = np.array([[1.0] * 12, [1.0, 0.0] * 6, [0.75] * 12])


def test_hand_example():
    """Means A 1000, B 750, C 2000 → ranks 2, 1, 3 → capacity [50, 0, 100].

    Utilisation: A, C have CV 0 → 100; B has std 250 / mean 750 = 1/3 → 66.667.
    Growth: A, C ln(1) = 0 → 50; B ln(1000/500) = ln 2 → 100. Payment: [100, 50, 75].
    Totals (0.2, 0.2, 0.2, 0.4): A = 10 + 20 + 10 + 40 = 80 (AA); B = 0 + 13.333 + 20 + 20
    = 53.333 (BB); C = 20 + 20 + 10 + 30 = 80 (AA).
    """
    s = score(ENERGY, RECORD)
    np.testing.assert_allclose(s.capacity, [50.0, 0.0, 100.0])
    np.testing.assert_allclose(s.utilisation, [100.0, 200.0 / 3.0, 100.0])
    np.testing.assert_allclose(s.growth, [50.0, 100.0, 50.0])
    np.testing.assert_allclose(s.payment, [100.0, 50.0, 75.0])
    np.testing.assert_allclose(s.total, [80.0, 160.0 / 3.0, 80.0])
    np.testing.assert_array_equal(s.grade, ["AA", "BB", "AA"])
    assert sum(s.weights.values()) == pytest.approx(1.0)


def test_growth_mapping():
    """Growth 50 + 50·clip(g/ln 2, −1, 1): ×√2 → g = ½ ln 2 → 75; ÷4 → clipped to 0;
    a user starting from zero → 100; zero in both windows → 50 (and utilisation 0)."""
    energy = np.array(
        [
            [100.0] * 6 + [100.0 * math.sqrt(2.0)] * 6,
            [400.0] * 6 + [100.0] * 6,
            [0.0] * 6 + [50.0] * 6,
            [0.0] * 12,
        ]
    )
    s = score(energy, np.ones_like(energy))
    np.testing.assert_allclose(s.growth, [75.0, 0.0, 100.0, 50.0])
    assert s.utilisation[3] == 0.0


def test_growth_uses_first_and_last_six_of_24_months():
    """24 months: first 6 at 100, middle 12 at 999, last 6 at 200 → ln 2 → 100."""
    energy = np.array([[100.0] * 6 + [999.0] * 12 + [200.0] * 6])
    s = score(energy, np.ones_like(energy))
    np.testing.assert_allclose(s.growth, [100.0])
    assert s.capacity[0] == 50.0  # single user: neutral percentile


def test_utilisation_clipped_at_zero():
    """One month of 1200 kWh and eleven of 0: mean 100, std 100·√11 ≈ 331.7 → CV > 1 → 0."""
    energy = np.array([[1200.0] + [0.0] * 11])
    assert score(energy, np.ones_like(energy)).utilisation[0] == 0.0


def test_capacity_ties_share_average_rank():
    """Means [10, 10, 30]: average ranks [1.5, 1.5, 3] → 100·(r − 1)/2 = [25, 25, 100]."""
    energy = np.repeat(np.array([[10.0], [10.0], [30.0]]), 12, axis=1)
    np.testing.assert_allclose(score(energy, np.ones_like(energy)).capacity, [25.0, 25.0, 100.0])


def test_custom_weights():
    """Weights {payment: 2, others 0} → normalised to payment only: total = payment score."""
    s = score(ENERGY, RECORD, {"capacity": 0, "utilisation": 0, "growth": 0, "payment": 2})
    np.testing.assert_allclose(s.total, s.payment)
    assert s.weights["payment"] == 1.0


def test_grade_thresholds():
    """AAA ≥ 90, AA ≥ 80, A ≥ 70, BBB ≥ 60, BB ≥ 50, B ≥ 40, else C; rounding slack 1e-9."""
    totals = [100.0, 90.0, 89.99, 80.0 - 1e-12, 70.0, 65.0, 50.0, 40.0, 39.9, 0.0]
    expected = ["AAA", "AAA", "AA", "AA", "A", "BBB", "BB", "B", "C", "C"]
    np.testing.assert_array_equal(grade(totals), expected)
    with pytest.raises(ValueError, match="total"):
        grade([101.0])


month_counts = st.integers(12, 24)
histories = st.integers(1, 5).flatmap(
    lambda n: month_counts.flatmap(
        lambda m: st.tuples(
            arrays(np.float64, (n, m), elements=st.floats(0.0, 1e5)),
            arrays(np.float64, (n, m), elements=st.floats(0.0, 1.0)),
        )
    )
)


@settings(max_examples=60, deadline=None)
@given(data=histories, user=st.integers(0, 4), month=st.integers(0, 23), gain=st.floats(0, 1))
def test_better_payment_never_lowers_score(data, user, month, gain):
    energy, record = data
    user, month = user % energy.shape[0], month % energy.shape[1]
    better = record.copy()
    better[user, month] = min(1.0, record[user, month] + gain)
    before, after = score(energy, record), score(energy, better)
    assert np.all(after.total >= before.total - 1e-9)
    others = np.arange(energy.shape[0]) != user
    np.testing.assert_allclose(after.total[others], before.total[others])


@settings(max_examples=60, deadline=None)
@given(data=histories)
def test_components_in_range(data):
    energy, record = data
    s = score(energy, record)
    for component in (s.capacity, s.utilisation, s.growth, s.payment, s.total):
        assert component.shape == (energy.shape[0],)
        assert np.all((component >= 0.0) & (component <= 100.0))


@settings(max_examples=60, deadline=None)
@given(data=histories, factor=st.floats(1.0, 10.0))
def test_growth_monotone_in_recent_consumption(data, factor):
    """Scaling the last 6 months up never lowers the growth score."""
    energy, record = data
    grown = energy.copy()
    grown[:, -6:] *= factor
    assert np.all(score(grown, record).growth >= score(energy, record).growth - 1e-9)


def test_result_is_frozen():
    s = score(ENERGY, RECORD)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.total = None  # type: ignore[misc]
    with pytest.raises(TypeError):
        s.weights["payment"] = 0.0  # type: ignore[index]


@pytest.mark.parametrize(
    ("energy", "match"),
    [
        (np.ones((2, 11)), "12–24 months"),
        (np.ones((2, 25)), "12–24 months"),
        (np.ones(12), "users × months"),
        (np.ones((0, 12)), "users × months"),
        (np.full((1, 12), np.nan), "NaN"),
        (-np.ones((1, 12)), "negative"),
    ],
)
def test_bad_monthly_kwh(energy, match):
    record = np.ones(energy.shape) if energy.ndim == 2 else np.ones((1, 12))
    with pytest.raises(ValueError, match=match):
        score(energy, record)


def test_bad_payment_record_weights_and_scale():
    energy = np.ones((2, 12))
    with pytest.raises(ValueError, match="payment_record"):
        score(energy, np.ones((2, 13)))
    with pytest.raises(ValueError, match="payment_record"):
        score(energy, np.full((2, 12), 1.5))
    with pytest.raises(ValueError, match="unknown component 'liquidity'"):
        score(energy, np.ones((2, 12)), {"liquidity": 1.0})
    with pytest.raises(ValueError, match="missing component 'growth'"):
        score(energy, np.ones((2, 12)), {"capacity": 1, "utilisation": 1, "payment": 1})
    with pytest.raises(ValueError, match="capacity"):
        score(
            energy, np.ones((2, 12)), {"capacity": -1, "utilisation": 1, "growth": 1, "payment": 1}
        )
    with pytest.raises(ValueError, match="all be zero"):
        score(
            energy,
            np.ones((2, 12)),
            dict.fromkeys(("capacity", "utilisation", "growth", "payment"), 0),
        )
    with pytest.raises(ValueError, match="growth_scale"):
        score(energy, np.ones((2, 12)), growth_scale=0.0)


# ---------------------------------------------------------------- loans (rule B2)


def test_loan_decision_hand_example():
    """L = 200,000, r = 5 %, PD = 2 %, LGD = 0.6, c_fix = 1000, fee 200:
    200,000·(0.98·0.05 − 0.02·0.6) − 1200 = 200,000·0.037 − 1200 = 6,200 > 0 → approve;
    expected loss 0.02·0.6·200,000 = 2,400. PD = 8 %: 200,000·(0.92·0.05 − 0.048) − 1200
    = −400 − 1200 = −1,600 → reject."""
    ok = loan_decision(200_000.0, 0.05, 0.02, 0.6, 1000.0, 200.0)
    assert ok.expected_profit_cny == pytest.approx(6_200.0)
    assert ok.expected_loss_cny == pytest.approx(2_400.0)
    assert ok.approve is True
    bad = loan_decision(200_000.0, 0.05, 0.08, 0.6, 1000.0, 200.0)
    assert bad.expected_profit_cny == pytest.approx(-1_600.0)
    assert bad.approve is False


def test_loan_decision_break_even_is_rejected_and_vectorised():
    """Break-even PD for r = 5 %, LGD = 0.6 without costs: (1 − PD)·0.05 = 0.6·PD →
    PD* = 0.05/0.65 = 0.076923: profit exactly 0 is not > 0 → reject.
    Pooled PD 3.56 % on L = 100,000 with c_fix 1000, no fee: 100,000·(0.9644·0.05 −
    0.0356·0.6) − 1000 = 100,000·0.02686 − 1000 = 1,686 → approve. Arrays broadcast."""
    pd = np.array([0.0356, 0.05 / 0.65, 0.2])
    d = loan_decision(np.array([100_000.0, 0.0, 50_000.0]), 0.05, pd, 0.6, np.array([1000, 0, 0]))
    np.testing.assert_allclose(
        d.expected_profit_cny, [1_686.0, 0.0, 50_000.0 * (0.8 * 0.05 - 0.12)], atol=1e-9
    )
    np.testing.assert_array_equal(d.approve, [True, False, False])
    assert isinstance(d.approve, np.ndarray)


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("amount_cny", -1.0),
        ("rate", np.nan),
        ("pd", 1.5),
        ("pd", -0.1),
        ("lgd", 2.0),
        ("fixed_cost_cny", -5.0),
        ("report_fee_cny", np.inf),
    ],
)
def test_loan_decision_rejects_bad_inputs(name, bad):
    args = {
        "amount_cny": 1.0,
        "rate": 0.05,
        "pd": 0.1,
        "lgd": 0.6,
        "fixed_cost_cny": 0.0,
        "report_fee_cny": 0.0,
    }
    args[name] = bad
    with pytest.raises(ValueError, match=name):
        loan_decision(**args)


def test_loan_decision_rejects_non_broadcasting_shapes():
    with pytest.raises(ValueError, match="broadcast"):
        loan_decision(np.ones(3), 0.05, np.full(2, 0.1), 0.6, 0.0)


@settings(max_examples=60, deadline=None)
@given(
    amount=st.floats(0.0, 2e6),
    pds=st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0)),
    rate=st.floats(0.0, 0.2),
    lgd=st.floats(0.0, 1.0),
    cost=st.floats(0.0, 5000.0),
)
def test_loan_profit_falls_with_pd_and_approval_is_monotone(amount, pds, rate, lgd, cost):
    """d profit / d PD = −L·(r + LGD) ≤ 0, so a riskier borrower is never more profitable
    and is approved only if the safer one is."""
    lo, hi = sorted(pds)
    safe = loan_decision(amount, rate, lo, lgd, cost)
    risky = loan_decision(amount, rate, hi, lgd, cost)
    assert risky.expected_profit_cny <= safe.expected_profit_cny + 1e-6
    assert not (risky.approve and not safe.approve)
    assert safe.approve == (safe.expected_profit_cny > 0)


def test_loan_outcome_repayments_and_reproducibility():
    """PD 0 never defaults: repays L·(1 + r) = 105,000, profit 5,000 − 1,000 = 4,000.
    PD 1 always defaults: repays (1 − 0.6)·100,000 = 40,000, profit −61,000. Same seed →
    same draws."""
    out = loan_outcome(np.random.default_rng(0), [0.0, 1.0], 100_000.0, 0.05, 0.6, 1000.0)
    np.testing.assert_array_equal(out.defaulted, [False, True])
    np.testing.assert_allclose(out.repaid_cny, [105_000.0, 40_000.0])
    np.testing.assert_allclose(out.profit_cny, [4_000.0, -61_000.0])
    pd = np.full(50, 0.3)
    a = loan_outcome(np.random.default_rng(7), pd, 1.0, 0.05, 0.6).defaulted
    b = loan_outcome(np.random.default_rng(7), pd, 1.0, 0.05, 0.6).defaulted
    np.testing.assert_array_equal(a, b)


def test_loan_outcome_default_rate_and_mean_profit_match_expectation():
    """200,000 loans at PD 5 %: the default share is within 4 standard errors
    (√(0.05·0.95/2e5) = 4.9e-4) of 5 %, and the mean realised profit of an L = 1 loan is
    within 4 SE of loan_decision's expected profit 0.95·0.05 − 0.05·0.6 = 0.0175."""
    n = 200_000
    out = loan_outcome(np.random.default_rng(1), np.full(n, 0.05), 1.0, 0.05, 0.6)
    assert abs(out.defaulted.mean() - 0.05) < 4 * np.sqrt(0.05 * 0.95 / n)
    expected = loan_decision(1.0, 0.05, 0.05, 0.6, 0.0).expected_profit_cny
    assert expected == pytest.approx(0.0175)
    assert abs(out.profit_cny.mean() - expected) < 4 * out.profit_cny.std() / np.sqrt(n)


def test_true_pd_is_mean_preserving_and_bounded():
    """E[exp(Z − σ²/2)] = 1: the mean of 200,000 draws around PD 2 % is 2 % within 1 %
    relative (SE of the mean = 0.02·√(e^0.25 − 1)/√2e5 ≈ 2.4e-5, i.e. 0.12 %); σ = 0 is the
    identity; a grade PD of 1 stays ≤ 1."""
    rng = np.random.default_rng(3)
    draws = true_pd(rng, np.full(200_000, 0.02))
    assert draws.mean() == pytest.approx(0.02, rel=0.01)
    np.testing.assert_array_equal(true_pd(rng, [0.1, 0.5], sigma=0.0), [0.1, 0.5])
    assert np.all(true_pd(rng, np.ones(100)) <= 1.0)
    with pytest.raises(ValueError, match="sigma"):
        true_pd(rng, [0.1], sigma=-1.0)
    with pytest.raises(ValueError, match="pd_grade"):
        true_pd(rng, [1.1])


def test_logistic_equals_scipy_expit_bit_for_bit() -> None:
    from scipy.special import expit

    from markets._arrays import logistic

    rng = np.random.default_rng(11)
    x = np.concatenate([rng.normal(0.0, s, 20_000) for s in (0.5, 5.0, 40.0, 800.0)])
    np.testing.assert_array_equal(logistic(x), expit(x))
    # the hand values: σ(0) = 1/2, σ(ln 3) = 3/4, and e^800 overflows to exactly 0
    assert logistic(np.array([0.0, np.log(3.0), -800.0])).tolist() == pytest.approx(
        [0.5, 0.75, 0.0], abs=1e-15
    )
    assert logistic(np.float64(0.0)).shape == ()  # a 0-d array, as np.asarray(expit(x))


def test_average_ranks_equal_scipy_rankdata_bit_for_bit() -> None:
    from scipy.stats import rankdata

    from markets._arrays import average_ranks

    rng = np.random.default_rng(7)
    for values in (
        np.array([3.0, 1.0, 2.0]),
        np.array([5.0, 5.0, 1.0, 5.0, 2.0, 2.0]),  # ties: 5s rank 5, 2s rank 2.5
        rng.integers(0, 20, 500).astype(float),
        rng.normal(size=1000),
        np.zeros(4),
    ):
        np.testing.assert_array_equal(average_ranks(values), rankdata(values))
    assert average_ranks(np.array([5.0, 5.0, 1.0, 5.0, 2.0, 2.0])).tolist() == [
        5.0,
        5.0,
        1.0,
        5.0,
        2.5,
        2.5,
    ]
