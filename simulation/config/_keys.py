"""Schema walks derived from the dataclass type hints: unknown keys, missing keys, ranges.

A ``+key=value`` override bypasses Hydra's structured-config check and ``~key``
deletes a key, so :func:`check_keys` walks the composed config against the
dataclass types; :func:`check_ranges` enforces every declared range. The
nesting is read from each field's type hint — a nested dataclass, or a
``dict[str, Dataclass]`` of named entries — so a group is declared once, in its
dataclass. Both walk a DictConfig or its plain container
(``OmegaConf.to_container(cfg, resolve=True)``), on which they do the same checks
about fifteen times faster: a key of a DictConfig is read through OmegaConf's node
resolution (the default park's config, best of five: 9.6 ms on the DictConfig,
0.6 ms on the container, which takes 2.3 ms to make). Each member of a sweep is
checked twice, before the sweep and in its run.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Iterator
from typing import Any

from omegaconf import MISSING, DictConfig, ListConfig, OmegaConf

from simulation.config._checks import ConfigError, Range, field_range

__all__ = ["check_keys", "check_ranges", "children", "iter_ranges"]


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


def _is_missing(node: DictConfig | dict[Any, Any], key: str) -> bool:
    """Whether ``node[key]`` is OmegaConf's missing value (``???``)."""
    if isinstance(node, DictConfig):
        return OmegaConf.is_missing(node, key)
    value = node[key]
    return isinstance(value, str) and value == MISSING


def check_keys(node: Any, schema: type, prefix: str = "") -> None:
    """Reject keys that are not fields of the schema and fields that are missing.

    Args:
        node: A config node or its plain container (other nodes, a list or a
            scalar, are not checked).
        schema: The dataclass the node should follow.
        prefix: Dotted key of the node, with a trailing dot (``""`` at the root).

    Raises:
        ConfigError: Naming the first unknown or missing key.
    """
    if not isinstance(node, DictConfig | dict):
        return
    allowed = children(schema)
    for key in node:
        full = f"{prefix}{key!s}"
        if key not in allowed:
            raise ConfigError(
                f"{full}: unknown key; allowed under '{prefix.rstrip('.') or '<root>'}': "
                f"{sorted(allowed)}"
            )
    for key, (sub_type, dict_of) in allowed.items():
        full = f"{prefix}{key}"
        if key not in node or _is_missing(node, key):
            raise ConfigError(f"{full}: missing mandatory value (the schema requires it)")
        if sub_type is None:
            continue
        child = node[key]
        if dict_of:
            if isinstance(child, DictConfig | dict):
                for name in child:
                    check_keys(child[name], sub_type, f"{full}.{name!s}.")
        else:
            check_keys(child, sub_type, f"{full}.")


def _values(value: Any) -> Iterator[tuple[str, Any]]:
    """(suffix, scalar) pairs of a scalar, list or dict value."""
    if isinstance(value, list | tuple | ListConfig):
        for i, v in enumerate(value):
            yield f"[{i}]", v
    elif isinstance(value, dict | DictConfig):
        for k, v in value.items():
            yield f".{k!s}", v
    else:
        yield "", value


def check_ranges(node: Any, schema: type, prefix: str = "") -> None:
    """Enforce the declared range of every field (of each element of lists and dicts).

    Args:
        node: A config node, its plain container or a dataclass instance following
            ``schema``.
        schema: The dataclass the node follows.
        prefix: Dotted key of the node, with a trailing dot.

    Raises:
        ConfigError: Naming the first value outside its range and the range.
    """
    kids = children(schema)
    plain = isinstance(node, dict)
    for f in dataclasses.fields(schema):
        value = node[f.name] if plain else getattr(node, f.name)
        full = f"{prefix}{f.name}"
        sub_type, dict_of = kids[f.name]
        if sub_type is not None:
            if dict_of:
                for name in value:
                    check_ranges(value[name], sub_type, f"{full}.{name}.")
            else:
                check_ranges(value, sub_type, f"{full}.")
            continue
        rng = field_range(f)
        if rng is None:
            continue
        for suffix, v in _values(value):
            if v not in rng or (rng.integer and not isinstance(v, int)):
                raise ConfigError(f"{full}{suffix}={v}: must be {rng}")


def iter_ranges(schema: type, prefix: str = "") -> Iterator[tuple[str, Range, bool]]:
    """Every ranged field below a schema: (dotted key, range, is a list/dict of values).

    Dict-of-dataclass fields appear with ``*`` in place of the entry name.

    Args:
        schema: A dataclass type.
        prefix: Dotted prefix with a trailing dot.

    Yields:
        ``(key, range, many)`` for each ranged field.
    """
    kids = children(schema)
    hints = typing.get_type_hints(schema)
    for f in dataclasses.fields(schema):
        sub_type, dict_of = kids[f.name]
        if sub_type is not None:
            yield from iter_ranges(sub_type, f"{prefix}{f.name}.{'*.' if dict_of else ''}")
            continue
        rng = field_range(f)
        if rng is not None:
            many = typing.get_origin(hints[f.name]) in (list, dict)
            yield f"{prefix}{f.name}", rng, many
