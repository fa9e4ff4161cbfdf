"""Config group ``efficiency``: diagnostics, measures, adoption, differential prices."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markets.efficiency import CATEGORIES
from simulation.config._checks import ConfigError, ranged

__all__ = ["EfficiencyConfig", "MeasureConfig", "check"]


@dataclass
class MeasureConfig:
    """One energy-saving measure in the catalogue (see markets.efficiency.Measure).

    Attributes:
        capex_cny_per_kw: Capital cost per kW of the user's contracted capacity, CNY/kW.
            (source: IAC database simple paybacks by measure type (see conf))
        energy_saving_share: Share of the user's energy saved.
            (source: IAC database typical savings (see conf))
        peak_saving_share: Share of the user's contracted capacity saved at the peak. (assumption)
        lifetime_years: Economic lifetime, years. (source: IAC / measure lifetimes (see conf))
        industries: Industries the measure fits; empty means all. (assumption)
        standby: The measure removes standby waste (off-hours base load). (assumption)
    """

    capex_cny_per_kw: float = ranged(100.0, lo=0.0, hi=1e6)
    energy_saving_share: float = ranged(0.05, lo=0.0, hi=1.0, hi_open=True)
    peak_saving_share: float = ranged(0.03, lo=0.0, hi=1.0, hi_open=True)
    lifetime_years: float = ranged(10.0, lo=0.0, lo_open=True, hi=100.0)
    industries: list[str] = field(default_factory=list)
    standby: bool = False


@dataclass
class EfficiencyConfig:
    """Efficiency management (diagnostics, measures, adoption, differential prices).

    Attributes:
        diagnostics: The grid company sends monthly diagnostic reports. (assumption: module switch)
        intensity_factor: Flag users whose energy intensity exceeds this × peer median. (assumption)
        base_load_threshold: Flag users whose off-hours base-load ratio exceeds this. (assumption)
        kgce_per_kwh: Electricity to standard coal equivalent, kgce/kWh.
            (source: GB/T 2589 equivalent value 0.1229 kgce/kWh)
        threshold_months_mean: Mean payback threshold of users, months.
            (source: Anderson & Newell 2004 (hurdle about 15 months))
        threshold_cv: Coefficient of variation of the thresholds. (assumption)
        beta: Logit slope on the relative payback margin.
            (source: Anderson & Newell 2004 (logit on payback))
        peer_weight: Logit weight on the share of adopters in the user's industry.
            (assumption: Young 2009)
        consider_prob: Monthly probability that a user considers a measure unprompted. (assumption)
        consider_prob_report: Same after a diagnostic report flags the user.
            (source: Anderson & Newell 2004, IAC (about half adopted within a year))
        demand_charge_cny_per_kw_month: Capacity charge used to value peak savings.
            (source: DESIGN.md (Shenzhen 24/kVA and 44 [S36]))
        surcharges_cny_per_kwh: Differential surcharge per category, CNY/kWh.
            (source: NDRC differential tariffs (0.1 restricted, 0.3 eliminated))
        target_reduction: Intensity reduction target over the horizon (0.2 = −20 %). (assumption)
        target_horizon_years: Years over which the target is reached.
            (assumption: five-year plan period)
        measures: The measure catalogue by name.
    """

    diagnostics: bool = True
    intensity_factor: float = ranged(1.2, lo=0.0, lo_open=True, hi=100.0)
    base_load_threshold: float = ranged(0.3, lo=0.0, hi=100.0)
    kgce_per_kwh: float = ranged(0.1229, lo=0.0, lo_open=True, hi=10.0)
    threshold_months_mean: float = ranged(15.0, lo=0.0, lo_open=True, hi=1200.0)
    threshold_cv: float = ranged(0.3, lo=0.0, hi=5.0)
    beta: float = ranged(4.0, lo=0.0, hi=100.0)
    peer_weight: float = ranged(2.0, lo=0.0, hi=100.0)
    consider_prob: float = ranged(0.02, lo=0.0, hi=1.0)
    consider_prob_report: float = ranged(0.10, lo=0.0, hi=1.0)
    demand_charge_cny_per_kw_month: float = ranged(40.0, lo=0.0, hi=1e4)
    surcharges_cny_per_kwh: dict[str, float] = ranged(  # noqa: RUF009
        factory=lambda: {
            "encouraged": 0.0,
            "permitted": 0.0,
            "restricted": 0.10,
            "eliminated": 0.30,
        },
        lo=0.0,
        hi=100.0,
    )
    target_reduction: float = ranged(0.20, lo=0.0, hi=1.0, hi_open=True)
    target_horizon_years: float = ranged(5.0, lo=0.0, lo_open=True, hi=100.0)
    measures: dict[str, MeasureConfig] = field(default_factory=dict)


def check(cfg: Any) -> None:
    """Check the ``efficiency`` group's rules that involve several keys.

    Each field's own range is declared with it (``ranged``) and checked by
    ``validate``; here: one surcharge per category, and measure industries
    that the park has.

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
    industries = set(cfg.park.industries)
    for name, m in e.measures.items():
        unknown = [i for i in m.industries if i not in industries]
        if unknown:
            raise ConfigError(
                f"efficiency.measures.{name}.industries: unknown industries {unknown}; "
                f"park has {sorted(industries)}"
            )
