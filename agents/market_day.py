"""The market operator's records: a delivery day's market, and the grid's instructions.

Units: kW per interval, kWh, CNY, CNY/MWh (day-ahead prices, as cleared).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from agents.interruptible_load import IlDayCall
from markets.real_time import RealTimeResult

__all__ = ["DayInstructions", "MarketDay"]


@dataclass(frozen=True)
class DayInstructions:
    """The day-ahead curtailment the grid company enforces on a day.

    Attributes:
        mask: Instructed cells ``(n_users, ipd)`` (IL calls and the fallback plan).
        kw_per_cell: Instructed kW per cell ``(n_users, ipd)``.
        il: Cells that are interruptible-load calls ``(n_users, ipd)``.
    """

    mask: NDArray[np.bool_]
    kw_per_cell: NDArray[np.float64]
    il: NDArray[np.bool_]


@dataclass
class MarketDay:
    """One delivery day of the market: the day-ahead result, then real time.

    Day-ahead fields are set at the clearing (day D−1), real-time fields on day D.

    Attributes:
        day: Model day.
        price_cny_per_mwh: Day-ahead energy price per interval, CNY/MWh.
        reserve_price_cny_per_mw_h: Reserve price per interval, CNY per MW·h.
        bid_kw: Retailers' bids ``(retailers, ipd)``, kW.
        schedule_kw: Retailers' day-ahead schedules ``(retailers, ipd)``, kW.
        dispatch_kw: Plants' day-ahead dispatch ``(ipd, plants)``, kW.
        reserve_kw: Plants' reserve ``(ipd, plants)``, kW.
        offered_kw: Plants' offered capacity ``(ipd, plants)``, kW.
        reserve_payment_cny: μ·r per plant, CNY.
        energy_shortfall_kw: Demand the plants could not serve, kW per interval.
        requirement_kw: Reserve requirement before relief, kW per interval.
        reserve_shortfall_kw: Reserve cut by the relief, kW per interval.
        scarcity: Energy or reserve shortfall per interval.
        il: Day-ahead IL calls (None without IL or shortfall).
        fallback: Fallback-plan cells ``(n_users, ipd)`` (None if none).
        cfd_cny: CfD payment per retailer and plant, CNY (> 0 retailer pays).
        metered_kw: Retailers' metered load ``(retailers, ipd)``, kW (real time).
        rt: The real-time settlement (real time).
        activation_kwh: Reserve activation per interval and plant, kWh (signed).
        activation_cny: Activation payment per plant, CNY (> 0 operator pays).
        rt_il: Real-time IL calls (None if none).
    """

    day: int
    price_cny_per_mwh: NDArray[np.float64]
    reserve_price_cny_per_mw_h: NDArray[np.float64]
    bid_kw: NDArray[np.float64]
    schedule_kw: NDArray[np.float64]
    dispatch_kw: NDArray[np.float64]
    reserve_kw: NDArray[np.float64]
    offered_kw: NDArray[np.float64]
    reserve_payment_cny: NDArray[np.float64]
    energy_shortfall_kw: NDArray[np.float64]
    requirement_kw: NDArray[np.float64]
    reserve_shortfall_kw: NDArray[np.float64]
    scarcity: NDArray[np.bool_]
    il: IlDayCall | None
    fallback: NDArray[np.bool_] | None
    cfd_cny: NDArray[np.float64]
    interval_h: float
    metered_kw: NDArray[np.float64] | None = None
    rt: RealTimeResult | None = None
    activation_kwh: NDArray[np.float64] | None = None
    activation_cny: NDArray[np.float64] | None = None
    rt_il: IlDayCall | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def da_cny_by_retailer(self) -> NDArray[np.float64]:
        """Day-ahead energy cost of each retailer's schedule, CNY."""
        return (self.schedule_kw * self.price_cny_per_mwh / 1000.0).sum(axis=1) * self.interval_h

    @property
    def rt_charge_cny_by_retailer(self) -> NDArray[np.float64]:
        """Real-time imbalance charge per retailer, CNY (> 0 it pays)."""
        assert self.rt is not None
        return self.rt.charges_by_participant_cny

    @property
    def produced_kwh_by_plant(self) -> NDArray[np.float64]:
        """Energy each plant produced: day-ahead dispatch plus activation, kWh."""
        act = 0.0 if self.activation_kwh is None else self.activation_kwh.sum(axis=0)
        return self.dispatch_kw.sum(axis=0) * self.interval_h + act
