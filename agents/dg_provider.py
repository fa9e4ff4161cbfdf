"""The DG service: a provider builds rooftop PV on hosts' roofs and sells the power.

The ``dg`` module (rules D1–D2 of PHASES.md). At the start the provider
computes one year of PV output per kWp with pvlib's clear-sky model at the
park's site (:func:`agents.dg_resource.pv_profile_kw_per_kwp`, optionally
dimmed by daily clearness factors drawn from the model's generator, always
scaled to ``dg.yield_kwh_per_kwp``) and, if configured, a wind series from a
windpowerlib power curve on the largest host.

**D2, sizing** (at the start and every ``dg.review_months``): for hosts
without DG, candidate sizes ``size_shares × kWp_max`` (kWp_max =
``roof_kwp_per_contracted_kw`` × contracted kW) are evaluated with
:func:`markets.dg.evaluate_sizes` on each month's mean PV day against the
host's expected weekday and weekend load (weighted 5/7 and 2/7); the
max-NPV size with payback ≤ ``max_payback_yr`` and self-consumption ≥
``min_self_consumption_share`` is built (highest NPV first, up to the park's
``capacity_cap_share`` of all roofs); capex is paid at the decision and the
plant runs ``online_delay_days`` later.

**D1, operation** (``meter``): per host and interval the self-consumption is
min(generation, the host's served load
without its sub-metered EV charging) (:func:`markets.dg.split`); it is moved out of
the host's supplier source into ``dg_self`` in the energy book and the
surplus is exported. The host's supplier bills the *net* load (the grid
company subtracts :attr:`DGProvider.unbilled_kw`); the host pays the
provider (1 − δ) × its energy price for the self-consumed energy
(``dg_service_fee``, accrued daily, posted monthly), the export is paid
daily at the benchmark price by the grid (``dg_export``; ``spot``: at the
price signal, by the market operator in its daily settlement when one is on), O&M is paid monthly
(``dg_om``) and capex at the build (``dg_capex``).

References:
    PHASES.md §2.2 D1–D2 and §3 (defaults, [S11]–[S15], [S37]).
"""

from __future__ import annotations

import calendar
from typing import TYPE_CHECKING, Any, ClassVar

import mesa
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from agents.dg_resource import daily_clearness, pv_profile_kw_per_kwp, wind_profile_kw
from agents.price_signal import price_cny_per_kwh, user_price_cny_per_kwh
from markets.dg import evaluate_sizes, npv_cny, payback_years, split

if TYPE_CHECKING:
    from agents._model import ModelView

__all__ = ["SUPPLIER_SOURCES", "DGProvider"]

#: Energy-book source of each supplier code (index = min(code, 2)).
SUPPLIER_SOURCES: tuple[str, ...] = ("grid_catalog", "contract", "day_ahead")
_WEEKDAY_WEIGHT = 5.0 / 7.0


