"""Interruptible load (IL): users' curtailment blocks, their procurement and calls.

Rule I1 of PHASES.md (monthly): user i of a class with block share s_i offers a
block ΔP_i = min(s_i, 0.20)·peak_i kW if ΔP_i >= 50 kW, bidding
b_i = c_i(24 h)·d_ev CNY per kW per event, where c_i(24 h) is its loss per kWh
curtailed at 24 h notice (CNY/kWh) and d_ev the event length (h). The operator
accepts the cheapest bids not above the cap (30 CNY/kW·event) up to a target of
3 % of the forecast park peak; the marginal block is accepted in part so the
target is met exactly when enough is offered.

Rule I2 (on a shortage): accepted blocks are called in ascending bid until the
shortfall (kW) is covered — whole blocks, so the last one may overshoot — and
each called block is paid b_i·ΔP_i per event (pay-as-bid). Over a day's
intervals an event is a maximal run of consecutive intervals in which the block
is called.

Sign conventions: blocks, shortfalls in kW, energies in kWh, payments in CNY from
the market operator to the user (>= 0). Bid ties are broken by user order.

References:
    PHASES.md rules I1 and I2. Shandong demand response (3 % of maximum load,
    ≤ 30 CNY/kW per response, blocks of 5–20 % of the user's peak, ≥ 50 kW):
    http://m.hidcn.cn/dlfw/88299.html .
    Aalami, H. A., Moghaddam, M. P. & Yousefi, G. R., "Demand response modeling
    considering Interruptible/Curtailable loads and capacity market programs",
    Applied Energy 87(1):243–250, 2010.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from markets._checks import as_float_array, check_finite, interval_length_h, nonnegative_scalar

__all__ = ["IlCall", "IlOffers", "IlProcurement", "call", "offers", "procure"]


def _vector(values: ArrayLike, name: str, unit: str) -> NDArray[np.float64]:
    """Validate a finite non-negative 1-D per-user vector.

    Args:
        values: One value per user (unit ``unit``).
        name: Argument name used in error messages.
        unit: Unit for the message, e.g. ``" kW"``.

    Returns:
        The vector as float64.

    Raises:
        ValueError: If not 1-D, not finite or negative.
    """
    arr = as_float_array(values, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one value per user), got shape {arr.shape}")
    check_finite(arr, name, nonnegative=True, unit=unit)
    return arr


@dataclass(frozen=True, eq=False)
class IlOffers:
    """Users' interruptible-load offers (rule I1), one entry per user.

    Attributes:
        block_kw: Offered block ΔP_i, kW (0 if not eligible).
        bid_cny_per_kw_event: Bid b_i, CNY per kW per event.
        eligible: Whether the block reaches the minimum size.
    """

    block_kw: NDArray[np.float64]
    bid_cny_per_kw_event: NDArray[np.float64]
    eligible: NDArray[np.bool_]


def offers(
    peak_kw: ArrayLike,
    share: ArrayLike,
    loss_cny_per_kwh: ArrayLike,
    *,
    event_h: float = 2.0,
    block_max_share: float = 0.20,
    block_min_kw: float = 50.0,
) -> IlOffers:
    """Build users' IL blocks and bids (rule I1).

    ΔP_i = min(s_i, block_max_share)·peak_i, offered if ΔP_i >= block_min_kw (and
    > 0); b_i = c_i·d_ev.

    Worked example: peaks [1000, 200, 600] kW, shares [0.3, 0.1, 0.1], losses
    [5, 2, 12] CNY/kWh, d_ev = 2 h → blocks min(0.3, 0.2)·1000 = 200, 20 (< 50:
    not offered), 60 kW; bids [10, 4, 24] CNY/kW·event.

    Args:
        peak_kw: Each user's peak demand, kW (1-D).
        share: Block share s_i of the user's class (dimensionless, >= 0), scalar
            or per user; 0 for classes that do not offer.
        loss_cny_per_kwh: Loss per kWh curtailed at 24 h notice, CNY/kWh, scalar
            or per user.
        event_h: Event length d_ev, h.
        block_max_share: Largest block as a share of the peak (dimensionless).
        block_min_kw: Smallest block accepted, kW.

    Returns:
        Blocks, bids and eligibility per user.

    Raises:
        ValueError: On negative or non-finite inputs or mismatched lengths,
            naming the argument.

    References:
        Shandong demand response rules (module docstring); PHASES.md rule I1.
    """
    peak = _vector(peak_kw, "peak_kw", " kW")
    s = as_float_array(share, "share")
    check_finite(s, "share", nonnegative=True)
    loss = as_float_array(loss_cny_per_kwh, "loss_cny_per_kwh")
    check_finite(loss, "loss_cny_per_kwh", nonnegative=True)
    for arr, name in ((s, "share"), (loss, "loss_cny_per_kwh")):
        if arr.ndim > 1 or (arr.ndim == 1 and arr.size != peak.size):
            raise ValueError(f"{name} must be a scalar or hold {peak.size} values (one per user)")
    d_ev = nonnegative_scalar(event_h, "event_h", positive=True, real=True)
    max_share = nonnegative_scalar(block_max_share, "block_max_share", real=True)
    min_kw = nonnegative_scalar(block_min_kw, "block_min_kw", real=True)
    block = np.minimum(s, max_share) * peak
    eligible = (block >= min_kw) & (block > 0)
    return IlOffers(
        block_kw=np.where(eligible, block, 0.0),
        bid_cny_per_kw_event=np.broadcast_to(loss * d_ev, peak.shape).astype(np.float64),
        eligible=eligible,
    )


@dataclass(frozen=True, eq=False)
class IlProcurement:
    """Accepted interruptible-load capacity (rule I1, operator side).

    Attributes:
        accepted_kw: Accepted block per user, kW (the marginal one may be partial).
        accepted: Whether any of the user's block is accepted.
        total_kw: Σ accepted, kW (= target if enough is offered at ≤ cap).
        shortfall_kw: Target not covered, kW.
        marginal_bid_cny_per_kw_event: Highest accepted bid, CNY/kW·event (NaN if
            nothing is accepted).
    """

    accepted_kw: NDArray[np.float64]
    accepted: NDArray[np.bool_]
    total_kw: float
    shortfall_kw: float
    marginal_bid_cny_per_kw_event: float


def _bid_order(block: NDArray[np.float64], bid: NDArray[np.float64]) -> NDArray[np.intp]:
    """Users in ascending bid, ties by user order.

    Args:
        block: Blocks, kW.
        bid: Bids, CNY/kW·event.

    Returns:
        Indices in call order.
    """
    return np.lexsort((np.arange(block.size), bid))


def _blocks_and_bids(
    blocks_kw: ArrayLike, bids: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Validate matching block and bid vectors.

    Args:
        blocks_kw: Blocks per user, kW.
        bids: Bids per user, CNY/kW·event.

    Returns:
        Both as float64 vectors.

    Raises:
        ValueError: If either is malformed or their lengths differ.
    """
    block = _vector(blocks_kw, "blocks_kw", " kW")
    bid = as_float_array(bids, "bids")
    if bid.shape != block.shape:
        raise ValueError(f"bids has shape {bid.shape}, expected {block.shape} like blocks_kw")
    check_finite(bid, "bids", nonnegative=True)
    return block, bid


