"""Tests for markets.orderly: loss model, blocks, MILP/greedy schedules and bounds."""

from __future__ import annotations

import math
import types

import numpy as np
import pytest
import scipy.optimize
from hypothesis import given, settings
from hypothesis import strategies as st
from orderly_cases import lumpy_instance

from markets.orderly import (
    OrderlyPlan,
    jain_index,
    loss_cny_per_kwh,
    loss_of_load_cny,
    restart_cost_applies,
    schedule,
    shortage_blocks,
)

SETTINGS = settings(max_examples=30, deadline=None)
SEEDS = st.integers(0, 2**32 - 1)


# --------------------------------------------------------------------------- helpers
def make_instance(
    seed: int,
    n_users: int,
    n_days: int,
    ipd: int,
    *,
    one_run_per_day: bool = False,
    max_fraction: float = 0.9,
    two_d_loss: bool = False,
) -> dict:
    """Random integer-valued instance (kW, CNY/kWh) with deficits up to a fraction of ΔP."""
    rng = np.random.default_rng(seed)
    n_t = n_days * ipd
    loads = rng.integers(0, 21, (n_users, n_t)).astype(float)
    block = rng.integers(1, 16, n_users).astype(float)
    dp = np.minimum(block[:, None], loads)
    if one_run_per_day:
        short = np.zeros(n_t, dtype=bool)
        for day in range(n_days):
            if rng.random() < 0.85:
                a = int(rng.integers(0, ipd))
                b = int(rng.integers(a + 1, ipd + 1))
                short[day * ipd + a : day * ipd + b] = True
    else:
        short = rng.random(n_t) < 0.35
    frac = rng.uniform(0.2, max_fraction, n_t)
    deficit = np.where(short, np.floor(frac * dp.sum(axis=0)), 0.0)
    deficit = np.minimum(deficit, loads.sum(axis=0))
    loss_shape = (n_users, n_t) if two_d_loss else (n_users,)
    return {
        "loads_kw": loads,
        "capacity_kw": loads.sum(axis=0) - deficit,
        "block_kw": block,
        "loss_cny_per_kwh": rng.integers(1, 11, loss_shape).astype(float),
    }


def run_lengths(row: np.ndarray) -> list[int]:
    """Lengths of the maximal runs of True in a 1-D bool array."""
    padded = np.concatenate(([0], row.astype(np.int8), [0]))
    edges = np.flatnonzero(np.diff(padded))
    return (edges[1::2] - edges[::2]).tolist()


def calls_per_day(curtail: np.ndarray, ipd: int) -> np.ndarray:
    """Runs per user, a run crossing midnight counting once per day."""
    n_t = curtail.shape[-1]
    return sum(
        np.array([len(run_lengths(r)) for r in curtail[:, d : d + ipd]]) for d in range(0, n_t, ipd)
    )


def brute_force_objective(inst: dict, ipd: int, **kw: object) -> float:
    """Minimum objective over every binary (user, block) choice, evaluated from scratch.

    Decision space: the blocks of shortage_blocks (tested separately on hand cases).  The
    objective is recomputed from the definitions: loss Σ c·ΔP·Δt over curtailed intervals
    + K·calls (runs, per day), + λ·max share of non-protected users (prior included),
    + M·unserved kWh; choices breaking protection or a cap are discarded.
    """
    loads, cap = inst["loads_kw"], inst["capacity_kw"]
    n, n_t = loads.shape
    dt = float(kw.get("interval_h", 1.0))
    dp = np.minimum(inst["block_kw"][:, None], loads)
    c = np.broadcast_to(
        inst["loss_cny_per_kwh"].reshape(n, -1)
        if inst["loss_cny_per_kwh"].ndim == 2
        else inst["loss_cny_per_kwh"][:, None],
        (n, n_t),
    )
    deficit = loads.sum(axis=0) - cap
    blocks = shortage_blocks(
        deficit,
        min_duration=int(kw.get("min_duration", 1)),
        intervals_per_day=ipd,
        sub_block_intervals=kw.get("sub_block_intervals"),
    )
    n_b = blocks.n_blocks
    n_bits = n * n_b
    assert n_bits <= 16
    combos = (np.arange(2**n_bits)[:, None] >> np.arange(n_bits)) & 1
    x = combos.reshape(2**n_bits, n, n_b).astype(bool)
    inside = blocks.block_of_interval >= 0
    curtail = np.zeros((x.shape[0], n, n_t), dtype=bool)
    curtail[:, :, inside] = x[:, :, blocks.block_of_interval[inside]]
    day = np.arange(n_t) // ipd
    cont = np.zeros_like(curtail)
    cont[:, :, 1:] = curtail[:, :, :-1] & (day[1:] == day[:-1])
    calls = (curtail & ~cont).sum(axis=2)
    hours = curtail.sum(axis=2) * dt
    restart = kw.get("restart_cost_cny")
    restart = np.zeros(n) if restart is None else np.asarray(restart)
    protected = kw.get("protected")
    protected = np.zeros(n, bool) if protected is None else np.asarray(protected)
    ok = ~(curtail[:, protected, :].any(axis=(1, 2)))
    ok &= (hours <= np.broadcast_to(kw.get("max_hours", np.inf), (n,)) + 1e-9).all(axis=1)
    ok &= (calls <= np.broadcast_to(kw.get("max_calls", np.inf), (n,))).all(axis=1)
    shed = curtail * dp
    loss = (shed * c).sum(axis=(1, 2)) * dt + (calls * restart).sum(axis=1)
    unserved = np.clip(np.where(deficit > 0, deficit - shed.sum(axis=1), 0.0), 0.0, None)
    prior_c = np.asarray(kw.get("prior_curtailed_kwh", np.zeros(n)))
    prior_d = np.asarray(kw.get("prior_demand_kwh", np.zeros(n)))
    den = prior_d + loads.sum(axis=1) * dt
    shares = np.where(den > 0, (prior_c + shed.sum(axis=2) * dt) / np.where(den > 0, den, 1), 0)
    max_share = shares[:, ~protected].max(axis=1, initial=0.0)
    lam = float(kw.get("fairness_weight_cny", 0.0))
    pen = float(kw.get("unserved_penalty_cny_per_kwh", 1e4))
    obj = loss + lam * max_share + pen * unserved.sum(axis=1) * dt
    return float(obj[ok].min())


