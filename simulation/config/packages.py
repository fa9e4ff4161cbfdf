"""Config groups ``packages`` and ``payment``: retail packages R1–R3, online payment.

Defaults and sources follow ``PHASES.md`` §3 (``A`` = assumption).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulation.config._checks import ConfigError, ranged

__all__ = ["RECOMMENDERS", "PackagesConfig", "PaymentConfig", "check"]

RECOMMENDERS = ("off", "own", "neutral")


@dataclass
class PackagesConfig:
    """Monthly package menus, the recommender and switching (R1–R3).

    Attributes:
        margin_cny_per_kwh: m, the retailer's margin over its forecast cost, CNY/kWh (A; [S31]).
            (assumption: market vs regulated prices [S31])
        peak_flat_valley_ratio: Peak-valley package price ratios on the
            grid's TOU hours (Hunan 1.6 : 1 : 0.4 [S34]). (source: Hunan TOU [S34])
        demand_charge_cny_per_kw_month: Demand charge, CNY/kW·month (DESIGN; Shenzhen 44 [S36]).
            (source: DESIGN.md, Shenzhen [S36])
        recommender: ``off`` (no recommendation), ``own`` (each retailer
            recommends from its own menu; default) or ``neutral`` (all retailers'
            menus; with one retailer both coincide). (assumption)
        switching_cost_cny: K_pkg, one-off cost of changing package, CNY (A). (assumption)
        inertia_prob_per_month: ι_pkg, probability a customer ignores a
            recommendation in a month (Power TAC 0.8 [S25]). (source: [S25])
        beta_rel: Logit slope on the saving relative to the monthly bill (A). (assumption)
        history_days: Days of the price signal behind the forecast cost (R1; A). (assumption)
        initial_package: Package every customer starts on (``time_of_use``: the
            grid's is the catalog tariff; A). (assumption)
    """

    margin_cny_per_kwh: float = ranged(0.02, lo=0.0, hi=10.0)
    peak_flat_valley_ratio: list[float] = ranged(factory=lambda: [1.6, 1.0, 0.4], lo=0.0, hi=100.0)  # noqa: RUF009
    demand_charge_cny_per_kw_month: float = ranged(40.0, lo=0.0, hi=1000.0)
    recommender: str = "own"
    switching_cost_cny: float = ranged(1000.0, lo=0.0, hi=1e9)
    inertia_prob_per_month: float = ranged(0.8, lo=0.0, hi=1.0)
    beta_rel: float = ranged(50.0, lo=0.0, hi=10_000.0, lo_open=True)
    history_days: int = ranged(28, lo=1, hi=365, integer=True)
    initial_package: str = "time_of_use"


@dataclass
class PaymentConfig:
    """Online payment through the platform and its credit effect (Credit, PHASES.md §2.2).

    Attributes:
        auto_debit_share: Share of users paying by platform auto-debit (A). (assumption)
        on_time_share_auto_debit: On-time payment share with auto-debit (A; [S19]). (assumption)
        on_time_share_cash: On-time payment share paying by cash (A). (assumption)
    """

    auto_debit_share: float = ranged(1.0, lo=0.0, hi=1.0)
    on_time_share_auto_debit: float = ranged(0.99, lo=0.0, hi=1.0)
    on_time_share_cash: float = ranged(0.95, lo=0.0, hi=1.0)


def check(cfg: Any) -> None:
    """Check the ``packages`` and ``payment`` groups.

    Args:
        cfg: The whole composed config.

    Raises:
        ConfigError: Naming the first offending key.
    """
    p = cfg.packages
    ratio = list(p.peak_flat_valley_ratio)
    if len(ratio) != 3 or any(r < 0 for r in ratio):
        raise ConfigError(
            f"packages.peak_flat_valley_ratio={ratio}: need three ratios >= 0 (peak, flat, valley)"
        )
    if p.recommender not in RECOMMENDERS:
        raise ConfigError(f"packages.recommender={p.recommender!r}: must be one of {RECOMMENDERS}")
    kinds = ("flat", "time_of_use", "peak_valley", "demand_charge")
    if p.initial_package not in kinds:
        raise ConfigError(f"packages.initial_package={p.initial_package!r}: must be one of {kinds}")
