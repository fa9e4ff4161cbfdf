"""Shared value checks of the config groups and the error they raise."""

from __future__ import annotations

import math

__all__ = ["ConfigError", "fraction", "positive"]


class ConfigError(ValueError):
    """A configuration value is out of its allowed range.

    The message names the full key (for example ``park.n_users``) and what is
    allowed, so that the command line can print it without a traceback.
    """


def positive(key: str, value: float, *, integer: bool = False, allow_zero: bool = False) -> None:
    """Require ``value`` > 0 (or >= 0 with ``allow_zero``) and finite.

    Args:
        key: Full key named in the message.
        value: The value.
        integer: Say "integer" in the message.
        allow_zero: Accept 0.

    Raises:
        ConfigError: If the value is out of range.
    """
    ok = value >= 0 if allow_zero else value > 0
    if not ok or (isinstance(value, float) and not math.isfinite(value)):
        what = "a positive integer" if integer else "a positive number"
        if allow_zero:
            what = "a non-negative number"
        raise ConfigError(f"{key}={value}: must be {what}")


def fraction(key: str, value: float) -> None:
    """Require ``value`` in [0, 1].

    Args:
        key: Full key named in the message.
        value: The value.

    Raises:
        ConfigError: If the value is out of range.
    """
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"{key}={value}: must be in [0, 1]")