def check_plan_invariants(plan: OrderlyPlan, inst: dict, ipd: int, **kw: object) -> None:
    """Consistency of every reported field with the curtailment matrix."""
    loads = inst["loads_kw"]
    n, n_t = loads.shape
    dt = float(kw.get("interval_h", 1.0))
    dp = np.minimum(inst["block_kw"][:, None], loads)
    np.testing.assert_array_equal(plan.curtailed_kw, np.where(plan.curtail, dp, 0.0))
    deficit = loads.sum(axis=0) - inst["capacity_kw"]
    residual = (loads - plan.curtailed_kw).sum(axis=0) - inst["capacity_kw"]
    served = plan.unserved_kw == 0
    assert (residual[served] <= 1e-6).all()
    np.testing.assert_allclose(plan.unserved_kw, np.clip(residual, 0, None), atol=1e-6)
    assert (plan.unserved_kw <= np.clip(deficit, 0, None) + 1e-9).all()
    np.testing.assert_array_equal(plan.calls, calls_per_day(plan.curtail, ipd))
    np.testing.assert_allclose(plan.hours, plan.curtail.sum(axis=1) * dt)
    c = np.broadcast_to(
        inst["loss_cny_per_kwh"]
        if inst["loss_cny_per_kwh"].ndim == 2
        else inst["loss_cny_per_kwh"][:, None],
        (n, n_t),
    )
    restart = kw.get("restart_cost_cny")
    restart = np.zeros(n) if restart is None else np.asarray(restart)
    loss = float((c * plan.curtailed_kw).sum() * dt + restart @ plan.calls)
    assert plan.loss_cny == pytest.approx(loss, rel=1e-9, abs=1e-9)
    protected = kw.get("protected")
    free = np.ones(n, bool) if protected is None else ~np.asarray(protected)
    assert plan.max_share == pytest.approx(plan.shares[free].max(initial=0.0))
    assert plan.jain == pytest.approx(jain_index(plan.shares[free]))
    lam = float(kw.get("fairness_weight_cny", 0.0))
    pen = float(kw.get("unserved_penalty_cny_per_kwh", 1e4))
    objective = plan.loss_cny + lam * plan.max_share + pen * plan.unserved_kw.sum() * dt
    assert plan.objective_cny == pytest.approx(objective, rel=1e-9)
    assert plan.lower_bound_cny <= plan.objective_cny
    assert plan.gap >= 0.0


# --------------------------------------------------------------------------- loss model
def test_loss_formula_hand_values() -> None:
    # 10·(1 − 0.6·(1 − e^{-1})) = 10·(1 − 0.6·0.632121) = 6.20728
    assert float(loss_cny_per_kwh(10.0, 0.6, 24.0)) == pytest.approx(6.207277, abs=1e-6)
    assert float(loss_cny_per_kwh(10.0, 0.6, 0.0)) == pytest.approx(10.0)  # no notice: VOLL
    assert float(loss_cny_per_kwh(10.0, 0.6, np.inf)) == pytest.approx(4.0)  # VOLL·(1 − ρ)
    out = loss_cny_per_kwh(np.array([[10.0], [20.0]]), 0.5, np.array([0.0, 24.0, 48.0]))
    assert out.shape == (2, 3)
    # 20·(1 − 0.5·(1 − e^{-2})) = 20·(0.5 + 0.5·0.135335) = 11.35335
    assert out[1, 2] == pytest.approx(11.353353, abs=1e-6)


@SETTINGS
@given(
    voll=st.floats(0, 200),
    rho=st.floats(0, 1),
    t1=st.floats(0, 500),
    t2=st.floats(0, 500),
)
def test_less_notice_never_costs_less(voll: float, rho: float, t1: float, t2: float) -> None:
    short, long_ = min(t1, t2), max(t1, t2)
    c_short = float(loss_cny_per_kwh(voll, rho, short))
    c_long = float(loss_cny_per_kwh(voll, rho, long_))
    assert c_short >= c_long - 1e-12
    assert voll * (1 - rho) - 1e-9 <= c_long <= voll + 1e-9


def test_restart_cost_applies_hand_values() -> None:
    out = restart_cost_applies(np.array([4.0, 6.0, 24.0]), 6.0)
    np.testing.assert_array_equal(out, [True, False, False])
    assert restart_cost_applies(np.array([[2.0], [10.0]]), np.array([1.0, 5.0])).shape == (2, 2)


# --------------------------------------------------------------------------- Jain's index
def test_loss_of_load_hand_values() -> None:
    """Per-user loss of three cells, restart cost where notice < shutdown time.

    User 0 (VOLL 10, ρ 0.5, shutdown 4 h, K 100): 2 kWh at 0 h notice starting a call
    costs 10·2 + K = 120 (0 < 4 h); 1 kWh at 24 h notice, no start, costs
    10·(1 − 0.5·(1 − e⁻¹))·1 = 6.8394.  User 1 (VOLL 20, ρ 0, shutdown 0, K 50): 3 kWh at
    1 h notice starting a call costs 20·3 = 60 (1 h ≥ 0 h: no restart).  User 2: none.
    """
    loss = loss_of_load_cny(
        np.array([0, 0, 1]),
        np.array([2.0, 1.0, 3.0]),
        np.array([0.0, 24.0, 1.0]),
        np.array([True, False, True]),
        voll_cny_per_kwh=np.array([10.0, 20.0, 5.0]),
        rho=np.array([0.5, 0.0, 0.3]),
        shutdown_h=np.array([4.0, 0.0, 1.0]),
        restart_cost_cny=np.array([100.0, 50.0, 7.0]),
    )
    assert loss == pytest.approx([120.0 + 10.0 * (1 - 0.5 * (1 - math.exp(-1))), 60.0, 0.0])
    assert loss[0] == pytest.approx(126.8393972)


