"""Reserve procurement: energy and reserve co-optimised, or cleared sequentially.

One interval of length ``interval_h`` hours, ``n`` plants. Plant ``i`` offers
energy at ``c_e[i]`` CNY/MWh up to ``capacity_mw[i]`` and (upward, spinning)
reserve at ``c_r[i]`` CNY/MW for the interval up to ``reserve_cap_mw[i]`` (its
ramp limit); energy and reserve share the plant's capacity.

Co-optimisation solves the linear programme (on HiGHS)::

    min   sum_i c_e[i] * g[i] * interval_h + sum_i c_r[i] * r[i]
    s.t.  sum_i g[i] = D                    (energy balance,     dual: lambda)
          sum_i r[i] >= R                   (reserve requirement, dual: mu >= 0)
          g[i] + r[i] <= capacity_mw[i]
          0 <= r[i] <= reserve_cap_mw[i],  g[i] >= 0

The energy price is ``lambda / interval_h`` (CNY/MWh) and the reserve price is
``mu`` (CNY/MW per interval). Sign convention for the duals: both prices are the
increase of the optimal cost per unit increase of ``D`` resp. ``R``; scipy's
``res.eqlin.marginals[0]`` is ``d cost / d D`` directly, while the requirement is
written ``-sum r <= -R`` so ``mu = -res.ineqlin.marginals[0]``.

By the KKT conditions, for a plant providing reserve strictly inside its limits
``mu = c_r[i] + sigma[i]`` where ``sigma[i] = (lambda - c_e[i]) * interval_h`` is the
value of its capacity when it is also producing energy below the price: the
reserve price includes the **energy opportunity cost** of the capacity withheld
from the energy market.

Worked example (checked by hand; used in the tests), ``interval_h = 1``:
A: c_e = 20, capacity 100, reserve cap 100; B: c_e = 50, capacity 120, reserve
cap 20; reserve offers cost 0; D = 150 MW, R = 50 MW.
B can hold at most 20 MW of reserve, so A must hold 30 MW and can only produce
70 MW; B produces 80 MW (80 + 20 <= 120, not binding). Cost = 20*70 + 50*80 =
5400 CNY. One more MW of demand is served by B: lambda = 50 CNY/MWh. One more MW
of reserve must come from A, displacing 1 MW of A's energy (20) by B's (50):
mu = 50 - 20 = 30 CNY/MW, the energy opportunity cost. (KKT: sigma_A = 50 - 20 =
30 = mu - 0; B's reserve at its cap has bound dual 30 - 0 >= 0.)
Merit-order sequential clearing on the same data dispatches A 100 MW and B 50
MW, leaving A no headroom and B only its 20 MW reserve cap: a 30 MW reserve
shortfall, which co-optimisation avoids.

Sequential clearing (:func:`sequential`) first dispatches energy in merit order
(ascending ``c_e``, ties by plant order) and then procures reserve from the
remaining headroom ``min(capacity - g, reserve_cap)`` in ascending ``c_r`` (ties
by plant order). Its energy price is the offer of the most expensive dispatched
plant (of the cheapest plant with capacity if ``D = 0``) and its reserve price the offer of the
most expensive plant providing reserve (0 if ``R = 0``). If the headroom left by
the energy dispatch cannot cover ``R``, the result has status
``"reserve_shortfall"``, the shortfall in ``reserve_shortfall_mw`` and a ``NaN``
reserve price; it does not raise.

Both functions raise ``ValueError`` on instances that no dispatch can satisfy:
``sum capacity < D`` or ``R > min(sum min(reserve_cap, capacity),
sum capacity - D)`` (in particular whenever ``sum capacity < D + R``).

References:
    Kirschen, D. S. & Strbac, G., "Fundamentals of Power System Economics",
    2nd ed., Wiley, 2019, ch. 5 (ancillary services; co-optimisation of energy
    and reserve, opportunity cost of reserve).
    Wood, A. J., Wollenberg, B. F. & Sheblé, G. B., "Power Generation,
    Operation, and Control", 3rd ed., Wiley, 2014 (unit commitment and dispatch
    with spinning-reserve constraints).
    Huangfu, Q. & Hall, J. A. J., "Parallelizing the dual revised simplex
    method", Mathematical Programming Computation 10:119-142, 2018 (HiGHS).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from markets._checks import nonnegative_scalar, vector

__all__ = ["ReserveResult", "co_optimize", "sequential"]


@dataclass(frozen=True, eq=False)
class ReserveResult:
    """Energy dispatch and reserve allocation of one interval.

    Attributes:
        dispatch_mw: Energy output per plant, MW (sums to the demand).
        reserve_mw: Reserve held per plant, MW (``dispatch + reserve <= capacity``).
        energy_price_cny_per_mwh: Energy price, CNY/MWh (dual of the balance
            constraint for co-optimisation; marginal energy offer for sequential).
        reserve_price_cny_per_mw: Reserve price, CNY/MW for the interval (dual of
            the requirement; marginal reserve offer for sequential; ``NaN`` on a
            sequential shortfall).
        energy_cost_cny: ``sum c_e * dispatch * interval_h``, CNY.
        reserve_cost_cny: ``sum c_r * reserve``, CNY.
        cost_cny: Total cost, CNY.
        status: ``"optimal"`` (co-optimisation), ``"cleared"`` or
            ``"reserve_shortfall"`` (sequential).
        reserve_shortfall_mw: Requirement not covered, MW (0 unless
            ``status == "reserve_shortfall"``).
    """

    dispatch_mw: NDArray[np.float64]
    reserve_mw: NDArray[np.float64]
    energy_price_cny_per_mwh: float
    reserve_price_cny_per_mw: float
    energy_cost_cny: float
    reserve_cost_cny: float
    cost_cny: float
    status: str
    reserve_shortfall_mw: float = 0.0

    @property
    def energy_price(self) -> float:
        """Alias of ``energy_price_cny_per_mwh`` (CNY/MWh)."""
        return self.energy_price_cny_per_mwh

    @property
    def reserve_price(self) -> float:
        """Alias of ``reserve_price_cny_per_mw`` (CNY/MW per interval)."""
        return self.reserve_price_cny_per_mw


def _validate(
    energy_cost_cny_per_mwh: ArrayLike,
    capacity_mw: ArrayLike,
    reserve_cap_mw: ArrayLike,
    reserve_cost_cny_per_mw: ArrayLike,
    demand_mw: float,
    requirement_mw: float,
    interval_h: float,
) -> tuple[
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    np.float64,
    np.float64,
    np.float64,
]:
    """Validate the inputs shared by both procurement functions.

    Args:
        energy_cost_cny_per_mwh: Energy offer per plant, CNY/MWh.
        capacity_mw: Capacity per plant, MW (>= 0).
        reserve_cap_mw: Reserve limit per plant, MW (>= 0).
        reserve_cost_cny_per_mw: Reserve offer per plant, CNY/MW.
        demand_mw: Demand D, MW (>= 0).
        requirement_mw: Reserve requirement R, MW (>= 0).
        interval_h: Interval length, h (> 0).

    Returns:
        ``(c_e, cap, reserve_cap, c_r, D, R, interval_h)`` (the last three as 0-d
        arrays).

    Raises:
        ValueError: On malformed inputs or an instance that no dispatch can
            satisfy.
    """
    c_e = vector(energy_cost_cny_per_mwh, "energy_cost_cny_per_mwh", item="plant", nonempty=True)
    n = c_e.size
    cap = vector(capacity_mw, "capacity_mw", length=n, item="plant", nonempty=True)
    rcap = vector(reserve_cap_mw, "reserve_cap_mw", length=n, item="plant", nonempty=True)
    c_r = vector(
        reserve_cost_cny_per_mw, "reserve_cost_cny_per_mw", length=n, item="plant", nonempty=True
    )
    if np.any(cap < 0):
        raise ValueError(f"capacity_mw must be >= 0, got minimum {cap.min()}")
    if np.any(rcap < 0):
        raise ValueError(f"reserve_cap_mw must be >= 0, got minimum {rcap.min()}")
    d = nonnegative_scalar(demand_mw, "demand_mw")
    r = nonnegative_scalar(requirement_mw, "requirement_mw")
    h = nonnegative_scalar(interval_h, "interval_h", positive=True)
    total_cap = float(cap.sum())
    if d > total_cap:
        raise ValueError(f"infeasible: demand_mw {d} exceeds total capacity_mw {total_cap}")
    max_reserve = min(float(np.minimum(rcap, cap).sum()), total_cap - d)
    tol = 1e-9 * max(1.0, total_cap)
    if r > max_reserve + tol:
        raise ValueError(
            f"infeasible: requirement_mw {r} exceeds the largest reserve deliverable "
            f"alongside demand_mw {d} ({max_reserve} MW = min(sum of min(reserve_cap_mw, "
            f"capacity_mw), sum capacity_mw - demand_mw))"
        )
    return c_e, cap, rcap, c_r, np.float64(d), np.float64(r), np.float64(h)


def _result(
    c_e: NDArray[np.float64],
    c_r: NDArray[np.float64],
    g: NDArray[np.float64],
    rr: NDArray[np.float64],
    h: np.float64,
    energy_price: float,
    reserve_price: float,
    status: str,
    shortfall: float = 0.0,
) -> ReserveResult:
    """Assemble a :class:`ReserveResult` and its costs from a dispatch.

    Args:
        c_e: Energy offer per plant, CNY/MWh.
        c_r: Reserve offer per plant, CNY/MW.
        g: Energy dispatch per plant, MW.
        rr: Reserve per plant, MW.
        h: Interval length, h.
        energy_price: Energy price, CNY/MWh.
        reserve_price: Reserve price, CNY/MW.
        status: Result status.
        shortfall: Uncovered reserve requirement, MW.

    Returns:
        The result with energy, reserve and total costs in CNY.
    """
    energy_cost = float(c_e @ g * h)
    reserve_cost = float(c_r @ rr)
    return ReserveResult(
        dispatch_mw=g,
        reserve_mw=rr,
        energy_price_cny_per_mwh=energy_price,
        reserve_price_cny_per_mw=reserve_price,
        energy_cost_cny=energy_cost,
        reserve_cost_cny=reserve_cost,
        cost_cny=energy_cost + reserve_cost,
        status=status,
        reserve_shortfall_mw=shortfall,
    )


def co_optimize(
    energy_cost_cny_per_mwh: ArrayLike,
    capacity_mw: ArrayLike,
    reserve_cap_mw: ArrayLike,
    reserve_cost_cny_per_mw: ArrayLike,
    demand_mw: float,
    requirement_mw: float,
    *,
    interval_h: float = 1.0,
) -> ReserveResult:
    """Dispatch energy and reserve jointly at least cost (LP on HiGHS).

    Args:
        energy_cost_cny_per_mwh: Energy offer per plant, CNY/MWh.
        capacity_mw: Capacity per plant, MW (>= 0).
        reserve_cap_mw: Largest reserve per plant (ramp limit), MW (>= 0).
        reserve_cost_cny_per_mw: Reserve offer per plant, CNY/MW per interval.
        demand_mw: Energy demand D, MW.
        requirement_mw: Reserve requirement R, MW.
        interval_h: Interval length, h (energy cost = c_e x MW x h).

    Returns:
        Dispatch, reserve, the energy price (dual of the balance, CNY/MWh), the
        reserve price (dual of the requirement, CNY/MW), costs and status
        ``"optimal"``. Duals of degenerate LPs are not unique; HiGHS returns one
        valid choice.

    Raises:
        ValueError: On malformed inputs, or if no dispatch satisfies D and R (see
            the module docstring), or if HiGHS does not report an optimum.

    References:
        Kirschen, D. S. & Strbac, G., "Fundamentals of Power System Economics",
        2nd ed., Wiley, 2019, ch. 5.
    """
    c_e, cap, rcap, c_r, d, r, h = _validate(
        energy_cost_cny_per_mwh,
        capacity_mw,
        reserve_cap_mw,
        reserve_cost_cny_per_mw,
        demand_mw,
        requirement_mw,
        interval_h,
    )
    n = c_e.size
    eye = np.eye(n)
    ones, zeros = np.ones((1, n)), np.zeros((1, n))
    a_eq = np.hstack([ones, zeros])
    a_ub = np.vstack([np.hstack([zeros, -ones]), np.hstack([eye, eye])])
    b_ub = np.concatenate([[-r], cap])
    bounds = [(0.0, None)] * n + [(0.0, float(x)) for x in np.minimum(rcap, cap)]
    from scipy.optimize import linprog

    res = linprog(
        np.concatenate([c_e * h, c_r]),
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=a_eq,
        b_eq=[d],
        bounds=bounds,
        method="highs",
    )
    if res.status != 0:
        raise ValueError(f"co-optimisation failed: HiGHS status {res.status} ({res.message})")
    g = np.clip(res.x[:n], 0.0, None)
    rr = np.clip(res.x[n:], 0.0, None)
    energy_price = float(res.eqlin.marginals[0]) / float(h)
    return _result(c_e, c_r, g, rr, h, energy_price, float(-res.ineqlin.marginals[0]), "optimal")


def _fill(order: NDArray[np.intp], room: NDArray[np.float64], amount: float) -> NDArray[np.float64]:
    """Fill ``amount`` from plants in ``order``, each up to its ``room``.

    Args:
        order: Plant indices in merit order.
        room: Available quantity per plant.
        amount: Quantity to fill.

    Returns:
        The quantity taken from each plant (indexed by plant).
    """
    available = room[order]
    before = np.cumsum(available) - available
    taken = np.clip(amount - before, 0.0, available)
    out = np.zeros_like(room)
    out[order] = taken
    return out


def sequential(
    energy_cost_cny_per_mwh: ArrayLike,
    capacity_mw: ArrayLike,
    reserve_cap_mw: ArrayLike,
    reserve_cost_cny_per_mw: ArrayLike,
    demand_mw: float,
    requirement_mw: float,
    *,
    interval_h: float = 1.0,
) -> ReserveResult:
    """Clear energy in merit order first, then reserve from the remaining headroom.

    Args:
        energy_cost_cny_per_mwh: Energy offer per plant, CNY/MWh.
        capacity_mw: Capacity per plant, MW (>= 0).
        reserve_cap_mw: Largest reserve per plant (ramp limit), MW (>= 0).
        reserve_cost_cny_per_mw: Reserve offer per plant, CNY/MW per interval.
        demand_mw: Energy demand D, MW.
        requirement_mw: Reserve requirement R, MW.
        interval_h: Interval length, h.

    Returns:
        Dispatch, reserve, the marginal energy offer as energy price, the marginal
        reserve offer as reserve price, costs and status ``"cleared"``; or status
        ``"reserve_shortfall"`` with ``reserve_shortfall_mw > 0`` and a ``NaN``
        reserve price when the headroom left by the energy dispatch cannot cover
        the requirement.

    Raises:
        ValueError: On malformed inputs, or if no dispatch at all satisfies D and
            R (the same check as :func:`co_optimize`).

    References:
        Kirschen, D. S. & Strbac, G., "Fundamentals of Power System Economics",
        2nd ed., Wiley, 2019, ch. 5 (sequential versus joint clearing of energy
        and reserve).
    """
    c_e, cap, rcap, c_r, d, r, h = _validate(
        energy_cost_cny_per_mwh,
        capacity_mw,
        reserve_cap_mw,
        reserve_cost_cny_per_mw,
        demand_mw,
        requirement_mw,
        interval_h,
    )
    energy_order = np.argsort(c_e, kind="stable")
    g = _fill(energy_order, cap, float(d))
    headroom = np.minimum(cap - g, rcap).clip(0.0, None)
    reserve_order = np.argsort(c_r, kind="stable")
    rr = _fill(reserve_order, headroom, float(r))

    if np.any(g > 0):
        energy_price = float(c_e[g > 0].max())
    else:
        energy_price = float(c_e[cap > 0].min()) if np.any(cap > 0) else float(c_e.min())
    shortfall = float(r) - float(rr.sum())
    tol = 1e-9 * max(1.0, float(cap.sum()))
    if shortfall > tol:
        status, reserve_price = "reserve_shortfall", float("nan")
    else:
        status, shortfall = "cleared", 0.0
        reserve_price = float(c_r[rr > 0].max()) if np.any(rr > 0) else 0.0
    return _result(c_e, c_r, g, rr, h, energy_price, reserve_price, status, shortfall)
