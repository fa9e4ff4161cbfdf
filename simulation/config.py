"""Typed configuration schema for parksim (Hydra structured configs).

Every parameter a researcher may change lives here as a dataclass field with
its unit in its name; the YAML files under ``conf/`` only choose values. The
schemas are registered in Hydra's ``ConfigStore`` so that a misspelt key or a
wrong type fails when the config is composed, with a message naming the key.
Value ranges that a type cannot express are checked by :func:`validate`, which
raises :class:`ConfigError` naming the key and what is allowed.

References:
    Hydra 1.3 documentation, "Structured Configs" tutorial
    (https://hydra.cc/docs/tutorials/structured_config/intro/).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

import pandas as pd
from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf

from markets.efficiency import CATEGORIES

__all__ = [
    "Config",
    "ConfigError",
    "register_configs",
    "validate",
]


class ConfigError(ValueError):
    """A configuration value is out of its allowed range.

    The message names the full key (for example ``park.n_users``) and what is
    allowed, so that the command line can print it without a traceback.
    """


@dataclass
class PhaseConfig:
    """Module switches: a phase is a preset of which modules are on.

    Attributes:
        name: Phase label written to the outputs (``orderly``, ``efficiency``,
            ``agency``, ``mature``, or anything for a custom mix).
        orderly_plan: Administrative weekly orderly-use plan for capacity shortages.
        efficiency: Efficiency management (diagnostics, measures, differential prices).
    """

    name: str = "orderly"
    orderly_plan: bool = True
    efficiency: bool = False


@dataclass
class IndustryConfig:
    """One industry type of park users.

    Load shapes come either from demandlib's industrial step profile
    (``shape: demandlib`` with working hours and day/night factors) or from a
    24-value hourly shape in conf (``shape: hourly``).

    Attributes:
        share: Fraction of the park's users in this industry (shares are normalised).
        shape: ``demandlib`` or ``hourly``.
        am_h: Start of the working day, hours (demandlib shape).
        pm_h: End of the working day, hours (demandlib shape).
        week_day_factor: demandlib factor for weekday working hours.
        week_night_factor: demandlib factor for weekday off-hours.
        weekend_day_factor: demandlib factor for weekend working hours.
        weekend_night_factor: demandlib factor for weekend off-hours.
        hourly_shape: 24 relative hourly loads (``shape: hourly``); weekends scaled
            by ``weekend_scale``.
        weekend_scale: Weekend load relative to weekdays for ``hourly`` shapes.
        median_load_kw: Median of the users' mean load, kW (lognormal scale).
        load_sigma: Log-standard deviation of the users' mean load.
        shift_h_max: Users' load shapes are shifted by a uniform integer number of
            hours in [-shift_h_max, shift_h_max].
        noise_sigma: Log-standard deviation of the daily multiplicative noise
            per user and interval (mean-one lognormal).
        voll_cny_per_kwh: Median value of lost load, CNY/kWh (from output value per kWh).
        voll_sigma: Log-standard deviation of VOLL across users.
        rho: Notice sensitivity ρ in [0, 1]: share of the loss avoidable with ample notice.
        shutdown_h: Time needed for an orderly shutdown, h; shorter notice incurs
            the restart cost.
        restart_cost_cny_per_kw: Restart cost per kW of curtailed block, CNY/kW.
        class_weights: Probabilities of interruptibility classes k = 0..4
            (0 = protected, 4 = restricted first).
        output_value_cny_per_kwh: Industrial output value per kWh, CNY/kWh.
        category: Differential-price category (encouraged, permitted, restricted,
            eliminated).
        standby_waste_share: Off-hours base load kept running needlessly, as a share
            of the mean load (what diagnostics can find).
    """

    share: float = 0.25
    shape: str = "demandlib"
    am_h: float = 8.0
    pm_h: float = 18.0
    week_day_factor: float = 1.0
    week_night_factor: float = 0.4
    weekend_day_factor: float = 0.6
    weekend_night_factor: float = 0.3
    hourly_shape: list[float] = field(default_factory=list)
    weekend_scale: float = 1.0
    median_load_kw: float = 500.0
    load_sigma: float = 0.6
    shift_h_max: int = 1
    noise_sigma: float = 0.05
    voll_cny_per_kwh: float = 8.0
    voll_sigma: float = 0.3
    rho: float = 0.6
    shutdown_h: float = 4.0
    restart_cost_cny_per_kw: float = 2.0
    class_weights: list[float] = field(default_factory=lambda: [0.1, 0.2, 0.3, 0.2, 0.2])
    output_value_cny_per_kwh: float = 10.0
    category: str = "permitted"
    standby_waste_share: float = 0.0


@dataclass
class ParkConfig:
    """The park's user population.

    Attributes:
        name: Label of the park preset.
        n_users: Number of park users (factories).
        contracted_margin: Contracted capacity = expected peak × (1 + margin).
        curtailable_share_by_class: Curtailable block ΔP as a share of the user's
            mean working-hours load, per interruptibility class k = 0..4.
        waste_user_share: Fraction of users with standby waste (off-hours load kept on).
        industries: Industry types by name.
    """

    name: str = "default"
    n_users: int = 200
    contracted_margin: float = 0.2
    curtailable_share_by_class: list[float] = field(
        default_factory=lambda: [0.0, 0.2, 0.35, 0.5, 0.7]
    )
    waste_user_share: float = 0.2
    industries: dict[str, IndustryConfig] = field(default_factory=dict)


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


@dataclass
class OutputConfig:
    """What a run writes.

    Attributes:
        users_per_day: ``users.parquet`` has one row per user per day (else per run).
        figures: Write the run's figures into ``figures/``.
    """

    users_per_day: bool = True
    figures: bool = True


@dataclass
class Config:
    """Root configuration of one parksim run (the contract keys are top level).

    Attributes:
        seed: Seed of the model's single random generator.
        start_date: First simulated day (ISO date).
        days: Number of simulated days (one Mesa step per day).
        intervals_per_day: Intervals per day; a multiple of 24 dividing 1440 (24, 96, ...).
        progress: Show a progress bar over days (only on a terminal).
        phase: Module switches.
        park: Population.
        grid: Grid company.
        orderly: Orderly plan.
        platform: Information platform.
        efficiency: Efficiency management.
        output: Output options.
    """

    seed: int = 0
    start_date: str = "2025-01-06"
    days: int = 28
    intervals_per_day: int = 24
    progress: bool = True
    phase: PhaseConfig = MISSING
    park: ParkConfig = MISSING
    grid: GridConfig = field(default_factory=GridConfig)
    orderly: OrderlyConfig = field(default_factory=OrderlyConfig)
    platform: PlatformConfig = field(default_factory=PlatformConfig)
    efficiency: EfficiencyConfig = MISSING
    output: OutputConfig = field(default_factory=OutputConfig)


def register_configs() -> None:
    """Register the schemas in Hydra's ConfigStore (idempotent)."""
    cs = ConfigStore.instance()
    cs.store(name="parksim_schema", node=Config)
    cs.store(group="phase", name="phase_schema", node=PhaseConfig)
    cs.store(group="park", name="park_schema", node=ParkConfig)
    cs.store(group="efficiency", name="efficiency_schema", node=EfficiencyConfig)


