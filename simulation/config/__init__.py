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

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf

from simulation.config import (
    agency,
    dg,
    efficiency,
    ev,
    fund,
    grid,
    market,
    output,
    packages,
    park,
    phase,
)
from simulation.config._checks import ConfigError, Range, ranged
from simulation.config._keys import check_keys, check_ranges, iter_ranges
from simulation.config.agency import AgencyConfig, BankConfig, PlantsConfig
from simulation.config.dg import DgConfig
from simulation.config.efficiency import EfficiencyConfig, MeasureConfig
from simulation.config.ev import EvConfig
from simulation.config.fund import FundConfig
from simulation.config.grid import (
    FailureConfig,
    GridConfig,
    OrderlyConfig,
    PeakRegulationConfig,
    PlatformConfig,
)
from simulation.config.market import MarketConfig
from simulation.config.output import OutputConfig
from simulation.config.packages import PackagesConfig, PaymentConfig
from simulation.config.park import IndustryConfig, ParkConfig
from simulation.config.phase import PhaseConfig

__all__ = [
    "FIRST_DATE",
    "GROUP_CHECKS",
    "LAST_DATE",
    "MAX_CELLS",
    "MAX_DAYS",
    "AgencyConfig",
    "BankConfig",
    "Config",
    "ConfigError",
    "DgConfig",
    "EfficiencyConfig",
    "EvConfig",
    "FailureConfig",
    "FundConfig",
    "GridConfig",
    "IndustryConfig",
    "MarketConfig",
    "MeasureConfig",
    "OrderlyConfig",
    "OutputConfig",
    "PackagesConfig",
    "ParkConfig",
    "PaymentConfig",
    "PeakRegulationConfig",
    "PhaseConfig",
    "PlantsConfig",
    "PlatformConfig",
    "Range",
    "expose_launchers",
    "iter_ranges",
    "parse_start_date",
    "register_configs",
    "to_container",
    "validate",
]


#: First and last calendar day a run may cover (pandas/numpy ``datetime64[ns]``
#: timestamps end in April 2262; the model's clock uses them).
FIRST_DATE: dt.date = dt.date(1900, 1, 1)
LAST_DATE: dt.date = dt.date(2200, 12, 31)

#: Longest horizon, days (the date range above).
MAX_DAYS: int = (LAST_DATE - FIRST_DATE).days + 1

#: Largest problem, ``park.n_users × days × intervals_per_day`` cells. Per-user
#: outputs are streamed to disk, so memory grows with users × a week's intervals,
#: not with the horizon: measured on this project's reference machine (2 cores,
#: 24 GB), 100,000 users × 365 days hourly (8.8·10⁸ cells) peaked at 3.6 GB, about
#: 4 bytes per cell; 4·10⁹ cells stay under about 17 GB.
MAX_CELLS: int = 4_000_000_000


@dataclass
class Config:
    """Root configuration of one parksim run (the contract keys are top level).

    Attributes:
        seed: Seed of the model's single random generator. (assumption: run setting)
        start_date: First simulated day, an ISO 8601 date (``2025-01-06``, or the
            basic form ``20250106``); normalised to ``YYYY-MM-DD`` by
            :func:`validate`. The whole horizon must lie in
            ``FIRST_DATE``..``LAST_DATE`` (1900-01-01..2200-12-31). (assumption: run setting)
        days: Number of simulated days (one Mesa step per day); with
            ``park.n_users`` and ``intervals_per_day`` bounded by ``MAX_CELLS``.
            (assumption: run setting)
        intervals_per_day: Intervals per day; a multiple of 24 dividing 1440 (24, 96, ...).
            (assumption: run setting)
        progress: Show a progress bar over days (only on a terminal). (assumption: run setting)
        phase: Module switches.
        park: Population.
        grid: Grid company.
        orderly: Orderly plan.
        platform: Information platform.
        efficiency: Efficiency management.
        agency: The electricity-sales agent (agency phase).
        plants: Power plants' bilateral offers (agency phase).
        bank: The bank and credit reports.
        dg: The DG service (rooftop PV, optional wind).
        ev: EV charge/discharge booking.
        fund: The prepayment fund.
        packages: Retail package menus, recommendation and switching.
        payment: Online payment (auto-debit) and its credit effect.
        market: The wholesale market, retailers and interruptible load (mature phase).
        output: Output options.
    """

    seed: int = ranged(0, lo=0, hi=2**63 - 1, integer=True)
    start_date: str = "2025-01-06"
    days: int = ranged(28, lo=1, hi=MAX_DAYS, integer=True)
    intervals_per_day: int = ranged(24, lo=24, hi=1440, integer=True)
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
    dg: DgConfig = field(default_factory=DgConfig)
    ev: EvConfig = field(default_factory=EvConfig)
    fund: FundConfig = field(default_factory=FundConfig)
    packages: PackagesConfig = field(default_factory=PackagesConfig)
    payment: PaymentConfig = field(default_factory=PaymentConfig)
    market: MarketConfig = field(default_factory=MarketConfig)
    output: OutputConfig = field(default_factory=OutputConfig)


