"""Retail electricity packages, bills, package recommendation and switching.

Four package kinds (all with an optional fixed charge per billing month):

* ``flat``: one energy price ``price_cny_per_kwh``.
* ``time_of_use``: an energy price for each hour of the day,
  ``price_by_hour_cny_per_kwh`` (24 values, hour 0 = 00:00–01:00).
* ``peak_valley``: ``peak_price_cny_per_kwh`` in ``peak_hours``,
  ``valley_price_cny_per_kwh`` in ``valley_hours`` and
  ``flat_price_cny_per_kwh`` in every other hour (peak and valley hours are
  disjoint sets of hours 0–23).
* ``demand_charge``: ``energy_price_cny_per_kwh`` plus
  ``demand_charge_cny_per_kw`` per kW of maximum demand.

Billing-period assumption: a load curve passed to :func:`bill` or
:func:`recommend` is exactly one billing period (one month). The demand charge
applies to the maximum interval-average demand over the whole curve and the
fixed charge is levied once.

Sign conventions: loads are non-negative interval-average grid purchases in kW;
bills are CNY paid by the user to the retailer (≥ 0 for non-negative prices);
savings are CNY the user would save by switching (≥ 0).

References:
    NDRC, "Notice on further improving the time-of-use electricity pricing
    mechanism" (Fagai Jiage [2021] No. 1093), 2021.
    NDRC, "Notice on improving the way the basic (demand) charge of two-part
    tariff users is applied" (Fagai Jiage [2016] No. 1583), 2016.
    Kirschen, D. S. & Strbac, G., "Fundamentals of Power System Economics",
    2nd ed., Wiley, 2019, ch. 3 (retail tariffs).
    Train, K. E., "Discrete Choice Methods with Simulation", 2nd ed.,
    Cambridge University Press, 2009, ch. 3 (logit).
"""

from markets.tariffs.choice import Recommendation, recommend, switch_probability
from markets.tariffs.packages import KINDS, Package, bill, bills_cny

__all__ = [
    "KINDS",
    "Package",
    "Recommendation",
    "bill",
    "bills_cny",
    "recommend",
    "switch_probability",
]
