"""Unknown-key check derived from the schema's type hints.

A ``+key=value`` override bypasses Hydra's structured-config check, so
:func:`check_keys` walks the composed config against the dataclass types. The
nesting is read from each field's type hint — a nested dataclass, or a
``dict[str, Dataclass]`` of named entries — so a new group is declared once,
in its dataclass.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from typing import Any

from omegaconf import DictConfig

from simulation.config._checks import ConfigError

__all__ = ["check_keys", "children"]


@functools.cache
def children(schema: type) -> dict[str, tuple[type | None, bool]]:
    """Each field of a dataclass → (nested dataclass or None, is a dict of it).

    Args:
        schema: A dataclass type.

    Returns:
        Field name → ``(sub-schema, dict_of)``: ``sub-schema`` is the nested
        dataclass of the field or of its dict values, ``None`` for a leaf.
    """
    hints = typing.get_type_hints(schema)
    out: dict[str, tuple[type | None, bool]] = {}
    for f in dataclasses.fields(schema):
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint) and isinstance(hint, type):
            out[f.name] = (hint, False)
            continue
        args = typing.get_args(hint)
        if typing.get_origin(hint) is dict and len(args) == 2:
            value_type = args[1]
            if dataclasses.is_dataclass(value_type) and isinstance(value_type, type):
                out[f.name] = (value_type, True)
                continue
        out[f.name] = (None, False)
    return out


def check_keys(node: Any, schema: type, prefix: str = "") -> None:
    """Reject keys that are not fields of the schema, recursively.

    Args:
        node: A config node (non-DictConfig nodes are not checked).
        schema: The dataclass the node should follow.
        prefix: Dotted key of the node, with a trailing dot (``""`` at the root).

    Raises:
        ConfigError: Naming the first unknown key and the keys allowed there.
    """
    if not isinstance(node, DictConfig):
        return
    allowed = children(schema)
    for key in node:
        full = f"{prefix}{key!s}"
        if key not in allowed:
            raise ConfigError(
                f"{full}: unknown key; allowed under '{prefix.rstrip('.') or '<root>'}': "
                f"{sorted(allowed)}"
            )
        sub_type, dict_of = allowed[str(key)]
        if sub_type is None:
            continue
        child = node[key]
        if dict_of:
            if isinstance(child, DictConfig):
                for name in child:
                    check_keys(child[name], sub_type, f"{full}.{name!s}.")
        else:
            check_keys(child, sub_type, f"{full}.")
