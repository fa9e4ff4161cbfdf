"""The market operator's registry of medium- and long-term contracts for difference (M1).

Each retailer signs an annual CfD for ``mlt_annual_share`` of its forecast load
on the first day and every January, and a monthly top-up to ``mlt_total_share``
at every month start; all at the strike ``mlt_strike_cny_per_kwh``. Each day the
contracted volume Q_r,t = (Σ active shares)·L̂_r,t·Δt is placed with the plants
in merit order up to capacity (``markets.mlt.allocate_contracts``) and settled
against the day-ahead price (``markets.mlt.cfd``): the retailer pays the plant
Q·(K − p_DA) (negative: the plant pays).

References:
    PHASES.md rule M1; MLT contracts ≥ 80 % annual, 90–95 % with monthly
    top-ups, http://www.asiangames.com.cn/article-14987-118511.html ; Jiangsu
    coal benchmark 0.391 CNY/kWh, https://wenku.solarbe.com/p-20929.html .
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from markets.mlt import allocate_contracts, cfd

if TYPE_CHECKING:
    from agents._model import ModelView

__all__ = ["CfdRegistry"]


class CfdRegistry:
    """Contracts for difference between the retailers and the plants.

    Args:
        model: The park model.
        retailers: Retailer names, in retailer order.
    """

    def __init__(self, model: ModelView, retailers: list[str]) -> None:
        self.model = model
        self.retailers = retailers
        #: One row per contract (retailer, kind, share, strike, start and end day).
        self.contracts: list[dict[str, Any]] = []
        self.net_cny = 0.0

    def _end_day(self, day: int, *, year: bool) -> int:
        """First day after ``day`` that starts a month (a January with ``year``), or the end."""
        m = self.model
        clock = m.clock
        end = day + 1
        while end < m.n_days and not (
            clock.is_month_start(end) and (not year or clock.date_of(end).month == 1)
        ):
            end += 1
        return end

    def sign(self, day: int, *, annual: bool) -> None:
        """Register the annual CfDs (with ``annual``) and the month's top-up from ``day``.

        Args:
            day: First model day of the contracts.
            annual: Sign the annual contracts too (first day, each January).
        """
        mc = self.model.cfg.market
        strike = float(mc.mlt_strike_cny_per_kwh)
        top_up = float(mc.mlt_total_share) - float(mc.mlt_annual_share)
        for name in self.retailers:
            if annual:
                self.contracts.append(
                    {
                        "retailer": name,
                        "kind": "annual",
                        "share": float(mc.mlt_annual_share),
                        "strike_cny_per_kwh": strike,
                        "start_day": day,
                        "end_day": self._end_day(day, year=True),
                    }
                )
            if top_up > 0:
                self.contracts.append(
                    {
                        "retailer": name,
                        "kind": "monthly",
                        "share": top_up,
                        "strike_cny_per_kwh": strike,
                        "start_day": day,
                        "end_day": self._end_day(day, year=False),
                    }
                )

    def settle_day(
        self,
        day: int,
        forecast_kw: NDArray[np.float64],
        capacity_kw: NDArray[np.float64],
        offer_cny_per_mwh: NDArray[np.float64],
        price_cny_per_mwh: NDArray[np.float64],
    ) -> NDArray[np.float64]:
        """The day's CfD payments per retailer and plant (rule M1).

        Args:
            day: Delivery day.
            forecast_kw: Retailers' forecast load ``(retailers, ipd)``, kW.
            capacity_kw: Plants' nominal capacity, kW.
            offer_cny_per_mwh: Plants' energy offers (merit order), CNY/MWh.
            price_cny_per_mwh: Day-ahead price per interval, CNY/MWh.

        Returns:
            Payment per retailer and plant, CNY (> 0 the retailer pays).
        """
        n_r, n_p = forecast_kw.shape[0], len(offer_cny_per_mwh)
        share = np.zeros(n_r)
        for c in self.contracts:
            if c["start_day"] <= day < c["end_day"]:
                share[self.retailers.index(c["retailer"])] += c["share"]
        if not share.any():
            return np.zeros((n_r, n_p))
        dt = self.model.interval_h
        strike = float(self.model.cfg.market.mlt_strike_cny_per_kwh)
        volume = forecast_kw * share[:, None] * dt
        alloc = allocate_contracts(volume, capacity_kw, offer_cny_per_mwh / 1000.0, dt)
        pay = cfd(alloc.volume_kwh, strike, price_cny_per_mwh[None, :, None] / 1000.0)
        out = np.asarray(pay.payment_cny.sum(axis=1))
        self.net_cny += float(out.sum())
        return out
