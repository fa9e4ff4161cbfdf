"""The energy book: served and curtailed energy, supply by source, and the balance check.

Every interval, ``demand = served + curtailed`` and ``served = Σ supply by
source``, where the sources are the grid company's catalog supply, bilateral
contracts (sales agent), the day-ahead schedule, real-time imbalance and DG
self-consumption. The book records each source per interval (as
``supply_<source>_kw`` fields of ``intervals.parquet``) and keeps the largest
imbalance seen as ``energy_residual_kwh``. Emissions are counted on the energy
bought from the grid (every source but DG self-consumption).

Which supplier serves a user is the population array ``supplier``:
``0`` = grid catalog, ``1`` = sales agent (bilateral contract), ``2 + k`` =
retailer ``k`` (day-ahead). A module that re-splits a supply (real-time
imbalance out of a day-ahead schedule, DG self-consumption out of a
supplier's energy) moves it with :meth:`EnergyBook.move`.

References:
    DESIGN.md "Money, energy and information" (the energy balance).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["GRID_SOURCES", "SOURCES", "SUPPLIER_SOURCE", "EnergyBook"]

#: Supply sources, in the order they are recorded.
SOURCES: tuple[str, ...] = ("grid_catalog", "contract", "day_ahead", "real_time", "dg_self")
#: Sources bought over the grid (for emissions).
GRID_SOURCES: tuple[str, ...] = ("grid_catalog", "contract", "day_ahead", "real_time")
#: Source of the energy of each supplier code (index = min(code, 2)).
SUPPLIER_SOURCE: tuple[str, ...] = ("grid_catalog", "contract", "day_ahead")


class EnergyBook:
    """Per-interval supply by source and the run's energy residual.

    Args:
        interval_h: Interval length, h.
        ipd: Intervals per day.
    """

    def __init__(self, interval_h: float, ipd: int) -> None:
        self.interval_h = interval_h
        self.ipd = ipd
        self.residual_kwh = 0.0
        self.total_kwh = dict.fromkeys(SOURCES, 0.0)
        self.export_total_kwh = 0.0
        self._today: dict[str, NDArray[np.float64]] = {}
        self._export = np.zeros(ipd)

    def begin_day(
        self,
        served_kw: NDArray[np.float64],
        supplier: NDArray[np.int64],
        served_int_kw: NDArray[np.float64] | None = None,
    ) -> None:
        """Assign today's served load to its suppliers' sources.

        Args:
            served_kw: Served load ``(n_users, ipd)``, kW.
            supplier: Supplier code per user.
            served_int_kw: ``served_kw.sum(axis=0)`` if already summed (park served
                load per interval, kW): the supply when one supplier serves everyone.
        """
        ipd = self.ipd
        self._today = {s: np.zeros(ipd) for s in SOURCES}
        self._export = np.zeros(ipd)
        code = np.minimum(supplier, len(SUPPLIER_SOURCE) - 1)
        lo = int(code.min()) if code.size else 0
        if code.size == 0 or lo == int(code.max()):  # one supplier serves everyone
            total = served_kw.sum(axis=0) if served_int_kw is None else served_int_kw.copy()
            self._today[SUPPLIER_SOURCE[lo]] = total
            return
        groups = np.unique(code)
        for g in groups:
            self._today[SUPPLIER_SOURCE[int(g)]] = served_kw[code == g].sum(axis=0)

    def move(self, source: str, target: str, kw: NDArray[np.float64]) -> None:
        """Move supply from one source to another in today's intervals, kW."""
        self._today[source] = self._today[source] - kw
        self._today[target] = self._today[target] + kw

    def add_export(self, kw: NDArray[np.float64]) -> None:
        """Add energy exported from the park (DG surplus) in today's intervals, kW."""
        self._export = self._export + kw

    def supply_kw(self, source: str) -> NDArray[np.float64]:
        """Today's supply of one source per interval, kW."""
        return self._today[source]

    def end_day(
        self,
        demand_int_kw: NDArray[np.float64],
        served_int_kw: NDArray[np.float64],
        curtailed_int_kw: NDArray[np.float64],
    ) -> dict[str, NDArray[np.float64]]:
        """Check today's balance and return the per-source fields to record.

        Args:
            demand_int_kw: Park demand per interval, kW.
            served_int_kw: Park served load per interval, kW.
            curtailed_int_kw: Park curtailment per interval, kW.

        Returns:
            ``{"supply_<source>_kw": kW per interval, "export_kw": ...}``.
        """
        dt_h = self.interval_h
        supplied = np.zeros(self.ipd)
        for s in SOURCES:
            supplied = supplied + self._today[s]
            self.total_kwh[s] += float(self._today[s].sum()) * dt_h
        self.export_total_kwh += float(self._export.sum()) * dt_h
        res1 = np.abs(demand_int_kw - served_int_kw - curtailed_int_kw)
        res2 = np.abs(served_int_kw - supplied)
        self.residual_kwh = max(self.residual_kwh, float(max(res1.max(), res2.max())) * dt_h)
        out = {f"supply_{s}_kw": self._today[s] for s in SOURCES}
        out["export_kw"] = self._export
        return out

    @property
    def grid_bought_kwh(self) -> float:
        """Energy bought over the grid in the run so far, kWh."""
        return float(sum(self.total_kwh[s] for s in GRID_SOURCES))
