"""Config group ``phase``: module switches (a phase is a preset of them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["PhaseConfig", "check"]


@dataclass
class PhaseConfig:
    """Module switches: a phase is a preset of which modules are on.

    Attributes:
        name: Phase label written to the outputs (``orderly``, ``efficiency``,
            ``agency``, ``mature``, or anything for a custom mix).
        orderly_plan: Administrative weekly orderly-use plan for capacity shortages.
        efficiency: Efficiency management (diagnostics, measures, differential prices).
        agency: The electricity-sales agent buys for its members (requires ``plants``).
        plants: Power plants offering two-part bilateral contracts.
        bank: A bank buying credit reports and lending to users.
        dg: DG providers build rooftop PV on hosts' roofs (D1–D2).
        ev: An EV fleet books charging one day ahead (E1).
        fund: The users' prepayment fund (F2).
        packages: Monthly package menus, recommendation and switching (R1–R3).
        online_payment: Bills paid by platform auto-debit (lifts the on-time
            payment record the bank scores).
    """

    name: str = "orderly"
    orderly_plan: bool = True
    efficiency: bool = False
    agency: bool = False
    plants: bool = False
    bank: bool = False
    dg: bool = False
    ev: bool = False
    fund: bool = False
    packages: bool = False
    online_payment: bool = False


def check(cfg: Any) -> None:
    """Check the ``phase`` group (nothing beyond its types yet).

    Args:
        cfg: The whole composed config.
    """
