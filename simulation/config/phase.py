"""Config group ``phase``: module switches (a phase is a preset of them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulation.config._checks import ConfigError

__all__ = ["PhaseConfig", "check"]


@dataclass
class PhaseConfig:
    """Module switches: a phase is a preset of which modules are on.

    Attributes:
        name: Phase label written to the outputs (``orderly``, ``efficiency``,
            ``agency``, ``mature``, or anything for a custom mix).
        orderly_plan: Administrative orderly-use plan for capacity shortages.
        orderly_fallback: The orderly plan runs only as the fallback of the
            market (PHASES.md §2.4, ``orderly_plan: fallback``): no weekly plan;
            only the shortage left after the day-ahead market and interruptible
            load is planned, at the day-ahead gate (lead τ ≥ ``market.gate_lead_h``).
            Needs ``orderly_plan`` and ``market``.
        efficiency: Efficiency management (diagnostics, measures, differential prices).
        agency: The electricity-sales agent buys for its members (requires ``plants``).
        plants: Power plants offering two-part bilateral contracts.
        bank: A bank buying credit reports and lending to users.
        market: The wholesale market: a market operator clearing day-ahead
            energy with reserve and settling real time, the plants' day-ahead
            stack and the retailers (PHASES.md §2, rules M2–M6).
        mlt: Medium- and long-term contracts for difference (rule M1; needs ``market``).
        interruptible: Paid interruptible load (rules I1–I2; needs ``market``).
    """

    name: str = "orderly"
    orderly_plan: bool = True
    orderly_fallback: bool = False
    efficiency: bool = False
    agency: bool = False
    plants: bool = False
    bank: bool = False
    market: bool = False
    mlt: bool = False
    interruptible: bool = False


def check(cfg: Any) -> None:
    """Check the ``phase`` group: switches that need others.

    Args:
        cfg: The whole composed config.

    Raises:
        ConfigError: Naming the switch whose requirement is off.
    """
    p = cfg.phase
    for key in ("mlt", "interruptible", "orderly_fallback"):
        if getattr(p, key) and not p.market:
            raise ConfigError(f"phase.{key}=true: needs the wholesale market (phase.market=true)")
    if p.orderly_fallback and not p.orderly_plan:
        raise ConfigError("phase.orderly_fallback=true: needs phase.orderly_plan=true")
    if p.market and p.orderly_plan and not p.orderly_fallback:
        raise ConfigError(
            "phase.market=true with phase.orderly_plan=true: set phase.orderly_fallback=true "
            "(the weekly plan and the market would both handle the same shortage)"
        )
    if p.market and p.agency:
        raise ConfigError(
            "phase.market=true with phase.agency=true: the sales agent trading as a "
            "retailer is not built yet; switch one of them off"
        )
