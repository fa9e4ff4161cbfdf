"""Config group ``fund``: the users' prepayment fund, rule F2.

Defaults and sources follow ``PHASES.md`` §3 (``A`` = assumption).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulation.config._checks import ConfigError, fraction, positive

__all__ = ["FundConfig", "check"]


@dataclass
class FundConfig:
    """The prepayment fund operator and users' participation (F2).

    Attributes:
        return_mean_annual: Mean annual investment return (money-market funds
            1.2–2.3 % [S21]).
        return_std_annual: Standard deviation of the annual return [S21].
        user_share: ρ, share of a positive return paid to users (A).
        liquidity_floor: κ, liquid reserve = κ·Σ expected monthly bills (A, Basel LCR analogy).
        target_months: Months of expected bills a participant holds (A).
        opp_rate_cash_rich: Opportunity rate of cash-rich users, per year (A).
        opp_rate_other: Opportunity rate of the others, per year (2023 SME loan rate [S20]).
        cash_rich_share: Share of users that are cash rich (A).
        convenience_annual: Convenience value v of prepaying, per year (A).
        profit_payout_month: Calendar month in which the operator's profit goes
            to the grid company (yearly; A).
    """

    return_mean_annual: float = 0.018
    return_std_annual: float = 0.005
    user_share: float = 0.6
    liquidity_floor: float = 1.2
    target_months: float = 2.0
    opp_rate_cash_rich: float = 0.0035
    opp_rate_other: float = 0.0478
    cash_rich_share: float = 0.4
    convenience_annual: float = 0.005
    profit_payout_month: int = 1


def check(cfg: Any) -> None:
    """Check the ``fund`` group.

    Args:
        cfg: The whole composed config.

    Raises:
        ConfigError: Naming the first offending key.
    """
    f = cfg.fund
    if f.return_mean_annual <= -1:
        raise ConfigError(f"fund.return_mean_annual={f.return_mean_annual}: must be > -1")
    positive("fund.return_std_annual", f.return_std_annual, allow_zero=True)
    fraction("fund.user_share", f.user_share)
    positive("fund.liquidity_floor", f.liquidity_floor, allow_zero=True)
    positive("fund.target_months", f.target_months, allow_zero=True)
    positive("fund.opp_rate_cash_rich", f.opp_rate_cash_rich, allow_zero=True)
    positive("fund.opp_rate_other", f.opp_rate_other, allow_zero=True)
    fraction("fund.cash_rich_share", f.cash_rich_share)
    positive("fund.convenience_annual", f.convenience_annual, allow_zero=True)
    if not 1 <= f.profit_payout_month <= 12:
        raise ConfigError(f"fund.profit_payout_month={f.profit_payout_month}: must be 1–12")
