"""Double-entry ledger of every payment in a run.

Each payment is one row ``(time, payer, payee, amount_cny, purpose)``; the
payer's balance falls and the payee's rises by ``amount_cny`` (a negative
amount reverses the direction). Balances therefore always sum to zero, and
``residual_cny`` reports the floating-point sum as the conservation check.
Rows are posted in vectorised batches (one call per purpose and day).

Accounts are integers; ``account(name)`` registers a named account (``grid``,
``external``, ``esco``, ...) and users occupy a contiguous block of ids.

References:
    Pacioli (1494), *Summa de arithmetica* — the double-entry principle.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

__all__ = ["FINANCING_PURPOSES", "Ledger"]

_NS = np.dtype("datetime64[ns]")

#: Purposes that move money without being a cost or a revenue (loans, deposits):
#: they are left out of :meth:`Ledger.operating_balances` (users' cost).
FINANCING_PURPOSES: frozenset[str] = frozenset(
    {
        "loan_disbursement",
        "loan_repayment",
        "loan_recovery",
        "fund_deposit",
        "fund_withdrawal",
        "retail_bill_from_fund",
    }
)


def _column(value: ArrayLike, dtype: Any) -> NDArray[Any]:
    """One posting column as an array of ``dtype``, at least 1-D (no copy if it is one).

    Args:
        value: Scalar or array (account ids, ``datetime64[ns]`` times or CNY amounts).
        dtype: The column's dtype.

    Returns:
        The column (a view of ``value`` when it already is such an array).
    """
    if type(value) is np.ndarray and value.dtype == dtype and value.ndim:
        return value
    arr = np.asarray(value, dtype=dtype)
    return arr.reshape(1) if arr.ndim == 0 else arr


class Ledger:
    """Append-only double-entry ledger with per-account balances (CNY).

    Args:
        user_names: Names of the user accounts (ids ``0..n_users-1``).
    """

    def __init__(self, user_names: list[str]) -> None:
        self._names: list[str] = list(user_names)
        self._ids: dict[str, int] = {name: i for i, name in enumerate(self._names)}
        self._balances: NDArray[np.float64] = np.zeros(len(self._names))
        self._financing: NDArray[np.float64] = np.zeros(len(self._names))
        self._chunks: list[tuple[NDArray, NDArray, NDArray, NDArray, str]] = []
        self.max_abs_residual_cny: float = 0.0

    def account(self, name: str) -> int:
        """Return the id of a named account, registering it on first use."""
        if name not in self._ids:
            self._ids[name] = len(self._names)
            self._names.append(name)
            self._balances = np.append(self._balances, 0.0)
            self._financing = np.append(self._financing, 0.0)
        return self._ids[name]

    def post(
        self,
        time: ArrayLike,
        payer: ArrayLike,
        payee: ArrayLike,
        amount_cny: ArrayLike,
        purpose: str,
    ) -> None:
        """Post a batch of payments.

        Args:
            time: Timestamps (scalar or array of ``datetime64[ns]``).
            payer: Payer account ids (scalar or array).
            payee: Payee account ids (scalar or array).
            amount_cny: Amounts paid, CNY; rows with amount 0 are dropped.
            purpose: What the payments are for (e.g. ``tariff``, ``penalty``).

        Raises:
            ValueError: If an amount is not finite.
        """
        payer_c = _column(payer, np.int64)
        payee_c = _column(payee, np.int64)
        time_c = _column(time, _NS)
        amount = _column(amount_cny, np.float64)
        if payer_c.ndim != 1 or payee_c.ndim != 1 or time_c.ndim != 1 or amount.ndim != 1:
            flat = np.broadcast_arrays(payer_c, payee_c, time_c, amount)
            payer_c, payee_c, time_c, amount = (c.ravel() for c in flat)
        # 1-D broadcasting by hand (np.broadcast_arrays costs ~50 µs a call)
        sizes = (payer_c.size, payee_c.size, time_c.size, amount.size)
        n = max(sizes)
        if n == 0 or any(s not in (1, n) for s in sizes):
            n = max((s for s in sizes if s != 1), default=1)
            if any(s not in (1, n) for s in sizes):
                raise ValueError(f"ledger: '{purpose}' posting columns of lengths {list(sizes)}")
        if n == 1:  # one payment: scalar arithmetic, same float operations as ufunc.at
            value = float(amount[0])
            if not math.isfinite(value):
                raise ValueError(f"ledger: non-finite amount in a '{purpose}' posting")
            if value == 0.0:
                return
            p, q = int(payer_c[0]), int(payee_c[0])
            self._balances[p] -= value
            self._balances[q] += value
            if purpose in FINANCING_PURPOSES:
                self._financing[p] -= value
                self._financing[q] += value
            # fresh one-element arrays (the caller's arrays may change later)
            self._chunks.append(
                (
                    time_c[:1].copy(),
                    payer_c[:1].copy(),
                    payee_c[:1].copy(),
                    amount[:1].copy(),
                    purpose,
                )
            )
            self._track_residual()
            return
        if not np.isfinite(amount).all():
            raise ValueError(f"ledger: non-finite amount in a '{purpose}' posting")
        if amount.size == n:
            keep = np.flatnonzero(amount)
        else:  # one amount for all n rows
            keep = np.arange(n if amount[0] != 0.0 else 0)
        if not keep.size:
            return
        # the kept rows, as fresh arrays (fancy indexing copies)
        payer_a, payee_a, time_a, amount = (
            c[keep] if c.size == n else c.repeat(keep.size)
            for c in (payer_c, payee_c, time_c, amount)
        )
        np.subtract.at(self._balances, payer_a, amount)
        np.add.at(self._balances, payee_a, amount)
        if purpose in FINANCING_PURPOSES:
            np.subtract.at(self._financing, payer_a, amount)
            np.add.at(self._financing, payee_a, amount)
        self._chunks.append((time_a, payer_a, payee_a, amount, purpose))
        self._track_residual()

    def _track_residual(self) -> None:
        """Keep the largest absolute sum of balances seen after a posting, CNY."""
        residual = abs(float(self._balances.sum()))
        if residual > self.max_abs_residual_cny:
            self.max_abs_residual_cny = residual

    @property
    def residual_cny(self) -> float:
        """Sum of all balances, CNY (zero up to rounding in a conserving ledger)."""
        return float(self._balances.sum())

    def balance(self, name: str) -> float:
        """Balance of a named account, CNY (positive = net receiver)."""
        return float(self._balances[self._ids[name]]) if name in self._ids else 0.0

    def user_balances(self, n_users: int) -> NDArray[np.float64]:
        """Balances of the first ``n_users`` accounts (the users), CNY."""
        return self._balances[:n_users].copy()

    def operating_balances(self, n_users: int) -> NDArray[np.float64]:
        """Users' balances without financing flows (:data:`FINANCING_PURPOSES`), CNY."""
        return self._balances[:n_users] - self._financing[:n_users]

    def total_cny(self, purpose: str) -> float:
        """Sum of the amounts posted for ``purpose``, CNY (0 if none).

        Added in :meth:`to_frame`'s row order (by time, postings in order within a
        time), as numpy sums them: the float ``to_frame()``'s rows of that purpose
        sum to, without building the table.

        Args:
            purpose: The postings' purpose (e.g. ``network_fee``).
        """
        chunks = [c for c in self._chunks if c[4] == purpose]
        if not chunks:
            return 0.0
        time = np.concatenate([c[0] for c in chunks])
        amount = np.concatenate([c[3] for c in chunks])
        return float(amount[np.argsort(time, kind="stable")].sum())

    def to_frame(self) -> pd.DataFrame:
        """All rows as a DataFrame with account names (categorical)."""
        if not self._chunks:
            return pd.DataFrame(
                {
                    "time": pd.Series([], dtype="datetime64[ns]"),
                    "payer": pd.Series([], dtype="category"),
                    "payee": pd.Series([], dtype="category"),
                    "amount_cny": pd.Series([], dtype=float),
                    "purpose": pd.Series([], dtype="category"),
                }
            )
        time = np.concatenate([c[0] for c in self._chunks])
        payer = np.concatenate([c[1] for c in self._chunks])
        payee = np.concatenate([c[2] for c in self._chunks])
        amount = np.concatenate([c[3] for c in self._chunks])
        # purposes as codes into their sorted names (pd.Categorical's own categories of
        # the rows' strings), one code per chunk repeated over its rows: a year's
        # thousands of chunks without an object array of every row's string
        names = sorted({c[4] for c in self._chunks})
        code_of = {name: i for i, name in enumerate(names)}
        purpose = pd.Categorical.from_codes(
            np.repeat(
                np.array([code_of[c[4]] for c in self._chunks], dtype=np.int64),
                [len(c[3]) for c in self._chunks],
            ),
            categories=pd.Index(names),
        )
        cats = pd.CategoricalDtype(self._names)
        return pd.DataFrame(
            {
                "time": time,
                "payer": pd.Categorical.from_codes(payer, dtype=cats),
                "payee": pd.Categorical.from_codes(payee, dtype=cats),
                "amount_cny": amount,
                "purpose": purpose,
            }
        ).sort_values("time", kind="stable", ignore_index=True)

    def balances_frame(self) -> pd.DataFrame:
        """Final balance of every account, CNY."""
        return pd.DataFrame({"account": self._names, "balance_cny": self._balances.copy()})