def test_loss_of_load_validation() -> None:
    per_user = {
        "voll_cny_per_kwh": np.ones(2),
        "rho": np.zeros(2),
        "shutdown_h": np.zeros(2),
        "restart_cost_cny": np.zeros(2),
    }
    one = (np.array([1.0]), np.array([0.0]), np.array([True]))
    with pytest.raises(ValueError, match="user indices"):
        loss_of_load_cny(np.array([2]), *one, **per_user)
    with pytest.raises(ValueError, match="curtailed_kwh"):
        loss_of_load_cny(np.array([0]), np.array([-1.0]), *one[1:], **per_user)
    with pytest.raises(ValueError, match="rho"):
        loss_of_load_cny(np.array([0]), *one, **{**per_user, "rho": np.ones(3)})
    with pytest.raises(ValueError, match="starts_call"):
        loss_of_load_cny(np.array([0]), *one[:2], np.array([1]), **per_user)


def test_jain_hand_example() -> None:
    # (0.1 + 0.1 + 0.4)² / (3·(0.01 + 0.01 + 0.16)) = 0.36 / 0.54 = 0.6667
    assert jain_index([0.1, 0.1, 0.4]) == pytest.approx(2 / 3)
    assert jain_index([0.0, 0.0]) == 1.0
    assert jain_index([]) == 1.0
    assert jain_index([0.0, 0.0, 0.0, 0.3]) == pytest.approx(0.25)  # one user: 1/n


@SETTINGS
@given(st.lists(st.floats(0, 1), min_size=1, max_size=50))
def test_jain_in_range(shares: list[float]) -> None:
    j = jain_index(shares)
    assert 1 / len(shares) - 1e-12 <= j <= 1.0


# --------------------------------------------------------------------------- blocks
def test_blocks_padding_merging_and_days() -> None:
    ipd = 6
    d = np.zeros(12)
    d[2] = 1.0  # padded right to [2, 5)
    d[10:12] = 1.0  # at day end: padded left to [9, 12)
    b = shortage_blocks(d, min_duration=3, intervals_per_day=ipd)
    assert list(zip(b.start, b.stop, strict=True)) == [(2, 5), (9, 12)]
    assert b.first.all() and (b.prev == -1).all()
    np.testing.assert_array_equal(b.block_of_interval, [-1, -1, 0, 0, 0, -1, -1, -1, -1, 1, 1, 1])
    d = np.zeros(6)
    d[[0, 2]] = 1.0  # padded to [0, 2) and [2, 4): touching → merged
    b = shortage_blocks(d, min_duration=2, intervals_per_day=ipd)
    assert list(zip(b.start, b.stop, strict=True)) == [(0, 4)]
    d = np.zeros(12)
    d[5:7] = 1.0  # crosses midnight: two events, one per day
    b = shortage_blocks(d, min_duration=1, intervals_per_day=ipd)
    assert list(zip(b.start, b.stop, strict=True)) == [(5, 6), (6, 7)]
    assert b.event.tolist() == [0, 1]


def test_blocks_sub_blocks() -> None:
    d = np.zeros(10)
    d[1:8] = 1.0  # one event of 7 intervals → ⌊7/2⌋ = 3 sub-blocks of 3, 2, 2
    b = shortage_blocks(d, min_duration=1, intervals_per_day=10, sub_block_intervals=2)
    assert list(zip(b.start, b.stop, strict=True)) == [(1, 4), (4, 6), (6, 8)]
    assert b.first.tolist() == [True, False, False]
    assert b.prev.tolist() == [-1, 0, 1]
    b = shortage_blocks(d, min_duration=4, intervals_per_day=10, sub_block_intervals=2)
    assert list(zip(b.start, b.stop, strict=True)) == [(1, 8)]  # ⌊7/4⌋ = 1


def test_blocks_empty() -> None:
    b = shortage_blocks(np.zeros(5), min_duration=2, intervals_per_day=5)
    assert b.n_blocks == 0
    assert (b.block_of_interval == -1).all()


# --------------------------------------------------------------------------- hand MILPs
def hand_instance() -> dict:
    """3 users, one 2-interval event, deficit (8, 4) kW.

    Whole-event blocks (cost = c·ΔP·2 h): u0 alone (10 kW ≥ 8) costs 1·10·2 = 20;
    u1 + u2 (11 kW) cost 1.5·6·2 + 1.2·5·2 = 30.  Optimum: u0, 20 CNY.
    """
    loads = np.array([[10.0, 10.0], [6.0, 6.0], [5.0, 5.0]])
    return {
        "loads_kw": loads,
        "capacity_kw": loads.sum(axis=0) - np.array([8.0, 4.0]),
        "block_kw": np.array([10.0, 6.0, 5.0]),
        "loss_cny_per_kwh": np.array([1.0, 1.5, 1.2]),
    }


@pytest.mark.parametrize("method", ["milp", "greedy"])
def test_hand_example_whole_event(method: str) -> None:
    inst = hand_instance()
    plan = schedule(**inst, method=method, mip_rel_gap=0.0)
    np.testing.assert_array_equal(plan.curtail, [[True, True], [False, False], [False, False]])
    assert plan.loss_cny == pytest.approx(20.0)
    assert plan.calls.tolist() == [1, 0, 0]
    assert plan.unserved_kw.tolist() == [0.0, 0.0]
    assert plan.method == method
    if method == "milp":
        assert plan.status == "optimal"
        assert plan.gap == pytest.approx(0.0, abs=1e-9)
        assert plan.solver_gap == pytest.approx(0.0, abs=1e-9)
    else:
        assert plan.status == "greedy"
        assert plan.lower_bound_cny <= 20.0 + 1e-9
        assert math.isnan(plan.solver_gap)
    # share of u0: 20 kWh shed of 20 kWh demand; Jain over (1, 0, 0) = 1/3
    assert plan.shares.tolist() == pytest.approx([1.0, 0.0, 0.0])
    assert plan.jain == pytest.approx(1 / 3)


