"""Config groups ``packages`` and ``payment``: retail packages R1–R3, online payment.

Defaults and sources follow ``PHASES.md`` §3 (``A`` = assumption).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulation.config._checks import ConfigError, fraction, positive

__all__ = ["RECOMMENDERS", "PackagesConfig", "PaymentConfig", "check"]

RECOMMENDERS = ("off", "own", "neutral")


@dataclass
class PackagesConfig:
    """Monthly package menus, the recommender and switching (R1–R3).

    Attributes:
        margin_cny_per_kwh: m, the retailer's margin over its forecast cost, CNY/kWh (A; [S31]).
        peak_flat_valley_ratio: Peak-valley package price ratios on the
            grid's TOU hours (Hunan 1.6 : 1 : 0.4 [S34]).
        demand_charge_cny_per_kw_month: Demand charge, CNY/kW·month (DESIGN; Shenzhen 44 [S36]).
        recommender: ``off`` (no recommendation), ``own`` (each retailer
            recommends from its own menu; default) or ``neutral`` (all retailers'
            menus; with one retailer both coincide).
        switching_cost_cny: K_pkg, one-off cost of changing package, CNY (A).
        inertia_prob_per_month: ι_pkg, probability a customer ignores a
            recommendation in a month (Power TAC 0.8 [S25]).
        beta_rel: Logit slope on the saving relative to the monthly bill (A).
        history_days: Days of the price signal behind the forecast cost (R1; A).
        initial_package: Package every customer starts on (``time_of_use``: the
            grid's is the catalog tariff; A).
    """

    margin_cny_per_kwh: float = 0.02
    peak_flat_valley_ratio: list[float] = field(default_factory=lambda: [1.6, 1.0, 0.4])
    demand_charge_cny_per_kw_month: float = 40.0
    recommender: str = "own"
    switching_cost_cny: float = 1000.0
    inertia_prob_per_month: float = 0.8
    beta_rel: float = 50.0
    history_days: int = 28
    initial_package: str = "time_of_use"


@dataclass
class PaymentConfig:
    """Online payment through the platform and its credit effect (Credit, PHASES.md §2.2).

    Attributes:
        auto_debit_share: Share of users paying by platform auto-debit (A).
        on_time_share_auto_debit: On-time payment share with auto-debit (A; [S19]).
        on_time_share_cash: On-time payment share paying by cash (A).
    """

    auto_debit_share: float = 1.0
    on_time_share_auto_debit: float = 0.99
    on_time_share_cash: float = 0.95


def check(cfg: Any) -> None:
    """Check the ``packages`` and ``payment`` groups.

    Args:
        cfg: The whole composed config.

    Raises:
        ConfigError: Naming the first offending key.
    """
    p = cfg.packages
    positive("packages.margin_cny_per_kwh", p.margin_cny_per_kwh, allow_zero=True)
    ratio = list(p.peak_flat_valley_ratio)
    if len(ratio) != 3 or any(r < 0 for r in ratio):
        raise ConfigError(
            f"packages.peak_flat_valley_ratio={ratio}: need three ratios >= 0 (peak, flat, valley)"
        )
    positive(
        "packages.demand_charge_cny_per_kw_month", p.demand_charge_cny_per_kw_month, allow_zero=True
    )
    if p.recommender not in RECOMMENDERS:
        raise ConfigError(f"packages.recommender={p.recommender!r}: must be one of {RECOMMENDERS}")
    positive("packages.switching_cost_cny", p.switching_cost_cny, allow_zero=True)
    fraction("packages.inertia_prob_per_month", p.inertia_prob_per_month)
    positive("packages.beta_rel", p.beta_rel, allow_zero=True)
    positive("packages.history_days", p.history_days, integer=True)
    kinds = ("flat", "time_of_use", "peak_valley", "demand_charge")
    if p.initial_package not in kinds:
        raise ConfigError(f"packages.initial_package={p.initial_package!r}: must be one of {kinds}")
    q = cfg.payment
    fraction("payment.auto_debit_share", q.auto_debit_share)
    fraction("payment.on_time_share_auto_debit", q.on_time_share_auto_debit)
    fraction("payment.on_time_share_cash", q.on_time_share_cash)
