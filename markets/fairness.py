"""Fairness of a curtailment (or any burden) split: Jain's index, dimensionless.

References:
    Jain, R., Chiu, D.-M. & Hawe, W. (1984) A quantitative measure of fairness and
    discrimination for resource allocation in shared computer systems. DEC-TR-301.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from markets._checks import finite_array

__all__ = ["jain_index"]


def jain_index(shares: ArrayLike) -> float:
    """Jain's fairness index of curtailed shares.

    ``J = (Σ s)² / (n·Σ s²)``; ``1`` when every share is equal (including all zero) and
    ``1/n`` when one user carries everything.  Always in ``[1/n, 1]``.

    Args:
        shares: Non-negative shares (dimensionless), one per user, 1-D.

    Returns:
        Jain's index; ``1.0`` for an empty array or all-zero shares.

    Raises:
        ValueError: If ``shares`` is not 1-D, contains NaN/inf or negative values.

    References:
        Jain, Chiu & Hawe (1984), DEC-TR-301.
    """
    s = finite_array(shares, "shares", lower=0.0)
    if s.ndim != 1:
        raise ValueError(f"shares must be 1-D, got shape {s.shape}")
    sq = float(np.dot(s, s))
    if s.size == 0 or sq <= 0.0:
        return 1.0
    j = float(s.sum()) ** 2 / (s.size * sq)
    return float(min(1.0, max(1.0 / s.size, j)))
