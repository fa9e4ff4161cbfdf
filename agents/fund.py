"""The users' prepayment fund: prepaid bills invested, returns shared (rule F2).

The ``fund`` module. Each month, right after the month's bills are posted
(the ``publish`` stage of a month's first day, when the closed month's bills
are known from ``billing.month_due_cny``), the fund operator:

1. estimates each user's monthly bill Ĉ_i (last month's bills per day × 30.4);
2. lets users decide to hold B*_i = ``target_months`` · Ĉ_i in the fund iff
   ρ·r̄ + v ≥ r^opp_i (cash-rich users have a low opportunity rate, the rest
   the SME loan rate); leavers withdraw their balance (``fund_withdrawal``);
3. collects deposits max(0, B*_i − balance_i) (``fund_deposit``);
4. draws the month's return r_m = ``prepayment_fund.draw_return`` from the
   model's generator (mean r̄/12, std σ/√12), keeps κ·ΣĈ liquid, invests
   the rest (``fund_investment_return``, external ↔ fund) and shares a
   positive return ρ : 1 − ρ with users and itself, absorbing a loss first
   from its own profit (``prepayment_fund.step``);
5. pays the participants' bills just posted from their balances: the fund
   reimburses the user the part it pays (``retail_bill_from_fund``; the user
   already paid its supplier), the rest (arrears of the fund) the user paid
   in cash;
6. once a year (``profit_payout_month``) pays its accumulated profit to the
   grid company (``fund_operator_profit``).

Deposits, withdrawals and bills paid from the fund are financing flows
(``Ledger.FINANCING_PURPOSES``), so users' cost is their bills and the fund's
returns are not netted. Invariant every month: the fund's ledger balance =
Σ user balances + the operator's profit (recorded in the ``fund_months``
table). At the run's end every balance is withdrawn and the profit paid out.

References:
    PHASES.md §2.2 F2 and §3 ([S20], [S21], [S22]); ``markets.prepayment_fund``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import mesa
import numpy as np
import pandas as pd

from markets.prepayment_fund import draw_return, step

if TYPE_CHECKING:
    from agents._model import ModelView

__all__ = ["DAYS_PER_MONTH", "FundOperator"]

#: Mean days per month, for monthly bills from a closed month of any length.
DAYS_PER_MONTH = 30.4


class FundOperator(mesa.Agent):
    """The prepayment fund's operator (one agent; the ``fund`` module).

    Args:
        model: The park model.
    """

    KPIS: ClassVar[tuple[str, ...]] = (
        "fund_return_to_users_cny",
        "fund_balance_cny",
        "fund_operator_profit_cny",
        "fund_liquidity_breach_count",
        "fund_arrears_cny",
        "fund_participant_share",
        "fund_invariant_residual_cny",
        "fund_negative_return_months",
    )

    model: ModelView

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        cfg = model.cfg.fund
        self.cfg = cfg
        ledger = model.ledger
        self.account = ledger.account("fund")
        self.external = ledger.account("external")
        self.grid_account = ledger.account("grid")
        n = model.pop.n_users
        self.cash_rich = model.rng.random(n) < float(cfg.cash_rich_share)
        #: Opportunity rate per user, per year.
        self.opp_rate = np.where(
            self.cash_rich, float(cfg.opp_rate_cash_rich), float(cfg.opp_rate_other)
        )
        self.balances_cny = np.zeros(n)
        self.participating = np.zeros(n, dtype=bool)
        self.operator_profit_cny = 0.0
        self.months: list[dict[str, float]] = []
        self.totals = dict.fromkeys(
            ("to_users", "operator", "arrears", "breaches", "negative", "residual"), 0.0
        )
        self._participant_months = 0.0

    # ------------------------------------------------------------------ decisions
    def decide_participation(self) -> np.ndarray:
        """F2: hold the fund iff ρ·r̄ + v ≥ r^opp_i (per year rates)."""
        c = self.cfg
        value = float(c.user_share) * float(c.return_mean_annual) + float(c.convenience_annual)
        return np.asarray(value >= self.opp_rate)

    # ------------------------------------------------------------------ the month
    def publish(self, today: Any) -> None:
        """On a month's first day, after its bills are posted: one fund period."""
        m = self.model
        if today.day == 0 or not m.clock.is_month_start(today.day):
            return
        if not m.billing.month_due_cny or m.meter.last is None or m.meter.last.days == 0:
            return
        self.period(today.day, m.billing.month_due_cny[-1], m.meter.last.days)

    def period(self, day: int, bills_cny: np.ndarray, days: int) -> Any:
        """Run one monthly fund period (see the module docstring).

        Args:
            day: Model day (posting time).
            bills_cny: Each user's bills posted for the closed month, CNY.
            days: Days in the closed month.

        Returns:
            The ``prepayment_fund.step`` result.
        """
        m = self.model
        c = self.cfg
        ledger = m.ledger
        when = m.clock.time_of(day, 0)
        users = np.arange(m.pop.n_users)
        expected = np.asarray(bills_cny, dtype=float) * DAYS_PER_MONTH / days
        stay = self.decide_participation()
        leavers = self.participating & ~stay
        if leavers.any():
            out = np.where(leavers, self.balances_cny, 0.0)
            ledger.post(when, self.account, users, out, "fund_withdrawal")
            self.balances_cny = np.where(leavers, 0.0, self.balances_cny)
        self.participating = stay
        target = np.where(stay, float(c.target_months) * expected, 0.0)
        deposits = np.maximum(target - self.balances_cny, 0.0)
        ledger.post(when, users, self.account, deposits, "fund_deposit")
        r_m = float(
            draw_return(
                m.rng, float(c.return_mean_annual) / 12.0, float(c.return_std_annual) / np.sqrt(12)
            )
        )
        res = step(
            self.balances_cny,
            deposits,
            np.where(stay, bills_cny, 0.0),
            r_m,
            float(c.user_share),
            float(c.liquidity_floor),
            np.where(stay, expected, 0.0),
            self.operator_profit_cny,
        )
        ret = res.investment_return_cny
        if ret > 0:
            ledger.post(when, self.external, self.account, ret, "fund_investment_return")
        elif ret < 0:
            ledger.post(when, self.account, self.external, -ret, "fund_investment_return")
        ledger.post(when, self.account, users, res.bills_paid_cny, "retail_bill_from_fund")
        self.balances_cny = res.balances_cny
        self.operator_profit_cny = res.operator_profit_cny
        payout = 0.0
        if m.clock.date_of(day).month == int(c.profit_payout_month) and self.operator_profit_cny:
            payout = self.operator_profit_cny
            ledger.post(when, self.account, self.grid_account, payout, "fund_operator_profit")
            self.operator_profit_cny = 0.0
        t = self.totals
        t["to_users"] += float(res.returns_to_users_cny.sum())
        t["operator"] += res.operator_return_cny
        t["arrears"] += float(res.arrears_cny.sum())
        t["breaches"] += float(not res.liquidity_ok)
        t["negative"] += float(r_m < 0)
        self._participant_months += float(stay.mean())
        fund_ledger = ledger.balance("fund")
        claims = float(self.balances_cny.sum()) + self.operator_profit_cny
        t["residual"] = max(t["residual"], abs(fund_ledger - claims))
        self.months.append(
            {
                "day": float(day),
                "return_rate": r_m,
                "participants": float(stay.sum()),
                "deposits_cny": float(deposits.sum()),
                "bills_paid_cny": float(res.bills_paid_cny.sum()),
                "arrears_cny": float(res.arrears_cny.sum()),
                "returns_to_users_cny": float(res.returns_to_users_cny.sum()),
                "operator_return_cny": res.operator_return_cny,
                "invested_cny": res.invested_cny,
                "liquidity_ok": float(res.liquidity_ok),
                "profit_paid_out_cny": payout,
                "fund_ledger_cny": fund_ledger,
                "balances_cny": float(self.balances_cny.sum()),
                "operator_profit_cny": self.operator_profit_cny,
            }
        )
        return res

    def month_close(self, today: Any) -> None:
        """At the run's end: every balance is withdrawn and the profit paid out."""
        if not today.final:
            return
        m = self.model
        when = m.clock.time_of(today.day, 0)
        users = np.arange(m.pop.n_users)
        m.ledger.post(when, self.account, users, self.balances_cny, "fund_withdrawal")
        if self.operator_profit_cny:
            m.ledger.post(
                when,
                self.account,
                self.grid_account,
                self.operator_profit_cny,
                "fund_operator_profit",
            )
        self.balances_cny = np.zeros_like(self.balances_cny)
        self.operator_profit_cny = 0.0

    # ------------------------------------------------------------------ outputs
    def kpis(self) -> dict[str, float]:
        """Returns to users, the operator's profit, the fund's size, breaches, arrears."""
        t = self.totals
        last = self.months[-1] if self.months else {}
        n_months = len(self.months)
        return {
            "fund_return_to_users_cny": t["to_users"],
            "fund_balance_cny": float(last.get("fund_ledger_cny", 0.0)),
            "fund_operator_profit_cny": t["operator"],
            "fund_liquidity_breach_count": t["breaches"],
            "fund_arrears_cny": t["arrears"],
            "fund_participant_share": self._participant_months / n_months if n_months else 0.0,
            "fund_invariant_residual_cny": t["residual"],
            "fund_negative_return_months": t["negative"],
        }

    def tables(self) -> dict[str, pd.DataFrame]:
        """``fund_months``: one row per fund period (flows, the invariant's two sides)."""
        cols = [
            "day", "return_rate", "participants", "deposits_cny", "bills_paid_cny",
            "arrears_cny", "returns_to_users_cny", "operator_return_cny", "invested_cny",
            "liquidity_ok", "profit_paid_out_cny", "fund_ledger_cny", "balances_cny",
            "operator_profit_cny",
        ]  # fmt: skip
        return {"fund_months": pd.DataFrame(self.months, columns=cols)}
