"""The ``parksim`` command's check of every run before any starts, and the Hydra steps it spares.

Every run a command line describes is composed and validated before anything
is written (:func:`preflight`): every member of a ``-m`` sweep, all bad members
reported at once, one line each, and the command exits with status 2 without
running anything. :mod:`simulation.cli` runs the check inside Hydra, where
Hydra's config loader is set up (:func:`checked_in_hydra`; a single run:
:func:`compose_once`), so that the compositions the check makes serve the steps
of Hydra that would compose the same configs again.

References:
    hydra-core 1.3, ``hydra._internal.hydra.Hydra`` (``get_mode``, ``run``,
    ``multirun``), ``hydra._internal.utils._run_hydra`` and
    ``hydra.plugins.sweeper.Sweeper.validate_batch_is_legal``, the steps these
    replace.
"""

from __future__ import annotations

import contextlib
import pickle
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from simulation.config import ConfigError, validate
from simulation.run import CONF_DIR, check_experiments

__all__ = [
    "EXIT_CONFIG",
    "STATE",
    "checked_in_hydra",
    "compose_once",
    "one_line",
    "preflight",
    "sets_mode",
    "sweep_members",
]

#: Exit status of a bad command line or config (nothing ran).
EXIT_CONFIG = 2

#: The command's state, shared by :mod:`simulation.cli` and its sweep callback (one
#: process): ``expected`` runs, ``failed`` ones, ``multirun``, and what the check
#: found: ``mode_known`` (no config file or override sets ``hydra.mode``) and
#: ``batch_known`` (every member composed, no swept ``hydra`` override).
STATE: dict[str, Any] = {"expected": 0, "failed": 0}


def one_line(err: BaseException) -> str:
    """An error in one line: its message, its cause's first line, whitespace joined."""
    text = str(err).strip() or type(err).__name__
    cause = err.__cause__
    if cause is not None and str(cause).strip():
        text = f"{text} ({str(cause).strip().splitlines()[0]})"
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def sets_mode(overrides: Sequence[str]) -> bool:
    """Whether the command line sets ``hydra.mode`` itself."""
    return any(o.lstrip("+~").startswith("hydra.mode") for o in overrides)


def sweep_members(overrides: Sequence[str], multirun: bool) -> list[list[str]]:
    """The override list of every run a command line describes.

    Args:
        overrides: The command line's overrides.
        multirun: ``-m`` was given.

    Returns:
        One override list per run (one list without ``-m``).

    Raises:
        ConfigError: If an override cannot be parsed, or is a sweep without ``-m``.
    """
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except HydraException as err:
        raise ConfigError(one_line(err)) from None
    if not multirun:
        for o in parsed:
            if o.is_sweep_override():
                raise ConfigError(f"{o.input_line}: a sweep needs -m (parksim -m ...)")
        return [list(overrides)]
    try:
        return BasicSweeper.split_arguments(parsed, None)[0]
    except HydraException as err:
        raise ConfigError(one_line(err)) from None


def _compose_member(
    member: list[str],
    loader: Any,
    config_name: str | None,
    cache: dict[tuple[str, ...], tuple[bytes, str | None]],
) -> tuple[DictConfig, str | None]:
    """Compose one run's config as Hydra does, reusing compositions of the same groups.

    Hydra composes the defaults list from the config-group overrides and then
    applies the value overrides to the result; this does the same, with the
    group composition made once per choice of groups
    (:func:`simulation.hydra_compose.compose`, with the member's hydra groups
    first as the sweep's launcher composes a member, so that the sweep and its
    members use it again), so validating a large sweep costs one composition per
    distinct choice of groups.

    Args:
        member: The run's overrides.
        loader: Hydra's config loader.
        config_name: The primary config's name.
        cache: Group choices -> (pickled composition without its hydra node,
            its ``hydra.mode``), filled here.

    Returns:
        The config (without its ``hydra`` node), and the ``hydra.mode`` its
        config files set (None: the command line decides), ignoring any
        ``hydra.mode`` override of the command line.
    """
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import open_dict

    from simulation import hydra_compose

    check_experiments(member)
    every = OverridesParser.create().parse_overrides(member)
    groups = [o for o in every if hydra_compose.chooses_group(loader.repository, o)]
    chosen = [o for o in groups if o.is_hydra_override()]  # hydra groups first
    chosen += [o for o in groups if not o.is_hydra_override()]
    value_ovr = [o for o in every if not o.is_hydra_override() and o not in groups]
    key = tuple(str(o.input_line) for o in chosen)
    if key not in cache:
        full = hydra_compose.compose(loader, config_name, list(key))
        mode = full.hydra.mode
        with open_dict(full):
            del full["hydra"]
        cache[key] = (pickle.dumps(full), None if mode is None else str(mode))
    blob, mode = cache[key]
    cfg = pickle.loads(blob)
    ConfigLoaderImpl._apply_overrides_to_config(value_ovr, cfg)
    return cfg, mode