def expose_launchers() -> None:
    """Make parksim's Hydra launchers discoverable under an editable install too.

    Hydra finds launchers by walking the ``hydra_plugins`` namespace package's
    path. A wheel installs ``hydra_plugins/parksim_launchers`` into
    site-packages, which is on that path; an editable install (``make``'s
    ``pip install -e``) maps the package through an import hook instead, so
    the walk would miss it and ``hydra/launcher=submitit_slurm`` would fail
    with "Unknown plugin class". Adding the package's parent directory to the
    namespace path fixes the walk; it is a no-op when it is already there. The
    launchers module is imported first: Hydra's scan executes a module it has
    not seen before registering it, which breaks its dataclasses.
    """
    import hydra_plugins
    import hydra_plugins.parksim_launchers as ours
    import hydra_plugins.parksim_launchers.launchers

    parent = str(Path(ours.__file__).resolve().parent.parent)
    if parent not in list(hydra_plugins.__path__):
        hydra_plugins.__path__.append(parent)


#: What :func:`register_configs` stores: (group path, name) -> provider (None: any).
_STORED: dict[tuple[tuple[str, ...], str], str | None] = {
    ((), "parksim_schema.yaml"): None,
    (("hydra", "launcher"), "submitit_slurm.yaml"): "parksim",
    (("hydra", "launcher"), "submitit_local.yaml"): "parksim",
    (("hydra", "launcher"), "joblib.yaml"): "parksim",
    (("phase",), "phase_schema.yaml"): None,
    (("park",), "park_schema.yaml"): None,
    (("efficiency",), "efficiency_schema.yaml"): None,
}


def _stored(cs: ConfigStore) -> bool:
    """Whether ``cs`` holds every entry :func:`register_configs` stores (ours, not the plugin's)."""
    for (path, name), provider in _STORED.items():
        node: Any = cs.repo
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        entry = node.get(name) if isinstance(node, dict) else None
        if entry is None or (provider is not None and entry.provider != provider):
            return False
    return True


def register_configs() -> None:
    """Register the schemas in Hydra's ConfigStore and the resolvers (idempotent).

    The resolver ``${parksim_pid:}`` is this process's id (cached, so a sweep's
    jobs see their launcher's): the default run and sweep directories include
    it, so that runs started in the same second never share a directory.
    ``${parksim_phase:${phase}}`` is the label of the modules that are on (the
    preset's name, or ``mix-<modules>``; :func:`simulation.config.phase.phase_label`),
    so a mixed run's directory is named by what it runs, not by its preset.
    """
    if not OmegaConf.has_resolver("parksim_pid"):
        OmegaConf.register_new_resolver("parksim_pid", os.getpid, use_cache=True)
    if not OmegaConf.has_resolver("parksim_phase"):
        OmegaConf.register_new_resolver("parksim_phase", phase.phase_label)
    cs = ConfigStore.instance()
    if _stored(cs):  # each store builds a structured config: ~0.1 s a call
        return
    cs.store(name="parksim_schema", node=Config)
    # hydra/launcher=submitit_slurm|submitit_local|joblib: the plugins' schemas with
    # parksim's launchers (submitit's wait for every job, joblib's compose each member
    # from its groups' composition; hydra_plugins.parksim_launchers), replacing the
    # plugins' entries after Hydra's plugin discovery, which registers them again
    # when it first runs.
    from hydra.core.plugins import Plugins

    expose_launchers()
    Plugins.instance()
    # imported after the scan, which executes the module again and replaces it in
    # sys.modules: the stored schemas must be the module's current classes (a
    # composed config pickles its launcher node by the class's import path)
    from hydra_plugins.parksim_launchers.launchers import JoblibConf, LocalConf, SlurmConf

    cs.store(group="hydra/launcher", name="submitit_slurm", node=SlurmConf, provider="parksim")
    cs.store(group="hydra/launcher", name="submitit_local", node=LocalConf, provider="parksim")
    cs.store(group="hydra/launcher", name="joblib", node=JoblibConf, provider="parksim")
    cs.store(group="phase", name="phase_schema", node=PhaseConfig)
    cs.store(group="park", name="park_schema", node=ParkConfig)
    cs.store(group="efficiency", name="efficiency_schema", node=EfficiencyConfig)