def procure(
    blocks_kw: ArrayLike,
    bids: ArrayLike,
    target_kw: float,
    bid_cap_cny_per_kw_event: float = 30.0,
) -> IlProcurement:
    """Accept the cheapest IL bids not above the cap up to a target (rule I1).

    Worked example: blocks [200, 60, 100, 80] kW, bids [10, 24, 35, 10], target
    150 kW, cap 30: 35 > cap is out; order user 0 (10), user 3 (10, tie → later
    user), user 1 (24): user 0 gives 150 of its 200 kW → target met, users 3 and
    1 get nothing; marginal bid 10.

    Args:
        blocks_kw: Offered block per user, kW (0 = no offer).
        bids: Bid per user, CNY per kW per event.
        target_kw: Capacity to procure, kW.
        bid_cap_cny_per_kw_event: Highest acceptable bid, CNY/kW·event.

    Returns:
        Accepted capacity per user, its total, the shortfall and the marginal bid.

    Raises:
        ValueError: On malformed blocks or bids, or a negative or non-finite
            target or cap.

    References:
        Shandong demand response rules (module docstring); PHASES.md rule I1.
    """
    block, bid = _blocks_and_bids(blocks_kw, bids)
    target = nonnegative_scalar(target_kw, "target_kw", real=True)
    cap = nonnegative_scalar(bid_cap_cny_per_kw_event, "bid_cap_cny_per_kw_event", real=True)
    room = np.where(bid <= cap, block, 0.0)
    order = _bid_order(block, bid)
    sorted_room = room[order]
    before = np.cumsum(sorted_room) - sorted_room
    taken = np.empty_like(room)
    taken[order] = np.clip(target - before, 0.0, sorted_room)
    accepted = taken > 0
    total = float(taken.sum())
    return IlProcurement(
        accepted_kw=taken,
        accepted=accepted,
        total_kw=total,
        shortfall_kw=max(0.0, target - total),
        marginal_bid_cny_per_kw_event=float(bid[accepted].max()) if accepted.any() else np.nan,
    )


