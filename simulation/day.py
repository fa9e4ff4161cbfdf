"""Today's state: the arrays the stages of one day hand to each other.

One :class:`DayState` is made at the start of every model day and passed to
every hook. Stages fill it in order: ``demand`` sets the unconstrained load,
``dispatch`` the curtailed cells, ``meter`` the metered results; any hook may
add a recorded field with :meth:`DayState.record_users` /
:meth:`DayState.record_intervals` (the recorder stores the registered ones in
``collect``).

Sign conventions: loads and curtailment are positive kW; per user and
interval ``demand = served + curtailed``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["DayState"]


@dataclass
class DayState:
    """One model day as it passes through the stages.

    Attributes:
        day: Model day index.
        date: Calendar date.
        weekend: Saturday or Sunday.
        final: This is the closing ``month_close`` after the last day (settle
            what is due; monthly services such as reports do not run).
        demand_kw: Unconstrained demand ``(n_users, intervals_per_day)``, kW.
        dispatch: The grid company's curtailment of the day (``DayDispatch``).
        served_kw: Served load ``(n_users, intervals_per_day)``, kW.
        metered: The day's metering (``simulation.metering.MeterDay``).
        users: Per-user fields to record today, ``(n_users,)`` each.
        intervals: Park-level fields to record today, ``(intervals_per_day,)`` each.
        totals: Day totals reported to Mesa's DataCollector.
    """

    day: int
    date: dt.date
    weekend: bool
    final: bool = False
    demand_kw: NDArray[np.float64] | None = None
    dispatch: Any = None
    served_kw: NDArray[np.float64] | None = None
    metered: Any = None
    users: dict[str, NDArray[np.float64]] = field(default_factory=dict)
    intervals: dict[str, NDArray[np.float64]] = field(default_factory=dict)
    totals: dict[str, float] = field(default_factory=dict)
    _park_demand: tuple[Any, NDArray[np.float64]] | None = field(default=None, repr=False)

    def park_demand_kw(self) -> NDArray[np.float64]:
        """Park demand per interval, ``demand_kw.sum(axis=0)`` in kW.

        Summed once for the day's demand array (dispatch and metering both need it);
        summed again if a stage replaced :attr:`demand_kw` by another array.
        """
        demand = self.demand_kw
        assert demand is not None
        cached = self._park_demand
        if cached is None or cached[0] is not demand:
            cached = (demand, demand.sum(axis=0))
            self._park_demand = cached
        return cached[1]

    def record_users(self, **fields: NDArray[np.float64]) -> None:
        """Add per-user fields (``(n_users,)`` arrays) to today's record."""
        self.users.update(fields)

    def record_intervals(self, **fields: NDArray[np.float64]) -> None:
        """Add park-level per-interval fields to today's record."""
        self.intervals.update(fields)