#: Nested schemas: (parent schema, field) → schema of the field (or of its values).
_SUBSCHEMAS: dict[tuple[type, str], type] = {
    (Config, "phase"): PhaseConfig,
    (Config, "park"): ParkConfig,
    (Config, "grid"): GridConfig,
    (Config, "orderly"): OrderlyConfig,
    (Config, "platform"): PlatformConfig,
    (Config, "efficiency"): EfficiencyConfig,
    (Config, "output"): OutputConfig,
    (ParkConfig, "industries"): IndustryConfig,
    (GridConfig, "peak_regulation"): PeakRegulationConfig,
    (GridConfig, "failures"): FailureConfig,
    (EfficiencyConfig, "measures"): MeasureConfig,
}
_DICT_OF: set[tuple[type, str]] = {(ParkConfig, "industries"), (EfficiencyConfig, "measures")}


def _positive(key: str, value: float, *, integer: bool = False, allow_zero: bool = False) -> None:
    ok = value >= 0 if allow_zero else value > 0
    if not ok or (isinstance(value, float) and not math.isfinite(value)):
        what = "a positive integer" if integer else "a positive number"
        if allow_zero:
            what = "a non-negative number"
        raise ConfigError(f"{key}={value}: must be {what}")


def _fraction(key: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"{key}={value}: must be in [0, 1]")


