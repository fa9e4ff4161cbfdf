"""Hypothesis: money and energy are conserved over random small configurations."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation.config import validate
from simulation.model import ParkModel
from simulation.outputs import compute_kpis
from simulation.run import compose_config


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_users=st.integers(2, 12),
    days=st.integers(1, 9),
    ipd=st.sampled_from([24, 96]),
    seed=st.integers(0, 2**31 - 1),
    compliance=st.floats(0.3, 1.0),
    failure=st.floats(0.0, 1.0),
    shortage=st.floats(0.0, 0.4),
    platform=st.booleans(),
    efficiency=st.booleans(),
    method=st.sampled_from(["milp", "greedy"]),
)
def test_money_and_energy_conserved(
    n_users, days, ipd, seed, compliance, failure, shortage, platform, efficiency, method
):
    cfg = compose_config(
        [
            "park=small",
            f"park.n_users={n_users}",
            f"days={days}",
            f"intervals_per_day={ipd}",
            f"seed={seed}",
            f"grid.compliance_prob={compliance}",
            f"grid.failures.prob_per_day={failure}",
            f"grid.peak_regulation.shortage_fraction={shortage}",
            f"platform.enabled={str(platform).lower()}",
            f"phase.efficiency={str(efficiency).lower()}",
            f"orderly.method={method}",
            "start_date=2025-01-27",  # crosses a month boundary: monthly settlement runs
        ]
    )
    validate(cfg)
    model = ParkModel(cfg)
    model.run()
    kpis = compute_kpis(model)
    assert abs(kpis["ledger_residual_cny"]) <= 1e-6
    assert abs(kpis["energy_residual_kwh"]) <= 1e-6
    # every unit of demand is either served or curtailed, never negative
    rec = model.rec
    iv = rec.intervals
    np.testing.assert_allclose(iv["demand_kw"], iv["served_kw"] + iv["curtailed_kw"], rtol=1e-9)
    assert (iv["served_kw"] >= -1e-9).all()
    # users paid exactly what the grid company and others received
    bal = model.ledger.balances_frame()
    assert abs(bal.balance_cny.sum()) <= 1e-6
