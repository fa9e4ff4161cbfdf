"""Config group ``park``: the user population and its industry types."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markets.efficiency import CATEGORIES
from simulation.config._checks import ConfigError, ranged

__all__ = ["IndustryConfig", "ParkConfig", "check"]


@dataclass
class IndustryConfig:
    """One industry type of park users.

    Load shapes come either from demandlib's industrial step profile
    (``shape: demandlib`` with working hours and day/night factors) or from a
    24-value hourly shape in conf (``shape: hourly``).

    Attributes:
        share: Fraction of the park's users in this industry (shares are normalised).
            (assumption: typical park mix)
        shape: ``demandlib`` or ``hourly``. (source: demandlib industrial step profile)
        am_h: Start of the working day, hours (demandlib shape). (source: demandlib)
        pm_h: End of the working day, hours (demandlib shape). (source: demandlib)
        week_day_factor: demandlib factor for weekday working hours. (source: demandlib)
        week_night_factor: demandlib factor for weekday off-hours. (source: demandlib)
        weekend_day_factor: demandlib factor for weekend working hours. (source: demandlib)
        weekend_night_factor: demandlib factor for weekend off-hours. (source: demandlib)
        hourly_shape: 24 relative hourly loads (``shape: hourly``); weekends scaled
            by ``weekend_scale``. (assumption)
        weekend_scale: Weekend load relative to weekdays for ``hourly`` shapes. (assumption)
        median_load_kw: Median of the users' mean load, kW (lognormal scale). (assumption)
        load_sigma: Log-standard deviation of the users' mean load.
            (assumption: lognormal firm sizes)
        shift_h_max: Users' load shapes are shifted by a uniform integer number of
            hours in [-shift_h_max, shift_h_max]. (assumption)
        noise_sigma: Log-standard deviation of the daily multiplicative noise
            per user and interval (mean-one lognormal). (assumption)
        voll_cny_per_kwh: Median value of lost load, CNY/kWh (from output value per kWh).
            (assumption: ranges of industrial VOLL surveys, 5–25 CNY/kWh)
        voll_sigma: Log-standard deviation of VOLL across users. (assumption)
        rho: Notice sensitivity ρ in [0, 1]: share of the loss avoidable with ample notice.
            (assumption)
        shutdown_h: Time needed for an orderly shutdown, h; shorter notice incurs
            the restart cost. (assumption)
        restart_cost_cny_per_kw: Restart cost per kW of curtailed block, CNY/kW. (assumption)
        class_weights: Probabilities of interruptibility classes k = 0..4
            (0 = protected, 4 = restricted first). (assumption)
        output_value_cny_per_kwh: Industrial output value per kWh, CNY/kWh.
            (assumption: value added per kWh by industry)
        category: Differential-price category (encouraged, permitted, restricted,
            eliminated). (source: differential-price catalogue categories (DESIGN.md))
        standby_waste_share: Off-hours base load kept running needlessly, as a share
            of the mean load (what diagnostics can find). (assumption)
    """

    share: float = ranged(0.25, lo=0.0)
    shape: str = "demandlib"
    am_h: float = ranged(8.0, lo=0.0, hi=24.0)
    pm_h: float = ranged(18.0, lo=0.0, hi=24.0)
    week_day_factor: float = ranged(1.0, lo=0.0, hi=1e6)
    week_night_factor: float = ranged(0.4, lo=0.0, hi=1e6)
    weekend_day_factor: float = ranged(0.6, lo=0.0, hi=1e6)
    weekend_night_factor: float = ranged(0.3, lo=0.0, hi=1e6)
    hourly_shape: list[float] = ranged(factory=list, lo=0.0, hi=1e6)  # noqa: RUF009
    weekend_scale: float = ranged(1.0, lo=0.0, hi=1e6)
    median_load_kw: float = ranged(500.0, lo=0.0, lo_open=True, hi=1e6)
    load_sigma: float = ranged(0.6, lo=0.0, hi=3.0)
    shift_h_max: int = ranged(1, lo=0, hi=12, integer=True)
    noise_sigma: float = ranged(0.05, lo=0.0, hi=3.0)
    voll_cny_per_kwh: float = ranged(8.0, lo=0.0, lo_open=True, hi=1e5)
    voll_sigma: float = ranged(0.3, lo=0.0, hi=3.0)
    rho: float = ranged(0.6, lo=0.0, hi=1.0)
    shutdown_h: float = ranged(4.0, lo=0.0, hi=168.0)
    restart_cost_cny_per_kw: float = ranged(2.0, lo=0.0, hi=1e5)
    class_weights: list[float] = ranged(factory=lambda: [0.1, 0.2, 0.3, 0.2, 0.2], lo=0.0, hi=1e6)  # noqa: RUF009
    output_value_cny_per_kwh: float = ranged(10.0, lo=0.0, lo_open=True, hi=1e5)
    category: str = "permitted"
    standby_waste_share: float = ranged(0.0, lo=0.0, hi=1.0)


@dataclass
class ParkConfig:
    """The park's user population.

    Attributes:
        name: Label of the park preset. (assumption: run setting)
        n_users: Number of park users (factories). (source: DESIGN.md (a park of about 200 users))
        contracted_margin: Contracted capacity = expected peak × (1 + margin).
            (assumption: contracted capacity about 1.2 × peak)
        curtailable_share_by_class: Curtailable block ΔP as a share of the user's
            mean working-hours load, per interruptibility class k = 0..4.
            (source: DESIGN.md (orderly-use classes))
        waste_user_share: Fraction of users with standby waste (off-hours load kept on).
            (assumption)
        industries: Industry types by name.
    """

    name: str = "default"
    n_users: int = ranged(200, lo=1, hi=1_000_000, integer=True)
    contracted_margin: float = ranged(0.2, lo=0.0, hi=10.0)
    curtailable_share_by_class: list[float] = ranged(  # noqa: RUF009
        factory=lambda: [0.0, 0.2, 0.35, 0.5, 0.7], lo=0.0, hi=1.0
    )
    waste_user_share: float = ranged(0.2, lo=0.0, hi=1.0)
    industries: dict[str, IndustryConfig] = field(default_factory=dict)


def check(cfg: Any) -> None:
    """Check the ``park`` group's rules that involve several keys.

    Each field's own range is declared with it (``ranged``) and checked by
    ``validate``; here: at least one industry with a positive share, five
    classes, the working hours, the hourly shape's length and the category.

    Args:
        cfg: The whole composed config.

    Raises:
        ConfigError: Naming the first offending key.
    """
    p = cfg.park
    if not p.industries:
        raise ConfigError("park.industries: at least one industry is required")
    if len(p.curtailable_share_by_class) != 5:
        raise ConfigError("park.curtailable_share_by_class: needs 5 values (classes 0..4)")
    for name, ind in p.industries.items():
        key = f"park.industries.{name}"
        if ind.shape not in ("demandlib", "hourly"):
            raise ConfigError(f"{key}.shape={ind.shape!r}: must be 'demandlib' or 'hourly'")
        if ind.shape == "hourly" and len(ind.hourly_shape) != 24:
            raise ConfigError(f"{key}.hourly_shape: needs 24 values for shape=hourly")
        if ind.shape == "hourly" and sum(ind.hourly_shape) <= 0:
            raise ConfigError(f"{key}.hourly_shape: needs a positive value")
        if ind.shape == "demandlib" and not ind.am_h < ind.pm_h:
            raise ConfigError(f"{key}.am_h/pm_h: need 0 <= am_h < pm_h <= 24")
        if len(ind.class_weights) != 5 or sum(ind.class_weights) <= 0:
            raise ConfigError(f"{key}.class_weights: needs 5 non-negative weights, not all 0")
        if ind.category not in CATEGORIES:
            raise ConfigError(f"{key}.category={ind.category!r}: must be one of {CATEGORIES}")
    if sum(i.share for i in p.industries.values()) <= 0:
        raise ConfigError("park.industries.*.share: at least one share must be positive")
