"""The energy-service company (ESCO): diagnostics, saving measures, capex, surcharges.

The ``esco`` module is on whenever diagnostics are (``efficiency.diagnostics``,
every phase by default) or the efficiency phase is (``phase.efficiency``).
Each month it diagnoses every user from the shared monthly meter (benchmark
ratio against the peer median intensity, off-hours base-load ratio, flags)
and the grid company publishes the reports on the platform. With
``phase.efficiency`` on, the reports also recommend the measure with the
shortest payback, each user decides whether to install it (the user's rule,
``ParkUser.consider_measures``), capex is paid to the ``esco`` account,
installed measures change the users' load arrays from the installation date,
and restricted and eliminated industries accrue differential surcharges on
the grid company's bill.

References:
    DESIGN.md "Efficiency"; the rules themselves are in ``markets.efficiency``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import mesa
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from agents.park_user import ParkUser
from markets import efficiency as eff

if TYPE_CHECKING:
    from agents._model import ModelView

__all__ = ["EnergyServiceCompany"]


class EnergyServiceCompany(mesa.Agent):
    """The park's energy-service company (one agent; the ``esco`` module).

    Stages: ``month_close`` (diagnose last month, recommend, users adopt, capex),
    ``settle`` (differential surcharges accrued on the grid company's bill).

    Args:
        model: The park model.
    """

    KPIS: ClassVar[tuple[str, ...]] = (
        "energy_intensity_base_tce_per_10k_cny",
        "energy_intensity_last_month_tce_per_10k_cny",
        "energy_intensity_target_tce_per_10k_cny",
        "energy_intensity_gap_to_target",
        "measures_adopted",
        "adopter_share",
        "efficiency_capex_cny",
        "differential_surcharge_cny",
        "diagnostic_reports",
        "users_flagged_last_month",
    )

    model: ModelView

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        cfg = model.cfg.efficiency
        pop = model.pop
        n = pop.n_users
        self.enabled = bool(model.cfg.phase.efficiency)
        self.cfg = cfg
        self.industry = np.asarray(pop.industry_names, dtype=object)[pop.industry]
        self.measures = tuple(
            eff.Measure.from_dict(
                {
                    "name": name,
                    "capex_cny": 0.0,
                    "capex_cny_per_kw": m.capex_cny_per_kw,
                    "energy_saving_share": m.energy_saving_share,
                    "peak_saving_kw": 0.0,
                    "peak_saving_share": m.peak_saving_share,
                    "lifetime_years": m.lifetime_years,
                    "industries": tuple(m.industries),
                    "standby": bool(m.standby),
                }
            )
            for name, m in cfg.measures.items()
        )
        self.standby = np.array([m.standby for m in self.measures], dtype=bool)
        n_m = len(self.measures)
        self.installed = np.zeros((n, n_m), dtype=bool)
        self.install_day = np.full((n, n_m), -1, dtype=np.int64)
        self.threshold_months = (
            eff.draw_thresholds_months(model.rng, n, cfg.threshold_months_mean, cfg.threshold_cv)
            if self.enabled
            else np.full(n, cfg.threshold_months_mean)
        )
        categories = np.asarray(eff.CATEGORIES, dtype=object)[pop.category]
        self.surcharge_rate = (
            eff.differential_surcharge_cny_per_kwh(categories, dict(cfg.surcharges_cny_per_kwh))
            if self.enabled
            else np.zeros(n)
        )
        self.external = model.ledger.account("external")
        self.base_intensity: float | None = None
        self.intensity_history: list[tuple[int, float]] = []
        self.reports_sent = 0
        self.flagged_last = 0
        self.capex_cny = 0.0
        self.surcharge_total_cny = 0.0
        self.plans: list[pd.DataFrame] = []
        self._p_adopt = np.zeros(n)
        self._best = np.full(n, -1)
        self._eval: Any = None
        self._adopt_now = np.zeros(n, dtype=bool)

    # ------------------------------------------------------------------ stages
    def settle(self, today: Any) -> None:
        """Accrue today's differential surcharges (efficiency phase) on the grid's bill.

        References:
            NDRC differential electricity prices for restricted and eliminated
            industries (conf ``efficiency.surcharges_cny_per_kwh``).
        """
        if not self.enabled:
            return
        out = self.surcharge_rate * today.metered.served_kwh
        self.surcharge_total_cny += float(out.sum())
        self.model.billing.accrue("grid", self.external, "differential_surcharge", out)

    def month_close(self, today: Any) -> None:
        """Diagnose last month, recommend and let users adopt (first day of a month)."""
        if not today.final:
            self.monthly(today.day)

    # ------------------------------------------------------------------ monthly work
    def monthly(self, day: int) -> None:
        """Diagnose last month, recommend and let users adopt (first day of a month)."""
        model = self.model
        month = model.meter.last
        if month is None or month.days < 7:
            return
        pop = model.pop
        cfg = self.cfg
        sent_at = model.clock.time_of(day, 0)
        energy = month.energy_kwh
        output = np.maximum(month.output_cny, 1e-9)
        ipd = model.ipd
        off_n = np.maximum((ipd - pop.working.sum(axis=1)) * month.off_count, 1.0)
        work_n = np.maximum(month.work_count, 1.0)
        off_mean = month.off_kw_sum / off_n
        work_mean = month.work_kw_sum / work_n
        has_off = pop.working.sum(axis=1) < ipd
        blr = np.where(has_off & (work_mean > 0), off_mean / np.maximum(work_mean, 1e-12), 0.0)
        diag = eff.diagnose(
            energy,
            output,
            blr,
            self.industry,
            ei_factor=cfg.intensity_factor,
            base_load_threshold=cfg.base_load_threshold,
            kgce_per_kwh=cfg.kgce_per_kwh,
        )
        park_ei = float(
            eff.energy_intensity_tce_per_10k_cny(energy.sum(), output.sum(), cfg.kgce_per_kwh)
        )
        if self.base_intensity is None:
            self.base_intensity = park_ei
        self.intensity_history.append((day, park_ei))
        self.flagged_last = int(diag.flagged.sum())
        report = pd.DataFrame(
            {
                "intensity_tce_per_10k_cny": diag.intensity,
                "peer_median_tce_per_10k_cny": diag.peer_median,
                "benchmark_ratio": diag.benchmark_ratio,
                "base_load_ratio": blr,
                "flag_intensity": diag.flag_intensity,
                "flag_base_load": diag.flag_base_load,
            }
        )
        if self.enabled and self.measures:
            self._evaluate(day, energy, month.days)
            names = np.asarray([m.name for m in self.measures] + [""], dtype=object)
            best = self._best
            report["recommended_measure"] = names[best]
            payback = np.where(
                best >= 0,
                self._eval_payback[np.arange(len(best)), np.maximum(best, 0)],
                np.inf,
            )
            report["payback_months"] = np.where(np.isfinite(payback), payback, -1.0)
        received = np.zeros(pop.n_users, dtype=bool)
        if cfg.diagnostics:
            delivered = model.module("grid").publish_reports(sent_at, report)
            self.reports_sent += delivered
            received[:] = delivered > 0
        if self.enabled and self.measures:
            self._adoption(day, received)

    def _evaluate(self, day: int, month_energy_kwh: NDArray[np.float64], days: int) -> None:
        model = self.model
        pop = model.pop
        cfg = self.cfg
        annual = month_energy_kwh * 365.0 / max(days, 1)
        price = model.module("grid").tariff_cny_per_kwh.mean()
        off_h_per_year = (~pop.working).sum(axis=1) * model.interval_h * 365.0
        ev = eff.evaluate_measures(
            self.measures,
            self.industry,
            annual,
            pop.contracted_kw,
            price + self.surcharge_rate,
            cfg.demand_charge_cny_per_kw_month,
            installed=self.installed,
            standby_waste_kwh=pop.standby_kw * off_h_per_year,
        )
        payback = np.asarray(ev.payback_months, dtype=float)
        saving_kwh = np.asarray(ev.energy_saving_kwh, dtype=float)
        candidate = ev.applicable & ~self.installed & np.isfinite(payback)
        masked = np.where(candidate, payback, np.inf)
        best = np.argmin(masked, axis=1)
        best = np.where(np.isfinite(masked[np.arange(len(best)), best]), best, -1)
        self._best = best
        self._eval = ev
        self._eval_payback = payback
        self._eval_saving_kwh = saving_kwh

    def _adoption(self, day: int, received: NDArray[np.bool_]) -> None:
        model = self.model
        cfg = self.cfg
        pop = model.pop
        n = pop.n_users
        rows = np.arange(n)
        best = self._best
        payback = np.where(best >= 0, self._eval_payback[rows, np.maximum(best, 0)], np.inf)
        peer = eff.peer_share_by_industry(self.installed.any(axis=1), self.industry)
        consider = eff.consideration_probability(
            received, cfg.consider_prob, cfg.consider_prob_report
        )
        self._p_adopt = eff.adoption_probability(
            payback,
            self.threshold_months,
            peer,
            beta=cfg.beta,
            peer_weight=cfg.peer_weight,
            considered=consider,
        )
        self._adopt_now = np.zeros(n, dtype=bool)
        # Each user decides once this month (the user's rule, in random order).
        model.agents_by_type[ParkUser].shuffle_do("consider_measures")
        adopters = np.flatnonzero(self._adopt_now & (best >= 0))
        capex = self._eval.capex_cny
        names = [m.name for m in self.measures]
        plan = pd.DataFrame(
            {
                "date": np.repeat(model.clock.time_of(day, 0), n),
                "user": rows,
                "industry": self.industry.astype(str),
                "recommended_measure": np.asarray([*names, ""], dtype=object)[best],
                "capex_cny": np.where(best >= 0, capex[rows, np.maximum(best, 0)], 0.0),
                "energy_saving_kwh_per_year": np.where(
                    best >= 0, self._eval_saving_kwh[rows, np.maximum(best, 0)], 0.0
                ),
                "payback_months": np.where(np.isfinite(payback), payback, -1.0),
                "adoption_probability": self._p_adopt,
                "adopted": self._adopt_now & (best >= 0),
            }
        )
        self.plans.append(plan[plan["recommended_measure"] != ""])
        if len(adopters) == 0:
            return
        j = best[adopters]
        self.installed[adopters, j] = True
        self.install_day[adopters, j] = day
        amount = capex[adopters, j]
        self.capex_cny += float(amount.sum())
        model.ledger.post(
            model.clock.time_of(day, 0),
            adopters,
            model.ledger.account("esco"),
            amount,
            "measure_capex",
        )
        self._apply_measures(adopters)

    def offer(self, row: int) -> float | None:
        """This month's adoption probability of a user's recommended measure (None: no offer)."""
        if self._best[row] < 0:
            return None
        return float(self._p_adopt[row])

    def accept(self, row: int) -> None:
        """Record that a user decided to install its recommended measure this month."""
        self._adopt_now[row] = True

    def _apply_measures(self, rows: NDArray[np.int64]) -> None:
        pop = self.model.pop
        shares = np.array([m.energy_saving_share for m in self.measures])
        combined = eff.combined_energy_saving_share(self.installed[rows], shares)
        pop.saving_factor[rows] = 1.0 - combined
        peak_share = np.array([m.peak_saving_share for m in self.measures])
        pop.peak_saving_kw[rows] = (self.installed[rows] * peak_share).sum(axis=1) * (
            pop.contracted_kw[rows]
        )  # the catalogue sizes peak savings per kW of contracted capacity
        # Peak savings cannot exceed the working-hours load after the energy saving.
        floor = (
            pop.mean_load_kw[rows] * pop.shape_weekday[rows].min(axis=1) * pop.saving_factor[rows]
        )
        pop.peak_saving_kw[rows] = np.minimum(pop.peak_saving_kw[rows], floor)
        if self.standby.any():
            off = (self.installed[rows][:, self.standby]).any(axis=1)
            pop.standby_kw[rows[off]] = 0.0
        pop.changed()

    # ------------------------------------------------------------------ outputs
    def kpis(self) -> dict[str, float]:
        """Efficiency KPIs (0 where the module is off)."""
        model = self.model
        years = model.n_days / 365.0
        base = self.base_intensity or 0.0
        target = (
            float(
                eff.intensity_target_tce_per_10k_cny(
                    base, years, self.cfg.target_reduction, self.cfg.target_horizon_years
                )
            )
            if base > 0
            else 0.0
        )
        last = self.intensity_history[-1][1] if self.intensity_history else 0.0
        return {
            "energy_intensity_base_tce_per_10k_cny": base,
            "energy_intensity_last_month_tce_per_10k_cny": last,
            "energy_intensity_target_tce_per_10k_cny": target,
            "energy_intensity_gap_to_target": (
                float(eff.intensity_gap(last, target)) if target > 0 and last > 0 else 0.0
            ),
            "measures_adopted": float(self.installed.sum()),
            "adopter_share": float(self.installed.any(axis=1).mean()),
            "efficiency_capex_cny": self.capex_cny,
            "differential_surcharge_cny": self.surcharge_total_cny,
            "diagnostic_reports": float(self.reports_sent),
            "users_flagged_last_month": float(self.flagged_last),
        }

    def tables(self) -> dict[str, pd.DataFrame]:
        """``saving_plans``: each user's monthly saving plan (efficiency phase only)."""
        if not self.enabled:
            return {}
        if not self.plans:
            empty = pd.DataFrame(
                columns=[
                    "date",
                    "user",
                    "industry",
                    "recommended_measure",
                    "capex_cny",
                    "energy_saving_kwh_per_year",
                    "payback_months",
                    "adoption_probability",
                    "adopted",
                ]
            )
            return {"saving_plans": empty}
        return {"saving_plans": pd.concat(self.plans, ignore_index=True)}
