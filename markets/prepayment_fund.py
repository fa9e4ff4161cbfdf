"""One settlement period of a users' electricity prepayment fund.

Users prepay into a fund run by an operator. Each period (in this order):

1. **Deposits** are credited to the users' balances.
2. **Investment.** The fund F = Σ balances + operator profit keeps a liquid
   reserve min(F, κ · Σ expected bills) that earns nothing and invests the
   rest, which earns ``return_rate`` r (drawn by the caller, possibly
   negative, r ≥ −1). The liquidity rule F ≥ κ · Σ expected bills is checked
   here (after deposits, before bills) and reported as ``liquidity_ok``.
3. **Return sharing.** A positive return is split: a share ρ goes to users pro
   rata to their balances after deposits, the rest to the operator's
   accumulated profit (all of it if no user has a balance).
   **Loss rule:** a negative return is absorbed first by the operator's
   accumulated profit, and only the remainder by the users' balances pro rata
   to their balances. Since the loss is at most the invested amount ≤ F, no
   balance goes negative.
4. **Bills** are paid from balances. **Arrears rule:** a bill larger than the
   balance is paid up to the balance; the unpaid remainder is reported as
   ``arrears_cny`` (for the caller's ledger) and the balance is never negative.

Invariant at every period: fund = Σ balances + operator profit, where the fund
is tracked from its flows (fund_before + deposits + return − bills paid).

Sign conventions: balances, deposits, bills, bills paid and arrears are CNY ≥ 0;
``returns_to_users_cny``, ``operator_return_cny`` and
``investment_return_cny`` are CNY credited to the holder (negative = a loss).

References:
    Project DESIGN.md, "Mature market" (prepayment fund).
    Basel Committee on Banking Supervision, "Basel III: The Liquidity Coverage
    Ratio and liquidity risk monitoring tools", BIS, 2013 (liquid reserve
    against expected outflows).
    Bodie, Z., Kane, A. & Marcus, A. J., "Investments", 12th ed., McGraw-Hill,
    2021, ch. 4 (pooled funds, pro-rata attribution of returns).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from markets._checks import nonnegative_scalar, real_scalar, vector

__all__ = ["FundStep", "draw_return", "step"]


@dataclass(frozen=True)
class FundStep:
    """Result of one fund period (per-user arrays have shape (n,)).

    Sign convention: balances, bills paid, arrears, reserve, invested amount
    and fund size are CNY ≥ 0; ``returns_to_users_cny``,
    ``operator_return_cny`` and ``investment_return_cny`` are CNY credited to
    their holder (negative = a loss borne by it).

    Attributes:
        balances_cny: Users' balances at the end of the period (≥ 0).
        returns_to_users_cny: Investment return credited to each user
            (negative = share of a loss).
        bills_paid_cny: Part of each bill paid from the balance.
        arrears_cny: Unpaid part of each bill (bill − paid, ≥ 0).
        operator_profit_cny: Operator's accumulated profit at the end (≥ 0).
        operator_return_cny: Change of the operator's profit this period.
        investment_return_cny: Total investment return r · invested.
        reserve_cny: Liquid reserve kept out of the investment.
        invested_cny: Amount invested.
        fund_cny: Fund size at the end, tracked from flows.
        liquidity_ok: Whether the fund after deposits was ≥ κ · Σ expected bills.

    References:
        Project DESIGN.md, "Mature market"; BCBS, "Basel III: The Liquidity
        Coverage Ratio", 2013.
    """

    balances_cny: NDArray[np.float64]
    returns_to_users_cny: NDArray[np.float64]
    bills_paid_cny: NDArray[np.float64]
    arrears_cny: NDArray[np.float64]
    operator_profit_cny: float
    operator_return_cny: float
    investment_return_cny: float
    reserve_cny: float
    invested_cny: float
    fund_cny: float
    liquidity_ok: bool


def _pro_rata(amount: float, weights: NDArray[np.float64]) -> NDArray[np.float64]:
    """Split an amount pro rata to non-negative weights.

    Args:
        amount: Amount to split.
        weights: Non-negative weights.

    Returns:
        Shares summing to ``amount`` (zeros if all weights are zero).
    """
    total = float(weights.sum())
    if total <= 0.0:
        return np.zeros_like(weights)
    return amount * weights / total


def step(
    balances_cny: ArrayLike,
    deposits_cny: ArrayLike,
    bills_cny: ArrayLike,
    return_rate: float,
    user_share: float,
    liquidity_floor: float,
    expected_bills_cny: ArrayLike,
    operator_profit_cny: float = 0.0,
) -> FundStep:
    """Advance the prepayment fund by one period (see the module docstring).

    Args:
        balances_cny: Users' balances at the start of the period, shape (n,).
        deposits_cny: Users' deposits this period, shape (n,).
        bills_cny: Users' bills due this period, shape (n,).
        return_rate: Investment return r of the period (≥ −1), drawn by the
            caller, e.g. with :func:`draw_return`.
        user_share: Share ρ in [0, 1] of a positive return paid to users.
        liquidity_floor: κ ≥ 0; the liquid reserve is κ · Σ expected bills.
        expected_bills_cny: Expected bills per user (shape (n,)) or their
            total (scalar), CNY ≥ 0.
        operator_profit_cny: Operator's accumulated profit held in the fund at
            the start of the period (≥ 0).

    Returns:
        New balances, returns, payments, arrears, operator profit and fund size.

    Raises:
        ValueError: On a shape mismatch, NaN/inf or negative balances, deposits,
            bills, expected bills or operator profit, ``return_rate`` < −1,
            ``user_share`` outside [0, 1] or a negative ``liquidity_floor``.

    References:
        Project DESIGN.md, "Mature market"; BCBS, "Basel III: The Liquidity
        Coverage Ratio", 2013.
    """
    balances = vector(balances_cny, "balances_cny", lower=0.0)
    n = balances.shape[0]
    deposits = vector(deposits_cny, "deposits_cny", length=n, lower=0.0)
    bills = vector(bills_cny, "bills_cny", length=n, lower=0.0)
    rate = real_scalar(return_rate, "return_rate", lower=-1.0)
    rho = real_scalar(user_share, "user_share", lower=0.0, upper=1.0)
    kappa = real_scalar(liquidity_floor, "liquidity_floor", lower=0.0)
    profit = real_scalar(operator_profit_cny, "operator_profit_cny", lower=0.0)
    expected = np.asarray(expected_bills_cny, dtype=np.float64)
    if expected.ndim == 1:
        expected = vector(expected, "expected_bills_cny", length=n, lower=0.0)
    elif expected.ndim != 0:
        raise ValueError(
            f"expected_bills_cny must be a total or one value per user, got shape {expected.shape}"
        )
    else:
        nonnegative_scalar(expected, "expected_bills_cny")

    fund_before = float(balances.sum()) + profit
    # 1. deposits
    balances = balances + deposits
    fund = fund_before + float(deposits.sum())
    # 2. reserve, investment and liquidity rule
    required = kappa * float(expected.sum())
    liquidity_ok = fund >= required
    reserve = min(fund, required)
    invested = fund - reserve
    investment_return = rate * invested
    # 3. sharing of the return
    if investment_return >= 0.0:
        to_users = _pro_rata(rho * investment_return, balances)
        operator_return = investment_return - float(to_users.sum())
    else:
        loss = -investment_return
        absorbed = min(loss, profit)
        to_users = -_pro_rata(loss - absorbed, balances)
        operator_return = -absorbed
    balances = np.maximum(balances + to_users, 0.0)
    profit = max(profit + operator_return, 0.0)
    fund += investment_return
    # 4. bills
    paid = np.minimum(bills, balances)
    balances = balances - paid
    fund -= float(paid.sum())
    return FundStep(
        balances_cny=balances,
        returns_to_users_cny=to_users,
        bills_paid_cny=paid,
        arrears_cny=bills - paid,
        operator_profit_cny=profit,
        operator_return_cny=operator_return,
        investment_return_cny=investment_return,
        reserve_cny=reserve,
        invested_cny=invested,
        fund_cny=fund,
        liquidity_ok=bool(liquidity_ok),
    )


def draw_return(
    rng: np.random.Generator, mean: float, std: float, size: int | None = None
) -> float | NDArray[np.float64]:
    """Draw the fund's period return(s) from a normal distribution, floored at −1.

    A return below −100 % is impossible for a long-only investment, so draws
    are clipped at −1.

    Args:
        rng: Random generator (the only source of randomness).
        mean: Mean period return (e.g. 0.003 for 0.3 % per month).
        std: Standard deviation of the period return (≥ 0).
        size: Number of draws, or None for one float.

    Returns:
        One return (float) or an array of ``size`` returns.

    Raises:
        ValueError: If ``rng`` is not a numpy Generator, ``mean`` is not finite,
            ``std`` is negative or not finite, or ``size`` is negative.

    References:
        Bodie, Kane & Marcus, "Investments", 12th ed., 2021, ch. 5 (normal
        model of holding-period returns).
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    mu = real_scalar(mean, "mean")
    sigma = real_scalar(std, "std", lower=0.0)
    if size is None:
        return float(max(rng.normal(mu, sigma), -1.0))
    if int(size) != size or size < 0:
        raise ValueError(f"size must be a non-negative integer, got {size!r}")
    return np.maximum(rng.normal(mu, sigma, size=int(size)), -1.0)