def test_hand_example_sub_blocks_and_restart() -> None:
    """One-interval sub-blocks: t0 needs 8 kW, t1 needs 4 kW.

    t0: u0 (10·1 = 10) beats u1 + u2 (9 + 6 = 15); t1: u2 (1.2·5 = 6) beats u1 (9) and
    u0 (10), so the optimum is 10 + 6 = 16 with two single-interval calls.  With restart
    costs K1 = K2 = 5, u2 costs 11 and u1 14 at t1 while u0 continuing its run costs 10
    and no new call: optimum 20, u0 curtailed in one run of 2 intervals (1 call).
    """
    inst = hand_instance()
    plan = schedule(**inst, sub_block_intervals=1, method="milp", mip_rel_gap=0.0)
    assert plan.objective_cny == pytest.approx(16.0)
    np.testing.assert_array_equal(plan.curtail, [[True, False], [False, False], [False, True]])
    assert plan.calls.tolist() == [1, 0, 1]
    restart = np.array([0.0, 5.0, 5.0])
    plan = schedule(
        **inst, sub_block_intervals=1, restart_cost_cny=restart, method="milp", mip_rel_gap=0.0
    )
    assert plan.objective_cny == pytest.approx(20.0)
    np.testing.assert_array_equal(plan.curtail, [[True, True], [False, False], [False, False]])
    assert plan.calls.tolist() == [1, 0, 0]


@pytest.mark.parametrize("method", ["milp", "greedy"])
def test_hand_example_protected_and_unserved(method: str) -> None:
    """Protecting u0 forces u1 + u2 (30 CNY); protecting u0 and u1 leaves u2 (5 kW).

    With only u2: t0 is short by 8 − 5 = 3 kW, t1 covered (5 ≥ 4); objective
    = 1.2·5·2 + 1e4·3 kWh = 12 + 30000.
    """
    inst = hand_instance()
    plan = schedule(**inst, protected=np.array([True, False, False]), method=method)
    assert not plan.curtail[0].any()
    assert plan.loss_cny == pytest.approx(30.0)
    plan = schedule(**inst, protected=np.array([True, True, False]), method=method)
    assert plan.unserved_kw.tolist() == pytest.approx([3.0, 0.0])
    assert plan.unserved_kwh == pytest.approx(3.0)
    assert plan.objective_cny == pytest.approx(30012.0)
    assert not plan.curtail[:2].any()


@pytest.mark.parametrize("method", ["milp", "greedy"])
def test_all_protected_leaves_everything_unserved(method: str) -> None:
    """Nobody may shed: unserved = deficit (8, 4) kW, objective = 1e4·12 kWh, exact bound."""
    plan = schedule(**hand_instance(), protected=np.ones(3, dtype=bool), method=method)
    assert not plan.curtail.any()
    assert plan.unserved_kw.tolist() == pytest.approx([8.0, 4.0])
    assert plan.objective_cny == pytest.approx(120_000.0)
    assert plan.lower_bound_cny == pytest.approx(120_000.0)
    assert plan.gap == pytest.approx(0.0, abs=1e-9)
    assert plan.jain == 1.0 and plan.max_share == 0.0


def test_rotation_prefers_user_with_low_prior_share() -> None:
    """Two identical users (20 kWh demand each); either alone covers for 1·5·2 = 10 CNY.

    u0 carries 40 of 100 kWh prior; u1 has no prior.  Curtailing u0: shares
    (40 + 10)/120 = 0.4167 and 0 → 10 + 100·0.4167 = 51.67.  Curtailing u1: shares
    40/120 = 0.333 and 10/20 = 0.5 → 10 + 50 = 60.  Both: 20 + 50 = 70.  So u0 is chosen.
    """
    loads = np.array([[10.0, 10.0], [10.0, 10.0]])
    base = {
        "loads_kw": loads,
        "capacity_kw": loads.sum(axis=0) - 5.0,
        "block_kw": np.array([5.0, 5.0]),
        "loss_cny_per_kwh": np.array([1.0, 1.0]),
        "fairness_weight_cny": 100.0,
        "method": "milp",
        "mip_rel_gap": 0.0,
    }
    plan = schedule(
        **base, prior_curtailed_kwh=np.array([40.0, 0.0]), prior_demand_kwh=np.array([100.0, 0.0])
    )
    assert plan.curtail[0].all() and not plan.curtail[1].any()
    assert plan.max_share == pytest.approx(50 / 120)
    assert plan.objective_cny == pytest.approx(10.0 + 100.0 * 50 / 120)


# --------------------------------------------------------------------------- time-varying
def test_time_varying_loss_picks_cheapest_day() -> None:
    """Two 1-interval events on two days; u0 is cheap on day 0, u1 on day 1."""
    loads = np.full((2, 4), 10.0)
    loss = np.array([[1.0, 1.0, 9.0, 9.0], [9.0, 9.0, 1.0, 1.0]])
    deficit = np.array([5.0, 0.0, 5.0, 0.0])
    for method in ("milp", "greedy"):
        plan = schedule(
            loads,
            loads.sum(axis=0) - deficit,
            np.array([10.0, 10.0]),
            loss,
            intervals_per_day=2,
            method=method,
        )
        np.testing.assert_array_equal(
            plan.curtail, [[True, False, False, False], [False, False, True, False]]
        )
        assert plan.loss_cny == pytest.approx(20.0)  # 1 CNY/kWh · 10 kW · 1 h, twice


