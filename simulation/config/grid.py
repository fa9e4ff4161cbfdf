"""Config groups of the grid side: grid, orderly plan, platform.

``grid`` (with peak regulation and failures), ``orderly`` (the weekly plan)
and ``platform`` (the information platform).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulation.config._checks import ConfigError, fraction, positive

__all__ = [
    "FailureConfig",
    "GridConfig",
    "OrderlyConfig",
    "PeakRegulationConfig",
    "PlatformConfig",
    "check",
]


@dataclass
class PeakRegulationConfig:
    """Planned capacity shortage from peak-regulation limits (known a week ahead).

    Attributes:
        enabled: Whether peak-regulation shortages occur.
        shortage_fraction: Capacity = (1 − fraction) × forecast unconstrained
            weekday peak, kW, during the shortage hours.
        weekdays: Days of the week with shortages (0 = Monday).
        months: Months with shortages (1–12); empty means every month.
        start_h: First shortage hour of the day.
        end_h: Hour at which the shortage ends (exclusive).
    """

    enabled: bool = True
    shortage_fraction: float = 0.12
    weekdays: list[int] = field(default_factory=lambda: [0, 1, 2, 3, 4])
    months: list[int] = field(default_factory=list)
    start_h: int = 10
    end_h: int = 15


@dataclass
class FailureConfig:
    """Random equipment failures that cut capacity on the day they are discovered.

    Attributes:
        prob_per_day: Probability that a failure happens on a given day.
        depth_fraction: Capacity lost, as a share of the forecast weekday peak.
        duration_h: Duration of the outage, h.
        same_day_notice_prob: Probability the failure is known at 00:00 of the day
            (notice = hours until it starts); otherwise only a 15-minute notice.
    """

    prob_per_day: float = 0.05
    depth_fraction: float = 0.1
    duration_h: int = 3
    same_day_notice_prob: float = 0.5


@dataclass
class GridConfig:
    """The grid company: capacity, tariff, purchase cost and enforcement.

    Attributes:
        capacity_margin: Supply capacity outside shortages = forecast peak × (1 + margin).
        tariff_cny_per_kwh_by_hour: Catalog time-of-use tariff, 24 hourly prices, CNY/kWh.
        purchase_cny_per_kwh: Grid company's average purchase (generation) cost, CNY/kWh.
        emission_tco2_per_mwh: Grid emission factor, tCO2/MWh.
        compliance_prob: Probability a user follows a curtailment instruction.
        penalty_cny_per_kwh: Penalty per kWh of an ignored curtailment instruction.
        peak_regulation: Planned shortages.
        failures: Unplanned equipment failures.
    """

    capacity_margin: float = 0.3
    tariff_cny_per_kwh_by_hour: list[float] = field(
        default_factory=lambda: (
            [0.35] * 8 + [0.65] * 2 + [1.05] * 5 + [0.65] * 3 + [1.05] * 3 + [0.65] * 3
        )
    )
    purchase_cny_per_kwh: float = 0.45
    emission_tco2_per_mwh: float = 0.5703
    compliance_prob: float = 1.0
    penalty_cny_per_kwh: float = 2.0
    peak_regulation: PeakRegulationConfig = field(default_factory=PeakRegulationConfig)
    failures: FailureConfig = field(default_factory=FailureConfig)


@dataclass
class OrderlyConfig:
    """Settings of the weekly orderly-use plan (markets.orderly.schedule).

    Attributes:
        method: ``auto`` (MILP up to ``milp_max_users``, greedy above), ``milp`` or ``greedy``.
        milp_max_users: Largest park solved by the MILP under ``auto``.
        time_limit_s: HiGHS time limit per weekly plan, s.
        mip_rel_gap: HiGHS relative MIP gap.
        fairness_weight_cny: λ, CNY per unit of the largest cumulative curtailed share.
        max_hours_per_week: Cap on each user's curtailed hours per week.
        max_calls_per_week: Cap on each user's curtailment calls per week.
        min_duration_h: Minimum curtailment duration, h.
        forecast_margin: The plan covers forecast load × (1 + margin).
        greedy_bound: Lower bound reported for the greedy plan: ``auto`` (LP
            relaxation when small, else Lagrangian), ``lp`` or ``lagrangian``.
        lagrangian_iters: Subgradient iterations of the Lagrangian bound and the
            price-guided greedy passes (fewer: faster, slightly worse plans).
        unserved_penalty_cny_per_kwh: Penalty on deficit the plan leaves uncovered.
    """

    method: str = "auto"
    milp_max_users: int = 500
    time_limit_s: float = 20.0
    mip_rel_gap: float = 0.01
    fairness_weight_cny: float = 1000.0
    max_hours_per_week: float = 20.0
    max_calls_per_week: int = 5
    min_duration_h: float = 2.0
    forecast_margin: float = 0.05
    greedy_bound: str = "auto"
    lagrangian_iters: int = 80
    unserved_penalty_cny_per_kwh: float = 1e4


@dataclass
class PlatformConfig:
    """The information platform.

    Attributes:
        enabled: Publish the plan and reminders; when false users get only the
            15-minute notice.
        plan_lead_days: Days between the plan's publication and the planned week.
        reminder_lead_h: Reminder lead time, h.
        notice_lead_min: Final notice lead time, minutes.
    """

    enabled: bool = True
    plan_lead_days: int = 7
    reminder_lead_h: float = 24.0
    notice_lead_min: float = 15.0


def check(cfg: Any) -> None:
    """Check the ``grid``, ``orderly`` and ``platform`` groups.

    Args:
        cfg: The whole composed config.

    Raises:
        ConfigError: Naming the first offending key.
    """
    g = cfg.grid
    if len(g.tariff_cny_per_kwh_by_hour) != 24:
        raise ConfigError("grid.tariff_cny_per_kwh_by_hour: needs 24 hourly prices")
    fraction("grid.compliance_prob", g.compliance_prob)
    fraction("grid.peak_regulation.shortage_fraction", g.peak_regulation.shortage_fraction)
    pr = g.peak_regulation
    if not 0 <= pr.start_h < pr.end_h <= 24:
        raise ConfigError("grid.peak_regulation.start_h/end_h: need 0 <= start_h < end_h <= 24")
    if any(d not in range(7) for d in pr.weekdays):
        raise ConfigError(f"grid.peak_regulation.weekdays={list(pr.weekdays)}: days are 0..6")
    if any(m not in range(1, 13) for m in pr.months):
        raise ConfigError(f"grid.peak_regulation.months={list(pr.months)}: months are 1..12")
    fraction("grid.failures.prob_per_day", g.failures.prob_per_day)
    fraction("grid.failures.depth_fraction", g.failures.depth_fraction)
    fraction("grid.failures.same_day_notice_prob", g.failures.same_day_notice_prob)
    if not 1 <= g.failures.duration_h <= 24:
        raise ConfigError(f"grid.failures.duration_h={g.failures.duration_h}: must be 1..24")

    o = cfg.orderly
    if o.method not in ("auto", "milp", "greedy"):
        raise ConfigError(f"orderly.method={o.method!r}: must be auto, milp or greedy")
    positive("orderly.time_limit_s", o.time_limit_s)
    positive("orderly.mip_rel_gap", o.mip_rel_gap, allow_zero=True)
    positive("orderly.fairness_weight_cny", o.fairness_weight_cny, allow_zero=True)
    positive("orderly.max_hours_per_week", o.max_hours_per_week, allow_zero=True)
    positive("orderly.max_calls_per_week", o.max_calls_per_week, allow_zero=True)
    positive("orderly.min_duration_h", o.min_duration_h)
    positive("orderly.forecast_margin", o.forecast_margin, allow_zero=True)
    if o.greedy_bound not in ("auto", "lp", "lagrangian"):
        raise ConfigError(
            f"orderly.greedy_bound={o.greedy_bound!r}: must be auto, lp or lagrangian"
        )
    positive("orderly.lagrangian_iters", o.lagrangian_iters, integer=True)
    positive("orderly.unserved_penalty_cny_per_kwh", o.unserved_penalty_cny_per_kwh)
