"""Metering: a day's served, curtailed and productive energy, and the shared monthly meter.

:func:`meter_day` is the daily arithmetic (served = demand − curtailed per
cell, loss of load by the notice model, output value following production).
:class:`MonthlyMeter` accumulates per-user month totals that several modules
read at month close — the ESCO's diagnostics (energy, output, base load), the
sales agent's allocation (members' month load curves), the bank's credit
reports — so each does not keep its own accumulators.

Units: kW per interval, kWh per day or month, CNY.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from markets.orderly import loss_of_load_cny

__all__ = ["MeterDay", "MonthTotals", "MonthlyMeter", "meter_day"]


@dataclass(frozen=True)
class MeterDay:
    """One day's metering.

    Attributes:
        served_kw: Served load ``(n_users, ipd)``, kW.
        demand_int_kw: Park demand per interval, kW.
        served_int_kw: Park served load per interval, kW.
        curtailed_int_kw: Park curtailed load per interval, kW.
        shed_int_kw: Park load shed by the grid company per interval, kW.
        demand_kwh: Demand energy per user, kWh.
        served_kwh: Served energy per user, kWh.
        curtailed_kwh: Curtailed energy per user, kWh.
        shed_kwh: Shed energy per user, kWh.
        loss_cny: Loss of load per user (notice model and restart costs), CNY.
        output_cny: Output value per user, CNY.
        peak_kw: Served peak per user, kW.
    """

    served_kw: NDArray[np.float64]
    demand_int_kw: NDArray[np.float64]
    served_int_kw: NDArray[np.float64]
    curtailed_int_kw: NDArray[np.float64]
    shed_int_kw: NDArray[np.float64]
    demand_kwh: NDArray[np.float64]
    served_kwh: NDArray[np.float64]
    curtailed_kwh: NDArray[np.float64]
    shed_kwh: NDArray[np.float64]
    loss_cny: NDArray[np.float64]
    output_cny: NDArray[np.float64]
    peak_kw: NDArray[np.float64]


def _sum_by(index: NDArray[np.int64], values: Any, size: int) -> NDArray[np.float64]:
    """Sum of ``values`` per index (a float ``np.bincount``)."""
    return np.asarray(np.bincount(index, values, minlength=size), dtype=np.float64)


def meter_day(
    pop: Any,
    demand_kw: NDArray[np.float64],
    disp: Any,
    interval_h: float,
    weekend: bool,
    *,
    demand_int_kw: NDArray[np.float64] | None = None,
) -> MeterDay:
    """Meter one day from the demand and the grid company's curtailed cells.

    Args:
        pop: The population arrays.
        demand_kw: Unconstrained demand ``(n_users, ipd)``, kW.
        disp: The day's ``DayDispatch`` (sparse curtailed cells).
        interval_h: Interval length, h.
        weekend: Whether the day is a weekend day (productive load shape).
        demand_int_kw: ``demand_kw.sum(axis=0)`` if already summed (park demand per
            interval, kW).

    Returns:
        The day's metering.

    References:
        DESIGN.md "Orderly plan": loss per curtailed kWh
        ``c_i(τ) = VOLL_i·(1 − ρ_i·(1 − exp(−τ/24)))`` plus a restart cost when
        τ is below the user's shutdown time.
    """
    n, ipd = demand_kw.shape
    dt_h = interval_h
    rows, cols, kw = disp.rows, disp.cols, disp.curtailed_kw
    served_kw = demand_kw.copy()
    served_kw[rows, cols] -= kw  # cells are unique
    demand_int = demand_kw.sum(axis=0) if demand_int_kw is None else demand_int_kw
    served_int = served_kw.sum(axis=0)
    curtailed_int = _sum_by(cols, kw, ipd)
    shed_int = _sum_by(cols, kw * disp.shed, ipd)
    kwh = kw * dt_h
    curtailed_kwh = _sum_by(rows, kwh, n)
    shed_kwh = _sum_by(rows, kwh * disp.shed, n)
    loss = loss_of_load_cny(
        rows,
        kwh,
        disp.lead_h,
        disp.start,
        voll_cny_per_kwh=pop.voll_cny_per_kwh,
        rho=pop.rho,
        shutdown_h=pop.shutdown_h,
        restart_cost_cny=pop.restart_cost_cny,
    )
    # Output value follows production: productive load, less its curtailed share.
    productive_kw = pop.productive_load_kw(weekend)
    lost_share = kw / demand_kw[rows, cols]
    productive_kwh = pop.productive_energy_kwh(weekend, dt_h) - _sum_by(
        rows, productive_kw[rows, cols] * lost_share * dt_h, n
    )
    output_cny = productive_kwh * pop.output_value_cny_per_kwh
    demand_kwh = demand_kw.sum(axis=1) * dt_h
    return MeterDay(
        served_kw=served_kw,
        demand_int_kw=demand_int,
        served_int_kw=served_int,
        curtailed_int_kw=curtailed_int,
        shed_int_kw=shed_int,
        demand_kwh=demand_kwh,
        served_kwh=demand_kwh - curtailed_kwh,
        curtailed_kwh=curtailed_kwh,
        shed_kwh=shed_kwh,
        loss_cny=loss,
        output_cny=output_cny,
        peak_kw=served_kw.max(axis=1),
    )


@dataclass(frozen=True)
class MonthTotals:
    """Per-user totals of one closed month (or of the days since the last close).

    Attributes:
        days: Days metered.
        energy_kwh: Served energy per user, kWh.
        demand_kwh: Demand energy per user, kWh.
        curtailed_kwh: Curtailed energy per user, kWh.
        output_cny: Output value per user, CNY.
        off_kw_sum: Sum over weekday off-hours intervals of demand, kW (base load).
        work_kw_sum: Sum over weekday working-hours intervals of demand, kW.
        off_count: Weekdays metered (each adds every off-hours interval).
        work_count: Working-hours intervals metered per user.
        curves_kw: Served load per user and interval of the month
            ``(n_users, days · ipd)`` when curves are kept, else ``None``.
        start_day: Model day of the first metered day.
    """

    days: int
    energy_kwh: NDArray[np.float64]
    demand_kwh: NDArray[np.float64]
    curtailed_kwh: NDArray[np.float64]
    output_cny: NDArray[np.float64]
    off_kw_sum: NDArray[np.float64]
    work_kw_sum: NDArray[np.float64]
    off_count: float
    work_count: NDArray[np.float64]
    curves_kw: NDArray[np.float64] | None
    start_day: int


class MonthlyMeter:
    """The shared monthly meter: running month totals, and the last closed month.

    Modules read :attr:`last` in ``month_close`` (the core closes the month
    first), and may ask for month load curves with :meth:`keep_curves`.

    Args:
        n_users: Number of users.
        working: Working-hours mask ``(n_users, ipd)`` (for base-load ratios).
    """

    def __init__(self, n_users: int, working: NDArray[np.bool_]) -> None:
        self.n = n_users
        self.working = working
        self._idle = ~working  # off-hours mask, fixed for the run
        self._work_intervals = working.sum(axis=1)  # working intervals per user and weekday
        self._curves = False
        self._buf: NDArray[Any] | None = None  # scratch for the masked demand, kW
        self.last: MonthTotals | None = None
        self._reset(0)

    def keep_curves(self) -> None:
        """Keep each user's served load curve of the month (for allocation rules)."""
        self._curves = True

    def _reset(self, start_day: int) -> None:
        n = self.n
        self.days = 0
        self.start_day = start_day
        self.energy_kwh = np.zeros(n)
        self.demand_kwh = np.zeros(n)
        self.curtailed_kwh = np.zeros(n)
        self.output_cny = np.zeros(n)
        self.off_kw = np.zeros(n)
        self.work_kw = np.zeros(n)
        self.off_count = 0.0
        self.work_count = np.zeros(n)
        self._curve_days: list[NDArray[np.float64]] = []

    def add_day(self, m: MeterDay, demand_kw: NDArray[np.float64], weekend: bool) -> None:
        """Add a day's metering (weekday demand for the base-load figures)."""
        self.energy_kwh += m.served_kwh
        self.demand_kwh += m.demand_kwh
        self.curtailed_kwh += m.curtailed_kwh
        self.output_cny += m.output_cny
        self.days += 1
        if not weekend:
            # demand × mask into one scratch array kept across days (the same products
            # and sums as with temporaries, without two fresh (n, ipd) arrays a day)
            dtype = np.result_type(demand_kw.dtype, self.working.dtype)
            buf = self._buf
            if buf is None or buf.shape != demand_kw.shape or buf.dtype != dtype:
                buf = self._buf = np.empty(demand_kw.shape, dtype=dtype)
            self.off_kw += np.multiply(demand_kw, self._idle, out=buf).sum(axis=1)
            self.work_kw += np.multiply(demand_kw, self.working, out=buf).sum(axis=1)
            self.work_count += self._work_intervals
            self.off_count += 1.0
        if self._curves:
            self._curve_days.append(m.served_kw)

    def close(self, next_start_day: int) -> MonthTotals:
        """Close the month: its totals become :attr:`last`; the running totals restart."""
        curves = np.concatenate(self._curve_days, axis=1) if self._curve_days else None
        self.last = MonthTotals(
            days=self.days,
            energy_kwh=self.energy_kwh,
            demand_kwh=self.demand_kwh,
            curtailed_kwh=self.curtailed_kwh,
            output_cny=self.output_cny,
            off_kw_sum=self.off_kw,
            work_kw_sum=self.work_kw,
            off_count=self.off_count,
            work_count=self.work_count,
            curves_kw=curves,
            start_day=self.start_day,
        )
        self._reset(next_start_day)
        return self.last
