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
            :func:`check` sets it so.
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


def check(cfg: Any) -> None:
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
