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
        demand_kw: NDArray[np.float64],
        served_kw: NDArray[np.float64],
        planned_kw: NDArray[np.float64],
        shed_kw: NDArray[np.float64],
        capacity_kw: NDArray[np.float64],
        failure_kw: NDArray[np.float64],
        loss_cny: NDArray[np.float64],
        bill_cny: NDArray[np.float64],
        output_cny: NDArray[np.float64],
        penalty_cny: NDArray[np.float64],
    ) -> None:
        """Store one day's results (kW arrays are users × intervals)."""
        dt_h = 24.0 / self.ipd
        iv = self.intervals
        iv["demand_kw"][day] = demand_kw.sum(axis=0)
        iv["served_kw"][day] = served_kw.sum(axis=0)
        iv["planned_kw"][day] = planned_kw.sum(axis=0)
        iv["shed_kw"][day] = shed_kw.sum(axis=0)
        iv["curtailed_kw"][day] = iv["planned_kw"][day] + iv["shed_kw"][day]
        iv["capacity_kw"][day] = capacity_kw
        iv["failure_kw"][day] = failure_kw
        values = {
            "demand_kwh": demand_kw.sum(axis=1) * dt_h,
            "served_kwh": served_kw.sum(axis=1) * dt_h,
            "curtailed_kwh": (planned_kw.sum(axis=1) + shed_kw.sum(axis=1)) * dt_h,
            "planned_kwh": planned_kw.sum(axis=1) * dt_h,
            "shed_kwh": shed_kw.sum(axis=1) * dt_h,
            "peak_kw": served_kw.max(axis=1),
            "loss_cny": loss_cny,
            "bill_cny": bill_cny,
            "penalty_cny": penalty_cny,
            "output_cny": output_cny,
        }
        row = day if self.per_day else 0
        for k, v in values.items():
            if not self.per_day and k == "peak_kw":
                np.maximum(self.users[k][0], v, out=self.users[k][0])
            elif self.per_day:
                self.users[k][row] = v
            else:
                self.users[k][0] += v
        self.days_recorded = day + 1

    def user_totals(self, name: str) -> NDArray[np.float64]:
        """Run total (max for ``peak_kw``) of a user field, per user."""
        arr = self.users[name][: self.days_recorded if self.per_day else 1]
        return arr.max(axis=0) if name == "peak_kw" else arr.sum(axis=0)
