"""Config groups of the grid side: grid, orderly plan, platform.

``grid`` (with peak regulation and failures), ``orderly`` (the weekly plan)
and ``platform`` (the information platform).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulation.config._checks import ConfigError, ranged

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
        enabled: Whether peak-regulation shortages occur. (assumption: module switch)
        shortage_fraction: Capacity = (1 − fraction) × forecast unconstrained
            weekday peak, kW, during the shortage hours. (assumption)
        weekdays: Days of the week with shortages (0 = Monday). (assumption)
        months: Months with shortages (1–12); empty means every month. Default:
            the winter and summer peaks (December–January, July–August), when
            China's orderly-use plans are put in force: Hunan and Jiangxi cut
            industrial load under orderly-use plans in December 2020 (NDRC,
            December 2020); Shanghai rationed 24,000 industrial users in the
            2011 summer (China Daily, 2011-06-20); the national load records
            fall in July–August (People's Daily, 2025-11-30). A shortage on
            every weekday of the year priced 15 % of the mature phase's hours
            at the cap, against a coal-benchmark mean price [S11, S8].
            (source: seasonal orderly use: China Daily 2011-06-20
            http://www.szjzcy.com/bizchina/2011-06/20/content_12735856.htm ;
            People's Daily 2025-11-30
            http://en.greenbuildingpv.com/news_detail/1985620365399392256.html ;
            NDRC on Hunan and Jiangxi, December 2020, quoted at
            https://defencehub.live/threads/massive-power-cuts-in-china.3904/page-2)
        start_h: First shortage hour of the day. (assumption: midday peak)
        end_h: Hour at which the shortage ends (exclusive). (assumption: midday peak)
    """

    enabled: bool = True
    shortage_fraction: float = ranged(0.12, lo=0.0, hi=1.0)
    weekdays: list[int] = ranged(factory=lambda: [0, 1, 2, 3, 4], lo=0, hi=6, integer=True)  # noqa: RUF009
    months: list[int] = ranged(factory=lambda: [1, 7, 8, 12], lo=1, hi=12, integer=True)  # noqa: RUF009
    start_h: int = ranged(10, lo=0, hi=23, integer=True)
    end_h: int = ranged(15, lo=1, hi=24, integer=True)


@dataclass
class FailureConfig:
    """Random equipment failures that cut capacity on the day they are discovered.

    Attributes:
        prob_per_day: Probability that a failure happens on a given day. (assumption)
        depth_fraction: Capacity lost, as a share of the forecast weekday peak. (assumption)
        duration_h: Duration of the outage, h. (assumption)
        same_day_notice_prob: Probability the failure is known at 00:00 of the day
            (notice = hours until it starts); otherwise only a 15-minute notice. (assumption)
    """

    prob_per_day: float = ranged(0.05, lo=0.0, hi=1.0)
    depth_fraction: float = ranged(0.1, lo=0.0, hi=1.0)
    duration_h: int = ranged(3, lo=1, hi=24, integer=True)
    same_day_notice_prob: float = ranged(0.5, lo=0.0, hi=1.0)


@dataclass
class GridConfig:
    """The grid company: capacity, tariff, purchase cost and enforcement.

    Attributes:
        capacity_margin: Supply capacity outside shortages = forecast peak × (1 + margin).
            (assumption)
        tariff_cny_per_kwh_by_hour: Catalog time-of-use tariff, 24 hourly prices, CNY/kWh.
            (source: DESIGN.md (provincial TOU catalogue, 0.35/0.65/1.05))
        purchase_cny_per_kwh: Grid company's average purchase (generation) cost, CNY/kWh.
            (source: coal benchmark range [S11])
        emission_tco2_per_mwh: Grid emission factor, tCO2/MWh.
            (source: MEE national grid factor 0.5703 (2022))
        compliance_prob: Probability a user follows a curtailment instruction. (assumption)
        penalty_cny_per_kwh: Penalty per kWh of an ignored curtailment instruction. (assumption)
        peak_regulation: Planned shortages.
        failures: Unplanned equipment failures.
    """

    capacity_margin: float = ranged(0.3, lo=0.0, hi=10.0)
    tariff_cny_per_kwh_by_hour: list[float] = ranged(  # noqa: RUF009
        factory=lambda: [0.35] * 8 + [0.65] * 2 + [1.05] * 5 + [0.65] * 3 + [1.05] * 3 + [0.65] * 3,
        lo=0.0,
        hi=100.0,
    )
    purchase_cny_per_kwh: float = ranged(0.45, lo=0.0, hi=100.0)
    emission_tco2_per_mwh: float = ranged(0.5703, lo=0.0, hi=10.0)
    compliance_prob: float = ranged(1.0, lo=0.0, hi=1.0)
    penalty_cny_per_kwh: float = ranged(2.0, lo=0.0, hi=1e4)
    peak_regulation: PeakRegulationConfig = field(default_factory=PeakRegulationConfig)
    failures: FailureConfig = field(default_factory=FailureConfig)


