"""Retail packages: monthly menus, the market manager's recommendation, switching.

The ``packages`` module (rules R1–R3 of PHASES.md). Each *billing party*
publishes a monthly menu of four packages priced from its forecast cost
(:meth:`PackageMarket.menu`, R1):

- ``time_of_use``: p_t = p̂_t + m, p̂_t = the last ``history_days`` days' mean
  price signal for that hour (:mod:`agents.price_signal`); a retailer scales
  p̂ to its own forecast cost per kWh (``Retailer.cost_forecast_cny_per_kwh``:
  last month's wholesale cost with CfDs, real time and uplift, per billed kWh)
  on its portfolio's load, so its menu recovers its cost, not the spot level;
- ``flat``: p = ĉ + m, ĉ = Σ_t L̂_t·p̂_t / Σ_t L̂_t on its customers' last
  month's net load L̂;
- ``peak_valley``: p·(1.6, 1, 0.4) on the grid's TOU peak and valley hours;
- ``demand_charge``: energy p − d plus 40 CNY/kW·month, d = 40·P̂/Ê (the same
  revenue at the portfolio's load factor).

At each month close the market manager recommends each customer the cheapest
package on its last month's net curve (``tariffs.recommend``), publishes it on
the platform with the saving (``package_recommendation``; ``recommender``:
``own`` menu, ``neutral`` all parties' menus, or ``off``), and customers
whose recommendation differs from their package switch with probability
(1 − ι)·``tariffs.switch_probability(saving, K_pkg, β_rel/C_i)`` (R3),
effective for the month that starts.

**Billing parties.** With the wholesale market on (``retail`` module), the
parties are the :class:`agents.retailer.Retailer` s (``name``, ``account``,
``customers()``, ``margin``): each retailer's customer pays its package bill
on its net month curve (``tariffs.bill``) directly to its retailer
(``retail_bill``, through ``simulation.billing`` so the fund sees it; the
retailer's own daily flat bill is then 0). ``own`` recommends from the
customer's retailer's menu; ``neutral`` from every retailer's menu, and a
customer who takes another retailer's package moves to that retailer
(``pop.supplier``) from the month that starts.

Without a market the only party is the grid company (:class:`GridParty`,
customers ``supplier == 0``; it bills the catalog tariff in
``GridCompany.settle``). Its ``time_of_use`` package at margin 0 *is* the
catalog; a customer on another package pays the difference between its
package bill and the catalog bill of its net month curve — a ``retail_bill``
surcharge (user → grid) or a ``package_rebate`` (grid → user) — posted at
month close, so the bill it pays is exactly ``tariffs.bill`` of its package.

References:
    PHASES.md §2.2 R1–R3 and §3 ([S25], [S31], [S34], [S36]); ``markets.tariffs``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar

import mesa
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from agents.price_signal import price_cny_per_kwh
from markets.tariffs import Package, bills_cny, recommend, switch_probability

if TYPE_CHECKING:
    from agents._model import ModelView

__all__ = ["KINDS", "GridParty", "PackageMarket", "price_menu"]

#: Package kinds of every menu, in menu order.
KINDS: tuple[str, ...] = ("time_of_use", "flat", "peak_valley", "demand_charge")


def price_menu(
    prefix: str,
    hourly_cost_cny_per_kwh: NDArray[np.float64],
    load_by_hour_kw: NDArray[np.float64],
    peak_kw: float,
    energy_kwh: float,
    margin_cny_per_kwh: float,
    ratio: tuple[float, float, float],
    peak_hours: list[int],
    valley_hours: list[int],
    demand_charge_cny_per_kw: float,
) -> list[Package]:
    """Price the four packages of one party's monthly menu (rule R1).

    Args:
        prefix: Party name, prefixed to each package name (``<prefix>/<kind>``).
        hourly_cost_cny_per_kwh: Forecast cost p̂ per hour of day, CNY/kWh (24,).
        load_by_hour_kw: The portfolio's forecast mean load per hour L̂, kW (24,).
        peak_kw: The portfolio's forecast monthly peak P̂, kW.
        energy_kwh: The portfolio's forecast monthly energy Ê, kWh.
        margin_cny_per_kwh: Margin m, CNY/kWh.
        ratio: Peak, flat and valley multiples of the flat price.
        peak_hours: Peak hours (0–23).
        valley_hours: Valley hours (0–23).
        demand_charge_cny_per_kw: Demand charge, CNY/kW·month.

    Returns:
        The ``time_of_use``, ``flat``, ``peak_valley`` and ``demand_charge`` packages.
    """
    cost = np.asarray(hourly_cost_cny_per_kwh, dtype=float)
    load = np.asarray(load_by_hour_kw, dtype=float)
    c_hat = float(cost @ load / load.sum()) if load.sum() > 0 else float(cost.mean())
    flat = max(c_hat + margin_cny_per_kwh, 0.0)
    d = demand_charge_cny_per_kw * peak_kw / energy_kwh if energy_kwh > 0 else 0.0
    return [
        Package(
            f"{prefix}/time_of_use",
            "time_of_use",
            price_by_hour_cny_per_kwh=tuple(
                float(x) for x in np.maximum(cost + margin_cny_per_kwh, 0.0)
            ),
        ),
        Package(f"{prefix}/flat", "flat", price_cny_per_kwh=flat),
        Package(
            f"{prefix}/peak_valley",
            "peak_valley",
            peak_price_cny_per_kwh=flat * ratio[0],
            flat_price_cny_per_kwh=flat * ratio[1],
            valley_price_cny_per_kwh=flat * ratio[2],
            peak_hours=tuple(peak_hours),
            valley_hours=tuple(valley_hours),
        ),
        Package(
            f"{prefix}/demand_charge",
            "demand_charge",
            energy_price_cny_per_kwh=max(flat - d, 0.0),
            demand_charge_cny_per_kw=demand_charge_cny_per_kw,
        ),
    ]


class GridParty:
    """The grid company as a billing party behind the package interface.

    Its catalog is regulated: margin 0, so its ``time_of_use`` package equals
    the catalog tariff when the price signal is the catalog.

    Args:
        model: The park model.
    """

    name = "grid"
    margin = 0.0

    def __init__(self, model: Any) -> None:
        self.model = model
        self.account = model.ledger.account("grid")

    def customers(self) -> NDArray[np.bool_]:
        """Users it bills (``supplier == 0``)."""
        return np.asarray(self.model.pop.supplier == 0)


class PackageMarket(mesa.Agent):
    """Package menus, the recommender and switching (one agent; the ``packages`` module).

    Args:
        model: The park model.
    """

    KPIS: ClassVar[tuple[str, ...]] = (
        "package_switch_count",
        "recommendation_count",
        "recommendation_adoption_share",
        "package_recommended_saving_cny",
        "package_switcher_saving_cny",
        "package_adjustment_cny",
    )
    USER_FIELDS: ClassVar[tuple[str, ...]] = ()

    model: ModelView

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        cfg = model.cfg.packages
        self.cfg = cfg
        #: Whether the parties are the market's retailers (else the grid alone).
        self.retail = model.has_module("retail")
        self.parties: list[Any] = (
            list(model.module("retail").retailers) if self.retail else [GridParty(model)]
        )
        n = model.pop.n_users
        ipd = model.ipd
        self.hour = (np.arange(ipd) * 24 // ipd).astype(np.intp)
        tariff = np.asarray(model.module("grid").tariff_cny_per_kwh, dtype=float)
        hourly = np.array([tariff[self.hour == h].mean() for h in range(24)])
        self.peak_hours = [int(h) for h in np.flatnonzero(hourly >= hourly.max() - 1e-12)]
        self.valley_hours = [int(h) for h in np.flatnonzero(hourly <= hourly.min() + 1e-12)]
        self._prices: list[NDArray[np.float64]] = []
        self._curves: list[NDArray[np.float64]] = []
        # The first month's menu: forecast from the expected load and the price signal.
        expected = model.pop.expected_load_kw(weekend=False)
        self.menu: list[Package] = self._menus(expected, price_cny_per_kwh(model, 0))
        names = [p.name for p in self.menu]
        #: Party index of each menu package (each party publishes len(KINDS)).
        self.party_of = np.repeat(np.arange(len(self.parties)), len(KINDS))
        self.current = np.full(n, names.index(f"{self.parties[0].name}/{cfg.initial_package}"))
        for party in self.parties[1:]:
            self.current[party.customers()] = names.index(f"{party.name}/{cfg.initial_package}")
        self.current = self.current.astype(np.intp)
        self.switched_from = np.full(n, -1, dtype=np.intp)
        self.events: list[dict[str, Any]] = []
        self.totals = dict.fromkeys(
            ("switches", "recommendations", "rec_saving", "switcher_saving", "adjustment"), 0.0
        )

    # ------------------------------------------------------------------ menus
    def _menus(self, curves_kw: NDArray[np.float64], price: NDArray[np.float64]) -> list[Package]:
        """Every party's menu (R1) from its customers' curves and the mean price signal."""
        c = self.cfg
        ipd = self.model.ipd
        dt = self.model.interval_h
        hourly_cost = np.array([price[self.hour == h].mean() for h in range(24)])
        menu: list[Package] = []
        for party in self.parties:
            rows = party.customers()
            agg = curves_kw[rows].sum(axis=0) if rows.any() else np.ones(curves_kw.shape[1])
            day_kw = agg.reshape(-1, ipd).mean(axis=0)
            by_hour = np.array([day_kw[self.hour == h].mean() for h in range(24)])
            energy = float(agg.sum()) * dt * 30.4 * ipd / agg.size
            ratio = tuple(float(r) for r in c.peak_flat_valley_ratio)
            cost = hourly_cost
            level = getattr(party, "cost_forecast_cny_per_kwh", None)
            if level is not None and by_hour.sum() > 0:
                # a retailer: the price signal's shape at its own cost per kWh (CfDs, RT)
                c_hat = float(hourly_cost @ by_hour / by_hour.sum())
                cost = hourly_cost * (float(level) / c_hat) if c_hat > 0 else hourly_cost
            menu += price_menu(
                party.name,
                cost,
                by_hour,
                float(agg.max()),
                energy,
                float(party.margin),
                (ratio[0], ratio[1], ratio[2]),
                self.peak_hours,
                self.valley_hours,
                float(c.demand_charge_cny_per_kw_month),
            )
        return menu

    def energy_price_cny_per_kwh(self, day: int) -> NDArray[np.float64]:
        """Each user's package energy price per interval of the day, CNY/kWh.

        Customers of no party (other suppliers) get the price signal.
        """
        m = self.model
        by_hour = np.stack([p.hourly_price_cny_per_kwh() for p in self.menu])  # K × 24
        out = by_hour[self.current][:, self.hour]
        billed = np.zeros(m.pop.n_users, dtype=bool)
        for party in self.parties:
            billed |= party.customers()
        if billed.all():
            return np.asarray(out)
        return np.asarray(np.where(billed[:, None], out, price_cny_per_kwh(m, day)[None, :]))

    # ------------------------------------------------------------------ stages
    def settle(self, today: Any) -> None:
        """Keep the day's net load (served − behind-the-meter) and price signal."""
        m = self.model
        net = today.served_kw
        for name in ("dg", "ev"):
            if m.has_module(name):
                net = net - m.module(name).unbilled_kw
        self._curves.append(np.maximum(np.asarray(net, dtype=np.float64), 0.0))
        self._prices.append(price_cny_per_kwh(m, today.day))
        self._prices = self._prices[-int(self.cfg.history_days) :]

    def month_close(self, today: Any) -> None:
        """Bill the closed month by package; new menu (R1), recommendation (R2), switching (R3)."""
        m = self.model
        if not self._curves:
            return
        curves = np.concatenate(self._curves, axis=1)
        self._curves = []
        when = m.clock.time_of(today.day, 0)
        dt = m.interval_h
        hours = np.tile(self.hour, curves.shape[1] // m.ipd)
        bills = bills_cny(self.menu, curves, dt, hours)  # users × packages, this month's menu
        rows = np.arange(m.pop.n_users)
        own = bills[rows, self.current]
        # Realised saving of last month's switchers against the package they left.
        was = self.switched_from >= 0
        if was.any():
            saving = bills[rows[was], self.switched_from[was]] - own[was]
            self.totals["switcher_saving"] += float(saving.sum())
        self.switched_from[:] = -1
        self._post_bills(when, curves, hours, bills, own)
        if today.final:
            return
        price = np.mean(self._prices, axis=0) if self._prices else price_cny_per_kwh(m, today.day)
        old_names = [p.name for p in self.menu]
        self.menu = self._menus(curves, price)
        names = [p.name for p in self.menu]
        self.current = np.array([names.index(old_names[k]) for k in self.current], dtype=np.intp)
        if self.cfg.recommender == "off":
            return
        self._recommend_and_switch(today.day, when, curves, hours, own)

    def _post_bills(
        self,
        when: Any,
        curves: NDArray[np.float64],
        hours: NDArray[np.intp],
        bills: NDArray[np.float64],
        own: NDArray[np.float64],
    ) -> None:
        """Post the month's package bills.

        Retailer parties bill the package itself (``retail_bill`` to the
        customer's retailer, through ``simulation.billing``); the grid party
        posts package bill − catalog bill (the grid billed the catalog).
        """
        m = self.model
        if self.retail:
            for party in self.parties:
                bill = np.where(party.customers(), own, 0.0)
                owner = f"packages:{party.name}"
                m.billing.accrue(owner, party.account, "retail_bill", bill)
                party.billed_cny += m.billing.post(when, owner)
            return
        party = self.parties[0]
        catalog_index = [p.name for p in self.menu].index(f"{party.name}/time_of_use")
        catalog = self._catalog_bills(curves, hours, bills, catalog_index)
        diff = np.where(party.customers(), own - catalog, 0.0)
        users = np.arange(m.pop.n_users)
        m.ledger.post(when, users, party.account, np.maximum(diff, 0.0), "retail_bill")
        m.ledger.post(when, party.account, users, np.maximum(-diff, 0.0), "package_rebate")
        self.totals["adjustment"] += float(diff.sum())

    def _catalog_bills(
        self,
        curves: NDArray[np.float64],
        hours: NDArray[np.intp],
        bills: NDArray[np.float64],
        catalog_index: int,
    ) -> NDArray[np.float64]:
        """What the grid billed: its catalog tariff on the net curve.

        With the catalog as the price signal and margin 0 this is the
        ``time_of_use`` column; otherwise the catalog bill is recomputed.
        """
        m = self.model
        grid_tou = self.menu[catalog_index].hourly_price_cny_per_kwh()[self.hour]
        tariff = np.asarray(m.module("grid").tariff_cny_per_kwh, dtype=float)
        if np.allclose(grid_tou, tariff, rtol=0, atol=1e-12):
            return bills[:, catalog_index]
        catalog = Package(
            "catalog",
            "time_of_use",
            price_by_hour_cny_per_kwh=tuple(
                float(tariff[self.hour == h].mean()) for h in range(24)
            ),
        )
        return bills_cny([catalog], curves, m.interval_h, hours)[:, 0]

    def _recommend_and_switch(
        self,
        day: int,
        when: Any,
        curves: NDArray[np.float64],
        hours: NDArray[np.intp],
        own: NDArray[np.float64],
    ) -> None:
        m = self.model
        c = self.cfg
        names = [p.name for p in self.menu]
        customers = np.zeros(m.pop.n_users, dtype=bool)
        for party in self.parties:
            customers |= party.customers()
        rows = np.flatnonzero(customers)
        if rows.size == 0:
            return
        best_index, saving = self._recommend(rows, curves, hours)
        best = np.asarray(names, dtype=object)[best_index]
        differs = best_index != self.current[rows]
        monthly_bill = np.maximum(own[rows], 1.0)
        # β_rel/C_i·(saving − K): pass saving and cost relative to the monthly bill
        p = (1.0 - float(c.inertia_prob_per_month)) * switch_probability(
            saving / monthly_bill,
            float(c.switching_cost_cny) / monthly_bill,
            float(c.beta_rel),
        )
        draw = m.rng.random(rows.size)
        switch = differs & (draw < p)
        users = rows[differs]
        payload = np.asarray(
            [
                json.dumps({"package": str(b), "saving_cny": round(float(s), 2)})
                for b, s in zip(best[differs], saving[differs], strict=True)
            ],
            dtype=object,
        )
        m.platform.publish(
            when,
            when,
            "market_manager",
            users,
            "package_recommendation",
            quantity=saving[differs],
            payload=payload,
            notice=False,
        )
        movers = rows[switch]
        self.switched_from[movers] = self.current[movers]
        self.current[movers] = best_index[switch]
        if self.retail:  # a package of another retailer moves the customer to it
            codes = np.array([party.code for party in self.parties], dtype=np.int64)
            m.pop.supplier[movers] = codes[self.party_of[self.current[movers]]]
        t = self.totals
        t["recommendations"] += float(differs.sum())
        t["switches"] += float(switch.sum())
        t["rec_saving"] += float(saving[differs].sum())
        for u, k_from, k_to, s in zip(
            movers,
            self.switched_from[movers],
            self.current[movers],
            saving[switch],
            strict=True,
        ):
            self.events.append(
                {
                    "day": day,
                    "user": int(u),
                    "from": names[int(k_from)],
                    "to": names[int(k_to)],
                    "saving_cny": float(s),
                }
            )

    def _recommend(
        self, rows: NDArray[np.intp], curves: NDArray[np.float64], hours: NDArray[np.intp]
    ) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
        """Each customer's cheapest package (global menu index) and its saving, CNY (R2).

        ``own``: among its party's packages; ``neutral``: among every party's
        (the two coincide while the grid is the only party).
        """
        m = self.model
        names = [p.name for p in self.menu]
        best = self.current[rows].copy()
        saving = np.zeros(rows.size)
        if self.cfg.recommender == "neutral":
            groups = [(np.ones(rows.size, dtype=bool), np.arange(len(self.menu)))]
        else:
            party = self.party_of[self.current[rows]]
            groups = [(party == j, np.flatnonzero(self.party_of == j)) for j in np.unique(party)]
        for sel, pkgs in groups:
            if not sel.any():
                continue
            rec = recommend(
                [self.menu[k] for k in pkgs],
                curves[rows[sel]],
                m.interval_h,
                hours,
                [names[k] for k in self.current[rows[sel]]],
            )
            best[sel] = pkgs[rec.best_index]
            saving[sel] = rec.saving_cny
        return best.astype(np.intp), saving

    # ------------------------------------------------------------------ outputs
    def kpis(self) -> dict[str, float]:
        """Switches, recommendations, their adoption and the savings."""
        t = self.totals
        recs = t["recommendations"]
        return {
            "package_switch_count": t["switches"],
            "recommendation_count": recs,
            "recommendation_adoption_share": t["switches"] / recs if recs else 0.0,
            "package_recommended_saving_cny": t["rec_saving"],
            "package_switcher_saving_cny": t["switcher_saving"],
            "package_adjustment_cny": t["adjustment"],
        }

    def tables(self) -> dict[str, pd.DataFrame]:
        """``package_switches``: one row per switch (day, user, from, to, predicted saving)."""
        cols = ["day", "user", "from", "to", "saving_cny"]
        return {"package_switches": pd.DataFrame(self.events, columns=cols)}
