"""Config group ``efficiency``: diagnostics, measures, adoption, differential prices."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markets.efficiency import CATEGORIES
from simulation.config._checks import ConfigError, fraction, positive

__all__ = ["EfficiencyConfig", "MeasureConfig", "check"]


@dataclass
class MeasureConfig:
    """One energy-saving measure in the catalogue (see markets.efficiency.Measure).

    Attributes:
        capex_cny_per_kw: Capital cost per kW of the user's contracted capacity, CNY/kW.
        energy_saving_share: Share of the user's energy saved.
        peak_saving_share: Share of the user's contracted capacity saved at the peak.
        lifetime_years: Economic lifetime, years.
        industries: Industries the measure fits; empty means all.
        standby: The measure removes standby waste (off-hours base load).
    """

    capex_cny_per_kw: float = 100.0
    energy_saving_share: float = 0.05
    peak_saving_share: float = 0.03
    lifetime_years: float = 10.0
    industries: list[str] = field(default_factory=list)
    standby: bool = False


@dataclass
class EfficiencyConfig:
    """Efficiency management (diagnostics, measures, adoption, differential prices).

    Attributes:
        diagnostics: The grid company sends monthly diagnostic reports.
        intensity_factor: Flag users whose energy intensity exceeds this × peer median.
        base_load_threshold: Flag users whose off-hours base-load ratio exceeds this.
        kgce_per_kwh: Electricity to standard coal equivalent, kgce/kWh.
        threshold_months_mean: Mean payback threshold of users, months.
        threshold_cv: Coefficient of variation of the thresholds.
        beta: Logit slope on the relative payback margin.
        peer_weight: Logit weight on the share of adopters in the user's industry.
        consider_prob: Monthly probability that a user considers a measure unprompted.
        consider_prob_report: Same after a diagnostic report flags the user.
        demand_charge_cny_per_kw_month: Capacity charge used to value peak savings.
        discount_rate: Annual discount rate for NPV.
        surcharges_cny_per_kwh: Differential surcharge per category, CNY/kWh.
        target_reduction: Intensity reduction target over the horizon (0.2 = −20 %).
        target_horizon_years: Years over which the target is reached.
        measures: The measure catalogue by name.
    """

    diagnostics: bool = True
    intensity_factor: float = 1.2
    base_load_threshold: float = 0.3
    kgce_per_kwh: float = 0.1229
    threshold_months_mean: float = 15.0
    threshold_cv: float = 0.3
    beta: float = 4.0
    peer_weight: float = 2.0
    consider_prob: float = 0.02
    consider_prob_report: float = 0.25
    demand_charge_cny_per_kw_month: float = 40.0
    discount_rate: float = 0.08
    surcharges_cny_per_kwh: dict[str, float] = field(
        default_factory=lambda: {
            "encouraged": 0.0,
            "permitted": 0.0,
            "restricted": 0.10,
            "eliminated": 0.30,
        }
    )
    target_reduction: float = 0.20
    target_horizon_years: float = 5.0
    measures: dict[str, MeasureConfig] = field(default_factory=dict)


def check(cfg: Any) -> None:
    """Check the ``efficiency`` group (measure industries against ``park``).

    Args:
        cfg: The whole composed config.

    Raises:
        ConfigError: Naming the first offending key.
    """
    e = cfg.efficiency
    for cat in CATEGORIES:
        if cat not in e.surcharges_cny_per_kwh:
            raise ConfigError(f"efficiency.surcharges_cny_per_kwh: missing category {cat!r}")
    for cat in e.surcharges_cny_per_kwh:
        if cat not in CATEGORIES:
            raise ConfigError(
                f"efficiency.surcharges_cny_per_kwh.{cat}: unknown category; allowed: {CATEGORIES}"
            )
    positive("efficiency.threshold_months_mean", e.threshold_months_mean)
    fraction("efficiency.consider_prob", e.consider_prob)
    fraction("efficiency.consider_prob_report", e.consider_prob_report)
    fraction("efficiency.target_reduction", e.target_reduction)
    industries = set(cfg.park.industries)
    for name, m in e.measures.items():
        key = f"efficiency.measures.{name}"
        fraction(f"{key}.energy_saving_share", m.energy_saving_share)
        fraction(f"{key}.peak_saving_share", m.peak_saving_share)
        positive(f"{key}.capex_cny_per_kw", m.capex_cny_per_kw, allow_zero=True)
        positive(f"{key}.lifetime_years", m.lifetime_years)
        unknown = [i for i in m.industries if i not in industries]
        if unknown:
            raise ConfigError(
                f"{key}.industries: unknown industries {unknown}; park has {sorted(industries)}"
            )