def _check_keys(node: Any, schema: type, prefix: str) -> None:
    """Reject keys that are not in the schema (``+key=`` overrides bypass it)."""
    if not isinstance(node, DictConfig):
        return
    allowed = {f.name: f for f in fields(schema)}
    for key in node:
        full = f"{prefix}{key}"
        if key not in allowed:
            raise ConfigError(
                f"{full}: unknown key; allowed under '{prefix.rstrip('.') or '<root>'}': "
                f"{sorted(allowed)}"
            )
        sub_type = _SUBSCHEMAS.get((schema, str(key)))
        if sub_type is None:
            continue
        child = node[key]
        if (schema, str(key)) in _DICT_OF:
            for name in child:
                _check_keys(child[name], sub_type, f"{full}.{name}.")
        else:
            _check_keys(child, sub_type, f"{full}.")


def validate(cfg: DictConfig | Config) -> None:
    """Check keys against the schema and value ranges its types cannot express.

    Args:
        cfg: A composed config (DictConfig with the ``Config`` schema).

    Raises:
        ConfigError: Naming the first offending key, its value and what is allowed.
    """
    c: Any = cfg
    if isinstance(cfg, DictConfig):
        _check_keys(cfg, Config, "")
    _positive("days", c.days, integer=True)
    ipd = c.intervals_per_day
    if ipd <= 0 or ipd % 24 != 0 or 1440 % ipd != 0:
        raise ConfigError(
            f"intervals_per_day={ipd}: must be a multiple of 24 that divides 1440 "
            "(24, 48, 72, 96, 120, 144, 288, ...)"
        )
    try:
        pd.Timestamp(c.start_date)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"start_date={c.start_date!r}: not an ISO date ({err})") from None
    if c.seed < 0:
        raise ConfigError(f"seed={c.seed}: must be a non-negative integer")

    p = c.park
    _positive("park.n_users", p.n_users, integer=True)
    if not p.industries:
        raise ConfigError("park.industries: at least one industry is required")
    if len(p.curtailable_share_by_class) != 5:
        raise ConfigError("park.curtailable_share_by_class: needs 5 values (classes 0..4)")
    for k, share in enumerate(p.curtailable_share_by_class):
        _fraction(f"park.curtailable_share_by_class[{k}]", share)
    _fraction("park.waste_user_share", p.waste_user_share)
    _positive("park.contracted_margin", p.contracted_margin, allow_zero=True)
    for name, ind in p.industries.items():
        key = f"park.industries.{name}"
        _positive(f"{key}.share", ind.share, allow_zero=True)
        if ind.shape not in ("demandlib", "hourly"):
            raise ConfigError(f"{key}.shape={ind.shape!r}: must be 'demandlib' or 'hourly'")
        if ind.shape == "hourly" and len(ind.hourly_shape) != 24:
            raise ConfigError(f"{key}.hourly_shape: needs 24 values for shape=hourly")
        if ind.shape == "demandlib" and not 0 <= ind.am_h < ind.pm_h <= 24:
            raise ConfigError(f"{key}.am_h/pm_h: need 0 <= am_h < pm_h <= 24")
        _positive(f"{key}.median_load_kw", ind.median_load_kw)
        _positive(f"{key}.voll_cny_per_kwh", ind.voll_cny_per_kwh)
        _positive(f"{key}.output_value_cny_per_kwh", ind.output_value_cny_per_kwh)
        _fraction(f"{key}.rho", ind.rho)
        _fraction(f"{key}.standby_waste_share", ind.standby_waste_share)
        for sub in ("load_sigma", "noise_sigma", "voll_sigma", "shutdown_h"):
            _positive(f"{key}.{sub}", getattr(ind, sub), allow_zero=True)
        if len(ind.class_weights) != 5 or min(ind.class_weights) < 0 or sum(ind.class_weights) <= 0:
            raise ConfigError(f"{key}.class_weights: needs 5 non-negative weights, not all 0")
        if ind.category not in CATEGORIES:
            raise ConfigError(f"{key}.category={ind.category!r}: must be one of {CATEGORIES}")
    if sum(i.share for i in p.industries.values()) <= 0:
        raise ConfigError("park.industries.*.share: at least one share must be positive")

    g = c.grid
    if len(g.tariff_cny_per_kwh_by_hour) != 24:
        raise ConfigError("grid.tariff_cny_per_kwh_by_hour: needs 24 hourly prices")
    _fraction("grid.compliance_prob", g.compliance_prob)
    _fraction("grid.peak_regulation.shortage_fraction", g.peak_regulation.shortage_fraction)
    pr = g.peak_regulation
    if not 0 <= pr.start_h < pr.end_h <= 24:
        raise ConfigError("grid.peak_regulation.start_h/end_h: need 0 <= start_h < end_h <= 24")
    if any(d not in range(7) for d in pr.weekdays):
        raise ConfigError(f"grid.peak_regulation.weekdays={list(pr.weekdays)}: days are 0..6")
    if any(m not in range(1, 13) for m in pr.months):
        raise ConfigError(f"grid.peak_regulation.months={list(pr.months)}: months are 1..12")
    _fraction("grid.failures.prob_per_day", g.failures.prob_per_day)
    _fraction("grid.failures.depth_fraction", g.failures.depth_fraction)
    _fraction("grid.failures.same_day_notice_prob", g.failures.same_day_notice_prob)
    if not 1 <= g.failures.duration_h <= 24:
        raise ConfigError(f"grid.failures.duration_h={g.failures.duration_h}: must be 1..24")

    o = c.orderly
    if o.method not in ("auto", "milp", "greedy"):
        raise ConfigError(f"orderly.method={o.method!r}: must be auto, milp or greedy")
    _positive("orderly.time_limit_s", o.time_limit_s)
    _positive("orderly.mip_rel_gap", o.mip_rel_gap, allow_zero=True)
    _positive("orderly.fairness_weight_cny", o.fairness_weight_cny, allow_zero=True)
    _positive("orderly.max_hours_per_week", o.max_hours_per_week, allow_zero=True)
    _positive("orderly.max_calls_per_week", o.max_calls_per_week, allow_zero=True)
    _positive("orderly.min_duration_h", o.min_duration_h)
    _positive("orderly.forecast_margin", o.forecast_margin, allow_zero=True)
    if o.greedy_bound not in ("auto", "lp", "lagrangian"):
        raise ConfigError(
            f"orderly.greedy_bound={o.greedy_bound!r}: must be auto, lp or lagrangian"
        )
    _positive("orderly.lagrangian_iters", o.lagrangian_iters, integer=True)
    _positive("orderly.unserved_penalty_cny_per_kwh", o.unserved_penalty_cny_per_kwh)

    e = c.efficiency
    for cat in CATEGORIES:
        if cat not in e.surcharges_cny_per_kwh:
            raise ConfigError(f"efficiency.surcharges_cny_per_kwh: missing category {cat!r}")
    for cat in e.surcharges_cny_per_kwh:
        if cat not in CATEGORIES:
            raise ConfigError(
                f"efficiency.surcharges_cny_per_kwh.{cat}: unknown category; allowed: {CATEGORIES}"
            )
    _positive("efficiency.threshold_months_mean", e.threshold_months_mean)
    _fraction("efficiency.consider_prob", e.consider_prob)
    _fraction("efficiency.consider_prob_report", e.consider_prob_report)
    _fraction("efficiency.target_reduction", e.target_reduction)
    industries = set(p.industries)
    for name, m in e.measures.items():
        key = f"efficiency.measures.{name}"
        _fraction(f"{key}.energy_saving_share", m.energy_saving_share)
        _fraction(f"{key}.peak_saving_share", m.peak_saving_share)
        _positive(f"{key}.capex_cny_per_kw", m.capex_cny_per_kw, allow_zero=True)
        _positive(f"{key}.lifetime_years", m.lifetime_years)
        unknown = [i for i in m.industries if i not in industries]
        if unknown:
            raise ConfigError(
                f"{key}.industries: unknown industries {unknown}; park has {sorted(industries)}"
            )


def to_container(cfg: DictConfig) -> dict[str, Any]:
    """Return the resolved config as a plain dict (for the run's record)."""
    out = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(out, dict)
    return out  # type: ignore[return-value]
