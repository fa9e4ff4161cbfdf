"""Config group ``fund``: the users' prepayment fund, rule F2.

Defaults and sources follow ``PHASES.md`` §3 (``A`` = assumption).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulation.config._checks import ConfigError, ranged

__all__ = ["FundConfig", "check"]


@dataclass
class FundConfig:
    """The prepayment fund operator and users' participation (F2).

    Attributes:
        return_mean_annual: Mean annual investment return (money-market funds
            1.2–2.3 % [S21]). (source: money-market fund yields [S21])
        return_std_annual: Standard deviation of the annual return [S21]. (source: [S21])
        user_share: ρ, share of a positive return paid to users (A). (assumption)
        liquidity_floor: κ, liquid reserve = κ·Σ expected monthly bills (A, Basel LCR analogy).
            (assumption: Basel LCR analogy)
        target_months: Months of expected bills a participant holds (A). (assumption)
        opp_rate_cash_rich: Opportunity rate of cash-rich users, per year (A). (assumption)
        opp_rate_other: Opportunity rate of the others, per year (2023 SME loan rate [S20]).
            (source: small-firm loan rate [S20])
        cash_rich_share: Share of users that are cash rich (A). (assumption)
        convenience_annual: Convenience value v of prepaying, per year (A). (assumption)
        profit_payout_month: Calendar month in which the operator's profit goes
            to the grid company (yearly; A). (assumption)
    """

    return_mean_annual: float = ranged(0.018, lo=-1.0, hi=1.0)
    return_std_annual: float = ranged(0.005, lo=0.0, hi=1.0)
    user_share: float = ranged(0.6, lo=0.0, hi=1.0)
    liquidity_floor: float = ranged(1.2, lo=0.0, hi=10.0)
    target_months: float = ranged(2.0, lo=0.0, hi=24.0)
    opp_rate_cash_rich: float = ranged(0.0035, lo=0.0, hi=1.0)
    opp_rate_other: float = ranged(0.0478, lo=0.0, hi=1.0)
    cash_rich_share: float = ranged(0.4, lo=0.0, hi=1.0)
    convenience_annual: float = ranged(0.005, lo=0.0, hi=1.0)
    profit_payout_month: int = ranged(1, lo=1, hi=12, integer=True)


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
    if not 1 <= f.profit_payout_month <= 12:
        raise ConfigError(f"fund.profit_payout_month={f.profit_payout_month}: must be 1–12")
