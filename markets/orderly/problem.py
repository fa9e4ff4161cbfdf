"""Validated inputs of the orderly scheduler and its per-(user, block) data (kW, kWh, CNY).

References:
    parksim DESIGN.md, "Orderly plan" (the block model of :mod:`markets.orderly`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from markets._arrays import immutable
from markets._checks import check_int, finite_array, nonnegative_scalar, vector
from markets.orderly.blocks import ShortageBlocks, shortage_blocks


@dataclass(frozen=True)
class _Problem:
    """Validated inputs and the per-(eligible user, block) data."""

    dp_kw: NDArray[np.float64]  # (n, T) ΔP
    cost_cny: NDArray[np.float64]  # (n, T) c·ΔP·Δt
    deficit_kw: NDArray[np.float64]  # (T,)
    def_mask: NDArray[np.bool_]  # (T,) deficit > tol
    tol_kw: float
    restart_cny: NDArray[np.float64]  # (n,)
    protected: NDArray[np.bool_]
    max_hours: NDArray[np.float64]
    max_calls: NDArray[np.float64]
    denom_kwh: NDArray[np.float64]  # prior demand + demand
    demand_kwh: NDArray[np.float64]  # (n,) Σ_t load·Δt over this horizon
    prior_kwh: NDArray[np.float64]
    prior_share: NDArray[np.float64]
    z_min: float
    lam: float
    penalty: float
    dt: float
    ipd: int
    blocks: ShortageBlocks
    elig: NDArray[np.int64]  # eligible user indices
    blk_cost: NDArray[np.float64]  # (n_e, n_b) Σ_{t∈k} c·ΔP·Δt
    blk_kwh: NDArray[np.float64]  # (n_e, n_b) Σ_{t∈k} ΔP·Δt
    len_h: NDArray[np.float64]  # (n_b,)
    ub: NDArray[np.float64]  # (n_e, n_b) 0/1 upper bound on x


def _nonnegative_array(
    x: ArrayLike, name: str, shapes: tuple[tuple[int, ...], ...]
) -> NDArray[np.float64]:
    arr = finite_array(x, name, lower=0.0)
    if arr.shape not in shapes:
        expected = " or ".join(str(shape) for shape in shapes)
        raise ValueError(f"{name} must have shape {expected}, got {arr.shape}")
    return arr


def _user_vector(
    x: ArrayLike | None, name: str, n: int, default: float, *, allow_inf: bool = False
) -> NDArray[np.float64]:
    if x is None:
        return np.full(n, default)
    return vector(x, name, length=n, allow_scalar=True, allow_inf=allow_inf, lower=0.0, copy=True)


def _prepare(
    loads_kw: ArrayLike,
    capacity_kw: ArrayLike,
    block_kw: ArrayLike,
    loss: ArrayLike,
    *,
    restart_cost_cny: ArrayLike | None,
    protected: ArrayLike | None,
    max_hours: ArrayLike,
    max_calls: ArrayLike,
    min_duration: int,
    fairness_weight_cny: float,
    prior_curtailed_kwh: ArrayLike | None,
    prior_demand_kwh: ArrayLike | None,
    interval_h: float,
    intervals_per_day: int,
    unserved_penalty_cny_per_kwh: float,
    sub_block_intervals: int | None,
) -> _Problem:
    loads = finite_array(loads_kw, "loads_kw", lower=0.0)
    if loads.ndim != 2:
        raise ValueError(f"loads_kw must be 2-D (n_users, n_intervals), got {loads.shape}")
    n, n_t = loads.shape
    cap = _nonnegative_array(capacity_kw, "capacity_kw", ((n_t,),))
    blk = _nonnegative_array(block_kw, "block_kw", ((n,),))
    c = _nonnegative_array(loss, "loss_cny_per_kwh", ((n,), (n, n_t)))
    restart = _user_vector(restart_cost_cny, "restart_cost_cny", n, 0.0)
    if protected is None:
        prot = np.zeros(n, dtype=bool)
    else:
        prot = np.asarray(protected)
        if prot.shape != (n,) or prot.dtype != np.bool_:
            raise ValueError(f"protected must be a bool array of shape ({n},)")
    hours_cap = _user_vector(max_hours, "max_hours", n, np.inf, allow_inf=True)
    calls_cap = _user_vector(max_calls, "max_calls", n, np.inf, allow_inf=True)
    lam = nonnegative_scalar(fairness_weight_cny, "fairness_weight_cny", real=True)
    prior_c = _user_vector(prior_curtailed_kwh, "prior_curtailed_kwh", n, 0.0)
    prior_d = _user_vector(prior_demand_kwh, "prior_demand_kwh", n, 0.0)
    if (prior_c > prior_d * (1 + 1e-12) + 1e-9).any():
        raise ValueError("prior_curtailed_kwh must not exceed prior_demand_kwh")
    dt = nonnegative_scalar(interval_h, "interval_h", positive=True, real=True)
    ipd = check_int(intervals_per_day, "intervals_per_day", 1)
    m = check_int(min_duration, "min_duration", 1)
    penalty = nonnegative_scalar(
        unserved_penalty_cny_per_kwh, "unserved_penalty_cny_per_kwh", positive=True, real=True
    )

    dp = np.minimum(blk[:, None], loads)
    cost = np.multiply(c if c.ndim == 2 else c[:, None], dp)
    if dt != 1.0:  # x·1.0 is x exactly: skip the pass at hourly intervals
        cost *= dt  # (c·ΔP)·Δt in place: no second (n, T) temporary
    total = loads.sum(axis=0)
    deficit = total - cap
    tol = 1e-9 * max(1.0, float(total.max(initial=0.0)), float(cap.max(initial=0.0)))
    def_mask = deficit > tol
    blocks = shortage_blocks(
        np.where(def_mask, 1.0, 0.0),
        min_duration=m,
        intervals_per_day=ipd,
        sub_block_intervals=sub_block_intervals,
    )
    demand = loads.sum(axis=1) * dt
    denom = prior_d + demand
    has_d = denom > 0
    prior_share = np.divide(prior_c, denom, out=np.zeros(n), where=has_d)
    z_min = float(prior_share[~prot].max(initial=0.0))

    # Eligible users: not protected, at least one call, and able to shed in a deficit hour.
    useful = (dp[:, def_mask] > 0).any(axis=1) if def_mask.any() else np.zeros(n, bool)
    elig = np.flatnonzero(~prot & (calls_cap >= 1 - 1e-9) & useful)
    n_b = blocks.n_blocks
    blk_cost = np.empty((elig.size, n_b))
    blk_kwh = np.empty((elig.size, n_b))
    blk_use = np.empty((elig.size, n_b), dtype=bool)
    # Only the blocks' intervals of the eligible rows (blocks are disjoint and sorted, so
    # each block is a contiguous column range of the subset, summed as before).
    cols = blocks.block_of_interval >= 0
    pos = np.cumsum(cols) - 1  # column of each block interval in the subset
    sub = np.ix_(elig, np.flatnonzero(cols))
    dp_e = dp[sub]
    cost_e = cost[sub]
    use_e = dp_e > 0
    use_e &= def_mask[cols][None, :]
    for k in range(n_b):  # loop over blocks only
        sl = slice(int(pos[blocks.start[k]]), int(pos[blocks.stop[k] - 1]) + 1)
        blk_cost[:, k] = cost_e[:, sl].sum(axis=1)
        blk_kwh[:, k] = dp_e[:, sl].sum(axis=1) * dt
        blk_use[:, k] = use_e[:, sl].any(axis=1)
    len_h = blocks.length.astype(np.float64) * dt
    ub = (len_h[None, :] <= hours_cap[elig, None] * (1 + 1e-12) + 1e-9).astype(np.float64)
    # A block without cover for this user is useless unless it bridges sub-blocks.
    singleton = blocks.first & np.append(blocks.first[1:], True)
    ub[~blk_use & singleton[None, :]] = 0.0
    return _Problem(
        dp_kw=dp,
        cost_cny=cost,
        deficit_kw=deficit,
        def_mask=def_mask,
        tol_kw=tol,
        restart_cny=restart,
        protected=prot,
        max_hours=hours_cap,
        max_calls=calls_cap,
        denom_kwh=denom,
        demand_kwh=demand,
        prior_kwh=prior_c,
        prior_share=prior_share,
        z_min=z_min,
        lam=lam,
        penalty=penalty,
        dt=dt,
        ipd=ipd,
        blocks=blocks,
        elig=elig,
        blk_cost=blk_cost,
        blk_kwh=blk_kwh,
        len_h=len_h,
        ub=ub,
    )


def _with_priors(
    p: _Problem, prior_curtailed_kwh: ArrayLike | None, prior_demand_kwh: ArrayLike | None
) -> _Problem:
    """``p`` with another rotation history (prior curtailed and demand energy, kWh).

    Validates the priors as :func:`_prepare` does and recomputes only what depends on
    them: the share denominators, the prior shares and ``z_min``.
    """
    n = p.dp_kw.shape[0]
    prior_c = _user_vector(prior_curtailed_kwh, "prior_curtailed_kwh", n, 0.0)
    prior_d = _user_vector(prior_demand_kwh, "prior_demand_kwh", n, 0.0)
    if (prior_c > prior_d * (1 + 1e-12) + 1e-9).any():
        raise ValueError("prior_curtailed_kwh must not exceed prior_demand_kwh")
    denom = prior_d + p.demand_kwh
    prior_share = np.divide(prior_c, denom, out=np.zeros(n), where=denom > 0)
    return replace(
        p,
        denom_kwh=denom,
        prior_kwh=prior_c,
        prior_share=prior_share,
        z_min=float(prior_share[~p.protected].max(initial=0.0)),
    )


def _raw_view(*args: Any) -> tuple[Any, ...]:
    """The caller's inputs as a comparable tuple of arrays, not copied (for :func:`_same`)."""
    return tuple(
        _raw_view(*a) if isinstance(a, tuple) else (np.asarray(a) if a is not None else None)
        for a in args
    )