@dataclass(frozen=True, eq=False)
class IlCall:
    """Interruptible-load calls (rule I2).

    For a scalar shortfall the interval axis is dropped (``called`` has one entry
    per user).

    Attributes:
        called: Whether each block is called, bool (intervals × users).
        called_kw: Curtailment per interval and user, kW.
        covered_kw: Σ called blocks per interval, kW (>= the shortfall if enough
            blocks exist).
        uncovered_kw: max(0, shortfall − covered) per interval, kW.
        events: Events per user (runs of consecutive called intervals).
        energy_kwh: Curtailed energy per user, kWh.
        payment_cny: b_i·ΔP_i·events per user, CNY (operator → user).
    """

    called: NDArray[np.bool_]
    called_kw: NDArray[np.float64]
    covered_kw: NDArray[np.float64] | float
    uncovered_kw: NDArray[np.float64] | float
    events: NDArray[np.int64]
    energy_kwh: NDArray[np.float64]
    payment_cny: NDArray[np.float64]


def call(
    shortfall_kw: ArrayLike, blocks_kw: ArrayLike, bids: ArrayLike, interval_h: float = 1.0
) -> IlCall:
    """Call accepted IL blocks in ascending bid until each shortfall is covered (rule I2).

    In each interval blocks are called whole, cheapest first, while the blocks
    already called cover less than the shortfall. Vectorised over intervals ×
    users.

    Worked example (Δt = 1 h): blocks [100, 50, 80] kW, bids [12, 8, 20],
    shortfalls [120, 0, 40]: t = 0 calls user 1 (50) then user 0 (100) → 150 kW;
    t = 2 calls user 1 → 50 kW. User 1 is called in t = 0 and t = 2: two events,
    paid 2·8·50 = 800 CNY; user 0 one event, 12·100 = 1200 CNY; energies 100 and
    100 kWh.

    Args:
        shortfall_kw: Shortfall to cover, kW: scalar (one interval) or per
            interval (1-D).
        blocks_kw: Accepted block per user, kW (0 = none).
        bids: Bid per user, CNY per kW per event.
        interval_h: Interval length Δt, h.

    Returns:
        Calls, curtailment, coverage, events, energy and pay-as-bid payments.

    Raises:
        ValueError: On a negative or non-finite shortfall, malformed blocks or
            bids, or a non-positive interval.

    References:
        PHASES.md rule I2; Aalami et al. (2010), see the module docstring.
    """
    short = as_float_array(shortfall_kw, "shortfall_kw")
    if short.ndim > 1:
        raise ValueError(f"shortfall_kw must be a scalar or 1-D (per interval), got {short.shape}")
    check_finite(short, "shortfall_kw", nonnegative=True, unit=" kW")
    block, bid = _blocks_and_bids(blocks_kw, bids)
    dt = interval_length_h(interval_h)
    scalar = short.ndim == 0
    s = np.atleast_1d(short)
    order = _bid_order(block, bid)
    sorted_block = block[order]
    before = np.cumsum(sorted_block) - sorted_block
    called_sorted = (before[None, :] < s[:, None]) & (sorted_block[None, :] > 0)
    called = np.empty_like(called_sorted)
    called[:, order] = called_sorted
    called_kw = called * block[None, :]
    covered = called_kw.sum(axis=1)
    uncovered = np.clip(s - covered, 0.0, None)
    starts = called.copy()
    starts[1:] &= ~called[:-1]
    events = starts.sum(axis=0).astype(np.int64)
    energy = called_kw.sum(axis=0) * dt
    payment = bid * block * events
    if scalar:
        return IlCall(
            called[0], called_kw[0], float(covered[0]), float(uncovered[0]), events, energy, payment
        )
    return IlCall(called, called_kw, covered, uncovered, events, energy, payment)
