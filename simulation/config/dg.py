"""Config group ``dg``: the DG service (rooftop PV, optional wind), rules D1–D2.

Defaults and sources follow ``PHASES.md`` §3 (``A`` = assumption, to be
calibrated).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulation.config._checks import ConfigError, ranged

__all__ = ["EXPORT_MODES", "DgConfig", "check"]

EXPORT_MODES = ("benchmark", "spot")


@dataclass
class DgConfig:
    """DG providers building PV on hosts' roofs (PHASES.md D1–D2).

    Attributes:
        latitude_deg: Park latitude, degrees north (Nanjing, Jiangsu; A). (assumption: Nanjing)
        longitude_deg: Park longitude, degrees east (Nanjing; A). (assumption: Nanjing)
        tilt_deg: Roof module tilt, degrees (A). (assumption)
        azimuth_deg: Module azimuth, degrees clockwise from north (180 = south; A).
            (assumption: south facing)
        yield_kwh_per_kwp: Annual PV yield, kWh/kWp·yr (Jiangsu 1063 [S11]). (source: [S11], [S12])
        daily_clearness: Dim days by a Beta clearness factor drawn from the
            model's generator (else clear sky every day; A). (assumption)
        clearness_mean: Mean daily clearness factor (A). (assumption)
        clearness_concentration: Beta concentration of the clearness (A). (assumption)
        export_mode: ``benchmark`` (surplus paid the coal benchmark by the grid
            [S15]) or ``spot`` (paid the price signal: the day-ahead price when
            a market is on, else the catalog tariff [S14]). (assumption)
        export_price_cny_per_kwh: Benchmark export price, CNY/kWh (coal benchmark [S11]).
            (source: coal benchmark [S11])
        discount_share: δ, the host's discount on its energy price (A; typical 10–20 %).
            (assumption)
        capex_cny_per_w: Investment, CNY per W peak. Calibrated to the C&I
            rooftop payback of 5–6 years [S13] (no capex source in the corpora,
            PHASES.md §6): with 3.0 the providers' realised payback on the
            small park over a year was 4.7 years; 3.5 gives about 5.5. A
            Zhejiang 5 MWp C&I rooftop cost 5.8 CNY/W (O&M 0.07) in 2017
            (DIGITIMES, 2017-08-25), before the module price falls.
            (assumption: calibrated to the 5–6 yr payback of [S13])
        om_cny_per_w_yr: O&M, CNY per W peak per year (A). (assumption)
        max_payback_yr: Largest simple payback built, years (C&I rooftop 5–6 yr [S13]).
            (source: [S13])
        min_self_consumption_share: Smallest self-consumption share S/G built [S14]. (source: [S14])
        roof_kwp_per_contracted_kw: Roof limit kWp_max per contracted kW (A). (assumption)
        size_shares: Candidate sizes as shares of kWp_max (D2; A). (assumption)
        lifetime_yr: PV lifetime, years [S37]. (source: [S37])
        discount_rate: Provider's discount rate per year (A). (assumption)
        online_delay_days: Days from the decision to operation (3 months; A). (assumption)
        review_months: Months between sizing rounds (quarterly, D2). (assumption)
        capacity_cap_share: Cap on the park's total DG as a share of all roofs'
            kWp_max (research question 7; 1 = no cap). (assumption)
        wind_turbines: Number of wind turbines (0 = none), attached to the
            host with the largest contracted capacity (A). (assumption)
        wind_turbine_type: A windpowerlib turbine type with a shipped power curve.
            (assumption: windpowerlib turbine library)
        wind_mean_speed_m_per_s: Mean hub-height wind speed, m/s (A). (assumption)
    """

    latitude_deg: float = ranged(32.06, lo=-90.0, hi=90.0)
    longitude_deg: float = ranged(118.8, lo=-180.0, hi=180.0)
    tilt_deg: float = ranged(20.0, lo=0.0, hi=90.0)
    azimuth_deg: float = ranged(180.0, lo=0.0, hi=360.0)
    yield_kwh_per_kwp: float = ranged(1063.0, lo=0.0, hi=3000.0, lo_open=True)
    daily_clearness: bool = True
    clearness_mean: float = ranged(0.75, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    clearness_concentration: float = ranged(8.0, lo=0.0, hi=1e4, lo_open=True)
    export_mode: str = "benchmark"
    export_price_cny_per_kwh: float = ranged(0.391, lo=0.0, hi=10.0)
    discount_share: float = ranged(0.15, lo=0.0, hi=1.0)
    capex_cny_per_w: float = ranged(3.5, lo=0.0, hi=100.0)
    om_cny_per_w_yr: float = ranged(0.05, lo=0.0, hi=10.0)
    max_payback_yr: float = ranged(6.0, lo=0.0, hi=100.0, lo_open=True)
    min_self_consumption_share: float = ranged(0.5, lo=0.0, hi=1.0)
    roof_kwp_per_contracted_kw: float = ranged(0.5, lo=0.0, hi=10.0)
    size_shares: list[float] = ranged(  # noqa: RUF009
        factory=lambda: [0.25, 0.5, 0.75, 1.0], lo=0.0, hi=1.0, lo_open=True
    )
    lifetime_yr: float = ranged(25.0, lo=1.0, hi=100.0)
    discount_rate: float = ranged(0.08, lo=0.0, hi=1.0)
    online_delay_days: int = ranged(91, lo=0, hi=3650, integer=True)
    review_months: int = ranged(3, lo=1, hi=120, integer=True)
    capacity_cap_share: float = ranged(1.0, lo=0.0, hi=1.0)
    wind_turbines: int = ranged(0, lo=0, hi=1000, integer=True)
    wind_turbine_type: str = "E-53/800"
    wind_mean_speed_m_per_s: float = ranged(5.0, lo=0.0, hi=50.0, lo_open=True)


def check(cfg: Any) -> None:
    """Check the ``dg`` group.

    Args:
        cfg: The whole composed config.

    Raises:
        ConfigError: Naming the first offending key.
    """
    d = cfg.dg
    if not d.yield_kwh_per_kwp > 0:
        raise ConfigError(
            f"dg.yield_kwh_per_kwp={d.yield_kwh_per_kwp}: a PV yield must be > 0 kWh/kWp·yr"
        )
    if d.discount_share < 0:
        raise ConfigError(f"dg.discount_share={d.discount_share}: a discount cannot be negative")
    if d.discount_share > 1:
        raise ConfigError(
            f"dg.discount_share={d.discount_share}: a discount above 1 would pay the host to "
            "consume; must be in [0, 1]"
        )
    if d.export_mode not in EXPORT_MODES:
        raise ConfigError(f"dg.export_mode={d.export_mode!r}: must be one of {EXPORT_MODES}")
    if not -90 <= d.latitude_deg <= 90:
        raise ConfigError(f"dg.latitude_deg={d.latitude_deg}: must be in [-90, 90]")
    if not 0 <= d.tilt_deg <= 90:
        raise ConfigError(f"dg.tilt_deg={d.tilt_deg}: must be in [0, 90]")
    if not 0 < d.clearness_mean < 1:
        raise ConfigError(f"dg.clearness_mean={d.clearness_mean}: must be in (0, 1)")
    if not d.size_shares or any(not 0 < s <= 1 for s in d.size_shares):
        raise ConfigError(f"dg.size_shares={list(d.size_shares)}: need shares in (0, 1]")
