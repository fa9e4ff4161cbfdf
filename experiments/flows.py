"""Money flows between account groups, from a run's ``ledger.parquet``.

Every ledger row is one payment ``payer → payee`` for a ``purpose``. Accounts
are grouped by who holds them (users, the grid company, the sales agent, the
plants, the retailers, the market operator, the fund, the DG provider, the EV
operator, the bank, the ESCO, and everything outside the park), and the
amounts are summed per (payer group, payee group, purpose).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

__all__ = ["GROUPS", "account_group", "money_flows", "run_money_flows"]

#: Account-name prefix (before ``:``) or full name → group label.
GROUPS: dict[str, str] = {
    "user": "users",
    "grid": "grid",
    "agent": "sales agent",
    "plant": "plants",
    "retailer": "retailers",
    "operator": "operator",
    "fund": "fund",
    "dg": "DG",
    "ev_operator": "EV operator",
    "bank": "bank",
    "esco": "ESCO",
    "external": "external",
}


def account_group(name: str) -> str:
    """The group of a ledger account (``user:00012`` → ``users``; unknown → ``other``).

    Args:
        name: Ledger account name.

    Returns:
        One of the labels of :data:`GROUPS`, or ``other``.
    """
    return GROUPS.get(str(name).split(":", 1)[0], "other")


def money_flows(ledger: pd.DataFrame) -> pd.DataFrame:
    """Total paid per (payer group, payee group, purpose), CNY.

    Payments inside one group (e.g. user to user) are kept; the caller may drop them.

    Args:
        ledger: Rows with ``payer``, ``payee``, ``amount_cny`` and ``purpose``.

    Returns:
        Columns ``payer``, ``payee``, ``purpose``, ``amount_cny``, largest first.
    """
    cols = ["payer", "payee", "purpose", "amount_cny"]
    if ledger.empty:
        return pd.DataFrame(columns=cols).astype({"amount_cny": float})
    frame = pd.DataFrame(
        {
            "payer": ledger["payer"].astype(str).map(account_group),
            "payee": ledger["payee"].astype(str).map(account_group),
            "purpose": ledger["purpose"].astype(str),
            "amount_cny": ledger["amount_cny"].astype(float),
        }
    )
    out = frame.groupby(["payer", "payee", "purpose"], as_index=False, sort=False)[
        "amount_cny"
    ].sum()
    return out.sort_values("amount_cny", ascending=False, ignore_index=True)[cols]


def run_money_flows(run_dirs: Iterable[tuple[str, int, Path]]) -> pd.DataFrame:
    """Money flows of several runs, averaged over seeds per variant.

    Args:
        run_dirs: ``(variant, seed, run_dir)`` per run; each dir holds ``ledger.parquet``.

    Returns:
        Columns ``variant``, ``payer``, ``payee``, ``purpose``, ``amount_cny``
        (mean over the variant's seeds; a flow absent from a seed counts as 0).
    """
    parts = []
    seeds: dict[str, set[int]] = {}
    for variant, seed, run_dir in run_dirs:
        flows = money_flows(pd.read_parquet(Path(run_dir) / "ledger.parquet"))
        flows.insert(0, "variant", variant)
        parts.append(flows)
        seeds.setdefault(variant, set()).add(seed)
    if not parts:
        return pd.DataFrame(columns=["variant", "payer", "payee", "purpose", "amount_cny"])
    allf = pd.concat(parts, ignore_index=True)
    total = allf.groupby(["variant", "payer", "payee", "purpose"], sort=False, as_index=False)[
        "amount_cny"
    ].sum()
    total["amount_cny"] /= total["variant"].map(lambda v: len(seeds[v]))
    return total