# --------------------------------------------------------------------------- no shortage
def test_no_shortage_returns_empty_plan_without_solver(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("solver called")

    monkeypatch.setattr(scipy.optimize, "milp", boom)
    loads = np.ones((3, 5))
    plan = schedule(
        loads,
        loads.sum(axis=0) + 1.0,
        np.ones(3),
        np.ones(3),
        fairness_weight_cny=10.0,
        prior_curtailed_kwh=np.array([1.0, 0.0, 0.0]),
        prior_demand_kwh=np.array([5.0, 5.0, 5.0]),
    )
    assert plan.status == "no_shortage" and plan.method == "none"
    assert not plan.curtail.any() and plan.loss_cny == 0.0
    assert plan.unserved_kw.tolist() == [0.0] * 5
    # shares include the prior: 1/(5 + 5) = 0.1; objective = λ·0.1
    assert plan.max_share == pytest.approx(0.1)
    assert plan.objective_cny == pytest.approx(1.0)
    assert plan.gap == 0.0 and plan.lower_bound_cny == pytest.approx(1.0)


def test_time_limit_without_incumbent_falls_back_to_greedy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_incumbent(*args: object, **kwargs: object) -> types.SimpleNamespace:
        return types.SimpleNamespace(
            x=None, status=1, fun=None, mip_dual_bound=18.0, mip_gap=None, message="limit"
        )

    monkeypatch.setattr(scipy.optimize, "milp", no_incumbent)
    plan = schedule(**hand_instance(), method="milp")
    assert plan.status == "time_limit" and plan.method == "greedy"
    assert plan.loss_cny == pytest.approx(20.0)
    # the larger of the MILP's dual bound (18) and the greedy's LP bound (16: the LP
    # relaxation goes to highspy, which the stub does not replace)
    assert plan.lower_bound_cny == pytest.approx(18.0)
    assert plan.bound_method == "lp"


def test_hybrid_solves_the_milp_only_when_the_greedy_gap_is_large() -> None:
    inst = lumpy_instance()
    greedy = schedule(**inst, method="greedy")
    milp_plan = schedule(**inst, method="milp", mip_rel_gap=0.0)
    assert greedy.loss_cny == pytest.approx(12.6) and milp_plan.loss_cny == pytest.approx(12.0)
    assert greedy.gap == pytest.approx((12.6 - 10.4) / 12.6)  # > hybrid_gap = 0.005
    hybrid = schedule(**inst, method="hybrid", mip_rel_gap=0.0)
    assert hybrid.method == "milp"
    np.testing.assert_array_equal(hybrid.curtail, milp_plan.curtail)
    assert hybrid.objective_cny == pytest.approx(12.0)
    # Tolerating a 20 % gap keeps the greedy plan (A and B) without a MILP.
    loose = schedule(**inst, method="hybrid", hybrid_gap=0.2)
    assert loose.method == "greedy" and loose.status == "greedy"
    np.testing.assert_array_equal(loose.curtail, greedy.curtail)


def test_hybrid_keeps_a_certified_greedy_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deficit 6 kW, user 0 sheds exactly 6 kW at 1 CNY/kWh: greedy = LP bound = 6 CNY."""

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("MILP called")

    loads = np.array([[6.0], [8.0]])
    inst = {
        "loads_kw": loads,
        "capacity_kw": loads.sum(axis=0) - 6.0,
        "block_kw": np.array([6.0, 8.0]),
        "loss_cny_per_kwh": np.array([1.0, 2.0]),
        "greedy_bound": "lagrangian",
    }
    monkeypatch.setattr(scipy.optimize, "milp", boom)
    plan = schedule(**inst, method="hybrid")
    assert plan.method == "greedy" and plan.gap <= 0.005
    assert plan.loss_cny == pytest.approx(6.0)
    assert plan.curtail[:, 0].tolist() == [True, False]
    with pytest.raises(ValueError, match="hybrid_gap"):
        schedule(**inst, method="hybrid", hybrid_gap=-0.1)


def test_auto_switches_to_greedy_above_milp_max_users() -> None:
    inst = hand_instance()
    assert schedule(**inst, milp_max_users=2).method == "greedy"
    assert schedule(**inst, milp_max_users=3).method == "milp"


# --------------------------------------------------------------------------- properties
@SETTINGS
@given(
    seed=SEEDS,
    n_users=st.integers(2, 4),
    n_days=st.integers(1, 2),
    min_duration=st.integers(1, 3),
    sub=st.sampled_from([None, 1, 2]),
    lam=st.sampled_from([0.0, 0.0, 20.0]),
    two_d=st.booleans(),
    capped=st.booleans(),
    dt=st.sampled_from([1.0, 0.25]),
)
def test_milp_matches_brute_force(
    seed: int,
    n_users: int,
    n_days: int,
    min_duration: int,
    sub: int | None,
    lam: float,
    two_d: bool,
    capped: bool,
    dt: float,
) -> None:
    ipd = 5
    inst = make_instance(seed, n_users, n_days, ipd, one_run_per_day=True, two_d_loss=two_d)
    rng = np.random.default_rng(seed + 1)
    kw: dict = {
        "min_duration": min_duration,
        "sub_block_intervals": sub,
        "fairness_weight_cny": lam,
        "restart_cost_cny": rng.integers(0, 6, n_users).astype(float),
        "protected": rng.random(n_users) < 0.2,
        "prior_demand_kwh": rng.integers(0, 50, n_users).astype(float),
        "interval_h": dt,
    }
    kw["prior_curtailed_kwh"] = np.floor(kw["prior_demand_kwh"] * rng.uniform(0, 0.5, n_users))
    if capped:
        kw["max_hours"] = rng.integers(1, 6, n_users) * dt
        kw["max_calls"] = rng.integers(0, 3, n_users).astype(float)
    deficit = inst["loads_kw"].sum(axis=0) - inst["capacity_kw"]
    blocks = shortage_blocks(
        deficit, min_duration=min_duration, intervals_per_day=ipd, sub_block_intervals=sub
    )
    if n_users * blocks.n_blocks > 14:
        kw["sub_block_intervals"] = None  # keep the enumeration small
        blocks = shortage_blocks(deficit, min_duration=min_duration, intervals_per_day=ipd)
    best = brute_force_objective(inst, ipd, **kw)
    plan = schedule(**inst, **kw, intervals_per_day=ipd, method="milp", mip_rel_gap=0.0)
    assert plan.objective_cny == pytest.approx(best, rel=1e-6, abs=1e-6)
    check_plan_invariants(plan, inst, ipd, **kw)
    assert plan.lower_bound_cny <= best + 1e-6 * max(1.0, best)
    greedy = schedule(**inst, **kw, intervals_per_day=ipd, method="greedy")
    assert greedy.objective_cny >= best - 1e-6 * max(1.0, best)
    assert greedy.lower_bound_cny <= best + 1e-6 * max(1.0, best)  # a valid bound
    check_plan_invariants(greedy, inst, ipd, **kw)


@SETTINGS
@given(
    seed=SEEDS,
    n_users=st.integers(2, 10),
    n_days=st.integers(1, 3),
    method=st.sampled_from(["milp", "greedy"]),
    min_duration=st.integers(1, 3),
    sub=st.sampled_from([None, 2]),
)
def test_capacity_respected_when_coverable(
    seed: int, n_users: int, n_days: int, method: str, min_duration: int, sub: int | None
) -> None:
    """Without caps every deficit ≤ Σ ΔP is coverable.

    Data are integers, so any shortfall is ≥ 1 kWh and costs ≥ M = 1e6 CNY, more than
    curtailing every block (≤ 10 users · 20 kW · 36 h · 10 CNY/kWh = 72,000 CNY): both
    methods must cover fully.
    """
    ipd = 12
    inst = make_instance(seed, n_users, n_days, ipd, max_fraction=1.0)
    kw = {"min_duration": min_duration, "sub_block_intervals": sub}
    plan = schedule(
        **inst, **kw, intervals_per_day=ipd, method=method, unserved_penalty_cny_per_kwh=1e6
    )
    park = (inst["loads_kw"] - plan.curtailed_kw).sum(axis=0)
    assert (park <= inst["capacity_kw"] + 1e-6).all()
    assert (plan.unserved_kw == 0).all()
    check_plan_invariants(plan, inst, ipd, **kw, unserved_penalty_cny_per_kwh=1e6)


@SETTINGS
@given(
    seed=SEEDS,
    n_users=st.integers(2, 10),
    n_days=st.integers(1, 3),
    method=st.sampled_from(["milp", "greedy"]),
    min_duration=st.integers(1, 4),
    sub=st.sampled_from([None, 2, 3]),
)
def test_protection_caps_and_min_duration(
    seed: int, n_users: int, n_days: int, method: str, min_duration: int, sub: int | None
) -> None:
    ipd = 8
    inst = make_instance(seed, n_users, n_days, ipd, max_fraction=1.3)
    rng = np.random.default_rng(seed + 7)
    kw: dict = {
        "protected": rng.random(n_users) < 0.3,
        "max_hours": rng.integers(0, 10, n_users).astype(float),
        "max_calls": rng.integers(0, 3, n_users).astype(float),
        "min_duration": min_duration,
        "sub_block_intervals": sub,
        "restart_cost_cny": rng.integers(0, 20, n_users).astype(float),
    }
    plan = schedule(**inst, **kw, intervals_per_day=ipd, method=method)
    assert not plan.curtail[kw["protected"]].any()
    assert (plan.hours <= kw["max_hours"] + 1e-9).all()
    assert (plan.calls <= kw["max_calls"]).all()
    for row in plan.curtail:  # days are full, so every run is ≥ min_duration
        assert all(length >= min_duration for length in run_lengths(row))
    # wherever the deficit is not fully served, the park load exceeds capacity by exactly that
    park = (inst["loads_kw"] - plan.curtailed_kw).sum(axis=0)
    assert (park <= inst["capacity_kw"] + plan.unserved_kw + 1e-6).all()
    check_plan_invariants(plan, inst, ipd, **kw)


@SETTINGS
@given(
    seed=SEEDS,
    lams=st.lists(
        st.sampled_from([0.0, 10.0, 50.0, 200.0, 1000.0]), min_size=2, max_size=2, unique=True
    ),
)
def test_fairness_weight_monotone(seed: int, lams: list[float]) -> None:
    """For exact optima at λ1 < λ2 (objective F = L + λ·s, L = loss + M·unserved):

    L1 + λ1·s1 ≤ L2 + λ1·s2 and L2 + λ2·s2 ≤ L1 + λ2·s1.  Adding:
    (λ2 − λ1)(s2 − s1) ≤ 0 ⇒ s2 ≤ s1; then L2 − L1 ≥ λ1·(s1 − s2) ≥ 0 ⇒ L2 ≥ L1.
    """
    lam1, lam2 = sorted(lams)
    inst = make_instance(seed, 5, 2, 6, two_d_loss=True)
    rng = np.random.default_rng(seed + 3)
    kw = {
        "prior_demand_kwh": np.full(5, 60.0),
        "prior_curtailed_kwh": rng.integers(0, 10, 5).astype(float),
        "max_hours": 6.0,
        "intervals_per_day": 6,
        "method": "milp",
        "mip_rel_gap": 0.0,
    }
    p1 = schedule(**inst, **kw, fairness_weight_cny=lam1)
    p2 = schedule(**inst, **kw, fairness_weight_cny=lam2)
    big1 = p1.loss_cny + 1e4 * p1.unserved_kwh
    big2 = p2.loss_cny + 1e4 * p2.unserved_kwh
    assert p2.max_share <= p1.max_share + 1e-6
    assert big2 >= big1 - 1e-6 * max(1.0, big1)


@SETTINGS
@given(
    seed=SEEDS,
    n_users=st.integers(3, 25),
    n_days=st.integers(1, 3),
    lam=st.sampled_from([0.0, 100.0]),
    bound=st.sampled_from(["lp", "lagrangian"]),
)
def test_greedy_bounded_by_milp_and_bound(
    seed: int, n_users: int, n_days: int, lam: float, bound: str
) -> None:
    ipd = 10
    inst = make_instance(seed, n_users, n_days, ipd, two_d_loss=True, max_fraction=1.1)
    rng = np.random.default_rng(seed + 11)
    kw: dict = {
        "max_hours": rng.integers(2, 12, n_users).astype(float),
        "max_calls": 2.0,
        "min_duration": 2,
        "fairness_weight_cny": lam,
        "restart_cost_cny": rng.integers(0, 10, n_users).astype(float),
        "intervals_per_day": ipd,
    }
    greedy = schedule(**inst, **kw, method="greedy", greedy_bound=bound)
    exact = schedule(**inst, **kw, method="milp", mip_rel_gap=0.0)
    tol = 1e-6 * max(1.0, exact.objective_cny)
    assert greedy.gap >= 0.0
    assert greedy.objective_cny >= greedy.lower_bound_cny
    assert greedy.objective_cny >= exact.objective_cny - tol
    assert greedy.lower_bound_cny <= exact.objective_cny + tol
    assert greedy.bound_method == (bound if greedy.n_blocks else "none")


# --------------------------------------------------------------------------- default park
def default_park_week(n_users: int, seed: int = 0) -> dict:
    """n_users industrial users × 168 h, 5 h weekday shortages at 10-20 % of the park peak."""
    rng = np.random.default_rng(seed)
    hour = np.arange(168) % 24
    weekday = np.arange(168) // 24 < 5
    kind = rng.choice(3, size=n_users)
    on = np.stack([np.ones(168, bool), (hour >= 6) & (hour < 22), (hour >= 8) & (hour < 18)])
    level = np.where(on[kind], 1.0, rng.uniform(0.15, 0.35, n_users)[:, None])
    level = np.where(weekday, level, 0.5 * level)
    peak = np.clip(rng.lognormal(np.log(400.0), 0.9, n_users), 20.0, 20_000.0)
    loads = peak[:, None] * level * rng.uniform(0.95, 1.05, (n_users, 168))
    total = loads.sum(axis=0)
    short = weekday & (hour >= 13) & (hour < 18)
    frac = np.tile([0.10, 0.15, 0.20, 0.15, 0.10], 5)
    capacity = total * 1.05
    capacity[short] = total[short] - frac * total.max()
    voll = rng.uniform(8.0, 60.0, n_users)
    notice = 6.0 + np.arange(168.0)
    return {
        "loads_kw": loads,
        "capacity_kw": capacity,
        "block_kw": rng.uniform(0.2, 0.6, n_users) * peak,
        "loss_cny_per_kwh": loss_cny_per_kwh(
            voll[:, None], rng.uniform(0.2, 0.8, n_users)[:, None], notice
        ),
        "restart_cost_cny": rng.uniform(0.0, 2.0, n_users) * peak,
        "protected": rng.random(n_users) < 0.03,
        "max_hours": 15.0,
        "max_calls": 3.0,
        "min_duration": 2,
        "fairness_weight_cny": 1e7,
        "prior_demand_kwh": loads.sum(axis=1) * 4.0,
        "prior_curtailed_kwh": loads.sum(axis=1) * 4.0 * rng.uniform(0.0, 0.01, n_users),
    }


def test_default_park_week_solves_within_one_percent() -> None:
    week = default_park_week(200)
    plan = schedule(**week, method="milp", mip_rel_gap=0.01, time_limit_s=60.0)
    assert plan.method == "milp"
    assert plan.status in ("optimal", "gap_limit")
    assert plan.gap <= 0.01
    assert plan.solver_gap <= 0.01
    assert plan.unserved_kwh == 0.0
    assert plan.n_blocks == 5
    assert (plan.hours <= 15.0).all() and (plan.calls <= 3).all()


@pytest.mark.slow
def test_large_park_greedy_gap() -> None:
    """10,000 users: "auto" picks greedy; its plan is certified within 3 % (seen: 1.8 %)."""
    week = default_park_week(10_000, seed=1)
    plan = schedule(**week)
    assert plan.method == "greedy" and plan.bound_method == "lagrangian"
    assert plan.gap <= 0.03
    assert plan.unserved_kwh == 0.0
    assert (plan.hours <= 15.0).all() and (plan.calls <= 3).all()


def capped_week(n_users: int, seed: int = 0) -> dict:
    """Flat loads, five identical 5 h weekday shortages needing 70 % of all blocks.

    With 20 h / 5 calls per user nobody can cover all five events, so a merit order
    that fills the events chronologically exhausts the cheap users' caps on the first
    four and cannot cover the fifth.
    """
    rng = np.random.default_rng(seed)
    hour = np.arange(168) % 24
    short = (np.arange(168) // 24 < 5) & (hour >= 10) & (hour < 15)
    loads = np.repeat(rng.uniform(100.0, 1000.0, n_users)[:, None], 168, axis=1)
    block = np.round(0.5 * loads[:, 0])
    capacity = np.full(168, loads.sum(axis=0).max() * 1.05)
    capacity[short] = loads[:, 0].sum() - 0.7 * block.sum()
    return {
        "loads_kw": loads,
        "capacity_kw": capacity,
        "block_kw": block,
        "loss_cny_per_kwh": rng.uniform(5.0, 60.0, n_users),
        "max_hours": 20.0,
        "max_calls": 5.0,
        "min_duration": 2,
        "fairness_weight_cny": 1000.0,
    }


def test_greedy_spreads_capped_users_over_events() -> None:
    """Regression: chronological greedy left ~5,700 kWh of the last event uncovered.

    Seen: greedy 1.4345e6 CNY vs MILP 1.4040e6 (+2.2 %; ten lumpy users); before the
    cap-aware pass the greedy objective was 5.8e7 including the unserved penalty.
    """
    week = capped_week(10, seed=1)
    exact = schedule(**week, method="milp", mip_rel_gap=1e-3)
    greedy = schedule(**week, method="greedy")
    assert exact.unserved_kwh == 0.0
    assert greedy.unserved_kwh == 0.0
    assert greedy.objective_cny <= exact.objective_cny * 1.04
    assert (greedy.hours <= 20.0).all() and (greedy.calls <= 5).all()
    assert greedy.lower_bound_cny <= exact.objective_cny * (1 + 1e-9)


# --------------------------------------------------------------------------- bad inputs
def bad_cases() -> list[tuple[str, dict]]:
    nan = math.nan
    return [
        ("loads_kw", {"loads_kw": np.ones(2)}),
        ("loads_kw", {"loads_kw": -np.ones((3, 2))}),
        ("loads_kw", {"loads_kw": np.full((3, 2), nan)}),
        ("capacity_kw", {"capacity_kw": np.ones(3)}),
        ("capacity_kw", {"capacity_kw": np.array([-1.0, 1.0])}),
        ("capacity_kw", {"capacity_kw": np.array([nan, 1.0])}),
        ("block_kw", {"block_kw": np.ones(2)}),
        ("block_kw", {"block_kw": np.array([1.0, -1.0, 1.0])}),
        ("block_kw", {"block_kw": np.array([1.0, nan, 1.0])}),
        ("loss_cny_per_kwh", {"loss_cny_per_kwh": np.ones((3, 5))}),
        ("loss_cny_per_kwh", {"loss_cny_per_kwh": np.array([1.0, -1.0, 1.0])}),
        ("loss_cny_per_kwh", {"loss_cny_per_kwh": np.array([1.0, nan, 1.0])}),
        ("restart_cost_cny", {"restart_cost_cny": np.ones(4)}),
        ("restart_cost_cny", {"restart_cost_cny": -np.ones(3)}),
        ("protected", {"protected": np.array([True, False])}),
        ("protected", {"protected": np.array([1, 0, 0])}),
        ("max_hours", {"max_hours": -1.0}),
        ("max_hours", {"max_hours": nan}),
        ("max_hours", {"max_hours": np.ones(2)}),
        ("max_calls", {"max_calls": np.array([1.0, -1.0, 1.0])}),
        ("min_duration", {"min_duration": 0}),
        ("min_duration", {"min_duration": 1.5}),
        ("min_duration", {"min_duration": 25}),
        ("fairness_weight_cny", {"fairness_weight_cny": -1.0}),
        ("fairness_weight_cny", {"fairness_weight_cny": nan}),
        ("prior_curtailed_kwh", {"prior_curtailed_kwh": -np.ones(3)}),
        ("prior_curtailed_kwh", {"prior_curtailed_kwh": np.full(3, 2.0)}),
        ("prior_demand_kwh", {"prior_demand_kwh": np.ones(4)}),
        ("interval_h", {"interval_h": 0.0}),
        ("intervals_per_day", {"intervals_per_day": 0}),
        ("method", {"method": "simplex"}),
        ("milp_max_users", {"milp_max_users": -1}),
        ("time_limit_s", {"time_limit_s": 0.0}),
        ("mip_rel_gap", {"mip_rel_gap": -0.1}),
        ("unserved_penalty_cny_per_kwh", {"unserved_penalty_cny_per_kwh": 0.0}),
        ("sub_block_intervals", {"sub_block_intervals": 0}),
        ("greedy_bound", {"greedy_bound": "dual"}),
        ("lp_bound_max_vars", {"lp_bound_max_vars": -5}),
        ("lagrangian_iters", {"lagrangian_iters": 0}),
    ]


@pytest.mark.parametrize(("name", "override"), bad_cases(), ids=lambda v: str(v)[:40])
def test_bad_inputs_raise_value_error_naming_argument(name: str, override: dict) -> None:
    inst = hand_instance()
    kw = {"prior_demand_kwh": np.ones(3)} if name == "prior_curtailed_kwh" else {}
    kw |= override
    args = {k: kw.pop(k, inst[k]) for k in list(inst)}
    with pytest.raises(ValueError, match=name):
        schedule(**args, **kw)


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("voll_cny_per_kwh", (-1.0, 0.5, 1.0)),
        ("rho", (1.0, 1.5, 1.0)),
        ("rho", (1.0, math.nan, 1.0)),
        ("notice_h", (1.0, 0.5, -1.0)),
        ("notice_h", (np.ones(2), 0.5, np.ones(3))),
    ],
)
def test_loss_bad_inputs(name: str, args: tuple) -> None:
    with pytest.raises(ValueError, match=name):
        loss_cny_per_kwh(*args)


def test_other_bad_inputs() -> None:
    with pytest.raises(ValueError, match="shutdown_h"):
        restart_cost_applies(1.0, -2.0)
    with pytest.raises(ValueError, match="notice_h"):
        restart_cost_applies(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="shares"):
        jain_index([0.1, -0.1])
    with pytest.raises(ValueError, match="shares"):
        jain_index(np.ones((2, 2)))
    with pytest.raises(ValueError, match="deficit_kw"):
        shortage_blocks(np.ones((2, 2)))
    with pytest.raises(ValueError, match="min_duration"):
        shortage_blocks(np.ones(4), min_duration=5, intervals_per_day=4)
