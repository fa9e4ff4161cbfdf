"""Typed configuration schema for parksim (Hydra structured configs).

Every parameter a researcher may change lives in this package as a dataclass
field with its unit in its name, one module per config group (``park``,
``grid`` — with peak regulation, failures, the orderly plan and the platform —
``efficiency``, ``phase``, ``output``); the YAML files under ``conf/`` only
choose values. The schemas are registered in Hydra's ``ConfigStore`` so that a
misspelt key or a wrong type fails when the config is composed, with a message
naming the key. Value ranges that a type cannot express are checked by
:func:`validate`, which calls each group's ``check`` and raises
:class:`ConfigError` naming the key and what is allowed.

A new group is one new module here (its dataclasses and a ``check(cfg)``), a
field on :class:`Config` and an entry in :data:`GROUP_CHECKS`; the unknown-key
check follows the dataclass types (see :mod:`simulation.config._keys`).

References:
    Hydra 1.3 documentation, "Structured Configs" tutorial
    (https://hydra.cc/docs/tutorials/structured_config/intro/).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf

from simulation.config import agency, efficiency, grid, market, output, park, phase
from simulation.config._checks import ConfigError, positive
from simulation.config._keys import check_keys
from simulation.config.agency import AgencyConfig, BankConfig, PlantsConfig
from simulation.config.efficiency import EfficiencyConfig, MeasureConfig
from simulation.config.grid import (
    FailureConfig,
    GridConfig,
    OrderlyConfig,
    PeakRegulationConfig,
    PlatformConfig,
)
from simulation.config.market import MarketConfig
from simulation.config.output import OutputConfig
from simulation.config.park import IndustryConfig, ParkConfig
from simulation.config.phase import PhaseConfig

__all__ = [
    "GROUP_CHECKS",
    "AgencyConfig",
    "BankConfig",
    "Config",
    "ConfigError",
    "EfficiencyConfig",
    "FailureConfig",
    "GridConfig",
    "IndustryConfig",
    "MarketConfig",
    "MeasureConfig",
    "OrderlyConfig",
    "OutputConfig",
    "ParkConfig",
    "PeakRegulationConfig",
    "PhaseConfig",
    "PlantsConfig",
    "PlatformConfig",
    "register_configs",
    "to_container",
    "validate",
]


@dataclass
class Config:
    """Root configuration of one parksim run (the contract keys are top level).

    Attributes:
        seed: Seed of the model's single random generator.
        start_date: First simulated day (ISO date).
        days: Number of simulated days (one Mesa step per day).
        intervals_per_day: Intervals per day; a multiple of 24 dividing 1440 (24, 96, ...).
        progress: Show a progress bar over days (only on a terminal).
        phase: Module switches.
        park: Population.
        grid: Grid company.
        orderly: Orderly plan.
        platform: Information platform.
        efficiency: Efficiency management.
        agency: The electricity-sales agent (agency phase).
        plants: Power plants' bilateral offers (agency phase).
        bank: The bank and credit reports.
        market: The wholesale market, retailers and interruptible load (mature phase).
        output: Output options.
    """

    seed: int = 0
    start_date: str = "2025-01-06"
    days: int = 28
    intervals_per_day: int = 24
    progress: bool = True
    phase: PhaseConfig = MISSING
    park: ParkConfig = MISSING
    grid: GridConfig = field(default_factory=GridConfig)
    orderly: OrderlyConfig = field(default_factory=OrderlyConfig)
    platform: PlatformConfig = field(default_factory=PlatformConfig)
    efficiency: EfficiencyConfig = MISSING
    agency: AgencyConfig = field(default_factory=AgencyConfig)
    plants: PlantsConfig = field(default_factory=PlantsConfig)
    bank: BankConfig = field(default_factory=BankConfig)
    market: MarketConfig = field(default_factory=MarketConfig)
    output: OutputConfig = field(default_factory=OutputConfig)


def register_configs() -> None:
    """Register the schemas in Hydra's ConfigStore (idempotent)."""
    cs = ConfigStore.instance()
    cs.store(name="parksim_schema", node=Config)
    cs.store(group="phase", name="phase_schema", node=PhaseConfig)
    cs.store(group="park", name="park_schema", node=ParkConfig)
    cs.store(group="efficiency", name="efficiency_schema", node=EfficiencyConfig)


def _check_root(cfg: Any) -> None:
    """Check the top-level (contract) keys."""
    positive("days", cfg.days, integer=True)
    ipd = cfg.intervals_per_day
    if ipd <= 0 or ipd % 24 != 0 or 1440 % ipd != 0:
        raise ConfigError(
            f"intervals_per_day={ipd}: must be a multiple of 24 that divides 1440 "
            "(24, 48, 72, 96, 120, 144, 288, ...)"
        )
    try:
        pd.Timestamp(cfg.start_date)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"start_date={cfg.start_date!r}: not an ISO date ({err})") from None
    if cfg.seed < 0:
        raise ConfigError(f"seed={cfg.seed}: must be a non-negative integer")


#: One check per config group, run in this order by :func:`validate`.
GROUP_CHECKS: tuple[Callable[[Any], None], ...] = (
    _check_root,
    phase.check,
    park.check,
    grid.check,
    efficiency.check,
    agency.check,
    market.check,
    output.check,
)


def validate(cfg: DictConfig | Config) -> None:
    """Check keys against the schema and value ranges its types cannot express.

    Args:
        cfg: A composed config (DictConfig with the ``Config`` schema).

    Raises:
        ConfigError: Naming the first offending key, its value and what is allowed.
    """
    if isinstance(cfg, DictConfig):
        check_keys(cfg, Config)
    for check in GROUP_CHECKS:
        check(cfg)


def to_container(cfg: DictConfig) -> dict[str, Any]:
    """Return the resolved config as a plain dict (for the run's record)."""
    out = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(out, dict)
    return out  # type: ignore[return-value]
