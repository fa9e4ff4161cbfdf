"""Interruptible load (IL): the users' offers, the operator's procurement and its calls.

The market operator composes one :class:`InterruptibleLoad` (``phase.interruptible``).
Monthly (rule I1) every user of class k ≥ 1 offers a block ΔP_i = min(s_k, 0.20)·peak_i
(≥ 50 kW), priced by its own loss at a day's notice: b_i = c_i(τ = 24 h)·d_ev with
the orderly plan's notice model ``markets.orderly.loss_cny_per_kwh``; the operator
accepts the cheapest bids ≤ the cap up to a share of the forecast park peak
(``markets.interruptible.procure``). On a shortage (rule I2) accepted blocks are
called in ascending bid (``markets.interruptible.call``) and paid pay-as-bid per
event; the calls are published on the platform, so the users' loss of load reads
its notice lead from there, as for the orderly plan.

References:
    PHASES.md rules I1 and I2; Shandong demand response (3 % of maximum load,
    ≤ 30 CNY/kW per response, blocks of 5–20 % of the peak, ≥ 50 kW),
    http://m.hidcn.cn/dlfw/88299.html .
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from markets._arrays import runs
from markets.interruptible import call, offers, procure
from markets.orderly import loss_cny_per_kwh

if TYPE_CHECKING:
    from agents._model import ModelView

__all__ = ["IlDayCall", "InterruptibleLoad"]


@dataclass(frozen=True)
class IlDayCall:
    """Interruptible-load calls of one day, per user and interval.

    Attributes:
        mask: Called cells ``(n_users, ipd)``.
        kw_per_cell: Called block per cell, kW ``(n_users, ipd)`` (0 where not called).
        payment_cny: Pay-as-bid payment per user, CNY.
        uncovered_kw: Shortfall the called blocks did not cover, kW per interval.
    """

    mask: NDArray[np.bool_]
    kw_per_cell: NDArray[np.float64]
    payment_cny: NDArray[np.float64]
    uncovered_kw: NDArray[np.float64]


class InterruptibleLoad:
    """The operator's interruptible-load programme (rules I1–I2).

    Args:
        model: The park model.
        sender: Sender name of the calls on the platform.
    """

    def __init__(self, model: ModelView, sender: str) -> None:
        self.model = model
        self.sender = sender
        n = model.pop.n_users
        self.accepted_kw = np.zeros(n)
        self.bid_cny_per_kw_event = np.zeros(n)
        self.procured_kw: list[float] = []
        self.payment_cny = 0.0

    def procure(self) -> float:
        """Collect the users' offers and accept the cheapest up to the target (rule I1).

        Returns:
            The accepted capacity, kW.
        """
        m = self.model
        pop = m.pop
        mc = m.cfg.market
        wd = pop.expected_load_kw(weekend=False)
        we = pop.expected_load_kw(weekend=True)
        peak_kw = np.maximum(wd.max(axis=1), we.max(axis=1))
        share = np.asarray(m.cfg.park.curtailable_share_by_class, dtype=float)[pop.klass]
        loss = loss_cny_per_kwh(pop.voll_cny_per_kwh, pop.rho, float(mc.il_offer_notice_h))
        off = offers(
            peak_kw,
            np.where(pop.protected, 0.0, share),
            loss,
            event_h=float(mc.il_event_h),
            block_max_share=float(mc.il_block_max_share),
            block_min_kw=float(mc.il_block_min_kw),
        )
        target_kw = float(mc.il_target_share_of_peak) * float(wd.sum(axis=0).max())
        proc = procure(
            off.block_kw, off.bid_cny_per_kw_event, target_kw, float(mc.il_bid_cap_cny_per_kw_event)
        )
        self.accepted_kw = proc.accepted_kw
        self.bid_cny_per_kw_event = off.bid_cny_per_kw_event
        self.procured_kw.append(proc.total_kw)
        return proc.total_kw

    def call(
        self,
        day: int,
        shortfall_kw: NDArray[np.float64],
        available: NDArray[np.bool_],
        sent_at: Any,
        kind: str,
    ) -> IlDayCall:
        """Call accepted blocks on a day's shortfall and publish the calls (rule I2).

        Args:
            day: Model day of the calls.
            shortfall_kw: Shortfall per interval, kW.
            available: Users whose block may be called.
            sent_at: Publication time of the calls: a scalar, or ``None`` for
                the 15-minute notice before each call.
            kind: Message kind on the platform.

        Returns:
            The calls, their payments and the uncovered shortfall.
        """
        m = self.model
        blocks = np.where(available, self.accepted_kw, 0.0)
        res = call(shortfall_kw, blocks, self.bid_cny_per_kw_event, m.interval_h)
        mask = np.ascontiguousarray(np.asarray(res.called).T)
        kw = np.where(mask, blocks[:, None], 0.0)
        r = runs(mask)
        if len(r):
            starts = m.clock.time_of(day, r.start)
            if sent_at is None:
                lead = np.timedelta64(int(m.cfg.platform.notice_lead_min * 60 * 10**9), "ns")
                sent = starts - lead
            else:
                sent = sent_at
            m.platform.publish(
                sent,
                starts,
                self.sender,
                r.user,
                kind,
                quantity=blocks[r.user],
                until=m.clock.time_of(day, r.stop),
            )
        payment = np.asarray(res.payment_cny, dtype=float)
        self.payment_cny += float(payment.sum())
        return IlDayCall(mask, kw, payment, np.asarray(res.uncovered_kw, dtype=float))

    @property
    def mean_capacity_kw(self) -> float:
        """Mean accepted capacity over the procurements, kW."""
        return float(np.mean(self.procured_kw)) if self.procured_kw else 0.0
