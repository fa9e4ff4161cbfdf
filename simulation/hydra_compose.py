"""Hydra's composition of a run's config, with the config-group part made once.

Hydra composes a config from scratch on every request: the defaults list from
the config-group overrides, the merged config files, then the value overrides
applied, then the hydra node's records filled (``hydra.overrides``,
``runtime``, ``override_dirname``). Configs that choose the same groups differ
only from the value overrides on — the members of a seed sweep, or the many
command lines a test checks — so :func:`compose` composes the groups once per
process and repeats the later steps on a copy, in Hydra's order. The result is
the config ``ConfigLoader.load_configuration(config_name, overrides, RUN)``
returns (tested equal, YAML for YAML, in ``tests/test_cli.py`` and
``tests/test_runs.py``). :func:`compose_run` is a single run's composition as
``Hydra.run`` requests it (with Hydra's ``hydra.mode=RUN`` applied);
:func:`compose_multirun` is a sweep's own config as ``Hydra.multirun`` requests
it (its sweeps recorded, not applied), from the group composition the pre-flight
check made for the members (:mod:`simulation.command_check`); sweep members are composed by
``hydra_plugins.parksim_launchers.launchers``, from the same.

A group composition is kept per config name, group overrides, working
directory, job name, search path and the config files' modification times, so
an edited config file is composed afresh.

References:
    hydra-core 1.3, ``hydra._internal.config_loader_impl``
    (``_load_configuration_impl``, ``load_sweep_config``) and
    ``hydra._internal.defaults_list.Overrides`` (which overrides choose groups),
    whose steps this follows.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, open_dict

__all__ = [
    "chooses_group",
    "clear",
    "compose",
    "compose_multirun",
    "compose_run",
    "keep",
    "keep_groups",
    "kept",
]

# (config name, group overrides, cwd, job name, search path, files stamp) -> config
_GROUPS: dict[tuple[Any, ...], DictConfig] = {}


def clear() -> None:
    """Forget every group composition of this process."""
    _GROUPS.clear()


def kept() -> dict[tuple[Any, ...], DictConfig]:
    """The group compositions this process keeps (a new mapping; the configs are shared)."""
    return dict(_GROUPS)


def keep(groups: dict[tuple[Any, ...], DictConfig]) -> None:
    """Keep group compositions made by another process (:func:`kept` there), for the same keys.

    A key holds the working directory, the job name, the search path and the
    config files' modification times, so a composition sent from a process that
    differs in any of them is never used.
    """
    for key, cfg in groups.items():
        _GROUPS.setdefault(key, cfg)


def _files_stamp(loader: Any) -> tuple[Any, ...]:
    """The search path and the newest modification time of its config directories."""
    path = tuple((p.provider, p.path) for p in loader.get_search_path().get_path())
    newest = 0
    for _, where in path:
        if where and where.startswith("file://"):
            for dirpath, _, files in os.walk(where[len("file://") :]):
                for name in files:
                    newest = max(newest, (Path(dirpath) / name).stat().st_mtime_ns)
    return (path, newest)


def compose(loader: Any, config_name: str | None, overrides: Sequence[str]) -> DictConfig:
    """The config Hydra's loader composes for ``overrides`` in run mode.

    Args:
        loader: Hydra's config loader (``Hydra.config_loader``).
        config_name: The primary config's name.
        overrides: Command-line overrides, in order.

    Returns:
        ``loader.load_configuration(config_name, overrides, RunMode.RUN)``'s config
        (a new object; the kept group composition is not shared).

    Raises:
        hydra.errors.HydraException: As Hydra's composition raises (a bad group
            choice, a value that does not merge, a sweep in run mode).
    """
    from hydra.types import RunMode

    return _compose(loader, config_name, overrides, RunMode.RUN)


def compose_multirun(loader: Any, config_name: str | None, overrides: Sequence[str]) -> DictConfig:
    """The sweep's own config, as Hydra's loader composes it for ``Hydra.multirun``.

    Hydra composes a sweep's config from its overrides with the sweeps left out
    (each is recorded in ``hydra.overrides``, not applied): the same config
    groups as a member that keeps the swept values' defaults, so the group
    composition the pre-flight check made for the members (a seed sweep's
    members all choose the sweep's groups) is used again. When the groups do
    not compose in run mode (a group left missing, which Hydra skips in a
    sweep), Hydra composes it.

    Args:
        loader: Hydra's config loader (``Hydra.config_loader``).
        config_name: The primary config's name.
        overrides: The command line's overrides, in order (with Hydra's
            ``hydra.mode=MULTIRUN``).

    Returns:
        ``loader.load_configuration(config_name, overrides, RunMode.MULTIRUN)``'s
        config (a new object).

    Raises:
        hydra.errors.HydraException: As Hydra's composition raises.
    """
    from hydra.types import RunMode

    return _compose(loader, config_name, overrides, RunMode.MULTIRUN)


def chooses_group(repo: Any, override: Any) -> bool:
    """Whether a parsed override chooses a config group, as Hydra tells them apart.

    As ``hydra._internal.defaults_list.Overrides``: an override whose key is a
    group of the config repository and whose value is not a dict; every other
    override sets a value.

    Args:
        repo: Hydra's config repository (``loader.repository``).
        override: A parsed override (``hydra.core.override_parser.types.Override``).
    """
    return not isinstance(override.value(), dict) and repo.group_exists(override.key_or_group)


def keep_groups(loader: Any, config_name: str | None, overrides: Sequence[str]) -> None:
    """Compose and keep the config groups ``overrides`` choose, as :func:`compose` would.

    Nothing else is composed: for a process that sends its kept compositions to
    others (:func:`kept`), without :func:`compose`'s copy of the run's config.

    Args:
        loader: Hydra's config loader (``Hydra.config_loader``).
        config_name: The primary config's name.
        overrides: Command-line overrides, in order (sweeps are left out, as
            Hydra leaves them out).

    Raises:
        hydra.errors.HydraException: As Hydra's composition of the groups raises.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides([str(x) for x in overrides])
    if not _moves_search_path(parsed):
        _kept_groups(loader, config_name, [o for o in parsed if not o.is_sweep_override()])


