"""Preallocated result arrays of a run (interval rows and user rows).

Interval-level series are stored as ``(days, intervals_per_day)`` arrays of
park totals; user-level results as ``(days, n_users)`` arrays, or as run
totals only when ``per_day`` is off (for very large parks). The fields are
registered when the model is built — the core's and each active module's
``INTERVAL_FIELDS`` / ``USER_FIELDS`` — and a field a day does not record
stays 0.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from numpy.typing import NDArray

__all__ = ["Recorder"]

#: User fields aggregated by their maximum (not their sum) in run totals.
_MAX_FIELDS = frozenset({"peak_kw"})


class Recorder:
    """Result arrays filled once per day.

    Args:
        n_days: Days in the run.
        ipd: Intervals per day.
        n_users: Number of users.
        per_day: Keep user rows per day (else run totals; ``*peak_kw`` is the max).
        interval_fields: Names of the park-level per-interval fields, in column order.
        user_fields: Names of the per-user fields, in column order.
    """

    def __init__(
        self,
        n_days: int,
        ipd: int,
        n_users: int,
        per_day: bool = True,
        *,
        interval_fields: Iterable[str],
        user_fields: Iterable[str],
    ) -> None:
        self.n_days, self.ipd, self.n_users, self.per_day = n_days, ipd, n_users, per_day
        self.intervals: dict[str, NDArray[np.float64]] = {
            k: np.zeros((n_days, ipd)) for k in dict.fromkeys(interval_fields)
        }
        rows = n_days if per_day else 1
        self.users: dict[str, NDArray[np.float64]] = {
            k: np.zeros((rows, n_users)) for k in dict.fromkeys(user_fields)
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
            intervals: Interval fields, ``(intervals_per_day,)`` each.
            users: User fields, ``(n_users,)`` each.

        Raises:
            KeyError: If a field was not registered.
        """
        for k, v in intervals.items():
            self.intervals[k][day] = v
        for k, v in users.items():
            arr = self.users[k]
            if self.per_day:
                arr[day] = v
            elif k in _MAX_FIELDS:
                np.maximum(arr[0], v, out=arr[0])
            else:
                arr[0] += v
        self.days_recorded = day + 1

    def user_totals(self, name: str) -> NDArray[np.float64]:
        """Run total (max for ``peak_kw``) of a user field, per user."""
        arr = self.users[name][: self.days_recorded if self.per_day else 1]
        return arr.max(axis=0) if name in _MAX_FIELDS else arr.sum(axis=0)
