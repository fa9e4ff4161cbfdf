"""The price signal the retail services read: day-ahead price or catalog tariff.

The DG, EV and package services price energy per interval of a day. When a
wholesale market module is on, the signal is its day-ahead price for that
day (converted to CNY/kWh); otherwise it is the grid company's catalog
time-of-use tariff (``GridCompany.tariff_cny_per_kwh``, CNY/kWh per interval
of the day). The market module is looked up by name (:data:`MARKET_MODULES`)
and read through the first of :data:`PRICE_METHODS` it has, or else its
``result_of(day).price_cny_per_mwh`` (the wholesale ``MarketOperator``; a
day not yet cleared is forecast by the day before), so the services do not
depend on the wholesale side's internals.

References:
    PHASES.md §2.2 (R1: p̂_DA,t; D1: the host's energy price; E1: p̂_t).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["MARKET_MODULES", "PRICE_METHODS", "price_cny_per_kwh", "user_price_cny_per_kwh"]

#: Names under which a wholesale market module may be registered.
MARKET_MODULES: tuple[str, ...] = ("market", "operator", "da")
#: Methods of a market module returning a day's day-ahead price, CNY/kWh per
#: interval (taking the model day), tried in order.
PRICE_METHODS: tuple[str, ...] = ("day_ahead_price_cny_per_kwh", "price_cny_per_kwh")


def _market(model: Any) -> Any | None:
    """The active market module, or None."""
    for name in MARKET_MODULES:
        if model.has_module(name):
            return model.module(name)
    return None


def price_cny_per_kwh(model: Any, day: int) -> NDArray[np.float64]:
    """The energy price signal of one day, CNY/kWh per interval.

    Args:
        model: The park model.
        day: Model day (the day-ahead price is known on the previous day).

    Returns:
        Prices ``(intervals_per_day,)``: the market's day-ahead price when a
        market module offers one for the day, else the catalog TOU tariff.
    """
    market = _market(model)
    if market is not None:
        for method in PRICE_METHODS:
            fn = getattr(market, method, None)
            if callable(fn):
                price = fn(day)
                if price is not None:
                    return np.asarray(price, dtype=np.float64)
        result_of = getattr(market, "result_of", None)
        if callable(result_of):  # MarketOperator: a cleared day's CNY/MWh prices
            for d in (day, day - 1):  # before tomorrow clears, today's price forecasts it
                try:
                    res = result_of(d)
                except KeyError:
                    continue
                return np.asarray(res.price_cny_per_mwh, dtype=np.float64) / 1000.0
    return np.asarray(model.module("grid").tariff_cny_per_kwh, dtype=np.float64)


def user_price_cny_per_kwh(model: Any, day: int) -> NDArray[np.float64]:
    """Each user's retail energy price per interval of a day, CNY/kWh.

    Catalog customers (``supplier == 0``) pay the grid tariff; with the
    ``packages`` module on, each customer's package energy price; a
    retailer's customer (``retail`` module on) its retailer's flat price
    (``Retailer.retail_price_cny_per_kwh``) or package price, plus the grid's
    network fee it also pays per kWh (``agency.network_fee_cny_per_kwh``) —
    the all-in price a host avoids per kWh of DG; other suppliers' customers
    the price signal.

    Args:
        model: The park model.
        day: Model day.

    Returns:
        Prices ``(n_users, intervals_per_day)``.
    """
    pop = model.pop
    retail = model.module("retail") if model.has_module("retail") else None
    if model.has_module("packages"):
        out = np.array(model.module("packages").energy_price_cny_per_kwh(day), dtype=np.float64)
    else:
        tariff = np.asarray(model.module("grid").tariff_cny_per_kwh, dtype=np.float64)
        own = pop.supplier == 0
        if own.all():
            return np.broadcast_to(tariff, (pop.n_users, tariff.size))
        signal = price_cny_per_kwh(model, day)
        out = np.where(own[:, None], tariff[None, :], signal[None, :])
        if retail is not None:
            for r in retail.retailers:
                out[r.customers()] = r.retail_price_cny_per_kwh()
    if retail is not None:  # a retail customer also avoids the grid's network fee per kWh
        served_by_retailer = retail.retailer_of(np.arange(pop.n_users)) >= 0
        out[served_by_retailer] += float(model.cfg.agency.network_fee_cny_per_kwh)
    return np.asarray(out, dtype=np.float64)
