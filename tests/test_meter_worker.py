"""The monthly meter's base-load sums on a worker thread: the totals of adding them in line."""

from __future__ import annotations

import copy
import pickle
import threading

import numpy as np
import pytest

from simulation.metering import MeterDay, MonthlyMeter

N, IPD = 3000, 24  # 72,000 values a day: above MonthlyMeter.WORKER_MIN_VALUES


def _threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("parksim-meter")]


def _working(rng: np.random.Generator) -> np.ndarray:
    start = rng.integers(0, 10, N)
    hours = np.arange(IPD)
    return (hours >= start[:, None]) & (hours < start[:, None] + 9)


def _day(demand_kw: np.ndarray) -> MeterDay:
    kwh = demand_kw.sum(axis=1)
    zeros_u, zeros_i = np.zeros(N), np.zeros(IPD)
    return MeterDay(
        served_kw=demand_kw,
        demand_int_kw=demand_kw.sum(axis=0),
        served_int_kw=demand_kw.sum(axis=0),
        curtailed_int_kw=zeros_i,
        shed_int_kw=zeros_i,
        demand_kwh=kwh,
        served_kwh=kwh,
        curtailed_kwh=zeros_u,
        shed_kwh=zeros_u,
        loss_cny=zeros_u,
        output_cny=zeros_u,
        peak_kw=demand_kw.max(axis=1),
    )


def _month(meter: MonthlyMeter, days: list[tuple[np.ndarray, bool]]) -> MonthlyMeter:
    for demand_kw, weekend in days:
        meter.add_day(_day(demand_kw), demand_kw, weekend)
    return meter


@pytest.fixture
def month() -> tuple[np.ndarray, list[tuple[np.ndarray, bool]]]:
    rng = np.random.default_rng(7)
    days = [(rng.gamma(2.0, 50.0, (N, IPD)), d % 7 >= 5) for d in range(10)]  # 8 weekdays
    return _working(rng), days


def test_worker_totals_equal_the_sums_added_in_line(month, monkeypatch):
    working, days = month
    threaded = _month(MonthlyMeter(N, working), days)
    assert _threads() == ["parksim-meter_0"]  # the sums went to the worker
    totals = threaded.close(10)
    monkeypatch.setattr(MonthlyMeter, "WORKER_MIN_VALUES", 10**9)
    inline = _month(MonthlyMeter(N, working), days).close(10)
    # by hand: each weekday's masked row sums, added day by day
    off, work = np.zeros(N), np.zeros(N)
    for demand_kw, weekend in days:
        if not weekend:
            off += (demand_kw * ~working).sum(axis=1)
            work += (demand_kw * working).sum(axis=1)
    for got in (totals, inline):
        assert np.array_equal(got.off_kw_sum, off)
        assert np.array_equal(got.work_kw_sum, work)
        assert got.off_count == 8.0
        assert np.array_equal(got.work_count, 8.0 * working.sum(axis=1))
    threaded.shutdown()
    assert _threads() == []


def test_a_copy_holds_the_sums_being_added(month):
    working, days = month
    meter = _month(MonthlyMeter(N, working), days)
    twin, blob = copy.deepcopy(meter), pickle.dumps(meter)
    want = meter.close(10)
    for other in (twin, pickle.loads(blob)):
        got = other.close(10)
        assert np.array_equal(got.off_kw_sum, want.off_kw_sum)
        assert np.array_equal(got.work_kw_sum, want.work_kw_sum)
    meter.shutdown()


def test_an_error_in_the_worker_is_raised_when_the_month_closes(month):
    working, days = month
    meter = _month(MonthlyMeter(N, working), days[:1])  # a weekday
    wrong = np.ones((N, IPD + 1))  # does not match the working-hours mask
    meter.add_day(_day(wrong[:, :IPD]), wrong, False)
    with pytest.raises(ValueError, match="broadcast"):
        meter.close(2)
    meter.shutdown()
    assert _threads() == []


def test_a_run_closes_the_worker():
    from simulation.config import validate
    from simulation.model import ParkModel
    from simulation.run import compose_config

    cfg = compose_config(
        ["park=large", "park.n_users=3000", "days=3", "output.users_per_day=false"]
    )
    validate(cfg)
    model = ParkModel(cfg)
    model.run()
    assert model.meter._pool is None
    assert _threads() == []
