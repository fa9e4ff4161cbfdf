"""markets._highs.FixedLp: one HiGHS solver per matrix, re-solved with new costs and bounds."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

from markets._highs import FixedLp

INF = np.inf

# Two generators g1 (300 CNY/MWh, cap 100 MW) and g2 (500 CNY/MWh, cap 200 MW):
# rows [g1 + g2 = D (balance), g1 <= 100, g2 <= 200] as row bounds on one matrix.
A = sp.csr_matrix(np.array([[1.0, 1.0], [1.0, 0.0], [0.0, 1.0]]))
COST = np.array([300.0, 500.0])
LOWER = np.zeros(2)
UPPER = np.full(2, INF)


def _solve(lp: FixedLp, demand: float, cost: np.ndarray = COST):
    return lp.solve(
        cost,
        LOWER,
        UPPER,
        np.array([demand, -INF, -INF]),
        np.array([demand, 100.0, 200.0]),
        time_limit_s=10.0,
        mip_rel_gap=1e-6,
    )


def test_two_generators_price_is_the_marginal_cost():
    """D = 150 > cap(g1) = 100: g1 runs flat out, g2 serves 50, λ = 500 (g2 marginal).
    The cap row of g1 binds: ∂cost/∂cap1 = 300 − 500 = −200 (more of the cheap plant
    saves 200 per MW); g2's cap row is slack (dual 0). D = 80 < 100: only g1, λ = 300."""
    lp = FixedLp(A)
    sol = _solve(lp, 150.0)
    np.testing.assert_allclose(sol.x, [100.0, 50.0])
    np.testing.assert_allclose(sol.row_dual, [500.0, -200.0, 0.0], atol=1e-9)
    sol = _solve(lp, 80.0)
    np.testing.assert_allclose(sol.x, [80.0, 0.0])
    np.testing.assert_allclose(sol.row_dual, [300.0, 0.0, 0.0], atol=1e-9)


def test_duals_have_linprog_marginals_sign():
    """Same LP through linprog: A_ub = caps, A_eq = balance; our rows in linprog's order
    (ub rows, then eq rows) give x and row duals equal to ineqlin/eqlin marginals."""
    res = linprog(
        COST,
        A_ub=[[1.0, 0.0], [0.0, 1.0]],
        b_ub=[100.0, 200.0],
        A_eq=[[1.0, 1.0]],
        b_eq=[150.0],
        method="highs",
    )
    lp = FixedLp(sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])))
    sol = lp.solve(
        COST,
        LOWER,
        UPPER,
        np.array([-INF, -INF, 150.0]),
        np.array([100.0, 200.0, 150.0]),
        time_limit_s=10.0,
        mip_rel_gap=1e-6,
    )
    np.testing.assert_allclose(sol.x, res.x)
    np.testing.assert_allclose(
        sol.row_dual, np.concatenate([res.ineqlin.marginals, res.eqlin.marginals]), atol=1e-9
    )


def test_solve_does_not_depend_on_earlier_solves():
    """Cold start every solve: D = 150 after other demands and costs (costs swapped so the
    other vertex is optimal) returns bit for bit what a fresh solver returns."""
    fresh = _solve(FixedLp(A), 150.0)
    lp = FixedLp(A)
    _solve(lp, 80.0)
    _solve(lp, 250.0, cost=COST[::-1].copy())
    again = _solve(lp, 150.0)
    assert np.array_equal(again.x, fresh.x)
    assert np.array_equal(again.row_dual, fresh.row_dual)


def test_infeasible_and_bad_lengths_raise():
    """D = 400 > 100 + 200: no feasible dispatch → ValueError naming HiGHS's status; the
    solver stays usable (next solve D = 150 is optimal again)."""
    lp = FixedLp(A)
    with pytest.raises(ValueError, match=r"[Ii]nfeasible"):
        _solve(lp, 400.0)
    np.testing.assert_allclose(_solve(lp, 150.0).x, [100.0, 50.0])
    with pytest.raises(ValueError, match="cost must hold 2 values"):
        lp.solve(
            np.ones(3),
            LOWER,
            UPPER,
            np.zeros(3),
            np.zeros(3),
            time_limit_s=10.0,
            mip_rel_gap=1e-6,
        )


def test_time_limit_and_gap_reach_highs():
    """The options of the latest solve are HiGHS's options (s; dimensionless)."""
    lp = FixedLp(A)
    lp.solve(
        COST,
        LOWER,
        UPPER,
        np.array([150.0, -INF, -INF]),
        np.array([150.0, 100.0, 200.0]),
        time_limit_s=7.5,
        mip_rel_gap=1e-4,
    )
    assert lp._h.getOptionValue("time_limit")[1] == 7.5
    assert lp._h.getOptionValue("mip_rel_gap")[1] == 1e-4
    assert lp._h.getOptionValue("output_flag")[1] is False


