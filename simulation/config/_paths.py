"""Where the YAML configs are: the checkout's ``conf/``, or the installed package.

In a checkout (or an editable install) the configs are the repository's
top-level ``conf/``; a wheel ships the same files as the package
``parksim_conf`` (``pyproject.toml`` maps it onto ``conf/``), found through
:mod:`importlib.resources`.
"""

from __future__ import annotations

import functools
import importlib.resources
from pathlib import Path

from omegaconf import OmegaConf

__all__ = ["conf_dir", "experiment_names", "phase_presets"]

_CHECKOUT_CONF = Path(__file__).resolve().parents[2] / "conf"


@functools.cache
def conf_dir() -> Path:
    """The directory holding ``config.yaml`` and the config groups.

    Returns:
        The checkout's ``conf/`` if this module runs from a checkout, else the
        installed ``parksim_conf`` package directory.

    Raises:
        FileNotFoundError: If neither is there.
    """
    if (_CHECKOUT_CONF / "config.yaml").is_file():
        return _CHECKOUT_CONF
    try:
        installed = Path(str(importlib.resources.files("parksim_conf")))
    except ModuleNotFoundError:
        installed = None
    if installed is not None and (installed / "config.yaml").is_file():
        return installed
    raise FileNotFoundError(
        f"parksim configs not found: neither {_CHECKOUT_CONF} nor an installed parksim_conf"
    )


def experiment_names() -> list[str]:
    """Names of the experiments in ``conf/experiment/`` (sorted)."""
    return sorted(p.stem for p in (conf_dir() / "experiment").glob("*.yaml"))


@functools.cache
def phase_presets() -> dict[str, dict[str, bool]]:
    """Each phase preset in ``conf/phase/`` → its module switches.

    Returns:
        Preset name → switch name → on/off (the ``name`` key left out).
    """
    out: dict[str, dict[str, bool]] = {}
    for path in sorted((conf_dir() / "phase").glob("*.yaml")):
        node = OmegaConf.to_container(OmegaConf.load(path))
        assert isinstance(node, dict)
        out[path.stem] = {str(k): bool(v) for k, v in node.items() if k not in ("defaults", "name")}
    return out
