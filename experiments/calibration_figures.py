"""The emergent figures of the calibration, each computed from one seed's run directories.

Each function takes the run directories of one seed (scenario name → run
directory, as :func:`experiments.calibration.run_calibration` lays them out)
and returns one number in the unit of its band in ``conf/calibration/bands.yaml``
(shares, CNY/kWh, years); :data:`FIGURES` maps each band's figure name to it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd

__all__ = ["FIGURES", "Runs"]

#: Runs of one seed: scenario name → run directory.
Runs = Mapping[str, Path]


def _kpis(run: Path) -> dict[str, float]:
    out = json.loads((run / "kpis.json").read_text(encoding="utf-8"))
    assert isinstance(out, dict)
    return out


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else math.nan


def adoption_share_12m(runs: Runs) -> float:
    """Share of the measures recommended at the first report adopted within 12 months.

    The audit programmes' measure: of the (user, measure) pairs recommended in
    the first monthly report, the share whose measure the user installed
    within 365 days of that report (``saving_plans.parquet``).

    Args:
        runs: Run directories by scenario (uses ``efficiency``).

    Returns:
        The share in [0, 1] (NaN without recommendations).
    """
    plans = pd.read_parquet(runs["efficiency"] / "saving_plans.parquet")
    if plans.empty:
        return math.nan
    first_date = plans["date"].min()
    first = plans.loc[plans["date"] == first_date, ["user", "recommended_measure"]]
    late = first_date + pd.Timedelta(days=365)
    adopted = plans.loc[
        plans["adopted"] & (plans["date"] < late), ["user", "recommended_measure"]
    ].drop_duplicates()
    hit = first.merge(adopted, on=["user", "recommended_measure"], how="left", indicator=True)
    return float((hit["_merge"] == "both").mean())


def median_payback_yr(runs: Runs) -> float:
    """Median simple payback of the adopted measures, years (``saving_plans.parquet``).

    Args:
        runs: Run directories by scenario (uses ``efficiency``).

    Returns:
        The median payback, years (NaN when nothing was adopted).
    """
    plans = pd.read_parquet(runs["efficiency"] / "saving_plans.parquet")
    adopted = plans.loc[plans["adopted"], "payback_months"]
    return float(adopted.median() / 12.0) if len(adopted) else math.nan


def _loss_per_curtailed(run: Path) -> float:
    k = _kpis(run)
    return _ratio(k["loss_of_load_cost_cny"], k["energy_curtailed_kwh"])


def loss_per_curtailed(runs: Runs) -> float:
    """Loss of load per curtailed kWh under the orderly plan, CNY/kWh.

    Args:
        runs: Run directories by scenario (uses ``orderly``).

    Returns:
        ``loss_of_load_cost_cny / energy_curtailed_kwh``.
    """
    return _loss_per_curtailed(runs["orderly"])


def loss_per_curtailed_no_notice(runs: Runs) -> float:
    """Loss of load per curtailed kWh without the platform's notice, CNY/kWh.

    Args:
        runs: Run directories by scenario (uses ``orderly_no_notice``).

    Returns:
        ``loss_of_load_cost_cny / energy_curtailed_kwh``.
    """
    return _loss_per_curtailed(runs["orderly_no_notice"])


def notice_loss_ratio(runs: Runs) -> float:
    """Loss per curtailed kWh with the platform's week of notice ÷ without it.

    Args:
        runs: Run directories by scenario (``orderly`` and ``orderly_no_notice``).

    Returns:
        The ratio (below 1: notice lowers the loss).
    """
    return _ratio(
        _loss_per_curtailed(runs["orderly"]), _loss_per_curtailed(runs["orderly_no_notice"])
    )


def member_saving_share(runs: Runs) -> float:
    """Members' saving against the catalog (KPI ``agency_member_saving_share``).

    Args:
        runs: Run directories by scenario (uses ``agency``).

    Returns:
        The share.
    """
    return float(_kpis(runs["agency"])["agency_member_saving_share"])


def load_factor_gain(runs: Runs) -> float:
    """Members' aggregate load factor minus their mean standalone load factor.

    Both are the sales agent's KPIs, computed on the same metered member curves
    with one definition, energy over (peak × hours) per contract month,
    energy-weighted over months: ``agency_load_factor`` with the peak of the
    members' sum, ``agency_standalone_load_factor`` with the sum of each
    member's own peak (``markets.allocation.load_factors``). The gain is the
    diversity effect of aggregation and is never negative.

    Args:
        runs: Run directories by scenario (uses ``agency``).

    Returns:
        The gain, share points (0.05 = 5 points).
    """
    k = _kpis(runs["agency"])
    return float(k["agency_load_factor"]) - float(k["agency_standalone_load_factor"])


def agent_margin(runs: Runs) -> float:
    """The agent's profit per kWh its members use, CNY/kWh.

    Args:
        runs: Run directories by scenario (uses ``agency``).

    Returns:
        ``sales_agent_profit_cny / (agency_member_energy_share × energy_served_kwh)``.
    """
    k = _kpis(runs["agency"])
    return _ratio(
        k["sales_agent_profit_cny"], k["agency_member_energy_share"] * k["energy_served_kwh"]
    )


def da_price(runs: Runs) -> float:
    """Mean day-ahead price, CNY/kWh (KPI ``da_price_mean_cny_per_mwh`` / 1000).

    Args:
        runs: Run directories by scenario (uses ``mature``).

    Returns:
        The mean price.
    """
    return float(_kpis(runs["mature"])["da_price_mean_cny_per_mwh"]) / 1000.0


def _intervals(run: Path) -> float:
    cfg = json.loads((run / "config.json").read_text(encoding="utf-8"))
    return float(cfg["days"]) * float(cfg["intervals_per_day"])


def cap_share(runs: Runs) -> float:
    """Share of intervals whose day-ahead price is at the cap (``day_ahead.parquet``).

    An interval counts when its cleared price reaches ``market.price_cap_cny_per_mwh``
    (an energy shortfall clears at the cap); a reserve-only shortfall, which the
    KPI ``scarcity_intervals_count`` also counts, does not.

    Args:
        runs: Run directories by scenario (uses ``mature``).

    Returns:
        The share of the run's intervals.
    """
    run = runs["mature"]
    cfg = json.loads((run / "config.json").read_text(encoding="utf-8"))
    cap = float(cfg["market"]["price_cap_cny_per_mwh"])
    price = pd.read_parquet(run / "day_ahead.parquet", columns=["price_cny_per_mwh"])
    at_cap = float((price["price_cny_per_mwh"] >= cap - 1e-9 * max(abs(cap), 1.0)).sum())
    return _ratio(at_cap, _intervals(run))


def imbalance_share(runs: Runs) -> float:
    """Real-time imbalance volume over the energy served.

    Args:
        runs: Run directories by scenario (uses ``mature``).

    Returns:
        ``rt_imbalance_kwh / energy_served_kwh``.
    """
    k = _kpis(runs["mature"])
    return _ratio(abs(k["rt_imbalance_kwh"]), k["energy_served_kwh"])


def pv_payback(runs: Runs) -> float:
    """Simple payback of the installed rooftop PV for its provider, years.

    Capex ``dg.capex_cny_per_w × dg_capacity_kwp × 1000`` over a year's net
    income: the provider's income per kWh generated in the run (service fee +
    export revenue over ``dg_energy_kwh``) × the capacity's yearly yield
    (``dg.yield_kwh_per_kwp``) − O&M. Scaling by the yield rather than by the
    run's length counts only the time the PV was online (it starts after
    ``dg.online_delay_days``) and the whole year's sunshine, not the run's season.

    Args:
        runs: Run directories by scenario (uses ``services``).

    Returns:
        The payback, years (NaN with no PV energy).
    """
    run = runs["services"]
    k = _kpis(run)
    dg = json.loads((run / "config.json").read_text(encoding="utf-8"))["dg"]
    kwp = k["dg_capacity_kwp"]
    energy = k["dg_energy_kwh"]
    if kwp <= 0 or energy <= 0:
        return math.nan
    per_kwh = (k["dg_service_fee_cny"] + k["dg_export_revenue_cny"]) / energy
    income = (
        per_kwh * kwp * float(dg["yield_kwh_per_kwp"]) - float(dg["om_cny_per_w_yr"]) * kwp * 1000.0
    )
    return _ratio(float(dg["capex_cny_per_w"]) * kwp * 1000.0, income)


def pv_self_consumption(runs: Runs) -> float:
    """Share of the PV energy consumed on site.

    Args:
        runs: Run directories by scenario (uses ``services``).

    Returns:
        ``dg_self_consumed_kwh / dg_energy_kwh``.
    """
    k = _kpis(runs["services"])
    return _ratio(k["dg_self_consumed_kwh"], k["dg_energy_kwh"])


def fund_return(runs: Runs) -> float:
    """Fund returns to users over the final fund balance, per year.

    Args:
        runs: Run directories by scenario (uses ``services``).

    Returns:
        The yearly return share.
    """
    run = runs["services"]
    k = _kpis(run)
    years = float(json.loads((run / "config.json").read_text(encoding="utf-8"))["days"]) / 365.0
    return _ratio(k["fund_return_to_users_cny"], k["fund_balance_cny"] * years)


def ev_cost(runs: Runs) -> float:
    """EV users' charging cost per kWh, CNY/kWh (energy and service fee).

    Args:
        runs: Run directories by scenario (uses ``services``).

    Returns:
        ``ev_cost_cny / ev_energy_kwh``.
    """
    k = _kpis(runs["services"])
    return _ratio(k["ev_cost_cny"], k["ev_energy_kwh"])


#: Figure name → function of one seed's runs.
FIGURES: dict[str, Callable[[Runs], float]] = {
    "efficiency_adoption_share_12m": adoption_share_12m,
    "efficiency_median_payback_yr": median_payback_yr,
    "orderly_loss_per_curtailed_cny_per_kwh": loss_per_curtailed,
    "orderly_no_notice_loss_per_curtailed_cny_per_kwh": loss_per_curtailed_no_notice,
    "orderly_notice_loss_ratio": notice_loss_ratio,
    "agency_member_saving_share": member_saving_share,
    "agency_load_factor_gain": load_factor_gain,
    "agency_margin_cny_per_kwh": agent_margin,
    "mature_da_price_cny_per_kwh": da_price,
    "mature_cap_share": cap_share,
    "mature_imbalance_share": imbalance_share,
    "services_pv_payback_yr": pv_payback,
    "services_pv_self_consumption_share": pv_self_consumption,
    "services_fund_return_share_per_yr": fund_return,
    "services_ev_cost_cny_per_kwh": ev_cost,
}