@contextlib.contextmanager
def _conf_loader() -> Iterator[Any]:
    """Hydra's config loader for ``conf/``: the running app's, or one set up for the check."""
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from simulation.config import register_configs

    register_configs()
    if GlobalHydra.instance().is_initialized():
        yield GlobalHydra.instance().config_loader()
        return
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        yield GlobalHydra.instance().config_loader()


def preflight(
    overrides: Sequence[str],
    multirun: bool,
    loader: Any = None,
    config_name: str | None = "config",
) -> tuple[int, list[str]]:
    """Compose and validate every run of a command line before any starts.

    Args:
        overrides: The command line's overrides.
        multirun: ``-m`` was given.
        loader: Hydra's config loader, inside the ``parksim`` app (its group
            compositions are kept for the sweep: see :func:`_compose_member`);
            default the running Hydra app's, or one for ``conf/`` (from Python).
        config_name: The primary config's name.

    Returns:
        The number of runs, and one error line per bad run (empty if all are good).
    """
    if loader is None:
        with _conf_loader() as conf:
            return preflight(overrides, multirun, conf, config_name)
    try:
        members = sweep_members(overrides, multirun)
    except ConfigError as err:
        return 0, [str(err)]
    errors = []
    modes = set()
    cache: dict[tuple[str, ...], tuple[bytes, str | None]] = {}
    for num, member in enumerate(members):
        try:
            cfg, mode = _compose_member(member, loader, config_name, cache)
            modes.add(mode)
            validate(cfg)
        except (ConfigError, HydraException, OmegaConfBaseException) as err:
            where = f"run {num} ({' '.join(member)}): " if multirun else ""
            errors.append(f"{where}{one_line(err)}")
    STATE["mode_known"] = not errors and not sets_mode(overrides) and modes == {None}
    hydra_ovr = {tuple(o for o in m if o.lstrip("+~").startswith("hydra")) for m in members}
    STATE["batch_known"] = not errors and len(hydra_ovr) <= 1
    return len(members), errors


def _serving(
    load: Callable[..., DictConfig],
    serve: Callable[[Any, str | None, list[str], RunMode], DictConfig | None],
) -> Callable[..., DictConfig]:
    """``ConfigLoaderImpl.load_configuration`` answering from ``serve`` when it has the config.

    Args:
        load: The method replaced (Hydra's composition).
        serve: ``serve(loader, config_name, overrides, run_mode)``: a config made
            already for a composition from the command line, or None (then
            ``load`` composes it).

    Returns:
        The replacement, with ``load``'s signature.
    """

    def load_configuration(
        self: Any,
        config_name: str | None,
        overrides: list[str],
        run_mode: RunMode,
        from_shell: bool = True,
        validate_sweep_overrides: bool = True,
    ) -> DictConfig:
        if from_shell and validate_sweep_overrides:
            cfg = serve(self, config_name, overrides, run_mode)
            if cfg is not None:
                return cfg
        return load(self, config_name, overrides, run_mode, from_shell, validate_sweep_overrides)

    return load_configuration


