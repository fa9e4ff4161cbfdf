"""Config group ``phase``: module switches (a phase is a preset of them)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from simulation.config._checks import ConfigError
from simulation.config._paths import phase_presets

__all__ = ["PhaseConfig", "check", "phase_label"]


@dataclass
class PhaseConfig:
    """Module switches: a phase is a preset of which modules are on.

    Attributes:
        name: Phase label written to the outputs and used in the default run
            directory. It is the name of the preset (``conf/phase/*.yaml``)
            whose switches are the ones on; for any other mix it is derived
            from the modules that are on (see :func:`phase_label`), and
            :func:`check` sets it so. (assumption: module switch)
        orderly_plan: Administrative weekly orderly-use plan for capacity shortages.
            (assumption: module switch)
        orderly_fallback: The orderly plan runs only as the fallback of the
            market (PHASES.md §2.4, ``orderly_plan: fallback``): no weekly plan;
            only the shortage left after the day-ahead market and interruptible
            load is planned, at the day-ahead gate (lead τ ≥ ``market.gate_lead_h``).
            Needs ``orderly_plan`` and ``market``. (assumption: module switch)
        efficiency: Efficiency management (diagnostics, measures, differential prices).
            (assumption: module switch)
        agency: The electricity-sales agent buys for its members (requires ``plants``).
            (assumption: module switch)
        plants: Power plants offering two-part bilateral contracts. (assumption: module switch)
        bank: A bank buying credit reports and lending to users. (assumption: module switch)
        dg: DG providers build rooftop PV on hosts' roofs (D1–D2). (assumption: module switch)
        ev: An EV fleet books charging one day ahead (E1). (assumption: module switch)
        fund: The users' prepayment fund (F2). (assumption: module switch)
        packages: Monthly package menus, recommendation and switching (R1–R3).
            (assumption: module switch)
        online_payment: Bills paid by platform auto-debit (lifts the on-time
            payment record the bank scores). (assumption: module switch)
        market: The wholesale market: a market operator clearing day-ahead
            energy with reserve and settling real time, the plants' day-ahead
            stack and the retailers (PHASES.md §2, rules M2–M6). (assumption: module switch)
        mlt: Medium- and long-term contracts for difference (rule M1; needs ``market``).
            (assumption: module switch)
        interruptible: Paid interruptible load (rules I1–I2; needs ``market``).
            (assumption: module switch)
    """

    name: str = "orderly"
    orderly_plan: bool = True
    orderly_fallback: bool = False
    efficiency: bool = False
    agency: bool = False
    plants: bool = False
    bank: bool = False
    dg: bool = False
    ev: bool = False
    fund: bool = False
    packages: bool = False
    online_payment: bool = False

    market: bool = False
    mlt: bool = False
    interruptible: bool = False


_SAFE = re.compile(r"^[a-z0-9][a-z0-9_+-]*$")


def _switches(phase: Any) -> dict[str, bool]:
    return {f.name: bool(getattr(phase, f.name)) for f in dataclasses.fields(PhaseConfig)[1:]}


def phase_label(phase: Any) -> str:
    """The label of a set of module switches.

    The preset's name when the switches equal a preset's; else ``mix-``
    followed by the modules that are on, joined by ``+`` in schema order
    (``mix-none`` if none is). With today's presets, ``orderly_plan=false,
    efficiency=true`` gives ``mix-efficiency``.

    Args:
        phase: A ``phase`` node.

    Returns:
        A label made of lower-case letters, digits, ``_``, ``+`` and ``-``.
    """
    on = _switches(phase)
    for name, preset in phase_presets().items():
        if all(on.get(k, False) == v for k, v in preset.items()) and all(
            preset.get(k, False) == v for k, v in on.items()
        ):
            return name
    modules = [k for k, v in on.items() if v]
    return "mix-" + ("+".join(modules) if modules else "none")


def _check_label(cfg: Any) -> None:
    """Check ``phase.name`` and set it to the label of the switches that are on.

    A preset's name is accepted only when the switches are that preset's (a
    mix started from ``phase=orderly`` with ``phase.efficiency=true`` is
    relabelled ``efficiency``, the preset with those switches); any other
    name must be the derived label. Either way it is a safe path component.

    Args:
        cfg: The whole composed config (``phase.name`` is updated in place).

    Raises:
        ConfigError: If ``phase.name`` is neither a preset name nor the label.
    """
    name = str(cfg.phase.name)
    label = phase_label(cfg.phase)
    if name != label and name not in phase_presets():
        raise ConfigError(
            f"phase.name={name!r}: must be a preset name {sorted(phase_presets())} or the "
            f"label of the modules that are on ({label!r}); it is derived, leave it out"
        )
    assert _SAFE.match(label), label
    if name != label:
        cfg.phase.name = label


def check(cfg: Any) -> None:
    """Check the ``phase`` group: switches that need others, then the label.

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
    _check_label(cfg)