def parse_start_date(value: object) -> dt.date:
    """Parse ``start_date``: an ISO 8601 calendar date, extended or basic form.

    ``2025-01-06`` and ``20250106`` (the basic form, as a YAML integer or a
    string) both mean 6 January 2025. Only this function parses it; the
    normalised ``YYYY-MM-DD`` string is what the model reads.

    Args:
        value: The configured value.

    Returns:
        The date.

    Raises:
        ConfigError: If it is not a date, or outside ``FIRST_DATE``..``LAST_DATE``.
    """
    text = str(value).strip()
    if len(text) not in (8, 10) or not text.replace("-", "").isdigit():
        raise ConfigError(f"start_date={value!r}: not an ISO date (YYYY-MM-DD, or YYYYMMDD)")
    try:
        date = dt.date.fromisoformat(text)
    except ValueError as err:
        raise ConfigError(f"start_date={value!r}: not an ISO date ({err})") from None
    if not FIRST_DATE <= date <= LAST_DATE:
        raise ConfigError(
            f"start_date={value!r}: must be in {FIRST_DATE.isoformat()}..{LAST_DATE.isoformat()}"
        )
    return date


def _check_root(cfg: Any) -> None:
    """Check the top-level (contract) keys; normalise ``start_date`` to ``YYYY-MM-DD``."""
    ipd = cfg.intervals_per_day
    if ipd % 24 != 0 or 1440 % ipd != 0:
        raise ConfigError(
            f"intervals_per_day={ipd}: must be a multiple of 24 that divides 1440 "
            "(24, 48, 72, 96, 120, 144, 288, ...)"
        )
    start = parse_start_date(cfg.start_date)
    last = start + dt.timedelta(days=int(cfg.days) - 1)
    if last > LAST_DATE:
        raise ConfigError(
            f"days={cfg.days}: the run from start_date={start.isoformat()} would end on "
            f"{last.isoformat()}, after {LAST_DATE.isoformat()}"
        )
    cells = int(cfg.park.n_users) * int(cfg.days) * int(ipd)
    if cells > MAX_CELLS:
        raise ConfigError(
            f"days={cfg.days}: park.n_users × days × intervals_per_day = {cells:,} exceeds "
            f"{MAX_CELLS:,} (about 17 GB of memory); shorten days, or use fewer users or intervals"
        )
    if cfg.start_date != start.isoformat():
        cfg.start_date = start.isoformat()


#: One check per config group, run in this order by :func:`validate`.
GROUP_CHECKS: tuple[Callable[[Any], None], ...] = (
    _check_root,
    phase.check,
    park.check,
    grid.check,
    efficiency.check,
    agency.check,
    dg.check,
    ev.check,
    fund.check,
    packages.check,
    market.check,
    output.check,
)


def _resolved(cfg: DictConfig) -> DictConfig | dict[str, Any]:
    """The config's plain container, resolved, for the schema walks (else the config itself).

    The config itself when it cannot be resolved whole. The walks on the plain
    container (:func:`to_container`) take 2.9 ms with the conversion against 9.6 ms
    on the DictConfig (:mod:`simulation.config._keys`) and find the same keys and
    values. An interpolation that does not resolve is left to the walk on the
    DictConfig, which names an unknown key first and the interpolation's key
    otherwise, as it always did.
    """
    try:
        return to_container(cfg)
    except Exception:  # any failure: the walk on the DictConfig reports it
        return cfg


def validate(cfg: DictConfig | Config) -> None:
    """Check keys against the schema and value ranges its types cannot express.

    In order: unknown and missing keys, every field's declared range (see
    ``python -m simulation.config``), then each group's rules involving
    several keys. ``start_date`` is normalised to ``YYYY-MM-DD`` in place.

    Args:
        cfg: A composed config (DictConfig with the ``Config`` schema).

    Raises:
        ConfigError: Naming the first offending key, its value and what is allowed.
    """
    if isinstance(cfg, DictConfig):
        walked = _resolved(cfg)
        check_keys(walked, Config)
        check_ranges(walked, Config)
    else:
        check_ranges(cfg, Config)
    for check in GROUP_CHECKS:
        check(cfg)


def to_container(cfg: DictConfig) -> dict[str, Any]:
    """Return the resolved config as a plain dict (for the run's record)."""
    out = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(out, dict)
    return out  # type: ignore[return-value]
