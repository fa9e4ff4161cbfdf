"""Billing: daily per-user accruals, posted by their owner at month close.

A module that bills users accrues each day's charges with
:meth:`Billing.accrue` (keyed by the owner who posts them, the payee account
and the ledger purpose) and posts them in its own ``month_close`` hook with
:meth:`Billing.post`, so whoever is paid posts its own ledger rows. Billing
also keeps each user's monthly payment record (amount due and whether it was
paid on time), which credit reports read.

Units: CNY.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["Billing"]


class Billing:
    """Per-user accruals by (owner, payee, purpose) and the payment record.

    Args:
        n_users: Number of users (user ``i`` is ledger account ``i``).
        ledger: The run's ledger.
    """

    def __init__(self, n_users: int, ledger: Any) -> None:
        self.n = n_users
        self.ledger = ledger
        self._accrued: dict[tuple[str, int, str], NDArray[np.float64]] = {}
        self._today = np.zeros(n_users)
        #: Bills posted per user in each closed month (CNY), oldest first.
        self.month_due_cny: list[NDArray[np.float64]] = []
        self._month_due = np.zeros(n_users)

    def accrue(self, owner: str, payee: int, purpose: str, amount_cny: NDArray[np.float64]) -> None:
        """Add one day's charges of every user.

        Args:
            owner: The module that posts these charges (e.g. ``"grid"``).
            payee: Ledger account paid.
            purpose: Ledger purpose of the posting.
            amount_cny: Charge per user, CNY ``(n_users,)``.
        """
        key = (owner, payee, purpose)
        if key in self._accrued:
            self._accrued[key] += amount_cny
        else:
            self._accrued[key] = np.array(amount_cny, dtype=float)
        self._today = self._today + amount_cny

    def today_cny(self) -> NDArray[np.float64]:
        """Charges accrued today per user, CNY; restarts the daily count."""
        out = self._today
        self._today = np.zeros(self.n)
        return out

    def post(self, when: Any, owner: str) -> float:
        """Post an owner's accrued charges (users → payee), in accrual order.

        Args:
            when: Posting time (``datetime64[ns]``).
            owner: The posting module.

        Returns:
            Total posted, CNY.
        """
        users = np.arange(self.n)
        total = 0.0
        for key in [k for k in self._accrued if k[0] == owner]:
            _, payee, purpose = key
            amount = self._accrued[key]
            self.ledger.post(when, users, payee, amount, purpose)
            self._month_due += amount
            total += float(amount.sum())
            amount[:] = 0.0
        return total

    def close_month(self) -> NDArray[np.float64]:
        """End the month's payment record; returns each user's bills of the month, CNY."""
        due = self._month_due
        self.month_due_cny.append(due)
        self._month_due = np.zeros(self.n)
        return due