@contextlib.contextmanager
def checked_in_hydra(multirun: bool) -> Iterator[None]:
    """Check every run inside Hydra, before it runs any, and let Hydra use those compositions.

    ``Hydra.get_mode``, Hydra's first step after it has set up its config
    loader, is replaced by :func:`preflight` with that loader: every member is
    composed and validated before anything is written, a bad config reported in
    one line each and the command exits with status 2. The check's group
    compositions are :mod:`simulation.hydra_compose`'s, so the steps after it
    use them again instead of composing from scratch (about 0.2 s each here):

    * ``hydra.mode``: when the check found it unset everywhere (no config file
      and no override sets it), Hydra's answer is known — ``None``, so Hydra
      picks the mode from ``-m`` exactly as after its own composition
      (``Hydra.get_mode`` composes the whole config to read it);
    * the batch: when, besides, no ``hydra`` override differs between members
      (the check leaves ``hydra.*`` value overrides out; the ones every member
      shares are composed by Hydra's own sweep composition first), every member
      is known to compose, and ``Sweeper.validate_batch_is_legal``, which
      composes each member once more, is skipped;
    * the sweep's config (``ConfigLoader.load_configuration`` in multirun mode):
      :func:`simulation.hydra_compose.compose_multirun`, from the members'
      group composition;
    * the members: the launcher (``hydra_plugins.parksim_launchers``) composes
      them from the same group composition.

    Args:
        multirun: ``-m`` was given.
    """
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra._internal.hydra import Hydra
    from hydra.plugins.sweeper import Sweeper

    from simulation import hydra_compose

    saved = (Hydra.get_mode, Sweeper.validate_batch_is_legal, ConfigLoaderImpl.load_configuration)
    STATE.update(mode_known=False, batch_known=False)
    inside: list[bool] = []  # compose_multirun's own fallback is Hydra's composition

    def get_mode(self: Any, config_name: str | None, overrides: list[str]) -> Any:
        expected, errors = preflight(overrides, multirun, self.config_loader, config_name)
        if errors:
            for line in errors:
                print(f"parksim: error: {line}", file=sys.stderr)
            if len(errors) > 1 or multirun:
                print(
                    f"parksim: {len(errors)} of {max(expected, 1)} runs have a bad config; "
                    "nothing was run",
                    file=sys.stderr,
                )
            sys.exit(EXIT_CONFIG)
        STATE.update(expected=expected, failed=0)
        if STATE["mode_known"]:
            return None
        return saved[0](self, config_name, overrides)

    def validate_batch_is_legal(self: Any, batch: Any) -> None:
        if not (STATE["mode_known"] and STATE["batch_known"]):
            saved[1](self, batch)

    def sweep_config(
        loader: Any, config_name: str | None, overrides: list[str], run_mode: RunMode
    ) -> DictConfig | None:
        if run_mode != RunMode.MULTIRUN or not STATE["mode_known"] or inside:
            return None
        inside.append(True)
        try:
            return hydra_compose.compose_multirun(loader, config_name, overrides)
        finally:
            inside.pop()

    Hydra.get_mode = get_mode  # type: ignore[method-assign]
    Sweeper.validate_batch_is_legal = validate_batch_is_legal  # type: ignore[method-assign]
    ConfigLoaderImpl.load_configuration = _serving(saved[2], sweep_config)  # type: ignore[method-assign]
    try:
        yield
    finally:
        Hydra.get_mode = saved[0]  # type: ignore[method-assign]
        Sweeper.validate_batch_is_legal = saved[1]  # type: ignore[method-assign]
        ConfigLoaderImpl.load_configuration = saved[2]  # type: ignore[method-assign]


@contextlib.contextmanager
def compose_once() -> Iterator[None]:
    """A single run: composed once, inside Hydra, and validated before anything is written.

    ``Hydra.get_mode`` is replaced by :func:`simulation.hydra_compose.compose_run` followed by
    :func:`simulation.config.validate`: a bad config is reported in one line and
    the command exits with status 2 before Hydra creates the run directory, as the
    pre-flight check of a sweep does. The composition is handed to ``Hydra.run``'s
    own request for it (same config name and overrides, plus ``hydra.mode=RUN``),
    so the config is composed once instead of three times (pre-flight, mode, run).
    When a config file sets ``hydra.mode``, Hydra composes again as usual.
    """
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra._internal.hydra import Hydra
    from omegaconf import open_dict

    from simulation import hydra_compose

    saved = (Hydra.get_mode, ConfigLoaderImpl.load_configuration)
    ready: dict[str, Any] = {}

    def get_mode(self: Any, config_name: str | None, overrides: list[str]) -> Any:
        try:
            cfg, mode = hydra_compose.compose_run(self.config_loader, config_name, overrides)
            plain = pickle.loads(pickle.dumps(cfg))
            with open_dict(plain):
                del plain["hydra"]
            validate(plain)
        except (ConfigError, HydraException, OmegaConfBaseException) as err:
            print(f"parksim: error: {one_line(err)}", file=sys.stderr)
            sys.exit(EXIT_CONFIG)
        if mode is None:
            ready.update(key=(config_name, [*overrides, "hydra.mode=RUN"]), cfg=cfg)
        return mode

    def run_config(
        loader: Any, config_name: str | None, overrides: list[str], run_mode: RunMode
    ) -> DictConfig | None:
        if run_mode != RunMode.RUN or ready.get("key") != (config_name, list(overrides)):
            return None
        cfg: DictConfig = ready.pop("cfg")
        ready.clear()
        return cfg

    Hydra.get_mode = get_mode  # type: ignore[method-assign]
    ConfigLoaderImpl.load_configuration = _serving(saved[1], run_config)  # type: ignore[method-assign]
    try:
        yield
    finally:
        Hydra.get_mode, ConfigLoaderImpl.load_configuration = saved  # type: ignore[method-assign]
