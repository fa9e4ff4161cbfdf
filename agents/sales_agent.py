"""The electricity-sales agent: buys for its members and settles with them monthly.

The ``agency`` module (requires ``plants``). At the start of each contract
month (the run's first day and every first of a month) the agent forecasts
its members' load (:mod:`agents.agency_forecast`), lets users join or leave on
its quotes (``ParkUser.decide_switch``), buys the month from the cheapest
plant on a two-part contract, announces its ceiling fee f2 and retained share
α and precharges each member ``f2·Ê_i``. At month end it settles through the
seven published steps of the source paper's Figure 2: the plant contract
(``markets.bilateral.settle_contract``, rule P3) is paid, the actual cost F1
is allocated (``markets.allocation.allocate``), each member's benefit is
refunded (``markets.settlement.agency_settle``), and the difference between
precharge and bill is refunded or collected. Members pay the grid company the
network fee on their metered energy.

References:
    Source paper §3 and Figure 2; PHASES.md §1.2 (F, P2, P3, S1–S5, U0–U1) and §1.3.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import mesa
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from agents.agency_forecast import (
    Forecast,
    LoadHistory,
    industry_shapes,
    month_curve,
    quote_cost_cny,
)
from agents.agency_settlement import settle_month
from agents.park_user import ParkUser
from markets.bilateral import cheapest_offer

if TYPE_CHECKING:
    from agents._model import ModelView

__all__ = ["AGENT_SUPPLIER", "Contract", "SalesAgent"]

#: The population's ``supplier`` code of the sales agent's members.
AGENT_SUPPLIER = 1
_MIN = np.timedelta64(60 * 10**9, "ns")


@dataclass(frozen=True)
class Contract:
    """A contract month: what the agent bought and announced.

    Attributes:
        start_day: First model day of the month.
        rows: Member rows during the month.
        plant: Name of the chosen plant.
        capacity_rate_cny_per_kw: a, CNY per kW·month.
        energy_rate_cny_per_kwh: b, CNY/kWh.
        contracted_kw: P_c, kW.
        contracted_kwh: Q_c, kWh.
        f2_cny_per_kwh: The announced ceiling fee f2, CNY/kWh.
        alpha: The announced retained share α.
        forecast_kwh: Each member's forecast energy Ê_i, kWh.
        prepay_cny: Each member's precharge f2·Ê_i, CNY.
    """

    start_day: int
    rows: NDArray[np.int64]
    plant: str
    capacity_rate_cny_per_kw: float
    energy_rate_cny_per_kwh: float
    contracted_kw: float
    contracted_kwh: float
    f2_cny_per_kwh: float
    alpha: float
    forecast_kwh: NDArray[np.float64]
    prepay_cny: NDArray[np.float64]


class SalesAgent(mesa.Agent):
    """The park's electricity-sales agent (``grid`` or ``independent`` type).

    Args:
        model: The park model.
    """

    KPIS: ClassVar[tuple[str, ...]] = (
        "sales_agent_profit_cny",
        "user_refund_cny",
        "agency_member_count",
        "agency_member_count_mean",
        "agency_member_energy_share",
        "agency_load_factor",
        "agency_standalone_load_factor",
        "agency_contract_price_cny_per_kwh",
        "agency_settled_price_cny_per_kwh",
        "agency_member_saving_cny",
        "agency_member_saving_share",
        "agency_benefit_cny",
        "agency_deviation_penalty_cny",
        "agency_demand_overrun_cny",
        "agency_forecast_mape_energy_share",
        "agency_forecast_error_peak_share",
        "agency_churn_share_per_month",
        "agency_alpha_last",
    )

    model: ModelView

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        cfg = model.cfg.agency
        self.cfg = cfg
        self.kind = str(cfg.agent_type)
        self.name = f"agent:{self.kind}"
        ledger = model.ledger
        self.account = ledger.account(self.name)
        self.external = ledger.account("external")
        self.grid_account = ledger.account("grid")
        pop = model.pop
        n = pop.n_users
        self.history = LoadHistory(n, model.ipd, int(cfg.forecast_history_days))
        self.own_months = np.zeros(n, dtype=np.int64)
        self.joined_month = np.full(n, -1, dtype=np.int64)
        self.month_index = 0
        self.settled_price = np.full((3, n), np.nan)
        self.alpha = float(cfg.alpha)
        self._alpha_sign = 1.0
        self._profits: list[float] = []
        self.contract: Contract | None = None
        self._ind = (industry_shapes(pop, False), industry_shapes(pop, True))
        self.tariff = model.module("grid").tariff_cny_per_kwh
        self.fleet = model.module("plants")
        model.meter.keep_curves()
        self.months: list[dict[str, float]] = []
        self.rows: list[pd.DataFrame] = []
        self.refunds_cny = 0.0
        self.switches = {"joined": 0, "left": 0}

    # ------------------------------------------------------------------ stages
    def start(self, today: Any) -> None:
        """Open the first contract month."""
        self._open_month(today.day)

    def collect(self, today: Any) -> None:
        """Keep the day's metered load for the forecasts."""
        self.history.add(today.served_kw, today.weekend)

    def month_close(self, today: Any) -> None:
        """Settle the month just ended; then open the next one (unless the run ended)."""
        if self.contract is not None:
            settle_month(self, today.day)
        if not today.final:
            self._open_month(today.day)

    # ------------------------------------------------------------------ forecast (F)
    def _contract_days(self, day: int) -> NDArray[np.bool_]:
        clock = self.model.clock
        d = day + 1
        while d < self.model.n_days and not clock.is_month_start(d):
            d += 1
        return np.array([clock.is_weekend(k) for k in range(day, d)], dtype=bool)

    def forecast(self) -> Forecast:
        """Every user's forecast profiles (rule F)."""
        m = self.model
        pop = m.pop
        wd = self.history.profile(False, pop.expected_load_kw(weekend=False))
        we = self.history.profile(True, pop.expected_load_kw(weekend=True))
        if self.kind == "grid" or self.cfg.grid_data_sharing:
            return Forecast(wd, we)
        # Independent: declared energy over the industry shape, until it has its own data.
        eps = m.rng.normal(0.0, float(self.cfg.declared_sigma_share), pop.n_users)
        last = m.meter.last
        if last is not None and last.days > 0:
            daily_kwh = last.energy_kwh / last.days
        else:
            daily_kwh = pop.expected_load_kw(weekend=False).sum(axis=1) * m.interval_h
        declared_kw = np.maximum(daily_kwh * (1.0 + eps), 0.0) / 24.0
        own = self.own_months >= 1
        wd_dec = declared_kw[:, None] * self._ind[0]
        we_dec = declared_kw[:, None] * self._ind[1]
        return Forecast(np.where(own[:, None], wd, wd_dec), np.where(own[:, None], we, we_dec))

    # ------------------------------------------------------------------ month open
    def _catalog_last_month(self, forecast: Forecast, weekends: NDArray[np.bool_]) -> Any:
        """Each user's last catalog bill and energy, scaled to a 30-day month."""
        m = self.model
        last = m.meter.last
        dt_h = m.interval_h
        if last is not None and last.curves_kw is not None and last.days > 0:
            tariff = np.tile(self.tariff, last.days)
            scale = 30.0 / last.days
            return last.curves_kw @ tariff * dt_h * scale, last.curves_kw.sum(axis=1) * dt_h * scale
        pop = m.pop
        days = [pop.expected_load_kw(weekend=bool(w)) for w in weekends]
        scale = 30.0 / max(len(days), 1)
        cost = sum(d @ self.tariff for d in days) * dt_h * scale
        energy = sum(d.sum(axis=1) for d in days) * dt_h * scale
        return cost, energy

    def _membership(self, day: int, forecast: Forecast, weekends: NDArray[np.bool_]) -> None:
        """Users join or leave on the agent's quotes (rules U0 and U1)."""
        m = self.model
        cfg = self.cfg
        pop = m.pop
        members = pop.supplier == AGENT_SUPPLIER
        ref = members if members.any() else np.ones_like(members)
        rows = np.flatnonzero(ref)
        curve = month_curve(forecast, rows, weekends)
        offer = cheapest_offer(curve, [p.offer() for p in self.fleet.plants], m.interval_h).offer
        a, b = offer.capacity_rate_cny_per_kw, offer.energy_rate_cny_per_kwh
        x_hat, e_hat = quote_cost_cny(
            forecast, ref, weekends, a, b, float(cfg.demand_margin_share), m.interval_h
        )
        peak = (1 + cfg.demand_margin_share) * curve.max()
        q = curve.sum() * m.interval_h
        f2 = min(
            self._f2_cap(forecast, rows, weekends),
            (1 + cfg.f2_headroom_share) * (a * peak + b * q) / q,
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            quote = (1 - self.alpha) * x_hat / e_hat + self.alpha * f2 + cfg.network_fee_cny_per_kwh
        cat_cny, cat_kwh = self._catalog_last_month(forecast, weekends)
        seen = np.isfinite(self.settled_price)
        realised = np.where(
            seen.any(axis=0),
            np.where(seen, self.settled_price, 0.0).sum(axis=0) / np.maximum(seen.sum(axis=0), 1),
            np.nan,
        )
        price = np.where(members & np.isfinite(realised), realised, quote)
        saving = cat_cny - price * cat_kwh
        amortised = cfg.switching_cost_cny / 12.0
        with np.errstate(invalid="ignore", divide="ignore"):
            gain = np.where(members, -saving - amortised, saving - amortised) / cat_cny
        gain = np.where(np.isfinite(gain), gain, -np.inf)
        months_in = np.where(self.joined_month >= 0, self.month_index - self.joined_month, 0)
        term = int(cfg.contract_term_months)
        review = (
            (months_in > 0) & (months_in % term == 0) if cfg.review == "contract_end" else members
        )
        eligible = np.where(members, review, True)
        switch = ParkUser.decide_switch(
            gain,
            eligible,
            beta_rel=float(cfg.beta_rel),
            hurdle_share=float(cfg.saving_hurdle_share),
            inertia_prob=float(cfg.inertia_prob_per_month),
            rng=m.rng,
        )
        join = switch & ~members
        leave = switch & members
        pop.supplier[join] = AGENT_SUPPLIER
        pop.supplier[leave] = 0
        self.joined_month[join] = self.month_index
        self.joined_month[leave] = -1
        self.own_months[leave] = 0
        self.settled_price[:, leave] = np.nan
        self.switches["joined"] += int(join.sum())
        self.switches["left"] += int(leave.sum())

    def _f2_cap(
        self, forecast: Forecast, rows: NDArray[np.int64], weekends: NDArray[np.bool_]
    ) -> float:
        """The members' catalog energy-equivalent price less the network fee (rule S1)."""
        dt_h = self.model.interval_h
        n_we = int(np.count_nonzero(weekends))
        n_wd = len(weekends) - n_we
        cost = (
            n_wd * forecast.weekday_kw[rows] @ self.tariff
            + n_we * forecast.weekend_kw[rows] @ self.tariff
        ).sum() * dt_h
        energy = forecast.energy_kwh(weekends, dt_h)[rows].sum()
        return (
            float((cost - self.cfg.network_fee_cny_per_kwh * energy) / energy)
            if energy > 0
            else 0.0
        )

    def _open_month(self, day: int) -> None:
        """Membership, forecast, procurement, announcement and precharge (PHASES.md §1.3)."""
        m = self.model
        cfg = self.cfg
        weekends = self._contract_days(day)
        forecast = self.forecast()
        self.month_index += 1
        self._membership(day, forecast, weekends)
        self._review_alpha()
        rows = np.flatnonzero(m.pop.supplier == AGENT_SUPPLIER)
        self.contract = None
        if len(rows) == 0 or len(weekends) == 0:
            return
        dt_h = m.interval_h
        curve = month_curve(forecast, rows, weekends)
        p_c = (1 + cfg.demand_margin_share) * float(curve.max())
        q_c = float(curve.sum()) * dt_h
        feasible = [p for p in self.fleet.plants if p.capacity_kw >= p_c] or self.fleet.plants
        choice = cheapest_offer(curve, [p.offer() for p in feasible], dt_h)
        offer = choice.offer
        share = len(weekends) / m.clock.days_in_month_of(day)
        a = offer.capacity_rate_cny_per_kw
        f1_hat = a * share * p_c + offer.energy_rate_cny_per_kwh * q_c
        f2 = min(self._f2_cap(forecast, rows, weekends), (1 + cfg.f2_headroom_share) * f1_hat / q_c)
        f2 = max(f2, 0.0)
        for plant in self.fleet.plants:
            plant.contract_round(plant.name == offer.name)
        e_hat = forecast.energy_kwh(weekends, dt_h)[rows]
        prepay = f2 * e_hat
        t0 = m.clock.time_of(day, 0)
        info = {
            "plant": offer.name,
            "capacity_rate_cny_per_kw_month": a,
            "energy_rate_cny_per_kwh": offer.energy_rate_cny_per_kwh,
            "contracted_kw": p_c,
            "contracted_kwh": q_c,
        }
        m.platform.publish(
            t0 + 2 * _MIN,
            t0,
            self.name,
            rows,
            "purchase_info",
            quantity=f1_hat / q_c,
            payload=json.dumps(info),
            notice=False,
        )
        m.platform.publish(
            t0 + 2 * _MIN,
            t0,
            self.name,
            rows,
            "agency_announce",
            quantity=f2,
            payload=json.dumps({"f2_cny_per_kwh": f2, "alpha": self.alpha}),
            notice=False,
        )
        m.ledger.post(t0 + 3 * _MIN, rows, self.account, prepay, "agency_prepay")
        self.contract = Contract(
            day,
            rows,
            offer.name,
            a,
            offer.energy_rate_cny_per_kwh,
            p_c,
            q_c,
            f2,
            self.alpha,
            e_hat,
            prepay,
        )

    def _review_alpha(self) -> None:
        """Rule S2: under ``hill_climb`` move α every few months toward higher profit."""
        cfg = self.cfg
        k = int(cfg.alpha_review_months)
        if cfg.alpha_policy != "hill_climb" or len(self._profits) < 2 * k:
            return
        if len(self._profits) % k:
            return
        recent = sum(self._profits[-k:])
        before = sum(self._profits[-2 * k : -k])
        if recent < before:
            self._alpha_sign = -self._alpha_sign
        self.alpha = float(
            np.clip(self.alpha + self._alpha_sign * cfg.alpha_step, 0.0, cfg.alpha_max)
        )

    # ------------------------------------------------------------------ outputs
    def kpis(self) -> dict[str, float]:
        """Agency KPIs (PHASES.md §4)."""
        m = self.model
        mo = pd.DataFrame(self.months)
        served = float(m.rec.user_totals("served_kwh").sum())
        if mo.empty:
            return {"agency_alpha_last": self.alpha}
        energy = float(mo.energy_kwh.sum())
        saving = float((mo.catalog_cny - mo.bill_cny - mo.network_fee_cny).sum())
        return {
            "sales_agent_profit_cny": m.ledger.balance(self.name),
            "user_refund_cny": self.refunds_cny,
            "agency_member_count": float(np.count_nonzero(m.pop.supplier == AGENT_SUPPLIER)),
            "agency_member_count_mean": float(mo.members.mean()),
            "agency_member_energy_share": energy / served if served > 0 else 0.0,
            "agency_load_factor": float((mo.load_factor * mo.energy_kwh).sum() / energy)
            if energy > 0
            else 0.0,
            "agency_standalone_load_factor": float(
                (mo.standalone_load_factor * mo.energy_kwh).sum() / energy
            )
            if energy > 0
            else 0.0,
            "agency_contract_price_cny_per_kwh": float(mo.f1_cny.sum()) / energy
            if energy > 0
            else 0.0,
            "agency_settled_price_cny_per_kwh": float(mo.bill_cny.sum()) / energy
            if energy > 0
            else 0.0,
            "agency_member_saving_cny": saving,
            "agency_member_saving_share": saving / float(mo.catalog_cny.sum())
            if mo.catalog_cny.sum() > 0
            else 0.0,
            "agency_benefit_cny": float(mo.benefit_cny.sum()),
            "agency_deviation_penalty_cny": float(mo.penalty_cny.sum()),
            "agency_demand_overrun_cny": float(mo.overrun_cny.sum()),
            "agency_forecast_mape_energy_share": float(mo.mape.mean()),
            "agency_forecast_error_peak_share": float(mo.peak_error.mean()),
            "agency_churn_share_per_month": self.switches["left"]
            / max(float(mo.members.sum()), 1.0),
            "agency_alpha_last": self.alpha,
        }

    def tables(self) -> dict[str, pd.DataFrame]:
        """``settlements``: one row per member per month (prepay, cost, benefit, refund, bill)."""
        if not self.rows:
            return {"settlements": pd.DataFrame(columns=["month_start", "user", "energy_kwh"])}
        return {"settlements": pd.concat(self.rows, ignore_index=True)}
