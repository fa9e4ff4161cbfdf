"""A validated config frozen into plain Python objects for fast reads.

``DictConfig`` attribute access resolves nodes, interpolations and
missing-value markers on every read (tens of microseconds), and the model's
daily stages read the config thousands of times a year. :func:`freeze`
resolves the config once into :class:`FrozenConfig` nodes, read-only
mappings whose keys are also plain instance attributes, so ``cfg.grid.x``
costs two dictionary look-ups. Lists become tuples. The values are exactly
those of ``OmegaConf.to_container(cfg, resolve=True)``, so results do not
change.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from omegaconf import DictConfig, OmegaConf

__all__ = ["FrozenConfig", "freeze"]


class FrozenConfig(Mapping[str, Any]):
    """A read-only config node: attribute and item access to its keys.

    Args:
        items: The node's keys and (already frozen) values.
    """

    def __init__(self, items: Mapping[str, Any]) -> None:
        data = dict(items)
        object.__setattr__(self, "_data", data)
        # Keys as instance attributes: a hit needs no ``__getattr__`` call.
        self.__dict__.update(data)

    def __getattr__(self, name: str) -> Any:
        # Only reached when ``name`` is not a key (nor a method).
        raise AttributeError(f"config has no key {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"the frozen config is read-only (cannot set {name!r})")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"the frozen config is read-only (cannot delete {name!r})")

    def __getitem__(self, key: str) -> Any:
        return self._data[key]  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"FrozenConfig({self._data!r})"

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        return (FrozenConfig, (self._data,))


def _freeze_value(value: Any) -> Any:
    if isinstance(value, dict):
        return FrozenConfig({str(k): _freeze_value(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze_value(v) for v in value)
    return value


def freeze(cfg: Any) -> Any:
    """Freeze a config into :class:`FrozenConfig` nodes (a no-op on a frozen one).

    Args:
        cfg: A validated ``DictConfig`` (or an already frozen config, or a
            plain mapping).

    Returns:
        The resolved config as nested :class:`FrozenConfig` nodes.
    """
    if isinstance(cfg, FrozenConfig):
        return cfg
    if isinstance(cfg, DictConfig):
        return _freeze_value(OmegaConf.to_container(cfg, resolve=True))
    return _freeze_value(dict(cfg))