def test_csc_from_triplets_matches_scipy():
    """The column-wise arrays equal scipy's csr → csc conversion (zeros kept, rows sorted),
    for 200 random matrices of distinct entries; duplicates are summed."""
    from markets._highs import csc_from_triplets

    rng = np.random.default_rng(0)
    for _ in range(200):
        m, n = (int(v) for v in rng.integers(1, 12, 2))
        lin = rng.permutation(m * n)[: rng.integers(0, m * n + 1)]
        rows, cols = lin % m, lin // m
        vals = rng.normal(size=lin.size)
        vals[rng.random(lin.size) < 0.2] = 0.0
        ref = sp.csc_array(sp.csr_array((vals, (rows, cols)), shape=(m, n)))
        start, index, value = csc_from_triplets(rows, cols, vals, (m, n))
        np.testing.assert_array_equal(start, ref.indptr)
        np.testing.assert_array_equal(index, ref.indices)
        np.testing.assert_array_equal(value, ref.data)
    start, index, value = csc_from_triplets(
        np.array([1, 0, 1]), np.array([0, 0, 0]), np.array([2.0, 1.0, 3.0]), (2, 2)
    )
    assert start.tolist() == [0, 2, 2] and index.tolist() == [0, 1] and value.tolist() == [1, 5]


def test_solve_mip_knapsack_and_its_relaxation():
    """max 5a + 4b + 3c s.t. 2a + 3b + c <= 5 (a, b, c binary): a + b (9) is optimal with
    weight 5; a + c is 8. The LP relaxation takes c, a whole, then 2/3 of b: 8 + 8/3."""
    from markets._highs import csc_from_triplets, solve_mip

    matrix = csc_from_triplets(
        np.zeros(3, dtype=np.int64), np.arange(3), np.array([2.0, 3.0, 1.0]), (1, 3)
    )
    cost = -np.array([5.0, 4.0, 3.0])
    args = (cost, matrix, np.array([-INF]), np.array([5.0]), np.zeros(3), np.ones(3))
    mip = solve_mip(*args, np.ones(3, dtype=bool), time_limit_s=10.0, mip_rel_gap=0.0)
    assert mip.optimal
    np.testing.assert_allclose(mip.x, [1.0, 1.0, 0.0], atol=1e-9)
    assert mip.objective == pytest.approx(-9.0) and mip.dual_bound == pytest.approx(-9.0)
    lp = solve_mip(*args, None, time_limit_s=10.0)
    assert lp.optimal and np.isnan(lp.gap)
    np.testing.assert_allclose(lp.x, [1.0, 2.0 / 3.0, 1.0], atol=1e-9)
    assert lp.objective == pytest.approx(-(8.0 + 8.0 / 3.0)) == lp.dual_bound
    ref = linprog(cost, A_ub=[[2.0, 3.0, 1.0]], b_ub=[5.0], bounds=[(0, 1)] * 3)
    assert lp.objective == pytest.approx(ref.fun, rel=1e-12)
    infeasible = solve_mip(
        cost,
        matrix,
        np.array([7.0]),
        np.array([INF]),
        np.zeros(3),
        np.ones(3),
        None,
        time_limit_s=10.0,
    )
    assert not infeasible.optimal and infeasible.x is None and np.isnan(infeasible.objective)


def test_a_plan_the_lp_bound_certifies_never_imports_scipy_optimize():
    """The LP relaxation is solved on highspy: a week whose greedy plan the LP bound
    certifies runs without importing scipy.optimize or scipy.sparse (about 0.4 s).
    Deficit 6 kW: the merit order curtails A (6 kW, 6 CNY), which the LP also takes
    whole, so the gap is 0 and the hybrid plan needs no MILP."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from markets.orderly import schedule\n"
        "loads = np.array([[6.0], [6.0], [10.0]])\n"
        "plan = schedule(loads_kw=loads, capacity_kw=loads.sum(axis=0) - 6.0,\n"
        "    block_kw=np.array([6.0, 6.0, 10.0]),\n"
        "    loss_cny_per_kwh=np.array([1.0, 1.1, 1.2]), greedy_bound='lp', method='hybrid')\n"
        "print(plan.method, plan.bound_method, round(plan.gap, 12), plan.loss_cny,\n"
        "      'scipy.optimize' in sys.modules, 'scipy.sparse' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["greedy", "lp", "0.0", "6.0", "False", "False"]
