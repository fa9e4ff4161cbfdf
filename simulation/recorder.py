"""Preallocated result arrays of a run (interval rows and user rows).

Interval-level series are stored as ``(days, intervals_per_day)`` arrays of
park totals; user-level results as ``(days, n_users)`` arrays, or as run
totals only when ``per_day`` is off (for very large parks).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["USER_FIELDS", "Recorder"]

#: User-level fields, each ``(n_users,)`` per day (units in the names).
USER_FIELDS: tuple[str, ...] = (
    "demand_kwh",
    "served_kwh",
    "curtailed_kwh",
    "planned_kwh",
    "shed_kwh",
    "peak_kw",
    "loss_cny",
    "bill_cny",
    "penalty_cny",
    "output_cny",
)

_INTERVAL_FIELDS: tuple[str, ...] = (
    "demand_kw",
    "served_kw",
    "curtailed_kw",
    "planned_kw",
    "shed_kw",
    "capacity_kw",
    "failure_kw",
)


class Recorder:
    """Result arrays filled once per day.

    Args:
        n_days: Days in the run.
        ipd: Intervals per day.
        n_users: Number of users.
        per_day: Keep user rows per day (else run totals; ``peak_kw`` is the max).
    """

    def __init__(self, n_days: int, ipd: int, n_users: int, per_day: bool = True) -> None:
        self.n_days, self.ipd, self.n_users, self.per_day = n_days, ipd, n_users, per_day
        self.intervals: dict[str, NDArray[np.float64]] = {
            k: np.zeros((n_days, ipd)) for k in _INTERVAL_FIELDS
        }
        rows = n_days if per_day else 1
        self.users: dict[str, NDArray[np.float64]] = {
            k: np.zeros((rows, n_users)) for k in USER_FIELDS
        }
        self.days_recorded = 0

    def record(
        self,
        day: int,
        *,
        intervals: dict[str, NDArray[np.float64]],
        users: dict[str, NDArray[np.float64]],
    ) -> None:
        """Store one day's park totals per interval and results per user.

        Args:
            day: Model day index.
            intervals: Every interval field, ``(intervals_per_day,)`` each.
            users: Every user field (:data:`USER_FIELDS`), ``(n_users,)`` each.
        """
        for k in _INTERVAL_FIELDS:
            self.intervals[k][day] = intervals[k]
        for k in USER_FIELDS:
            v = users[k]
            if self.per_day:
                self.users[k][day] = v
            elif k == "peak_kw":
                np.maximum(self.users[k][0], v, out=self.users[k][0])
            else:
                self.users[k][0] += v
        self.days_recorded = day + 1

    def user_totals(self, name: str) -> NDArray[np.float64]:
        """Run total (max for ``peak_kw``) of a user field, per user."""
        arr = self.users[name][: self.days_recorded if self.per_day else 1]
        return arr.max(axis=0) if name == "peak_kw" else arr.sum(axis=0)
