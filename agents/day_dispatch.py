"""What the grid company did on one day: its curtailment as sparse cells.

:class:`DayDispatch` is the result of :meth:`agents.grid_company.GridCompany.dispatch_day`
(the orderly plan's enforcement) and of the market-phase dispatch
(:func:`agents.market_dispatch.dispatch_market_day`, whose fields it takes); metering
(:mod:`simulation.metering`) and the day's records read it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["DayDispatch"]


@dataclass(frozen=True)
class DayDispatch:
    """What the grid company did on one day, as sparse curtailed cells.

    Curtailment is sparse (few users, few intervals), so it is kept as one entry
    per curtailed (user, interval) cell; cells are unique.

    Attributes:
        capacity_kw: Supply capacity per interval.
        failure_kw: Capacity lost to a failure today, per interval.
        rows: User row of each curtailed cell.
        cols: Interval of each curtailed cell.
        curtailed_kw: Curtailed load of each cell, kW (> 0 where demand > 0).
        shed: The cell was shed by the grid company at 15-minute notice (user
            ignored its instruction, or emergency shedding); else the user
            followed a plan.
        lead_h: Notice lead time of the call covering the cell, h.
        start: The cell is the first interval of a call.
        penalty_kwh: Energy each non-compliant user was told to shed, kWh ``(n_users,)``.
        il: The cell is an interruptible-load call (market phase; None otherwise).
    """

    capacity_kw: NDArray[np.float64]
    failure_kw: NDArray[np.float64]
    rows: NDArray[np.int64]
    cols: NDArray[np.int64]
    curtailed_kw: NDArray[np.float64]
    shed: NDArray[np.bool_]
    lead_h: NDArray[np.float64]
    start: NDArray[np.bool_]
    penalty_kwh: NDArray[np.float64]
    il: NDArray[np.bool_] | None = None
