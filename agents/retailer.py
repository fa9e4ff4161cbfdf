"""Retailers: buy their customers' load in the wholesale market and bill them.

The ``retail`` module (:class:`RetailDesk`) builds one :class:`Retailer` per
``market.retailers`` name (the first is the grid-affiliated "market manager")
and puts every user with a retailer at the start (``pop.supplier = 2 + k``, in
contiguous shares ``market.retailer_customer_share`` of the user rows). Each
day D−1 a retailer bids its customers' forecast net load for day D at the cap
(rule M3, quantity-only: expected load − DG forecast self-consumption + booked
EV charging). On day D it pays the day-ahead energy of its schedule, its
real-time imbalance on its metered net load (served − DG self-consumption)
and its contracts for difference (the operator computes them; the retailer
posts its own rows), and accrues its customers' bills on their billed load
(served − DG self-consumption − sub-metered EV charging, as
``GridCompany.settle``), posted at month close. The EV operator pays it for
its customers' EV energy (``ev_energy``); the bank buys reports from it
(:meth:`RetailDesk.credit_report_holders`). The grid company stays the wires
owner (it charges the network fee on retail customers) and the supplier of
last resort at the catalog tariff.

The bill is one method, :meth:`Retailer.bill_cny`: a flat price per kWh =
the retailer's forecast cost (last month's wholesale cost per kWh; the CfD
strike before it has a month) + margin (rule R1, flat menu). With the
``packages`` module on, the retailer is a package party instead: the package
module bills each customer's package monthly to the retailer's account.

References:
    PHASES.md rules M3 and R1 (flat menu), §4 ledger purposes ``da_energy``,
    ``rt_imbalance``, ``mlt_cfd``, ``retail_bill``, ``network_fee``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import mesa
import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from agents._model import ModelView

__all__ = ["RETAIL_SUPPLIER_BASE", "RetailDesk", "Retailer"]

#: ``pop.supplier`` code of retailer 0 (retailer k has ``RETAIL_SUPPLIER_BASE + k``).
RETAIL_SUPPLIER_BASE = 2


class Retailer(mesa.Agent):
    """One retailer: its customers, day-ahead bids, wholesale payments and bills.

    Args:
        model: The park model.
        index: Retailer index k (its customers have ``pop.supplier == 2 + k``).
        name: Retailer name (ledger account and billing owner ``retailer:<name>``).
    """

    model: ModelView

    def __init__(self, model: Any, index: int, name: str) -> None:
        super().__init__(model)
        self.index = index
        self.name = name
        self.code = RETAIL_SUPPLIER_BASE + index
        self.owner = f"retailer:{name}"
        self.account = model.ledger.account(self.owner)
        mc = model.cfg.market
        self.margin_cny_per_kwh = float(mc.retail_margin_cny_per_kwh)
        #: Forecast wholesale cost per kWh behind this month's price, CNY/kWh.
        self.cost_forecast_cny_per_kwh = float(mc.mlt_strike_cny_per_kwh)
        self.month_cost_cny = 0.0
        self.month_energy_kwh = 0.0
        self.wholesale_cost_cny = 0.0
        self.billed_cny = 0.0
        self.prices: list[float] = []

    # ------------------------------------------------------------------ customers
    def customers(self) -> NDArray[np.bool_]:
        """Which users it supplies."""
        return np.asarray(self.model.pop.supplier == self.code)

    @property
    def margin(self) -> float:
        """Its margin m, CNY/kWh (the package party interface of ``agents.packages``)."""
        return self.margin_cny_per_kwh

    def forecast_net_load_kw(
        self, day: int, parts: tuple[Any, Any, Any] | None = None
    ) -> NDArray[np.float64]:
        """Its customers' forecast net load for a day, kW per interval (rule M3).

        The expected (noise-free) load of each customer for the day type,
        minus the DG provider's forecast self-consumption on it (``dg`` on:
        :meth:`agents.dg_provider.DGProvider.forecast_self_kw`), plus the EV
        charging booked for the day (``ev`` on:
        :meth:`agents.ev_fleet.EVFleet.booked_kw`, expected shows) — the
        retailer buys the EV energy and the EV operator pays it back.

        Args:
            day: Model day.
            parts: The park's ``(load, dg_self, ev_booked)`` per user and
                interval, kW, from :func:`forecast_parts_kw` (computed here if None).
        """
        load, dg_self, ev_booked = forecast_parts_kw(self.model, day) if parts is None else parts
        rows = self.customers()
        net = load[rows].sum(axis=0)
        if dg_self is not None:
            net = net - dg_self[rows].sum(axis=0)
        if ev_booked is not None:
            net = net + ev_booked[rows].sum(axis=0)
        return np.asarray(net, dtype=np.float64)

    # ------------------------------------------------------------------ wholesale
    def pay_wholesale(
        self,
        when: Any,
        da_cny: float,
        rt_charge_cny: float,
        cfd_cny_by_plant: NDArray[np.float64],
        plant_accounts: list[int],
        operator_account: int,
    ) -> None:
        """Post its day's wholesale payments (its own ledger rows).

        Args:
            when: Posting time.
            da_cny: Day-ahead energy of its schedule, CNY (to the operator).
            rt_charge_cny: Real-time imbalance charge, CNY (> 0 it pays the
                operator, < 0 the operator pays it).
            cfd_cny_by_plant: CfD payment per plant, CNY (> 0 it pays the plant,
                < 0 the plant pays it).
            plant_accounts: Ledger account of each plant.
            operator_account: The operator's account.
        """
        ledger = self.model.ledger
        ledger.post(when, self.account, operator_account, da_cny, "da_energy")
        if rt_charge_cny >= 0:
            ledger.post(when, self.account, operator_account, rt_charge_cny, "rt_imbalance")
        else:
            ledger.post(when, operator_account, self.account, -rt_charge_cny, "rt_imbalance")
        plants = np.asarray(plant_accounts, dtype=np.int64)
        pay = np.asarray(cfd_cny_by_plant, dtype=float)
        ledger.post(when, self.account, plants, np.maximum(pay, 0.0), "mlt_cfd")
        ledger.post(when, plants, self.account, np.maximum(-pay, 0.0), "mlt_cfd")
        cost = da_cny + rt_charge_cny + float(pay.sum())
        self.add_cost(cost)

    def add_cost(self, amount_cny: float) -> None:
        """Count a wholesale cost (or, negative, a receipt) into this month's cost."""
        self.month_cost_cny += float(amount_cny)
        self.wholesale_cost_cny += float(amount_cny)

    # ------------------------------------------------------------------ retail
    def retail_price_cny_per_kwh(self) -> float:
        """This month's flat retail price: forecast cost + margin (rule R1), CNY/kWh."""
        return self.cost_forecast_cny_per_kwh + self.margin_cny_per_kwh

    def bill_cny(self, served_kwh: NDArray[np.float64]) -> NDArray[np.float64]:
        """Each user's retail bill for a day's served energy, CNY (0 for non-customers).

        The one place the daily retail bill is computed. With the
        ``packages`` module on the bill is 0 here: the package module bills
        each customer's package on its month net curve at month close
        (``retail_bill`` to this retailer's account).

        Args:
            served_kwh: Billed (net) energy per user of the day, kWh.

        Returns:
            The day's bill per user, CNY.
        """
        if self.model.has_module("packages"):
            return np.zeros_like(np.asarray(served_kwh, dtype=float))
        price = self.retail_price_cny_per_kwh()
        return np.where(self.customers(), served_kwh * price, 0.0)

    def accrue_bills(self, served_kwh: NDArray[np.float64]) -> None:
        """Accrue the day's bills (posted by :meth:`close_month`) and count the energy.

        Args:
            served_kwh: Billed energy per user of the day: served minus the
                DG self-consumption and the sub-metered EV charging
                (:meth:`RetailDesk.billed_kwh`), kWh.
        """
        mask = self.customers()
        bill = self.bill_cny(served_kwh)
        self.model.billing.accrue(self.owner, self.account, "retail_bill", bill)
        self.month_energy_kwh += float(served_kwh[mask].sum())

    def close_month(self, when: Any) -> None:
        """Post the month's bills; the next month's price follows its cost per kWh."""
        self.billed_cny += self.model.billing.post(when, self.owner)
        self.prices.append(self.retail_price_cny_per_kwh())
        if self.month_energy_kwh > 0:
            self.cost_forecast_cny_per_kwh = self.month_cost_cny / self.month_energy_kwh
        self.month_cost_cny = 0.0
        self.month_energy_kwh = 0.0


