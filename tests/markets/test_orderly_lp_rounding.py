"""LP rounding in the greedy plan (markets.orderly.greedy._greedy_plan).

The LP relaxation is solved for the bound anyway; its optimum then seeds greedy
passes (blocks the LP selects to at least 0.5, its integral ones, or 0.3). The
kept plan is the best of all passes, so rounding can only lower the objective; on
the instance below it closes a 7.4 % gap to 4.2 % (values of this instance,
computed with and without the rounding passes).
"""

from __future__ import annotations

import importlib

import pytest
from orderly_cases import three_day_peak

from markets.orderly import schedule

greedy_mod = importlib.import_module("markets.orderly.greedy")


def _instance(seed: int, n: int = 25, frac: float = 0.5, hcap_h: float = 20.0) -> dict:
    """Three days, a 10-hour peak 15 % above capacity, caps of 20 h and 2 calls."""
    return three_day_peak(seed, n, frac, hcap_h)


def _without_rounding(monkeypatch: pytest.MonkeyPatch, inst: dict) -> object:
    with monkeypatch.context() as m:
        m.setattr(greedy_mod, "_LP_START_LEVELS", ())
        return schedule(**inst)


def test_lp_rounding_closes_part_of_the_gap(monkeypatch: pytest.MonkeyPatch) -> None:
    inst = _instance(0)
    plain = _without_rounding(monkeypatch, inst)
    rounded = schedule(**inst)
    assert plain.gap == pytest.approx(0.0735, abs=5e-4)
    assert rounded.gap == pytest.approx(0.0419, abs=5e-4)
    assert rounded.lower_bound_cny == pytest.approx(plain.lower_bound_cny)  # same LP bound
    assert rounded.unserved_kwh == 0.0
    # Still a plan of the block model: every deficit interval covered, caps kept.
    assert (rounded.curtailed_kw.sum(axis=0) >= rounded.deficit_kw - 1e-6).all()
    assert (rounded.hours <= 20.0 + 1e-9).all() and (rounded.calls <= 2).all()


@pytest.mark.parametrize("seed", range(6))
def test_lp_rounding_never_raises_the_objective(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    inst = _instance(seed, n=12 + seed, frac=0.5 + 0.05 * seed)
    plain = _without_rounding(monkeypatch, inst)
    rounded = schedule(**inst)
    assert rounded.objective_cny <= plain.objective_cny + 1e-9
    assert rounded.lower_bound_cny == pytest.approx(plain.lower_bound_cny)