def _moves_search_path(parsed: Sequence[Any]) -> bool:
    """Whether the overrides set ``hydra.searchpath``: where the groups are found changes.

    Hydra reads it from the overrides before it composes the groups
    (``ConfigLoaderImpl._process_config_searchpath``), so such a composition is
    never kept.
    """
    return any(o.get_key_element() == "hydra.searchpath" for o in parsed)


def _kept_groups(loader: Any, config_name: str | None, applied: Sequence[Any]) -> DictConfig:
    """The kept composition of the groups the parsed overrides ``applied`` choose.

    Composed by ``loader`` in run mode the first time its key is seen (config
    name, group overrides, working directory, job name, search path, files
    stamp); shared, so callers copy it before changing it.
    """
    from hydra.core.utils import JobRuntime
    from hydra.types import RunMode

    groups = [o.input_line for o in applied if chooses_group(loader.repository, o)]
    key = (
        config_name,
        tuple(groups),
        os.getcwd(),
        JobRuntime.instance().get("name"),
        _files_stamp(loader),
    )
    if key not in _GROUPS:
        _GROUPS[key] = loader.load_configuration(
            config_name=config_name, overrides=groups, run_mode=RunMode.RUN
        )
    return _GROUPS[key]


def _compose(
    loader: Any, config_name: str | None, overrides: Sequence[str], run_mode: Any
) -> DictConfig:
    """:func:`compose` or :func:`compose_multirun`, by ``run_mode``, in Hydra's order.

    The steps of ``ConfigLoaderImpl._load_configuration_impl``: the sweeps
    checked, the groups composed (kept, without the sweeps), the value
    overrides applied (not the sweeps), every override recorded.
    """
    from hydra._internal.config_loader_impl import ConfigLoaderImpl, get_overrides_dirname
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.types import RunMode

    texts = [str(x) for x in overrides]
    parsed = OverridesParser.create().parse_overrides(texts)
    if _moves_search_path(parsed):  # Hydra composes it, nothing is kept
        return loader.load_configuration(
            config_name=config_name, overrides=texts, run_mode=run_mode
        )
    ConfigLoaderImpl.validate_sweep_overrides_legal(parsed, run_mode, from_shell=True)
    repo = loader.repository
    applied = [o for o in parsed if not o.is_sweep_override()]
    try:
        base = _kept_groups(loader, config_name, applied)
    except Exception:
        if run_mode != RunMode.MULTIRUN:
            raise
        # e.g. a missing group, which a sweep's composition skips: Hydra's own
        return loader.load_configuration(
            config_name=config_name, overrides=texts, run_mode=run_mode
        )
    cfg = copy.deepcopy(base)
    values = [o for o in applied if not chooses_group(repo, o)]
    ConfigLoaderImpl._apply_overrides_to_config(values, cfg)
    task = [o for o in parsed if not o.is_hydra_override()]
    hc = cfg.hydra
    with open_dict(hc):
        hc.overrides.hydra = [o.input_line for o in parsed if o.is_hydra_override()]
        hc.overrides.task = [o.input_line for o in task]
        hc.runtime.choices.update(base.hydra.runtime.choices)
        for name in ("version", "version_base", "cwd", "config_sources"):
            hc.runtime[name] = base.hydra.runtime[name]
    dirname = hc.job.config.override_dirname
    hc.job.override_dirname = get_overrides_dirname(
        overrides=task,
        kv_sep=dirname.kv_sep,
        item_sep=dirname.item_sep,
        exclude_keys=dirname.exclude_keys,
    )
    hc.job.config_name = config_name
    return cfg


def compose_run(
    loader: Any, config_name: str | None, overrides: Sequence[str]
) -> tuple[DictConfig, Any]:
    """Compose a single run as ``Hydra.run`` will, and the mode its config files set.

    Hydra first composes the config to read ``hydra.mode`` (``Hydra.get_mode``);
    when no config file sets it, ``Hydra.run`` appends ``hydra.mode=RUN`` to the
    overrides and composes everything again. The second composition differs from
    the first only by that last value override, so this applies it to the first
    (as Hydra's loader does: set the value, record the override in
    ``hydra.overrides.hydra``) instead of composing twice. The composition is
    :func:`simulation.hydra_compose.compose`'s (the config groups' part made once
    per process: a process that checks many command lines composes each choice
    of groups once).

    Args:
        loader: Hydra's config loader (``Hydra.config_loader``).
        config_name: The primary config's name.
        overrides: The command line's overrides.

    Returns:
        The config ``Hydra.run`` would compose for ``overrides`` (when the mode is
        None), and the ``hydra.mode`` the config files set (None: not set).
    """
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra.core.override_parser.overrides_parser import OverridesParser

    cfg = compose(loader, config_name, overrides)
    mode = cfg.hydra.mode
    if mode is None:
        run = OverridesParser.create().parse_overrides(["hydra.mode=RUN"])
        ConfigLoaderImpl._apply_overrides_to_config(run, cfg)
        cfg.hydra.overrides.hydra.append("hydra.mode=RUN")
    return cfg, mode