def forecast_parts_kw(m: Any, day: int) -> tuple[Any, Any, Any]:
    """The park's forecast load, DG self-consumption and booked EV charging for a day.

    Args:
        m: The park model.
        day: Model day.

    Returns:
        ``(load, dg_self, ev_booked)``, each ``(n_users, ipd)`` kW; ``dg_self``
        and ``ev_booked`` are None without the ``dg`` and ``ev`` modules.
    """
    load = m.pop.expected_load_kw(m.clock.is_weekend(day))
    dg_self = m.module("dg").forecast_self_kw(day, load) if m.has_module("dg") else None
    ev_booked = m.module("ev").booked_kw(day) if m.has_module("ev") else None
    return load, dg_self, ev_booked


class RetailDesk:
    """The ``retail`` module: the retailers, their bids and their daily payments.

    Args:
        model: The park model.
    """

    KPIS: ClassVar[tuple[str, ...]] = (
        "retailer_profit_cny",
        "retail_price_mean_cny_per_kwh",
        "network_fee_revenue_cny",
    )

    def __init__(self, model: Any) -> None:
        self.model = model
        mc = model.cfg.market
        self.retailers = [Retailer(model, k, str(name)) for k, name in enumerate(mc.retailers)]
        n = model.pop.n_users
        # contiguous shares of the user rows (rows are drawn at random, so no bias)
        cum = np.cumsum(np.asarray(mc.retailer_customer_share, dtype=float))
        position = (np.arange(n) + 0.5) / max(n, 1)
        k = np.minimum(np.searchsorted(cum, position, side="right"), len(self.retailers) - 1)
        model.pop.supplier = (RETAIL_SUPPLIER_BASE + k).astype(np.int64)
        self._bids: dict[int, NDArray[np.float64]] = {}
        #: Months of each user's own data its current retailer holds.
        self.own_months = np.zeros(n, dtype=np.int64)
        self._supplier = model.pop.supplier.copy()

    # ------------------------------------------------------------------ bids (M3)
    def make_bids(self, day: int) -> NDArray[np.float64]:
        """Every retailer's bid for a day ``(retailers, ipd)``, kW (kept for the operator)."""
        parts = forecast_parts_kw(self.model, day)  # once for all retailers
        bids = np.stack([r.forecast_net_load_kw(day, parts) for r in self.retailers])
        self._bids[day] = bids
        return bids

    def bids(self, day: int) -> NDArray[np.float64]:
        """The bids made for a day (``KeyError`` if none)."""
        return self._bids[day]

    def metered_kw(self, served_kw: NDArray[np.float64]) -> NDArray[np.float64]:
        """Each retailer's metered net load ``(retailers, ipd)``, kW (rule M5).

        The grid-side meter: served minus today's DG self-consumption (the
        ``dg`` module meters before the market, ``simulation/modules.py``);
        EV charging stays in (the retailer buys it, the EV operator pays it).
        """
        m = self.model
        if m.has_module("dg"):
            served_kw = served_kw - m.module("dg").unbilled_kw
        return np.stack([served_kw[r.customers()].sum(axis=0) for r in self.retailers])

    def billed_kwh(self, served_kw: NDArray[np.float64]) -> NDArray[np.float64]:
        """Each user's billed energy of the day, kWh: served − DG self − EV sub-meter.

        The same net as ``GridCompany.settle`` bills.
        """
        m = self.model
        for name in ("dg", "ev"):
            if m.has_module(name):
                served_kw = served_kw - m.module(name).unbilled_kw
        return np.asarray(served_kw.sum(axis=1) * m.interval_h, dtype=np.float64)

    def retailer_of(self, users: NDArray[np.int64]) -> NDArray[np.int64]:
        """Retailer index of each user row (−1 for users without a retailer)."""
        code = np.asarray(self.model.pop.supplier)[users] - RETAIL_SUPPLIER_BASE
        return np.where((code >= 0) & (code < len(self.retailers)), code, -1).astype(np.int64)

    # ------------------------------------------------------------------ stages
    def start(self, today: Any) -> None:
        """Bid the first day."""
        self.make_bids(0)

    def bid(self, today: Any) -> None:
        """Bid tomorrow (rule M3)."""
        if today.day + 1 < self.model.n_days:
            self.make_bids(today.day + 1)

    def settle(self, today: Any) -> None:
        """Each retailer pays today's wholesale energy and accrues its customers' bills."""
        m = self.model
        op = m.module("market")
        res = op.result_of(today.day)
        when = m.clock.time_of(today.day, m.ipd - 1)
        plants = [p.account for p in m.module("market_plants").plants]
        billed = self.billed_kwh(today.served_kw)
        for k, r in enumerate(self.retailers):
            r.pay_wholesale(
                when,
                float(res.da_cny_by_retailer[k]),
                float(res.rt_charge_cny_by_retailer[k]),
                res.cfd_cny[k],
                plants,
                op.account,
            )
            r.accrue_bills(billed)
        self._bids.pop(today.day, None)

    def month_close(self, today: Any) -> None:
        """Post the month's retail bills; set next month's prices; count data months."""
        m = self.model
        when = m.clock.time_of(today.day, 0)
        for r in self.retailers:
            r.close_month(when)
        if m.meter.last is not None and m.meter.last.days > 0:
            self.own_months += 1
        moved = m.pop.supplier != self._supplier  # a new retailer starts with no data
        self.own_months[moved] = 0
        self._supplier = m.pop.supplier.copy()

    def credit_report_holders(self) -> tuple[NDArray[np.bool_], NDArray[np.int64]]:
        """Who sells the bank each user's credit report (PHASES.md, Credit).

        The user's retailer when it is grid-affiliated (retailer 0, the market
        manager: the grid's 24 months of history) or holds ≥ 12 months of the
        user's own data (``markets.credit.score`` needs 12–24 months); else
        the grid company, which holds every user's 24-month history.

        Returns:
            ``(reportable, holder_account)`` per user: every user is reportable.
        """
        m = self.model
        n = m.pop.n_users
        holder = np.full(n, int(m.ledger.account("grid")), dtype=np.int64)
        k = self.retailer_of(np.arange(n))
        for j, r in enumerate(self.retailers):
            holder[(k == j) & ((j == 0) | (self.own_months >= 12))] = r.account
        return np.ones(n, dtype=bool), holder

    # ------------------------------------------------------------------ outputs
    def kpis(self) -> dict[str, float]:
        """Retailers' profit, their mean flat price and the grid's network fees."""
        m = self.model
        ledger = m.ledger
        prices = [p for r in self.retailers for p in r.prices]
        fees = ledger.total_cny("network_fee")
        return {
            "retailer_profit_cny": float(sum(ledger.balance(r.owner) for r in self.retailers)),
            "retail_price_mean_cny_per_kwh": float(np.mean(prices)) if prices else 0.0,
            "network_fee_revenue_cny": float(fees),
        }
