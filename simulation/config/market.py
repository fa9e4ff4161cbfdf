"""Config group ``market``: the mature phase's wholesale side (PHASES.md §2, §3).

One group holds the day-ahead market and its plant stack (rules M2, M4), the
reserve requirement (M4), real-time imbalance pricing (M5), the contracts for
difference (M1), the retailers (M3, flat retail price) and interruptible load
(I1–I2). Defaults and sources follow PHASES.md §3 (``A`` = assumption, to be
calibrated).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from simulation.config._checks import ConfigError, ranged

__all__ = ["RT_MODES", "MarketConfig", "check"]

RT_MODES = ("single", "dual")


@dataclass
class MarketConfig:
    """The wholesale market, its plants, retailers and interruptible load.

    Attributes:
        price_cap_cny_per_mwh: Day-ahead price cap, CNY/MWh (Shanxi 0–1500 [S8]).
            (source: Shanxi 0–1500 [S8])
        price_floor_cny_per_mwh: Day-ahead price floor, CNY/MWh (0 in most
            provinces; Shandong allows negative prices [S9]). (source: [S9])
        gate_lead_h: Hours before the delivery day at which the day-ahead results
            (prices, schedules, interruptible calls, the fallback plan) are
            published; the fallback plan's lead τ is at least this (A; 12 h as in
            PHASES.md M4). (assumption)
        time_limit_s: HiGHS time limit of one day's clearing LP, s (A). (assumption: run setting)
        plant_names: Names of the day-ahead stack's units (ledger ``plant:<name>``). (assumption)
        plant_var_cost_cny_per_kwh: c_var per unit, CNY/kWh (A: coal base to gas peaker).
            (assumption: coal base to gas peaker)
        plant_capacity_share_of_peak: Unit capacity as a share of the forecast
            park peak (A). (assumption)
        plant_markup: μ_g of the day-ahead offer 1000·c_var·(1 + μ) CNY/MWh (A;
            ASSUME bids marginal cost [S27]). (assumption)
        reserve_offer_cny_per_mw_h: Reserve offer, CNY per MW·h (A). (assumption)
        reserve_cap_share: Reserve limit (ramp) as a share of unit capacity (A). (assumption)
        reserve_load_share: Reserve requirement share of load (WECC BAL-002 [S24]).
            (source: WECC BAL-002 [S24])
        reserve_gen_share: Reserve requirement share of DG output (WECC BAL-002 [S24]).
            (source: [S24])
        reserve_contingency_mw: Most severe single contingency, MW (WECC BAL-002 [S24]).
            (source: [S24])
        rt_mode: Imbalance pricing, ``single`` or ``dual`` (A). (assumption)
        rt_premium_share_of_da: Up and down regulation premia as a share of the
            day-ahead price (A). (assumption)
        mlt_annual_share: Share of the forecast load contracted as annual CfDs [S10].
            (source: [S10])
        mlt_total_share: Share after the monthly top-up [S10]. (source: [S10])
        mlt_strike_cny_per_kwh: CfD strike price, CNY/kWh (Jiangsu coal benchmark [S11]).
            (source: Jiangsu coal benchmark [S11])
        retailers: Retailer names; the first is the grid-affiliated "market manager". (assumption)
        retailer_customer_share: Share of the users each retailer serves at the start (A).
            (assumption)
        retail_margin_cny_per_kwh: m of the flat retail price ĉ + m, CNY/kWh
            (A; market prices about 1.3 points below regulated [S31]). (assumption: [S31])
        il_target_share_of_peak: Interruptible capacity procured, share of the
            forecast park peak (Shandong 3 % [S23]). (source: Shandong demand response [S23])
        il_bid_cap_cny_per_kw_event: Highest accepted bid, CNY per kW·event [S23]. (source: [S23])
        il_block_max_share: Largest block, share of the user's peak [S23]. (source: [S23])
        il_block_min_kw: Smallest block, kW [S23]. (source: [S23])
        il_event_h: Event length d_ev behind the bid c(τ)·d_ev, h (A). (assumption)
        il_offer_notice_h: Notice τ at which users price their block, h (PHASES.md I1). (assumption)
        il_capacity_payment_cny_per_kw_month: π_IL, monthly capacity payment per
            accepted kW, CNY (A; default 0). (assumption)
    """

    price_cap_cny_per_mwh: float = ranged(1500.0, lo=-1e5, hi=1e5)
    price_floor_cny_per_mwh: float = ranged(0.0, lo=-1e5, hi=1e5)
    gate_lead_h: float = ranged(12.0, lo=0.0, hi=24.0)
    time_limit_s: float = ranged(30.0, lo=0.0, hi=3600.0, lo_open=True)
    plant_names: list[str] = field(
        default_factory=lambda: ["base_a", "base_b", "mid_a", "mid_b", "peak_a", "peak_b"]
    )
    plant_var_cost_cny_per_kwh: list[float] = ranged(  # noqa: RUF009
        factory=lambda: [0.28, 0.30, 0.33, 0.38, 0.55, 0.85], lo=0.0, hi=100.0
    )
    plant_capacity_share_of_peak: list[float] = ranged(  # noqa: RUF009
        factory=lambda: [0.30, 0.25, 0.20, 0.15, 0.10, 0.10], lo=0.0, hi=100.0, lo_open=True
    )
    plant_markup: float = ranged(0.05, lo=0.0, hi=10.0)
    reserve_offer_cny_per_mw_h: float = ranged(10.0, lo=0.0, hi=1e5)
    reserve_cap_share: float = ranged(0.2, lo=0.0, hi=1.0)
    reserve_load_share: float = ranged(0.03, lo=0.0, hi=1.0)
    reserve_gen_share: float = ranged(0.03, lo=0.0, hi=1.0)
    reserve_contingency_mw: float = ranged(0.0, lo=0.0, hi=1e6)
    rt_mode: str = "dual"
    rt_premium_share_of_da: float = ranged(0.20, lo=0.0, hi=10.0)
    mlt_annual_share: float = ranged(0.8, lo=0.0, hi=1.0)
    mlt_total_share: float = ranged(0.9, lo=0.0, hi=1.0)
    mlt_strike_cny_per_kwh: float = ranged(0.391, lo=0.0, hi=10.0)
    retailers: list[str] = field(default_factory=lambda: ["market_manager"])
    retailer_customer_share: list[float] = ranged(factory=lambda: [1.0], lo=0.0, hi=1.0)  # noqa: RUF009
    retail_margin_cny_per_kwh: float = ranged(0.02, lo=0.0, hi=10.0)
    il_target_share_of_peak: float = ranged(0.03, lo=0.0, hi=1.0)
    il_bid_cap_cny_per_kw_event: float = ranged(30.0, lo=0.0, hi=1e5)
    il_block_max_share: float = ranged(0.20, lo=0.0, hi=1.0)
    il_block_min_kw: float = ranged(50.0, lo=0.0, hi=1e6)
    il_event_h: float = ranged(2.0, lo=0.0, hi=24.0, lo_open=True)
    il_offer_notice_h: float = ranged(24.0, lo=0.0, hi=8760.0)
    il_capacity_payment_cny_per_kw_month: float = ranged(0.0, lo=0.0, hi=1e5)


def _finite(key: str, value: float) -> None:
    if not math.isfinite(float(value)):
        raise ConfigError(f"{key}={value}: must be finite")


def check(cfg: Any) -> None:
    """Check the ``market`` group.

    Args:
        cfg: The whole composed config.

    Raises:
        ConfigError: Naming the first offending key and what is allowed.
    """
    m = cfg.market
    _finite("market.price_cap_cny_per_mwh", m.price_cap_cny_per_mwh)
    _finite("market.price_floor_cny_per_mwh", m.price_floor_cny_per_mwh)
    if m.price_cap_cny_per_mwh < m.price_floor_cny_per_mwh:
        raise ConfigError(
            f"market.price_cap_cny_per_mwh={m.price_cap_cny_per_mwh}: below "
            f"market.price_floor_cny_per_mwh={m.price_floor_cny_per_mwh}"
        )
    if not 0.0 <= m.gate_lead_h <= 24.0:
        raise ConfigError(f"market.gate_lead_h={m.gate_lead_h}: must be in [0, 24]")
    names = list(m.plant_names)
    if not names:
        raise ConfigError("market.plant_names: the day-ahead market needs at least one plant")
    if len(set(names)) != len(names):
        raise ConfigError(f"market.plant_names={names}: names must be distinct")
    for key in ("plant_var_cost_cny_per_kwh", "plant_capacity_share_of_peak"):
        values = list(getattr(m, key))
        if len(values) != len(names):
            raise ConfigError(f"market.{key}: needs one value per plant ({len(names)})")
    if m.mlt_annual_share > m.mlt_total_share:
        raise ConfigError(
            f"market.mlt_annual_share={m.mlt_annual_share}: above "
            f"market.mlt_total_share={m.mlt_total_share}"
        )
    if m.rt_mode not in RT_MODES:
        raise ConfigError(f"market.rt_mode={m.rt_mode!r}: must be one of {RT_MODES}")
    retailers = list(m.retailers)
    if not retailers:
        raise ConfigError("market.retailers: needs at least one retailer")
    if len(set(retailers)) != len(retailers):
        raise ConfigError(f"market.retailers={retailers}: names must be distinct")
    shares = list(m.retailer_customer_share)
    if len(shares) != len(retailers):
        raise ConfigError(
            f"market.retailer_customer_share: needs one share per retailer ({len(retailers)})"
        )
    if abs(sum(shares) - 1.0) > 1e-9:
        raise ConfigError(f"market.retailer_customer_share={shares}: must sum to 1")
