"""Shared value checks of the config groups: declared ranges and the error they raise.

Every numeric field of the schema declares its allowed range once, with
:func:`ranged` (the range is kept in the field's metadata). :func:`check_ranges`
in :mod:`simulation.config._keys` enforces them for every group; a group's
``check`` adds only the rules that involve several keys. ``python -m
simulation.config`` prints every key with its range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ConfigError", "Range", "field_range", "ranged"]


class ConfigError(ValueError):
    """A configuration value is out of its allowed range.

    The message names the full key (for example ``park.n_users``) and what is
    allowed, so that the command line can print it without a traceback.
    """


@dataclass(frozen=True)
class Range:
    """An interval of allowed values (closed unless an end is marked open).

    Attributes:
        lo: Lower end (``-inf``: unbounded below).
        hi: Upper end (``inf``: unbounded above).
        lo_open: Exclude ``lo``.
        hi_open: Exclude ``hi``.
        integer: The value is an integer.
    """

    lo: float = -math.inf
    hi: float = math.inf
    lo_open: bool = False
    hi_open: bool = False
    integer: bool = False

    def __contains__(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if not math.isfinite(value):
            return False
        above = value > self.lo if self.lo_open else value >= self.lo
        below = value < self.hi if self.hi_open else value <= self.hi
        return above and below

    def __str__(self) -> str:
        def end(x: float) -> str:
            if math.isinf(x):
                return "inf" if x > 0 else "-inf"
            if x == int(x):
                return f"{int(x):_}"
            return f"{x:g}"

        left = "(" if self.lo_open or math.isinf(self.lo) else "["
        right = ")" if self.hi_open or math.isinf(self.hi) else "]"
        kind = "an integer" if self.integer else "a finite number"
        return f"{kind} in {left}{end(self.lo)}, {end(self.hi)}{right}"

    def outside(self) -> list[float]:
        """Values just outside the range (below it, and above it when bounded).

        Returns:
            One or two values that :meth:`__contains__` rejects.
        """
        step = 1.0
        out = [self.lo if self.lo_open else self.lo - step]
        if not math.isinf(self.hi):
            out.append(self.hi if self.hi_open else self.hi + step)
        if self.integer:
            out = [float(math.floor(v)) if v < self.lo else float(math.ceil(v)) for v in out]
        return out


def ranged(
    default: Any = None,
    *,
    lo: float = -math.inf,
    hi: float = math.inf,
    lo_open: bool = False,
    hi_open: bool = False,
    integer: bool = False,
    factory: Any = None,
) -> Any:
    """A dataclass field with its allowed range (for lists and dicts: of each value).

    Args:
        default: Default value (ignored when ``factory`` is given).
        lo: Lower end.
        hi: Upper end.
        lo_open: Exclude ``lo``.
        hi_open: Exclude ``hi``.
        integer: The value is an integer.
        factory: Default factory for list and dict fields.

    Returns:
        A ``dataclasses.field`` carrying the range in its metadata.
    """
    meta = {"range": Range(lo, hi, lo_open, hi_open, integer)}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def field_range(f: Any) -> Range | None:
    """The declared range of a dataclass field, if any."""
    r = f.metadata.get("range")
    return r if isinstance(r, Range) else None
