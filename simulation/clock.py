"""The model's calendar: one rule for days, weeks, months and interval timestamps.

Model day ``d`` is the calendar date ``start_date + d``; a day has
``intervals_per_day`` intervals of ``interval_h`` hours. Weeks are counted from
the first simulated day (day ``7k`` starts week ``k``), so the weekly orderly
plan covers days ``7k … 7k+6``; months are calendar months.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

__all__ = ["DAY_NS", "Clock"]

#: One day as a ``timedelta64[ns]``.
DAY_NS = np.timedelta64(86_400 * 10**9, "ns")
_DAY_NS_INT = 86_400 * 10**9
_NS = np.dtype("datetime64[ns]")


class Clock:
    """Calendar of a run.

    Args:
        start_date: First simulated day (ISO date string or ``datetime.date``).
        n_days: Number of simulated days.
        intervals_per_day: Intervals per day (a multiple of 24 dividing 1440).
    """

    def __init__(self, start_date: Any, n_days: int, intervals_per_day: int) -> None:
        self.start = np.datetime64(str(start_date), "D").astype("datetime64[ns]")
        self.n_days = int(n_days)
        self.ipd = int(intervals_per_day)
        #: Interval length, h.
        self.interval_h = 24.0 / self.ipd
        self.interval = np.timedelta64(int(86_400 * 10**9 // self.ipd), "ns")
        self._start_date: dt.date = self.start.astype("datetime64[D]").item()
        self._start_ns = int(self.start.astype(np.int64))
        self._interval_ns = int(self.interval.astype(np.int64))

    def date_of(self, day: int) -> dt.date:
        """Calendar date of a model day."""
        return self._start_date + dt.timedelta(days=int(day))

    def time_of(self, day: int, interval: Any) -> Any:
        """Timestamp(s) of the start of interval(s) of a model day (``datetime64[ns]``)."""
        if isinstance(day, int | np.integer):
            base = self._start_ns + int(day) * _DAY_NS_INT
            if isinstance(interval, int | np.integer) and not isinstance(interval, bool):
                return np.datetime64(base + int(interval) * self._interval_ns, "ns")
            ns = np.asarray(interval, dtype=np.int64) * self._interval_ns + base
            return ns.astype(_NS) if ns.ndim else np.datetime64(int(ns), "ns")
        return self.start + day * DAY_NS + np.asarray(interval, dtype=np.int64) * self.interval

    def is_weekend(self, day: int) -> bool:
        """Whether a model day is a Saturday or Sunday."""
        return bool(self.date_of(day).weekday() >= 5)

    def is_month_start(self, day: int) -> bool:
        """Whether a model day is the first of a calendar month."""
        return bool(self.date_of(day).day == 1)

    def week_start(self, day: int) -> int:
        """First day of the (model) week containing ``day``."""
        return day - day % 7

    def is_week_start(self, day: int) -> bool:
        """Whether a model day starts a week (every seventh day from the first)."""
        return day % 7 == 0

    def days_in_month_of(self, day: int) -> int:
        """Number of calendar days in the month of a model day."""
        d = self.date_of(day)
        nxt = dt.date(d.year + d.month // 12, d.month % 12 + 1, 1)
        return (nxt - dt.date(d.year, d.month, 1)).days
