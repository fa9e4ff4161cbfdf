"""Monthly prepay-and-refund settlement between a sales agent and its members.

The agency settlement of DESIGN.md ("Agency"):

1. the agent announces a ceiling price f2 and a retained share α and
   pre-charges each member Pre_i = f2 · E_i;
2. it buys at the actual cost F1 and publishes it;
3. it allocates F1 to members as x_i (see :mod:`markets.allocation`);
4. the benefit R_i = (1 − α) · (Pre_i − x_i) is refunded; bill_i = Pre_i − R_i,
   and the agent keeps α · (Σ Pre_i − F1).

Invariant: Σ Pre_i = F1 + α · (Σ Pre_i − F1) + Σ R_i, and no member pays more
than f2 · E_i.

**Individual cap rule.** If a member's allocated cost exceeds its prepayment
(x_i > Pre_i, i.e. its allocated price is above f2) while the total is covered
(Σ Pre ≥ F1), step 4 would give a negative refund and a bill above f2 · E_i.
This module therefore caps the member at x'_i = Pre_i and redistributes the
total excess Σ_j max(x_j − Pre_j, 0) among the other members in proportion to
their headroom Pre_j − x_j. Because Σ Pre ≥ F1 the total headroom covers the
excess, so one pass suffices and every x'_j ≤ Pre_j; Σ x' = Σ x = F1. Refunds
are then computed from x'. The agent's margin α · (Σ Pre − F1) is unchanged.

Sign conventions: every amount is CNY ≥ 0. ``prepay_cny`` and ``bill_cny`` are
paid by the member to the agent, ``refund_cny`` is paid back by the agent to
the member, ``actual_cost_cny`` is paid by the agent to plants.

References:
    Project DESIGN.md, "Agency", settlement steps 1–4.
    CPC Central Committee & State Council, "Opinions on further deepening the
    reform of the electric power system" (Zhongfa [2015] No. 9), 2015.
    NDRC & NEA, "Administrative measures for the market entry and exit of
    electricity sales companies" (Fagai Jingti [2016] No. 2120), 2016.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from markets._checks import nonnegative_scalar, vector

__all__ = ["AgencySettlement", "agency_settle"]

_COST_RTOL = 1e-9


@dataclass(frozen=True)
class AgencySettlement:
    """Result of one month's agency settlement (all per-user arrays have shape (n,)).

    Sign convention: every amount is CNY ≥ 0; ``prepay_cny`` and ``bill_cny``
    are paid by the member to the agent, ``refund_cny`` by the agent to the
    member, ``actual_cost_cny`` by the agent to plants; ``agent_profit_cny``
    is the agent's margin.

    Attributes:
        prepay_cny: Pre_i = f2 · E_i, pre-charged to each member.
        allocated_cost_cny: Allocated cost x_i as given.
        adjusted_cost_cny: x'_i after the individual cap rule (≤ Pre_i).
        gross_benefit_cny: Pre_i − x'_i, the member's saving before the agent's
            share is retained.
        benefit_cny: Benefit distributed to the member,
            R_i = (1 − α) · (Pre_i − x'_i).
        refund_cny: Amount refunded to the member (equal to ``benefit_cny``).
        bill_cny: Pre_i − R_i, what the member finally pays.
        settled_price_cny_per_kwh: bill_i / E_i (NaN for a member with zero
            energy).
        agent_profit_cny: α · (Σ Pre − F1), retained by the agent.
        actual_cost_cny: F1 = Σ x_i, paid by the agent to plants.

    References:
        Project DESIGN.md, "Agency"; NDRC & NEA, Fagai Jingti [2016] No. 2120.
    """

    prepay_cny: NDArray[np.float64]
    allocated_cost_cny: NDArray[np.float64]
    adjusted_cost_cny: NDArray[np.float64]
    gross_benefit_cny: NDArray[np.float64]
    benefit_cny: NDArray[np.float64]
    refund_cny: NDArray[np.float64]
    bill_cny: NDArray[np.float64]
    settled_price_cny_per_kwh: NDArray[np.float64]
    agent_profit_cny: float
    actual_cost_cny: float


def agency_settle(
    energy_kwh: ArrayLike,
    allocated_cost_cny: ArrayLike,
    f2_cny_per_kwh: float,
    alpha: float,
) -> AgencySettlement:
    """Settle one month between a sales agent and its members.

    Args:
        energy_kwh: Each member's energy E_i in kWh, shape (n,).
        allocated_cost_cny: Each member's allocated share x_i of the actual cost
            F1 in CNY, shape (n,).
        f2_cny_per_kwh: The announced ceiling price f2 in CNY per kWh.
        alpha: Share α in [0, 1] of the total benefit retained by the agent.

    Returns:
        Prepayments, refunds, bills, prices, the agent's profit and F1.

    Raises:
        ValueError: On shape mismatch, NaN/infinite or negative energies or
            costs, α outside [0, 1], a negative or non-finite f2, or f2 below
            the actual average cost F1 / Σ E_i (the prepayments would not
            cover F1).

    References:
        Project DESIGN.md, "Agency"; NDRC & NEA, Fagai Jingti [2016] No. 2120.
    """
    energy = vector(energy_kwh, "energy_kwh", item="member", lower=0.0)
    cost = vector(allocated_cost_cny, "allocated_cost_cny", item="member", lower=0.0)
    if energy.shape != cost.shape:
        raise ValueError(
            f"energy_kwh has shape {energy.shape} but allocated_cost_cny has shape {cost.shape}"
        )
    f2 = nonnegative_scalar(f2_cny_per_kwh, "f2_cny_per_kwh")
    a = float(alpha)
    if not np.isfinite(a) or not 0.0 <= a <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")

    prepay = f2 * energy
    actual_cost = float(cost.sum())
    total_prepay = float(prepay.sum())
    if total_prepay < actual_cost - _COST_RTOL * max(1.0, actual_cost):
        average = actual_cost / float(energy.sum()) if energy.sum() > 0 else np.inf
        raise ValueError(
            f"f2_cny_per_kwh={f2!r} is below the actual average cost {average!r} CNY/kWh "
            f"(prepayments {total_prepay!r} < actual cost {actual_cost!r} CNY)"
        )

    # Individual cap: x'_i = min(x_i, Pre_i) plus the excess spread over headroom.
    excess = np.maximum(cost - prepay, 0.0)
    headroom = np.maximum(prepay - cost, 0.0)
    total_excess = float(excess.sum())
    total_headroom = float(headroom.sum())
    adjusted = np.minimum(cost, prepay)
    if total_excess > 0.0 and total_headroom > 0.0:
        adjusted = adjusted + headroom * min(1.0, total_excess / total_headroom)
    # With excess but no headroom, Σ Pre equals F1 within rounding: everyone is capped.
    adjusted = np.minimum(adjusted, prepay)

    gross_benefit = prepay - adjusted
    refund = (1.0 - a) * gross_benefit
    bill = prepay - refund
    agent_profit = a * float(gross_benefit.sum())
    price = np.full(energy.shape, np.nan)
    np.divide(bill, energy, out=price, where=energy > 0)
    return AgencySettlement(
        prepay_cny=prepay,
        allocated_cost_cny=cost,
        adjusted_cost_cny=adjusted,
        gross_benefit_cny=gross_benefit,
        benefit_cny=refund.copy(),
        refund_cny=refund,
        bill_cny=bill,
        settled_price_cny_per_kwh=price,
        agent_profit_cny=agent_profit,
        actual_cost_cny=actual_cost,
    )
