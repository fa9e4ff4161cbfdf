"""Online payment: bills paid by platform auto-debit, which lifts the payment record.

The ``online_payment`` module. At the start, a share ``payment.auto_debit_share``
of users (drawn from the model's generator when below 1) pays its bills by
auto-debit through the platform; their on-time payment share becomes
``payment.on_time_share_auto_debit`` (0.99) while cash payers keep theirs
(mean ``payment.on_time_share_cash``, 0.95). When the ``bank`` module is on,
the bank's current on-time record (``Bank.on_time_share``, rolled into the
24-month history it scores with ``markets.credit.score``) is lifted for the
auto-debit users, so their grades improve month by month.

References:
    PHASES.md §2.2 "Credit" (auto-debit 0.99 vs cash 0.95, A); Zhejiang 电E贷
    scores auto-debit above cash [S19].
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import mesa
import numpy as np

if TYPE_CHECKING:
    from agents._model import ModelView

__all__ = ["OnlinePayment"]


class OnlinePayment(mesa.Agent):
    """Platform auto-debit of users' bills (one agent; the ``online_payment`` module).

    Args:
        model: The park model.
    """

    KPIS: ClassVar[tuple[str, ...]] = ("auto_debit_share", "on_time_share_mean")

    model: ModelView

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        cfg = model.cfg.payment
        self.cfg = cfg
        n = model.pop.n_users
        share = float(cfg.auto_debit_share)
        self.auto_debit = np.ones(n, dtype=bool) if share >= 1 else model.rng.random(n) < share
        self.on_time_share = np.where(
            self.auto_debit, float(cfg.on_time_share_auto_debit), float(cfg.on_time_share_cash)
        )

    def start(self, today: Any) -> None:
        """Lift the bank's current on-time record of the auto-debit users."""
        m = self.model
        if m.has_module("bank"):
            bank = m.module("bank")
            bank.on_time_share = np.where(
                self.auto_debit, float(self.cfg.on_time_share_auto_debit), bank.on_time_share
            )
            self.on_time_share = bank.on_time_share

    def kpis(self) -> dict[str, float]:
        """Share of users on auto-debit and the mean on-time share."""
        return {
            "auto_debit_share": float(self.auto_debit.mean()),
            "on_time_share_mean": float(self.on_time_share.mean()),
        }
