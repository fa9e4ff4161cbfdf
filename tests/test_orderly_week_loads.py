"""The orderly planner's weekly forecast: kept while the population's loads are unchanged."""

from __future__ import annotations

import numpy as np

from simulation.model import ParkModel
from simulation.population import Population
from simulation.run import compose_config


def _model() -> ParkModel:
    cfg = compose_config(["park=small", "park.n_users=6", "days=21", "progress=false"])
    return ParkModel(cfg)


def _expected(model: ParkModel, first_day: int) -> np.ndarray:
    margin = 1.0 + model.cfg.orderly.forecast_margin
    return np.concatenate(
        [
            model.pop.expected_load_kw(model.clock.is_weekend(first_day + d)) * margin
            for d in range(7)
        ],
        axis=1,
    )


def test_week_loads_kept_while_unchanged_and_rebuilt_after_measures() -> None:
    """Two weeks of the same weekend pattern share one read-only forecast (kW); after the
    population's loads change (``Population.changed``) it is built again from them."""
    model = _model()
    planner = model.module("grid").planner
    week0 = planner.week_loads_kw(0)
    assert not week0.flags.writeable
    np.testing.assert_array_equal(week0, _expected(model, 0))
    assert planner.week_loads_kw(7) is week0
    pop = model.pop
    pop.saving_factor[:] = 0.9
    pop.peak_saving_kw[0] = 1.0
    pop.changed()
    week1 = planner.week_loads_kw(7)
    assert week1 is not week0
    np.testing.assert_array_equal(week1, _expected(model, 7))
    assert not np.array_equal(week1, week0)
    assert planner.week_loads_kw(3) is not week1  # another weekend pattern
    np.testing.assert_array_equal(planner.week_loads_kw(3), _expected(model, 3))


def test_changed_keeps_the_loads_only_when_their_inputs_are_unchanged() -> None:
    """``Population.changed`` without a changed value keeps the cached day loads (the
    same arrays, so the weekly forecast too); any changed input rebuilds them."""
    model = _model()
    pop = model.pop
    planner = model.module("grid").planner
    day = pop.expected_load_kw(False)
    week = planner.week_loads_kw(0)
    pop.changed()  # e.g. a month without new measures
    assert pop.expected_load_kw(False) is day
    assert planner.week_loads_kw(0) is week
    for name in ("saving_factor", "peak_saving_kw", "standby_kw", "mean_load_kw"):
        before = pop.expected_load_kw(False)
        arr = getattr(pop, name)
        arr[1] = arr[1] * 0.5 + 0.25
        pop.changed()
        after = pop.expected_load_kw(False)
        assert after is not before, name
        np.testing.assert_array_equal(after, _fresh_expected(pop), err_msg=name)
    assert not pop.shape_weekday.flags.writeable  # fixed for the run


def _fresh_expected(pop: Population) -> np.ndarray:
    load = pop.mean_load_kw[:, None] * pop.shape_weekday * pop.saving_factor[:, None]
    load -= pop.peak_saving_kw[:, None] * pop.working
    load += pop.standby_kw[:, None] * ~pop.working
    return np.maximum(load, 0.0)