def _raw_inputs(*args: Any) -> tuple[Any, ...]:
    """The caller's inputs as a comparable tuple: arrays copied, scalars as they are.

    A read-only array (and read-only down to the array owning its memory) is kept as it
    is, not copied: its values must not change while a plan keeps it (the planner's
    cached weekly forecast, 134 MB at 100,000 users, is such an array).
    """
    return tuple(
        _raw_inputs(*a)
        if isinstance(a, tuple)
        else (None if a is None else a if immutable(a) else np.array(a))
        for a in args
    )


def _same(a: tuple[Any, ...] | None, b: tuple[Any, ...]) -> bool:
    """Whether two :func:`_raw_inputs` tuples hold identical values (shapes and dtypes)."""
    if a is None or len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if isinstance(x, tuple) or isinstance(y, tuple):
            if not (isinstance(x, tuple) and isinstance(y, tuple) and _same(x, y)):
                return False
        elif x is None or y is None:
            if x is not y:
                return False
        elif x is y:  # a kept read-only array (see _raw_inputs)
            continue
        elif x.shape != y.shape or x.dtype != y.dtype or not np.array_equal(x, y):
            return False
    return True


def _input_key(p: _Problem) -> str:
    """Digest of the validated inputs except the priors (rotation history)."""
    # SHA-1 of the arrays' buffers (no byte copies): an identity check, not a secret.
    h = hashlib.sha1(usedforsecurity=False)
    arrays: tuple[NDArray[Any], ...] = (
        p.dp_kw,
        p.cost_cny,
        p.deficit_kw,
        p.restart_cny,
        p.protected,
    )
    for arr in arrays:
        h.update(np.ascontiguousarray(arr).data.cast("B"))
        h.update(repr(arr.shape).encode())
    limits: tuple[NDArray[Any], ...] = (
        p.max_hours,
        p.max_calls,
        p.blocks.start,
        p.blocks.stop,
        p.blocks.first,
    )
    for arr in limits:
        h.update(np.ascontiguousarray(arr).data.cast("B"))
    h.update(repr((p.lam, p.penalty, p.dt, p.ipd, p.tol_kw)).encode())
    return h.hexdigest()
