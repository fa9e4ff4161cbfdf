"""Medium- and long-term (MLT) contracts settled as contracts for difference (rule M1).

A retailer (the buyer) contracts a volume Q_t (kWh per interval) with plants (the
sellers) at a strike price K (CNY/kWh) and buys its physical energy in the
day-ahead market at p_DA,t. The contract is settled financially each interval:

    payment_t = Q_t · (K − p_DA,t)   (CNY; > 0 the buyer pays the seller,
                                       < 0 the seller pays the buyer)

so the buyer's cost of the contracted volume is Q_t·p_DA,t + payment_t = Q_t·K,
whatever the spot price. Strike prices are non-negative (Shanxi rule, PHASES.md
[S8]); spot prices may be negative.

Volumes go to plants in merit order (ascending offer, ties by plant order) up to
each plant's contractable capacity; with several retailers the merit-order fill
of the total volume is shared pro rata to the retailers' volumes, so each gets the
same plant mix and the result does not depend on the order of the retailers.

References:
    PHASES.md rule M1. MLT contracts ≥ 80 % of annual demand, 90–95 % with
    monthly top-ups: http://www.asiangames.com.cn/article-14987-118511.html .
    Coal benchmark 0.391 CNY/kWh (Jiangsu): https://wenku.solarbe.com/p-20929.html .
    Non-negative bilateral prices (Shanxi): http://www.xawhsp.cn/hy/988.html .
    Kirschen, D. S. & Strbac, G., "Fundamentals of Power System Economics",
    2nd ed., Wiley, 2019, ch. 3 (contracts for difference).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from markets._checks import as_float_array, check_finite, interval_length_h

__all__ = ["CfdSettlement", "ContractAllocation", "allocate_contracts", "cfd"]


@dataclass(frozen=True, eq=False)
class CfdSettlement:
    """Settlement of contracts for difference (arrays of the broadcast shape).

    Attributes:
        payment_cny: Q·(K − p_DA) per interval, CNY (> 0 buyer → seller,
            < 0 seller → buyer).
        buyer_pays_cny: max(payment, 0), CNY (ledger amount buyer → seller).
        seller_pays_cny: max(−payment, 0), CNY (ledger amount seller → buyer).
        net_cny: Σ payment, CNY (float).
    """

    payment_cny: NDArray[np.float64]
    buyer_pays_cny: NDArray[np.float64]
    seller_pays_cny: NDArray[np.float64]
    net_cny: float


def cfd(
    contract_kwh: ArrayLike, strike_cny_per_kwh: ArrayLike, da_price_cny_per_kwh: ArrayLike
) -> CfdSettlement:
    """Settle contracts for difference against the day-ahead price (rule M1).

    Worked example: Q = [100, 100] kWh, K = 0.391, p_DA = [0.30, 0.50] CNY/kWh →
    payments [9.1, −10.9] CNY: the retailer pays 9.1 in the cheap hour, the plant
    pays 10.9 in the dear one; net −1.8 CNY.

    Args:
        contract_kwh: Contracted volume per interval, kWh (>= 0).
        strike_cny_per_kwh: Strike K, CNY/kWh (>= 0), broadcast.
        da_price_cny_per_kwh: Day-ahead price, CNY/kWh (finite, any sign),
            broadcast.

    Returns:
        Payments per interval, their one-directional parts and the net.

    Raises:
        ValueError: If a volume or strike is negative, an input is not finite,
            or the shapes do not broadcast; the message names the argument.

    References:
        PHASES.md rule M1; Kirschen & Strbac (2019), ch. 3.
    """
    q = as_float_array(contract_kwh, "contract_kwh")
    check_finite(q, "contract_kwh", nonnegative=True, noun="volumes", unit=" kWh")
    k = as_float_array(strike_cny_per_kwh, "strike_cny_per_kwh")
    check_finite(k, "strike_cny_per_kwh", nonnegative=True, noun="prices")
    p = as_float_array(da_price_cny_per_kwh, "da_price_cny_per_kwh")
    check_finite(p, "da_price_cny_per_kwh")
    try:
        payment = q * (k - p)
    except ValueError as exc:
        raise ValueError(
            f"contract_kwh {q.shape}, strike_cny_per_kwh {k.shape} and da_price_cny_per_kwh "
            f"{p.shape} do not broadcast"
        ) from exc
    payment = np.asarray(payment, dtype=np.float64)
    return CfdSettlement(
        payment_cny=payment,
        buyer_pays_cny=np.maximum(payment, 0.0),
        seller_pays_cny=np.maximum(-payment, 0.0),
        net_cny=float(payment.sum()),
    )


@dataclass(frozen=True, eq=False)
class ContractAllocation:
    """Contract volumes placed with plants.

    For a 1-D ``volume_kwh`` (one retailer) the retailer axis is dropped.

    Attributes:
        volume_kwh: Volume per retailer, interval and plant, kWh
            (retailers × intervals × plants).
        plant_kwh: Volume per interval and plant, kWh (intervals × plants).
        unallocated_kwh: Volume no plant could take, kWh (retailers × intervals).
    """

    volume_kwh: NDArray[np.float64]
    plant_kwh: NDArray[np.float64]
    unallocated_kwh: NDArray[np.float64]


def allocate_contracts(
    volume_kwh: ArrayLike,
    capacity_kw: ArrayLike,
    merit_cny_per_kwh: ArrayLike,
    interval_h: float = 1.0,
) -> ContractAllocation:
    """Place contract volumes with plants in merit order up to capacity (rule M1).

    Per interval, the total volume V_t = Σ_r Q_r,t fills plants in ascending
    ``merit_cny_per_kwh`` (ties by plant order), plant i taking at most
    capacity_i·Δt; retailer r receives the share Q_r,t/V_t of every plant's
    volume. Vectorised over retailers × intervals × plants.

    Worked example (Δt = 1 h): plants with offers [0.35, 0.30, 0.40] CNY/kWh and
    capacities [50, 30, 100] kW; retailers' volumes [[40], [20]] kWh: V = 60 →
    plant 1 (cheapest) 30, plant 0 30 → retailer 0 gets [20, 20, 0], retailer 1
    [10, 10, 0].

    Args:
        volume_kwh: Contract volumes, kWh (>= 0): (intervals,) for one retailer
            or (retailers, intervals).
        capacity_kw: Contractable capacity per plant, kW (>= 0): (plants,) or
            (intervals, plants).
        merit_cny_per_kwh: Merit-order key per plant (its offer), CNY/kWh.
        interval_h: Interval length Δt, h.

    Returns:
        Volumes per retailer, interval and plant; per plant; and unallocated.

    Raises:
        ValueError: On negative or non-finite volumes or capacities, mismatched
            shapes or a non-positive interval.

    References:
        PHASES.md rule M1 (merit order up to capacity).
    """
    vol = as_float_array(volume_kwh, "volume_kwh")
    single = vol.ndim == 1
    if single:
        vol = vol[None, :]
    if vol.ndim != 2 or vol.shape[1] == 0:
        raise ValueError(
            f"volume_kwh must be (intervals,) or (retailers, intervals), got shape {vol.shape}"
        )
    check_finite(vol, "volume_kwh", nonnegative=True, noun="volumes", unit=" kWh")
    n_t = vol.shape[1]
    merit = as_float_array(merit_cny_per_kwh, "merit_cny_per_kwh")
    if merit.ndim != 1 or merit.size == 0:
        raise ValueError(f"merit_cny_per_kwh must be 1-D (one per plant), got {merit.shape}")
    check_finite(merit, "merit_cny_per_kwh")
    n = merit.size
    cap = as_float_array(capacity_kw, "capacity_kw")
    if cap.ndim == 1:
        cap = np.broadcast_to(cap, (n_t, cap.size))
    if cap.shape != (n_t, n):
        raise ValueError(
            f"capacity_kw must be ({n},) or ({n_t}, {n}) (intervals × plants), got "
            f"{np.shape(capacity_kw)}"
        )
    check_finite(cap, "capacity_kw", nonnegative=True, noun="capacities", unit=" kW")
    dt = interval_length_h(interval_h)

    order = np.argsort(merit, kind="stable")
    room = cap[:, order] * dt  # intervals × plants in merit order
    before = np.cumsum(room, axis=1) - room
    total = vol.sum(axis=0)
    taken_sorted = np.clip(total[:, None] - before, 0.0, room)
    plant = np.empty_like(taken_sorted)
    plant[:, order] = taken_sorted
    share = np.divide(vol, total[None, :], out=np.zeros_like(vol), where=total[None, :] > 0)
    per_retailer = share[:, :, None] * plant[None, :, :]
    unallocated = vol - per_retailer.sum(axis=2)
    unallocated = np.where(np.abs(unallocated) < 1e-9 * np.maximum(1.0, vol), 0.0, unallocated)
    if single:
        return ContractAllocation(per_retailer[0], plant, unallocated[0])
    return ContractAllocation(per_retailer, plant, unallocated)
