"""Config group ``ev``: EV charge/discharge booking, rule E1.

Defaults and sources follow ``PHASES.md`` §3 (``A`` = assumption).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulation.config._checks import ConfigError, ranged

__all__ = ["EV_MODES", "EvConfig", "check"]

EV_MODES = ("managed", "unmanaged", "v2g")


@dataclass
class EvConfig:
    """An EV fleet booking charging one day ahead at the park's chargers (E1).

    Attributes:
        mode: ``managed`` (cheapest intervals under the park's headroom, or
            rejected), ``unmanaged`` (full power from arrival; the
            counterfactual) or ``v2g`` (managed plus discharge at peak prices). (assumption)
        bookings_per_user_day: Mean bookings per user and day, Poisson (A). (assumption)
        energy_min_kwh: Lower bound of a booking's battery energy, kWh (U(20, 60); A). (assumption)
        energy_max_kwh: Upper bound, kWh (A). (assumption)
        pmax_kw_choices: Charger powers drawn uniformly, kW (A). (assumption)
        arrival_h_min: Earliest arrival hour (A). (assumption)
        arrival_h_max: Latest arrival hour (A). (assumption)
        dwell_h_min: Shortest parking time, h (A). (assumption)
        dwell_h_max: Longest parking time, h (A). (assumption)
        eta: Charging efficiency (A). (assumption)
        no_show_prob: Probability a booked vehicle does not come (A). (assumption)
        service_fee_cny_per_kwh: Service fee on top of energy, CNY/kWh [S17].
            (source: Beijing 0.8, Chaozhou 1.0 [S17])
        v2g_price_cny_per_kwh: Paid for V2G discharge, CNY/kWh (Jiangsu [S18]).
            (source: Jiangsu V2G [S18])
        degradation_cny_per_kwh: Battery wear per kWh cycled (A). (assumption)
        v2g_max_share: Largest discharge as a share of a booking's energy (A). (assumption)
        forecast_margin_share: Headroom = capacity − (1 + margin)·forecast load (A). (assumption)
    """

    mode: str = "managed"
    bookings_per_user_day: float = ranged(0.1, lo=0.0, hi=100.0)
    energy_min_kwh: float = ranged(20.0, lo=0.0, hi=1000.0, lo_open=True)
    energy_max_kwh: float = ranged(60.0, lo=0.0, hi=1000.0, lo_open=True)
    pmax_kw_choices: list[float] = ranged(  # noqa: RUF009
        factory=lambda: [7.0, 22.0, 60.0], lo=0.0, hi=1000.0, lo_open=True
    )
    arrival_h_min: int = ranged(7, lo=0, hi=23, integer=True)
    arrival_h_max: int = ranged(18, lo=0, hi=23, integer=True)
    dwell_h_min: int = ranged(2, lo=1, hi=24, integer=True)
    dwell_h_max: int = ranged(10, lo=1, hi=24, integer=True)
    eta: float = ranged(0.92, lo=0.0, hi=1.0, lo_open=True)
    no_show_prob: float = ranged(0.05, lo=0.0, hi=1.0)
    service_fee_cny_per_kwh: float = ranged(0.8, lo=0.0, hi=10.0)
    v2g_price_cny_per_kwh: float = ranged(1.22, lo=0.0, hi=10.0)
    degradation_cny_per_kwh: float = ranged(0.10, lo=0.0, hi=10.0)
    v2g_max_share: float = ranged(0.5, lo=0.0, hi=1.0)
    forecast_margin_share: float = ranged(0.05, lo=0.0, hi=1.0)


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
