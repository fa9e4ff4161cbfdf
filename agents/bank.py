"""The bank: buys credit reports built from consumption data and lends to users.

The ``bank`` module. At the start it draws the 24 months of pre-history the
grid company holds for every user (monthly kWh with a growth trend, and
on-time payment shares), and each user's true default probability from the
grade of its full record (``markets.credit.true_pd``). Each month, eligible
users apply for a loan with a small probability (``ParkUser.decide_loan_application``,
rule B1); the bank buys a report from the data holder (``markets.credit.score``),
approves by expected profit (``markets.credit.loan_decision``, rule B2),
disburses, and books the repayment — or the recovery of a defaulter — at
maturity. The same applications are also decided on the pooled default
probability alone, with the same default draws, so the value of the reports
is measured in one run.

References:
    PHASES.md §1.2 B1–B2 and "Data holder"; Ningxia 电e贷 [S19]; small-firm NPL [S20].
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import mesa
import numpy as np
import pandas as pd

from agents.park_user import ParkUser
from markets.credit import loan_decision, score, true_pd

if TYPE_CHECKING:
    from agents._model import ModelView

__all__ = ["Bank"]

_HISTORY_MONTHS = 24


class Bank(mesa.Agent):
    """The park's bank (one agent).

    Args:
        model: The park model.
    """

    KPIS: ClassVar[tuple[str, ...]] = (
        "credit_reports_count",
        "loan_applications_count",
        "loans_issued_count",
        "loans_issued_cny",
        "loan_default_share",
        "bank_profit_cny",
        "loans_issued_pooled_cny",
        "loan_default_share_pooled",
        "bank_profit_pooled_cny",
    )

    model: ModelView

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        cfg = model.cfg.bank
        self.cfg = cfg
        ledger = model.ledger
        self.account = ledger.account("bank")
        self.external = ledger.account("external")
        pop = model.pop
        n = pop.n_users
        rng = model.rng
        daily_kwh = (
            (
                5 * pop.expected_load_kw(weekend=False).sum(axis=1)
                + 2 * pop.expected_load_kw(weekend=True).sum(axis=1)
            )
            / 7
            * model.interval_h
        )
        months = np.arange(_HISTORY_MONTHS) - (_HISTORY_MONTHS - 1)
        growth = rng.normal(0.0, float(cfg.history_growth_sigma), n)
        noise = rng.normal(0.0, 0.05, (n, _HISTORY_MONTHS))
        #: Monthly kWh of the last 24 months, oldest first (held by the grid company).
        self.history_kwh = (
            daily_kwh[:, None] * 30.4 * np.exp(growth[:, None] * months / 12.0) * (1 + noise)
        ).clip(min=0.0)
        mean_on_time = float(cfg.on_time_share_mean)
        self.on_time_share = np.clip(mean_on_time + rng.normal(0.0, 0.03, n), 0.0, 1.0)
        self.history_on_time = np.clip(
            self.on_time_share[:, None] + rng.normal(0.0, 0.02, (n, _HISTORY_MONTHS)), 0.0, 1.0
        )
        self.price_cny_per_kwh = float(np.mean(model.module("grid").tariff_cny_per_kwh))
        truth = score(self.history_kwh, self.history_on_time)
        pd_grade = np.array([cfg.pd_by_grade[str(g)] for g in truth.grade])
        self.pd_true = true_pd(rng, pd_grade, float(cfg.pd_noise_sigma))
        self.outstanding = np.zeros(n, dtype=bool)
        self.loans: list[dict[str, Any]] = []
        self.reports = 0
        self.applications = 0

    # ------------------------------------------------------------------ stages
    def month_close(self, today: Any) -> None:
        """Roll the history, book maturities, then decide this month's applications."""
        m = self.model
        last = m.meter.last
        if last is not None and last.days > 0:
            month_kwh = last.energy_kwh * 30.4 / last.days
            self.history_kwh = np.concatenate([self.history_kwh[:, 1:], month_kwh[:, None]], 1)
            self.history_on_time = np.concatenate(
                [self.history_on_time[:, 1:], self.on_time_share[:, None]], axis=1
            )
        when = m.clock.time_of(today.day, 0)
        self._maturities(today.day, when)
        if not today.final:
            self._lend(today.day, when)

    def _maturities(self, day: int, when: Any) -> None:
        ledger = self.model.ledger
        for loan in self.loans:
            if loan["settled"] or loan["maturity_day"] > day:
                continue
            if loan["default"]:
                amount = (1 - self.cfg.lgd) * loan["amount_cny"]
                ledger.post(when, loan["user"], self.account, amount, "loan_recovery")
            else:
                amount = (1 + self.cfg.loan_rate) * loan["amount_cny"]
                ledger.post(when, loan["user"], self.account, amount, "loan_repayment")
            loan["settled"] = True
            self.outstanding[loan["user"]] = False

    def _holder(self) -> tuple[np.ndarray, Any]:
        """Which users the data holder can report on, and its ledger account."""
        m = self.model
        n = m.pop.n_users
        if m.has_module("retail"):  # mature phase: the user's retailer or the grid
            return m.module("retail").credit_report_holders()
        if self.cfg.data_holder == "grid":
            return np.ones(n, dtype=bool), m.ledger.account("grid")
        agent = m.module("agency")
        return agent.own_months >= 12, agent.account

    def _lend(self, day: int, when: Any) -> None:
        m = self.model
        cfg = self.cfg
        bills = self.history_kwh.sum(axis=1) * self.price_cny_per_kwh
        eligible = (bills >= cfg.min_bills_cny) & ~self.outstanding
        apply = ParkUser.decide_loan_application(eligible, float(cfg.apply_prob_per_month), m.rng)
        users = np.flatnonzero(apply)
        # One draw per user every month keeps the stream independent of who applied.
        defaults = (m.rng.random(len(apply)) < self.pd_true)[users]
        if len(users) == 0:
            return
        self.applications += len(users)
        amount = np.minimum(cfg.loan_max_cny, cfg.bill_multiple * bills[users] / _HISTORY_MONTHS)
        pd_hat = np.full(len(users), float(cfg.pooled_pd))
        fee = np.zeros(len(users))
        holder_ok, holder = self._holder()
        reported = holder_ok[users] & bool(cfg.use_reports)
        if reported.any():
            rows = users[reported]
            report = score(self.history_kwh[rows], self.history_on_time[rows])
            pd_hat[reported] = [cfg.pd_by_grade[str(g)] for g in report.grade]
            fee[reported] = cfg.report_fee_cny
            payee = np.broadcast_to(holder, holder_ok.shape)[rows]  # one holder or per user
            m.ledger.post(when, self.account, payee, fee[reported], "credit_report_fee")
            self.reports += int(reported.sum())
        args = (amount, cfg.loan_rate, pd_hat, cfg.lgd, cfg.fixed_cost_cny, fee)
        approve = np.asarray(loan_decision(*args).approve, dtype=bool)
        pooled = loan_decision(amount, cfg.loan_rate, cfg.pooled_pd, cfg.lgd, cfg.fixed_cost_cny)
        pooled_ok = np.asarray(pooled.approve, dtype=bool)
        term_days = round(cfg.loan_term_months * 30.4)
        for k in np.flatnonzero(approve | pooled_ok):
            self.loans.append(
                {
                    "issued": m.clock.time_of(day, 0),
                    "user": int(users[k]),
                    "amount_cny": float(amount[k]),
                    "pd_estimate": float(pd_hat[k]),
                    "pd_true": float(self.pd_true[users[k]]),
                    "reported": bool(reported[k]),
                    "approved": bool(approve[k]),
                    "approved_pooled": bool(pooled_ok[k]),
                    "default": bool(defaults[k]),
                    "maturity_day": day + term_days,
                    "settled": not approve[k],  # only approved loans are disbursed
                }
            )
        issued = users[approve]
        m.ledger.post(when, self.account, issued, amount[approve], "loan_disbursement")
        fixed = np.full(len(issued), float(cfg.fixed_cost_cny))
        m.ledger.post(when, self.account, self.external, fixed.sum(), "bank_operating_cost")
        self.outstanding[issued] = True

    # ------------------------------------------------------------------ outputs
    def _value(self, loans: pd.DataFrame) -> float:
        """Profit of a loan book: interest or loss given default, less handling costs."""
        if loans.empty:
            return 0.0
        gain = np.where(
            loans["default"],
            -self.cfg.lgd * loans.amount_cny,
            self.cfg.loan_rate * loans.amount_cny,
        )
        return float(gain.sum() - self.cfg.fixed_cost_cny * len(loans))

    def kpis(self) -> dict[str, float]:
        """Lending KPIs with reports and, on the same applications, with the pooled PD.

        Loans are valued at their drawn outcome (repayment with interest, or
        the recovery of a defaulter) even when they mature after the run.
        """
        book = pd.DataFrame(self.loans)
        if book.empty:
            return {"credit_reports_count": float(self.reports)}
        own = book[book.approved]
        pooled = book[book.approved_pooled]
        return {
            "credit_reports_count": float(self.reports),
            "loan_applications_count": float(self.applications),
            "loans_issued_count": float(len(own)),
            "loans_issued_cny": float(own.amount_cny.sum()),
            "loan_default_share": float(own["default"].mean()) if len(own) else 0.0,
            "bank_profit_cny": self._value(own) - self.cfg.report_fee_cny * self.reports,
            "loans_issued_pooled_cny": float(pooled.amount_cny.sum()),
            "loan_default_share_pooled": float(pooled["default"].mean()) if len(pooled) else 0.0,
            "bank_profit_pooled_cny": self._value(pooled),
        }

    def tables(self) -> dict[str, pd.DataFrame]:
        """``loans``: every application that either decision rule approved."""
        book = pd.DataFrame(self.loans)
        if book.empty:
            book = pd.DataFrame(columns=["issued", "user", "amount_cny", "approved", "default"])
        return {"loans": book.drop(columns=["settled", "maturity_day"], errors="ignore")}