@dataclass
class OrderlyConfig:
    """Settings of the weekly orderly-use plan (markets.orderly.schedule).

    Attributes:
        method: ``auto`` (up to ``milp_max_users``: the greedy with its bound, then
            fix-and-optimize and the MILP only while the gap exceeds 0.5 %, reusing
            last week's plan when its inputs are unchanged; the greedy above),
            ``hybrid``, ``milp`` or ``greedy``. (assumption: run setting)
        milp_max_users: Largest park that may be solved by the MILP under ``auto``.
            (assumption: run setting)
        time_limit_s: HiGHS time limit per weekly plan, s. (assumption: run setting)
        mip_rel_gap: HiGHS relative MIP gap. (assumption: run setting)
        fairness_weight_cny: λ, CNY per unit of the largest cumulative curtailed share. (assumption)
        max_hours_per_week: Cap on each user's curtailed hours per week. (assumption)
        max_calls_per_week: Cap on each user's curtailment calls per week. (assumption)
        min_duration_h: Minimum curtailment duration, h. (assumption)
        forecast_margin: The plan covers forecast load × (1 + margin). (assumption)
        greedy_bound: Lower bound reported for the greedy plan: ``auto`` (LP
            relaxation when small, else Lagrangian), ``lp`` or ``lagrangian``.
            (assumption: run setting)
        lagrangian_iters: Subgradient iterations of the Lagrangian bound and the
            price-guided greedy passes (fewer: faster, slightly worse plans).
            (assumption: run setting)
        unserved_penalty_cny_per_kwh: Penalty on deficit the plan leaves uncovered.
            (assumption: run setting)
    """

    method: str = "auto"
    milp_max_users: int = ranged(500, lo=0, hi=1_000_000, integer=True)
    time_limit_s: float = ranged(20.0, lo=0.0, lo_open=True, hi=86_400.0)
    mip_rel_gap: float = ranged(0.01, lo=0.0, hi=1.0)
    fairness_weight_cny: float = ranged(1000.0, lo=0.0, hi=1e9)
    max_hours_per_week: float = ranged(20.0, lo=0.0, hi=168.0)
    max_calls_per_week: int = ranged(5, lo=0, hi=168, integer=True)
    min_duration_h: float = ranged(2.0, lo=0.0, lo_open=True, hi=24.0)
    forecast_margin: float = ranged(0.05, lo=0.0, hi=10.0)
    greedy_bound: str = "auto"
    lagrangian_iters: int = ranged(80, lo=1, hi=100_000, integer=True)
    unserved_penalty_cny_per_kwh: float = ranged(1e4, lo=0.0, lo_open=True, hi=1e9)


@dataclass
class PlatformConfig:
    """The information platform.

    Attributes:
        enabled: Publish the plan and reminders; when false users get only the
            15-minute notice. (assumption: module switch)
        plan_lead_days: Days between the plan's publication and the planned week.
            (source: DESIGN.md (weekly orderly plan))
        reminder_lead_h: Reminder lead time, h. (source: DESIGN.md)
        notice_lead_min: Final notice lead time, minutes. (source: DESIGN.md (15-minute notice))
    """

    enabled: bool = True
    plan_lead_days: int = ranged(7, lo=1, hi=7, integer=True)
    reminder_lead_h: float = ranged(24.0, lo=0.0, lo_open=True, hi=168.0)
    notice_lead_min: float = ranged(15.0, lo=0.0, lo_open=True, hi=1440.0)


def check(cfg: Any) -> None:
    """Check the rules of ``grid``, ``orderly`` and ``platform`` that involve several keys.

    Each field's own range is declared with it (``ranged``) and checked by
    ``validate``; here: 24 tariff prices, the shortage window, the choices of
    method and bound, a minimum duration the weekly cap allows, and the notice
    ladder publish > remind > notify.

    Args:
        cfg: The whole composed config.

    Raises:
        ConfigError: Naming the first offending key.
    """
    g = cfg.grid
    if len(g.tariff_cny_per_kwh_by_hour) != 24:
        raise ConfigError("grid.tariff_cny_per_kwh_by_hour: needs 24 hourly prices")
    pr = g.peak_regulation
    if not pr.start_h < pr.end_h:
        raise ConfigError(
            f"grid.peak_regulation.start_h={pr.start_h}/end_h={pr.end_h}: "
            "need 0 <= start_h < end_h <= 24"
        )

    o = cfg.orderly
    if o.method not in ("auto", "hybrid", "milp", "greedy"):
        raise ConfigError(f"orderly.method={o.method!r}: must be auto, hybrid, milp or greedy")
    if o.greedy_bound not in ("auto", "lp", "lagrangian"):
        raise ConfigError(
            f"orderly.greedy_bound={o.greedy_bound!r}: must be auto, lp or lagrangian"
        )
    if o.max_hours_per_week > 0 and o.min_duration_h > o.max_hours_per_week:
        raise ConfigError(
            f"orderly.min_duration_h={o.min_duration_h}: must not exceed "
            f"orderly.max_hours_per_week={o.max_hours_per_week}"
        )

    p = cfg.platform
    plan_h = 24.0 * p.plan_lead_days
    notice_h = p.notice_lead_min / 60.0
    if not plan_h > p.reminder_lead_h > notice_h:
        raise ConfigError(
            f"platform.reminder_lead_h={p.reminder_lead_h}: the notice ladder needs "
            f"publish > remind > notify, i.e. 24 × platform.plan_lead_days ({plan_h:g} h) > "
            f"platform.reminder_lead_h > platform.notice_lead_min / 60 ({notice_h:g} h)"
        )