class DGProvider(mesa.Agent):
    """The park's DG provider (one agent; the ``dg`` module).

    Args:
        model: The park model.
    """

    KPIS: ClassVar[tuple[str, ...]] = (
        "dg_energy_kwh",
        "dg_capacity_kwp",
        "dg_hosts_count",
        "dg_self_consumed_kwh",
        "dg_export_kwh",
        "dg_user_saving_cny",
        "dg_service_fee_cny",
        "dg_export_revenue_cny",
        "dg_provider_profit_cny",
    )
    USER_FIELDS: ClassVar[tuple[str, ...]] = ("dg_self_kwh", "dg_saving_cny")
    INTERVAL_FIELDS: ClassVar[tuple[str, ...]] = ("dg_generation_kw",)

    model: ModelView

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        cfg = model.cfg.dg
        self.cfg = cfg
        ledger = model.ledger
        self.account = ledger.account("dg:provider")
        self.external = ledger.account("external")
        self.grid_account = ledger.account("grid")
        pop = model.pop
        n = pop.n_users
        start = model.clock.date_of(0)
        self.year = start.year
        n_year_days = 366 if calendar.isleap(self.year) else 365
        clearness = None
        if cfg.daily_clearness:
            clearness = daily_clearness(
                model.rng,
                n_year_days,
                float(cfg.clearness_mean),
                float(cfg.clearness_concentration),
            )
        #: PV output per kWp, (days of the start year, intervals per day), kW/kWp.
        self.profile_kw_per_kwp = pv_profile_kw_per_kwp(
            float(cfg.latitude_deg),
            float(cfg.longitude_deg),
            float(cfg.tilt_deg),
            float(cfg.azimuth_deg),
            self.year,
            model.ipd,
            float(cfg.yield_kwh_per_kwp),
            clearness=clearness,
        )
        #: Roof limit per user, kWp.
        self.roof_kwp = float(cfg.roof_kwp_per_contracted_kw) * pop.contracted_kw
        self.cap_kwp = float(cfg.capacity_cap_share) * float(self.roof_kwp.sum())
        self.kwp = np.zeros(n)
        self.online_day = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        self.wind_host = int(np.argmax(pop.contracted_kw))
        self.wind_kw: NDArray[np.float64] | None = None
        if int(cfg.wind_turbines) > 0:
            self.wind_kw = wind_profile_kw(
                model.rng,
                model.n_days * model.ipd,
                mean_wind_speed_m_per_s=float(cfg.wind_mean_speed_m_per_s),
                turbine_type=str(cfg.wind_turbine_type),
                n_turbines=int(cfg.wind_turbines),
            ).reshape(model.n_days, model.ipd)
        #: Today's self-consumed power per user and interval, kW (0 without DG).
        self.self_consumed_kw = np.zeros((n, model.ipd))
        #: Today's spot export revenue the market operator pays, CNY (spot mode).
        self.spot_export_cny = 0.0
        self._months = 0
        self._om_cny = 0.0
        self.builds: list[dict[str, Any]] = []
        self.totals = dict.fromkeys(
            ("generation_kwh", "self_kwh", "export_kwh", "fee_cny", "saving_cny", "export_cny"),
            0.0,
        )

    @property
    def unbilled_kw(self) -> NDArray[np.float64]:
        """Today's load the host's supplier does not bill (self-consumption), kW."""
        return self.self_consumed_kw

    # ------------------------------------------------------------------ helpers
    def profile_of_day(self, day: int) -> NDArray[np.float64]:
        """PV output per kWp on a model day, kW/kWp per interval (the start year repeats)."""
        date = self.model.clock.date_of(day)
        doy = min(date.timetuple().tm_yday - 1, self.profile_kw_per_kwp.shape[0] - 1)
        out: NDArray[np.float64] = self.profile_kw_per_kwp[doy]
        return out

    def export_price_cny_per_kwh(self, day: int) -> NDArray[np.float64]:
        """Export price per interval, CNY/kWh (benchmark, or the price signal)."""
        if self.cfg.export_mode == "spot":
            return price_cny_per_kwh(self.model, day)
        return np.full(self.model.ipd, float(self.cfg.export_price_cny_per_kwh))

    def market_pays_export(self) -> bool:
        """Whether the wholesale operator pays the export (``spot`` with a market on).

        Then the provider does not post ``dg_export`` itself: the operator
        pays :attr:`spot_export_cny` in its daily settlement
        (``MarketOperator.settle``) and passes it on in the monthly uplift.
        """
        return self.cfg.export_mode == "spot" and self.model.has_module("market")

    def forecast_self_kw(self, day: int, load_kw: NDArray[np.float64]) -> NDArray[np.float64]:
        """Forecast self-consumption of a day per user and interval, kW (for the bids).

        min(generation, the host's expected load) with the plants online on
        the day and the day's PV profile (the provider's forecast).

        Args:
            day: Model day.
            load_kw: Expected load per user and interval, kW.

        Returns:
            ``(n_users, ipd)`` kW.
        """
        kwp = np.where(self.online_day <= day, self.kwp, 0.0)
        gen = kwp[:, None] * self.profile_of_day(day)[None, :]
        if self.wind_kw is not None:
            gen[self.wind_host] += self.wind_kw[day]
        return np.asarray(np.minimum(gen, np.maximum(load_kw, 0.0)), dtype=np.float64)

    def _month_mean_profiles(self) -> NDArray[np.float64]:
        """Mean PV day of each calendar month, kW/kWp, (12 · intervals per day,)."""
        prof = self.profile_kw_per_kwp
        months = pd.date_range(f"{self.year}-01-01", periods=prof.shape[0], freq="D").month
        return np.concatenate([prof[months == k].mean(axis=0) for k in range(1, 13)])

    # ------------------------------------------------------------------ D2 sizing
    def size_and_build(self, day: int) -> int:
        """Evaluate hosts without DG and build the admissible max-NPV sizes (rule D2).

        Args:
            day: Model day of the decision.

        Returns:
            Number of plants built.
        """
        m = self.model
        cfg = self.cfg
        pop = m.pop
        candidates = np.flatnonzero((self.kwp == 0) & (self.roof_kwp > 0))
        room_kwp = self.cap_kwp - float(self.kwp.sum())
        if candidates.size == 0 or room_kwp <= 0:
            return 0
        profile = self._month_mean_profiles()
        shares = np.asarray(cfg.size_shares, dtype=np.float64)
        sizes = self.roof_kwp[candidates, None] * shares[None, :]
        price = np.tile(user_price_cny_per_kwh(m, day)[candidates], 12)
        export = np.tile(self.export_price_cny_per_kwh(day), 12)
        common = dict(
            capex_cny_per_w=float(cfg.capex_cny_per_w),
            om_cny_per_w_yr=float(cfg.om_cny_per_w_yr),
            lifetime_yr=float(cfg.lifetime_yr),
            discount_rate=float(cfg.discount_rate),
            max_payback_yr=float(cfg.max_payback_yr),
            min_self_consumption_share=float(cfg.min_self_consumption_share),
            interval_h=m.interval_h,
            window_years=12.0 / 365.0,
        )
        ev = []
        for weekend in (False, True):
            load = np.tile(pop.expected_load_kw(weekend)[candidates], 12)
            ev.append(
                evaluate_sizes(
                    sizes, profile, load, price, float(cfg.discount_share), export, **common
                )
            )
        w = _WEEKDAY_WEIGHT
        fee = w * ev[0].annual_fee_cny + (1 - w) * ev[1].annual_fee_cny
        export_rev = w * ev[0].annual_export_revenue_cny + (1 - w) * ev[1].annual_export_revenue_cny
        gen = w * ev[0].annual_generation_kwh + (1 - w) * ev[1].annual_generation_kwh
        self_kwh = w * ev[0].annual_self_consumed_kwh + (1 - w) * ev[1].annual_self_consumed_kwh
        capex = ev[0].capex_cny
        annual = fee + export_rev - float(cfg.om_cny_per_w_yr) * 1000.0 * sizes
        npv = npv_cny(capex, annual, float(cfg.lifetime_yr), float(cfg.discount_rate))
        payback = payback_years(capex, annual)
        share = np.divide(self_kwh, gen, out=np.zeros_like(gen), where=gen > 0)
        ok = (
            (sizes > 0)
            & (payback <= float(cfg.max_payback_yr))
            & (share >= float(cfg.min_self_consumption_share))
            & (npv > 0)
        )
        best = np.argmax(np.where(ok, npv, -np.inf), axis=1)
        has = ok.any(axis=1)
        rows = np.arange(candidates.size)
        best_kwp = np.where(has, sizes[rows, best], 0.0)
        best_npv = np.where(has, npv[rows, best], -np.inf)
        order = np.argsort(-best_npv, kind="stable")
        order = order[has[order]]
        fits = np.cumsum(best_kwp[order]) <= room_kwp * (1 + 1e-12)
        chosen = order[fits]
        if chosen.size == 0:
            return 0
        users = candidates[chosen]
        kwp = best_kwp[chosen]
        self.kwp[users] = kwp
        self.online_day[users] = day + int(cfg.online_delay_days)
        when = m.clock.time_of(day, 0)
        m.ledger.post(
            when, self.account, self.external, float(cfg.capex_cny_per_w) * 1000.0 * kwp, "dg_capex"
        )
        for u, k, j in zip(users, kwp, chosen, strict=True):
            self.builds.append(
                {
                    "day": day,
                    "user": int(u),
                    "kwp": float(k),
                    "npv_cny": float(best_npv[j]),
                    "payback_yr": float(payback[j, best[j]]),
                    "self_consumption_share": float(share[j, best[j]]),
                    "online_day": day + int(cfg.online_delay_days),
                }
            )
        return int(users.size)

    # ------------------------------------------------------------------ stages
    def start(self, today: Any) -> None:
        """First sizing round before the first day."""
        self.size_and_build(0)

    def meter(self, today: Any) -> None:
        """Split the day's generation into self-consumption and export (rule D1)."""
        m = self.model
        n, ipd = today.served_kw.shape
        self.self_consumed_kw = np.zeros((n, ipd))
        self.spot_export_cny = 0.0
        on = self.online_day <= today.day
        kwp = np.where(on, self.kwp, 0.0)
        gen_today = np.zeros(ipd)
        users_self_kwh = np.zeros(n)
        saving = np.zeros(n)
        fee = np.zeros(n)
        rows = np.flatnonzero(kwp > 0)
        gen = kwp[rows, None] * self.profile_of_day(today.day)[None, :]
        if self.wind_kw is not None:
            wind = np.zeros((n, ipd))
            wind[self.wind_host] = self.wind_kw[today.day]
            rows = np.union1d(rows, [self.wind_host])
            gen = kwp[rows, None] * self.profile_of_day(today.day)[None, :] + wind[rows]
        if rows.size:
            price = user_price_cny_per_kwh(m, today.day)[rows]
            export_price = self.export_price_cny_per_kwh(today.day)
            load = today.served_kw[rows]
            if m.has_module("ev"):  # the EV chargers are sub-metered: PV serves the host's load
                load = np.maximum(load - m.module("ev").unbilled_kw[rows], 0.0)
            res = split(
                gen,
                load,
                price,
                float(self.cfg.discount_share),
                export_price,
                m.interval_h,
            )
            dt = m.interval_h
            self_kw = res.self_consumed_interval_kwh / dt
            self.self_consumed_kw[rows] = self_kw
            code = np.minimum(m.pop.supplier[rows], len(SUPPLIER_SOURCES) - 1)
            for c in np.unique(code):
                m.energy.move(SUPPLIER_SOURCES[int(c)], "dg_self", self_kw[code == c].sum(axis=0))
            export_kw = res.export_interval_kwh.sum(axis=0) / dt
            m.energy.add_export(export_kw)
            gen_today = gen.sum(axis=0)
            users_self_kwh[rows] = res.self_consumed_kwh
            saving[rows] = res.host_saving_cny
            fee[rows] = res.fee_cny
            m.billing.accrue("dg", self.account, "dg_service_fee", fee)
            export_cny = float(np.sum(res.export_revenue_cny))
            if self.market_pays_export():
                self.spot_export_cny = export_cny
            elif export_cny != 0.0:
                payer, payee = int(self.grid_account), self.account
                if export_cny < 0:  # a negative spot price: the provider pays
                    payer, payee = payee, payer
                m.ledger.post(
                    m.clock.time_of(today.day, ipd - 1), payer, payee, abs(export_cny), "dg_export"
                )
            t = self.totals
            t["generation_kwh"] += float(gen.sum()) * dt
            t["self_kwh"] += float(users_self_kwh.sum())
            t["export_kwh"] += float(np.sum(res.export_kwh))
            t["fee_cny"] += float(fee.sum())
            t["saving_cny"] += float(saving.sum())
            t["export_cny"] += export_cny
        self._om_cny += float(self.cfg.om_cny_per_w_yr) * 1000.0 * float(kwp.sum()) / 365.0
        today.record_users(dg_self_kwh=users_self_kwh, dg_saving_cny=saving)
        today.record_intervals(dg_generation_kw=gen_today)

    def month_close(self, today: Any) -> None:
        """Post the month's service fees and O&M; quarterly, size and build (D2)."""
        m = self.model
        when = m.clock.time_of(today.day, 0)
        m.billing.post(when, "dg")
        if self._om_cny:
            m.ledger.post(when, self.account, self.external, self._om_cny, "dg_om")
            self._om_cny = 0.0
        self._months += 1
        if not today.final and self._months % int(self.cfg.review_months) == 0:
            self.size_and_build(today.day)

    # ------------------------------------------------------------------ outputs
    def kpis(self) -> dict[str, float]:
        """DG capacity, energy split, the hosts' saving and the provider's profit."""
        t = self.totals
        return {
            "dg_energy_kwh": t["generation_kwh"],
            "dg_capacity_kwp": float(self.kwp.sum()),
            "dg_hosts_count": float(np.count_nonzero(self.kwp)),
            "dg_self_consumed_kwh": t["self_kwh"],
            "dg_export_kwh": t["export_kwh"],
            "dg_user_saving_cny": t["saving_cny"],
            "dg_service_fee_cny": t["fee_cny"],
            "dg_export_revenue_cny": t["export_cny"],
            "dg_provider_profit_cny": self.model.ledger.balance("dg:provider"),
        }

    def tables(self) -> dict[str, pd.DataFrame]:
        """``dg_builds``: one row per plant built (day, user, kWp, NPV, payback, share)."""
        cols = ["day", "user", "kwp", "npv_cny", "payback_yr", "self_consumption_share"]
        builds = pd.DataFrame(self.builds, columns=[*cols, "online_day"])
        return {"dg_builds": builds}
