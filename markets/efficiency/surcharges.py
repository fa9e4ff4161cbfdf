"""Differential electricity surcharges (CNY/kWh) by industry category.

References:
    NDRC differential electricity price policy (发改价格〔2004〕159号, 〔2010〕978号).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np
from numpy.typing import ArrayLike, NDArray

from markets._checks import (
    broadcast,
    finite_array,
    real_scalar,
)

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

__all__ = [
    "CATEGORIES",
    "DEFAULT_SURCHARGES_CNY_PER_KWH",
    "differential_surcharge_cny",
    "differential_surcharge_cny_per_kwh",
]


CATEGORIES: tuple[str, ...] = ("encouraged", "permitted", "restricted", "eliminated")
"""Industry categories of the differential electricity price policy."""

DEFAULT_SURCHARGES_CNY_PER_KWH: Mapping[str, float] = MappingProxyType(
    {"encouraged": 0.0, "permitted": 0.0, "restricted": 0.10, "eliminated": 0.30}
)
"""Differential surcharges of DESIGN.md (NDRC 发改价格〔2010〕978号 levels), CNY/kWh."""


# --------------------------------------------------------------------------- surcharges


def differential_surcharge_cny_per_kwh(
    category: ArrayLike, surcharges_cny_per_kwh: Mapping[str, float]
) -> FloatArray:
    """Differential surcharge rate per user from its industry category.

    Args:
        category: One of ``encouraged``, ``permitted``, ``restricted``,
            ``eliminated`` per user (any shape).
        surcharges_cny_per_kwh: Rate per category, CNY/kWh, ≥ 0; categories
            left out pay 0 (e.g. ``{"restricted": 0.10, "eliminated": 0.30}``).

    Returns:
        Surcharge rate, CNY/kWh, with the shape of ``category``.

    Raises:
        ValueError: If ``category`` holds an unknown category (naming it), or
            ``surcharges_cny_per_kwh`` has an unknown key or a bad rate.

    References:
        NDRC differential electricity price policy (发改价格〔2004〕159号,
        〔2010〕978号): restricted +0.10, eliminated +0.30 CNY/kWh.
    """
    if not isinstance(surcharges_cny_per_kwh, Mapping):
        raise ValueError("surcharges_cny_per_kwh must be a mapping from category to CNY/kWh")
    bad_keys = sorted(str(k) for k in surcharges_cny_per_kwh if k not in CATEGORIES)
    if bad_keys:
        raise ValueError(
            f"surcharges_cny_per_kwh has unknown category(ies) {bad_keys}; expected {CATEGORIES}"
        )
    rates = {
        c: real_scalar(
            surcharges_cny_per_kwh.get(c, 0.0), f"surcharges_cny_per_kwh[{c!r}]", lower=0.0
        )
        for c in CATEGORIES
    }
    cat = np.asarray(category)
    uniq, inv = np.unique(cat.ravel().astype(str), return_inverse=True)
    unknown = [str(u) for u in uniq if u not in rates]
    if unknown:
        raise ValueError(f"category has unknown value(s) {unknown}; expected {CATEGORIES}")
    table = np.array([rates[str(u)] for u in uniq], dtype=np.float64)
    return table[inv.reshape(-1)].reshape(cat.shape)


def differential_surcharge_cny(
    energy_kwh: ArrayLike,
    category: ArrayLike,
    surcharges_cny_per_kwh: Mapping[str, float],
) -> FloatArray:
    """Differential surcharge paid on top of the tariff: ``energy · rate(category)``.

    Args:
        energy_kwh: Energy billed, kWh, ≥ 0.
        category: Industry category per user (see
            :func:`differential_surcharge_cny_per_kwh`), broadcastable.
        surcharges_cny_per_kwh: Rate per category, CNY/kWh; omitted
            categories pay 0.

    Returns:
        Surcharge, CNY (paid by the user), with the broadcast shape.

    Raises:
        ValueError: If ``energy_kwh`` is negative or not finite, a category
            or rate is invalid (naming it), or the shapes do not broadcast.

    References:
        NDRC differential electricity price policy (发改价格〔2004〕159号,
        〔2010〕978号).
    """
    energy = finite_array(energy_kwh, "energy_kwh", lower=0.0)
    rate = differential_surcharge_cny_per_kwh(category, surcharges_cny_per_kwh)
    energy, rate = broadcast(energy_kwh=energy, category=rate)
    return energy * rate
