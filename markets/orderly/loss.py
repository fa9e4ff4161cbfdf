"""Users' loss from orderly curtailment: CNY per curtailed kWh, restart cost per call.

References:
    NDRC (2011) 《有序用电管理办法》 (Orderly electricity-use management measures);
    parksim DESIGN.md, "Orderly plan" (notice model and restart cost).
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from markets._checks import finite_array, vector

__all__ = ["loss_cny_per_kwh", "loss_of_load_cny", "restart_cost_applies"]

_HOURS_PER_DAY: Final = 24.0


def loss_cny_per_kwh(
    voll_cny_per_kwh: ArrayLike,
    rho: ArrayLike,
    notice_h: ArrayLike,
) -> NDArray[np.float64]:
    """Loss per curtailed kWh as a function of notice lead time.

    ``c(τ) = VOLL·(1 − ρ·(1 − exp(−τ/24)))``: with no notice a kWh costs the full value
    of lost load; with long notice the user reschedules a fraction ``ρ`` of it, so the
    cost falls towards ``VOLL·(1 − ρ)``.  Less notice never costs less.

    Args:
        voll_cny_per_kwh: Value of lost load (CNY/kWh), ``≥ 0``; any shape.
        rho: Reschedulable fraction of the loss in ``[0, 1]``; broadcasts with the others.
        notice_h: Notice lead time ``τ`` (h), ``≥ 0``; broadcasts with the others.

    Returns:
        Loss per curtailed kWh (CNY/kWh), broadcast shape of the inputs.

    Raises:
        ValueError: If an argument is NaN, out of range, or the shapes do not broadcast.

    References:
        NDRC (2011) 《有序用电管理办法》 (advance notice of orderly-use plans);
        parksim DESIGN.md, "Orderly plan".
    """
    voll = finite_array(voll_cny_per_kwh, "voll_cny_per_kwh", lower=0.0)
    r = finite_array(rho, "rho", lower=0.0, upper=1.0)
    tau = finite_array(notice_h, "notice_h", allow_inf=True, lower=0.0)
    try:
        voll, r, tau = np.broadcast_arrays(voll, r, tau)
    except ValueError as exc:
        raise ValueError(
            "voll_cny_per_kwh, rho and notice_h shapes do not broadcast: "
            f"{np.shape(voll)}, {np.shape(r)}, {np.shape(tau)}"
        ) from exc
    return voll * (1.0 - r * (-np.expm1(-tau / _HOURS_PER_DAY)))


def restart_cost_applies(notice_h: ArrayLike, shutdown_h: ArrayLike) -> NDArray[np.bool_]:
    """Whether a call incurs the user's restart cost ``K``.

    A restart cost is due when the notice is shorter than the time the user needs for an
    orderly shutdown (``notice_h < shutdown_h``).

    Args:
        notice_h: Notice lead time (h), ``≥ 0``; any shape.
        shutdown_h: Orderly shutdown time per user (h), ``≥ 0``; broadcasts with notice.

    Returns:
        Boolean array of the broadcast shape, ``True`` where the restart cost applies.

    Raises:
        ValueError: If an argument is NaN, negative, or the shapes do not broadcast.

    References:
        parksim DESIGN.md, "Orderly plan" (restart cost K_i per call).
    """
    tau = finite_array(notice_h, "notice_h", allow_inf=True, lower=0.0)
    sd = finite_array(shutdown_h, "shutdown_h", allow_inf=True, lower=0.0)
    try:
        return np.asarray(tau < sd, dtype=np.bool_)
    except ValueError as exc:
        raise ValueError(
            f"notice_h and shutdown_h shapes do not broadcast: {tau.shape}, {sd.shape}"
        ) from exc


def loss_of_load_cny(
    user: ArrayLike,
    curtailed_kwh: ArrayLike,
    notice_h: ArrayLike,
    starts_call: ArrayLike,
    *,
    voll_cny_per_kwh: ArrayLike,
    rho: ArrayLike,
    shutdown_h: ArrayLike,
    restart_cost_cny: ArrayLike,
) -> NDArray[np.float64]:
    """Each user's loss of load (CNY) from a set of curtailed cells, restart costs included.

    Cell ``j`` (user ``user[j]``) sheds ``curtailed_kwh[j]`` kWh with notice
    ``notice_h[j]``, at :func:`loss_cny_per_kwh` per kWh; a cell that starts a call
    (``starts_call[j]``) also costs the user's restart cost ``K`` when
    :func:`restart_cost_applies` (notice shorter than the shutdown time).  The sums per
    user are ``np.bincount`` sums in cell order, exactly as the simulation's metering did.

    Args:
        user: User (row) index of each cell, ints in ``[0, n_users)``, ``(n_cells,)``.
        curtailed_kwh: Energy shed in each cell (kWh), ``≥ 0``, ``(n_cells,)``.
        notice_h: Notice lead time of each cell (h), ``≥ 0``, ``(n_cells,)``.
        starts_call: ``True`` where the cell is the first of a call, ``(n_cells,)``.
        voll_cny_per_kwh: Value of lost load per user (CNY/kWh), ``(n_users,)``.
        rho: Reschedulable fraction per user in ``[0, 1]``, ``(n_users,)``.
        shutdown_h: Orderly shutdown time per user (h), ``(n_users,)``.
        restart_cost_cny: Restart cost ``K`` per call per user (CNY), ``(n_users,)``.

    Returns:
        Loss of load per user (CNY), ``(n_users,)``.

    Raises:
        ValueError: If an argument is NaN, negative, out of range or mis-shaped, or a
            user index is out of range.

    References:
        parksim DESIGN.md, "Orderly plan" (notice model and restart cost K_i per call);
        NDRC (2011) 《有序用电管理办法》.
    """
    voll = vector(voll_cny_per_kwh, "voll_cny_per_kwh")
    n = voll.size
    k = vector(restart_cost_cny, "restart_cost_cny", length=n, lower=0.0)
    r = vector(rho, "rho", length=n)
    sd = vector(shutdown_h, "shutdown_h", length=n, allow_inf=True)
    rows = np.asarray(user)
    if rows.ndim != 1 or (rows.size and rows.dtype.kind not in "iu"):
        raise ValueError(f"user must be a 1-D integer array, got {rows.dtype} {rows.shape}")
    if rows.size and (rows.min() < 0 or rows.max() >= n):
        raise ValueError(f"user indices must lie in [0, {n})")
    m = rows.size
    kwh = vector(curtailed_kwh, "curtailed_kwh", length=m, item="cell", lower=0.0)
    lead = vector(notice_h, "notice_h", length=m, item="cell", allow_inf=True)
    start = np.asarray(starts_call)
    if start.shape != (m,) or start.dtype != np.bool_:
        raise ValueError(f"starts_call must be a bool array of shape ({m},)")
    c = loss_cny_per_kwh(voll[rows], r[rows], lead)
    s_rows = rows[start]
    restart = restart_cost_applies(lead[start], sd[s_rows])
    return np.asarray(
        np.bincount(rows, c * kwh, minlength=n)
        + np.bincount(s_rows, restart * k[s_rows], minlength=n),
        dtype=np.float64,
    )
