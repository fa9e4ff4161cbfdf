"""Config group ``ev``: EV charge/discharge booking, rule E1.

Defaults and sources follow ``PHASES.md`` §3 (``A`` = assumption).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulation.config._checks import ConfigError, fraction, positive

__all__ = ["EV_MODES", "EvConfig", "check"]

EV_MODES = ("managed", "unmanaged", "v2g")


@dataclass
class EvConfig:
    """An EV fleet booking charging one day ahead at the park's chargers (E1).

    Attributes:
        mode: ``managed`` (cheapest intervals under the park's headroom, or
            rejected), ``unmanaged`` (full power from arrival; the
            counterfactual) or ``v2g`` (managed plus discharge at peak prices).
        bookings_per_user_day: Mean bookings per user and day, Poisson (A).
        energy_min_kwh: Lower bound of a booking's battery energy, kWh (U(20, 60); A).
        energy_max_kwh: Upper bound, kWh (A).
        pmax_kw_choices: Charger powers drawn uniformly, kW (A).
        arrival_h_min: Earliest arrival hour (A).
        arrival_h_max: Latest arrival hour (A).
        dwell_h_min: Shortest parking time, h (A).
        dwell_h_max: Longest parking time, h (A).
        eta: Charging efficiency (A).
        no_show_prob: Probability a booked vehicle does not come (A).
        service_fee_cny_per_kwh: Service fee on top of energy, CNY/kWh [S17].
        v2g_price_cny_per_kwh: Paid for V2G discharge, CNY/kWh (Jiangsu [S18]).
        degradation_cny_per_kwh: Battery wear per kWh cycled (A).
        v2g_max_share: Largest discharge as a share of a booking's energy (A).
        forecast_margin_share: Headroom = capacity − (1 + margin)·forecast load (A).
    """

    mode: str = "managed"
    bookings_per_user_day: float = 0.1
    energy_min_kwh: float = 20.0
    energy_max_kwh: float = 60.0
    pmax_kw_choices: list[float] = field(default_factory=lambda: [7.0, 22.0, 60.0])
    arrival_h_min: int = 7
    arrival_h_max: int = 18
    dwell_h_min: int = 2
    dwell_h_max: int = 10
    eta: float = 0.92
    no_show_prob: float = 0.05
    service_fee_cny_per_kwh: float = 0.8
    v2g_price_cny_per_kwh: float = 1.22
    degradation_cny_per_kwh: float = 0.10
    v2g_max_share: float = 0.5
    forecast_margin_share: float = 0.05


def check(cfg: Any) -> None:
    """Check the ``ev`` group.

    Args:
        cfg: The whole composed config.

    Raises:
        ConfigError: Naming the first offending key.
    """
    e = cfg.ev
    if e.mode not in EV_MODES:
        raise ConfigError(f"ev.mode={e.mode!r}: must be one of {EV_MODES}")
    positive("ev.bookings_per_user_day", e.bookings_per_user_day, allow_zero=True)
    positive("ev.energy_min_kwh", e.energy_min_kwh)
    if e.energy_max_kwh < e.energy_min_kwh:
        raise ConfigError(
            f"ev.energy_max_kwh={e.energy_max_kwh}: must be >= ev.energy_min_kwh={e.energy_min_kwh}"
        )
    if not e.pmax_kw_choices or any(p <= 0 for p in e.pmax_kw_choices):
        raise ConfigError(f"ev.pmax_kw_choices={list(e.pmax_kw_choices)}: need powers > 0 kW")
    if not 0 <= e.arrival_h_min <= e.arrival_h_max <= 23:
        raise ConfigError(
            f"ev.arrival_h_min={e.arrival_h_min}, ev.arrival_h_max={e.arrival_h_max}: need "
            "0 <= min <= max <= 23"
        )
    if e.dwell_h_min < 1:
        raise ConfigError(
            f"ev.dwell_h_min={e.dwell_h_min}: a booking's departure must come after its "
            "arrival (at least 1 h of parking)"
        )
    if e.dwell_h_max < e.dwell_h_min:
        raise ConfigError(
            f"ev.dwell_h_max={e.dwell_h_max}: a booking's departure before its arrival "
            f"(must be >= ev.dwell_h_min={e.dwell_h_min})"
        )
    if not 0 < e.eta <= 1:
        raise ConfigError(f"ev.eta={e.eta}: must be in (0, 1]")
    fraction("ev.no_show_prob", e.no_show_prob)
    positive("ev.service_fee_cny_per_kwh", e.service_fee_cny_per_kwh, allow_zero=True)
    positive("ev.v2g_price_cny_per_kwh", e.v2g_price_cny_per_kwh, allow_zero=True)
    positive("ev.degradation_cny_per_kwh", e.degradation_cny_per_kwh, allow_zero=True)
    fraction("ev.v2g_max_share", e.v2g_max_share)
    positive("ev.forecast_margin_share", e.forecast_margin_share, allow_zero=True)
