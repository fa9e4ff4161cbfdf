"""Modules: the roles a phase switches on, and the registry that orders them.

A *module* is one object (usually a ``mesa.Agent``, or a coordinator that
creates several agents) that implements any of the stage hooks of
:mod:`simulation.stages` — methods named ``start``, ``month_close``,
``week_plan``, ``publish``, ``bid``, ``clear``, ``demand``, ``dispatch``,
``meter``, ``settle``, ``collect``, each taking today's
:class:`~simulation.day.DayState` — plus, optionally:

- ``KPIS``: class attribute, every KPI name the module may contribute (a
  switched-off module's KPIs are reported as 0, never missing);
- ``USER_FIELDS`` / ``INTERVAL_FIELDS``: class attributes, the recorded fields
  it adds to ``users.parquet`` / ``intervals.parquet`` (written with
  ``today.record_users`` / ``today.record_intervals``; unwritten days are 0);
- ``kpis() -> dict[str, float]`` and ``tables() -> dict[str, DataFrame]``
  (each table is written as ``<name>.parquet``).

Adding a role is one new file plus one :func:`register` call: the phase config
only says which modules are on (``ModuleSpec.enabled``), and a module may
declare which others it requires.

Example::

    from simulation.modules import ModuleSpec, register

    class FlatFee(mesa.Agent):
        KPIS = ("flat_fee_cny",)
        def settle(self, today): ...

    register(ModuleSpec("flat_fee", FlatFee, enabled=lambda cfg: True))
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from agents.bank import Bank
from agents.dg_provider import DGProvider
from agents.esco import EnergyServiceCompany
from agents.ev_fleet import EVFleet
from agents.fund import FundOperator
from agents.grid_company import GridCompany
from agents.market_operator import MarketOperator
from agents.online_payment import OnlinePayment
from agents.packages import PackageMarket
from agents.power_plant import MarketFleet, PlantFleet
from agents.retailer import RetailDesk
from agents.sales_agent import SalesAgent
from simulation.config import ConfigError
from simulation.core import CoreModule

__all__ = [
    "ModuleSpec",
    "active_specs",
    "all_kpi_names",
    "register",
    "registered",
    "specs",
    "unregister",
]


@dataclass(frozen=True)
class ModuleSpec:
    """How a module is built and when it is on.

    Attributes:
        name: Unique module name (also how other modules look it up:
            ``model.module(name)``).
        cls: The module class, constructed as ``cls(model)``.
        enabled: Whether the module is on for a config.
        requires: Names of modules that must be on with it.
        switch: The config key that switches it on, for error messages.
    """

    name: str
    cls: type
    enabled: Callable[[Any], bool]
    requires: tuple[str, ...] = ()
    switch: str = ""


_REGISTRY: list[ModuleSpec] = [
    ModuleSpec("core", CoreModule, enabled=lambda cfg: True),
    ModuleSpec("grid", GridCompany, enabled=lambda cfg: True),
    ModuleSpec(
        "esco",
        EnergyServiceCompany,
        enabled=lambda cfg: bool(cfg.phase.efficiency or cfg.efficiency.diagnostics),
        switch="phase.efficiency / efficiency.diagnostics",
    ),
    ModuleSpec(
        "plants", PlantFleet, enabled=lambda cfg: bool(cfg.phase.plants), switch="phase.plants"
    ),
    ModuleSpec(
        "agency",
        SalesAgent,
        enabled=lambda cfg: bool(cfg.phase.agency),
        requires=("plants",),
        switch="phase.agency",
    ),
    ModuleSpec("bank", Bank, enabled=lambda cfg: bool(cfg.phase.bank), switch="phase.bank"),
    # ev and dg come before the market modules: within ``bid`` the EV bookings
    # of tomorrow exist when the retailers bid (their forecast adds them), and
    # within ``meter`` the EV charging is cut to what was served and DG's
    # self-consumption is known before the operator meters the retailers' net
    # load (served − DG), so the energy book ends with day_ahead = schedule,
    # real_time = net − schedule and dg_self = DG (README, "The mature market").
    ModuleSpec("ev", EVFleet, enabled=lambda cfg: bool(cfg.phase.ev), switch="phase.ev"),
    ModuleSpec("dg", DGProvider, enabled=lambda cfg: bool(cfg.phase.dg), switch="phase.dg"),
    ModuleSpec(
        "retail", RetailDesk, enabled=lambda cfg: bool(cfg.phase.market), switch="phase.market"
    ),
    ModuleSpec(
        "market_plants",
        MarketFleet,
        enabled=lambda cfg: bool(cfg.phase.market),
        switch="phase.market",
    ),
    ModuleSpec(
        "market",
        MarketOperator,
        enabled=lambda cfg: bool(cfg.phase.market),
        requires=("retail", "market_plants"),
        switch="phase.market",
    ),
    ModuleSpec("fund", FundOperator, enabled=lambda cfg: bool(cfg.phase.fund), switch="phase.fund"),
    ModuleSpec(
        "packages",
        PackageMarket,
        enabled=lambda cfg: bool(cfg.phase.packages),
        switch="phase.packages",
    ),
    ModuleSpec(
        "online_payment",
        OnlinePayment,
        enabled=lambda cfg: bool(cfg.phase.online_payment),
        switch="phase.online_payment",
    ),
]


def specs() -> tuple[ModuleSpec, ...]:
    """Every registered module, in stage order."""
    return tuple(_REGISTRY)


def register(spec: ModuleSpec, *, after: str | None = None) -> None:
    """Register a module (at the end, or right after the module named ``after``).

    Args:
        spec: The module.
        after: Name of the module it follows within every stage.

    Raises:
        ValueError: If the name is taken, ``after`` is unknown, or its KPI
            names collide with another module's.
    """
    if any(s.name == spec.name for s in _REGISTRY):
        raise ValueError(f"module {spec.name!r} is already registered")
    taken = {k: s.name for s in _REGISTRY for k in getattr(s.cls, "KPIS", ())}
    clash = [k for k in getattr(spec.cls, "KPIS", ()) if k in taken]
    if clash:
        raise ValueError(f"module {spec.name!r}: KPIs {clash} belong to {taken[clash[0]]!r}")
    if after is None:
        _REGISTRY.append(spec)
        return
    names = [s.name for s in _REGISTRY]
    if after not in names:
        raise ValueError(f"module {spec.name!r}: unknown module {after!r} to follow")
    _REGISTRY.insert(names.index(after) + 1, spec)


def unregister(name: str) -> None:
    """Remove a registered module by name (no error if absent)."""
    _REGISTRY[:] = [s for s in _REGISTRY if s.name != name]


@contextmanager
def registered(spec: ModuleSpec, *, after: str | None = None) -> Iterator[ModuleSpec]:
    """Register a module for the duration of a ``with`` block (tests, notebooks)."""
    register(spec, after=after)
    try:
        yield spec
    finally:
        unregister(spec.name)


def active_specs(cfg: Any) -> tuple[ModuleSpec, ...]:
    """The modules a config switches on, in registry order, with requirements checked.

    Raises:
        ConfigError: If an enabled module requires one that is off.
    """
    on = [s for s in _REGISTRY if s.enabled(cfg)]
    names = {s.name for s in on}
    for s in on:
        missing = [r for r in s.requires if r not in names]
        if missing:
            key = s.switch or s.name
            raise ConfigError(f"{key}: the {s.name} module requires {missing} to be on")
    return tuple(on)


def all_kpi_names() -> tuple[str, ...]:
    """Every KPI any registered module may contribute, in registry order."""
    return tuple(k for s in _REGISTRY for k in getattr(s.cls, "KPIS", ()))
