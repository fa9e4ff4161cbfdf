"""Day-ahead energy and reserve co-optimised for all intervals of a day in one LP.

:func:`markets.reserve.co_optimize` clears one interval per call. The mature phase
clears a day's T intervals (24 or 96) of ``interval_h`` hours at once: the LP below
is the direct sum of T single-interval problems (no inter-temporal constraints),
solved in ONE HiGHS call, so per interval it has the same optimum and duals as
``co_optimize``::

    min   Σ_t Σ_i c_e[t,i]·g[t,i]·Δt + c_r[t,i]·r[t,i]
    s.t.  Σ_i g[t,i] = D'_t                   (balance,     dual λ_t·Δt)
          Σ_i r[t,i] >= R'_t                  (requirement, dual μ_t >= 0)
          g[t,i] + r[t,i] <= cap[t,i]
          0 <= r[t,i] <= min(rcap[t,i], cap[t,i]),  g[t,i] >= 0

Units: MW, MWh, CNY/MWh for energy offers, CNY/MW per interval for reserve offers
(the caller converts from kW and CNY/kWh, ×1000 on prices, PHASES.md §0).

**Relief order when an interval is infeasible** (PHASES.md rule M4), applied per
interval before the LP so the LP is always feasible:

1. reserve first: R'_t = min(R_t, Σ_i min(rcap, cap), Σ_i cap − D'_t); the cut
   R_t − R'_t is recorded as ``reserve_shortfall_mw``;
2. then energy: if Σ_i cap < D_t, the served demand is D'_t = Σ_i cap and
   D_t − D'_t is recorded as ``energy_shortfall_mw`` (for interruptible load and
   the orderly fallback, called by the caller); the reserve is then cut to 0.

Prices: the energy price is λ_t (CNY/MWh) clipped to [floor, cap]; in an
energy-shortfall interval it is the cap (scarcity pricing). The reserve price is
μ_t (CNY/MW per interval). Duals of degenerate intervals are not unique; HiGHS
returns one valid choice (the raw λ_t is kept in ``shadow_energy_price_cny_per_mwh``).

HiGHS always runs with a time limit and a relative gap (``mip_rel_gap`` only binds
MIPs; an LP stops at an optimal basis within HiGHS's feasibility tolerances). The
matrix (built without scipy) is passed to one ``highspy`` solver per shape
(:class:`markets._highs.FixedLp`);
each day changes only costs and bounds and solves from a cold start, with
``linprog(method="highs")``'s row order and options, so a day's result does not depend
on the days before it.

References:
    Kirschen, D. S. & Strbac, G., "Fundamentals of Power System Economics",
    2nd ed., Wiley, 2019, ch. 5 (co-optimisation of energy and reserve).
    WECC BAL-002-WECC-2 contingency reserve, max(most severe contingency, 3 % of
    load + 3 % of generation),
    https://nercipedia.com/inactive-standards/bal-002-wecc-2-contingency-reserve/ .
    Shanxi spot-market limits 0–1500 CNY/MWh, http://www.xawhsp.cn/hy/988.html .
    Huangfu, Q. & Hall, J. A. J., "Parallelizing the dual revised simplex method",
    Mathematical Programming Computation 10:119–142, 2018 (HiGHS).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

from markets._checks import as_float_array, check_finite, nonnegative_scalar
from markets._highs import ColumnWise, FixedLp, csc_from_triplets

__all__ = ["DayReserveResult", "co_optimize_day", "reserve_requirement_mw"]


def reserve_requirement_mw(
    demand_mw: ArrayLike,
    dg_mw: ArrayLike = 0.0,
    *,
    load_share: float = 0.03,
    gen_share: float = 0.03,
    contingency_mw: float = 0.0,
) -> NDArray[np.float64]:
    """Contingency reserve requirement R_t = max(R_cont, a·D_t + b·G_t).

    Args:
        demand_mw: Demand D_t per interval, MW (>= 0).
        dg_mw: Distributed generation G_t per interval, MW (>= 0), broadcast.
        load_share: a, share of load (dimensionless).
        gen_share: b, share of generation (dimensionless).
        contingency_mw: R_cont, the most severe single contingency, MW.

    Returns:
        The requirement per interval, MW.

    Raises:
        ValueError: On negative or non-finite inputs, naming the argument.

    References:
        WECC BAL-002-WECC-2 (module docstring); PHASES.md rule M4.
    """
    d = as_float_array(demand_mw, "demand_mw")
    check_finite(d, "demand_mw", nonnegative=True, unit=" MW")
    g = as_float_array(dg_mw, "dg_mw")
    check_finite(g, "dg_mw", nonnegative=True, unit=" MW")
    a = nonnegative_scalar(load_share, "load_share", real=True)
    b = nonnegative_scalar(gen_share, "gen_share", real=True)
    c = nonnegative_scalar(contingency_mw, "contingency_mw", real=True)
    return np.maximum(c, a * d + b * g)


@dataclass(frozen=True, eq=False)
class DayReserveResult:
    """Energy and reserve of every interval of a day (arrays T or T × plants).

    Attributes:
        dispatch_mw: Energy output, MW (T × n); rows sum to ``served_demand_mw``.
        reserve_mw: Reserve held, MW (T × n); dispatch + reserve <= capacity.
        energy_price_cny_per_mwh: λ_t clipped to [floor, cap]; the cap in an
            energy-shortfall interval, CNY/MWh (T,).
        shadow_energy_price_cny_per_mwh: Raw dual λ_t of the balance, CNY/MWh.
        reserve_price_cny_per_mw: Dual μ_t of the requirement, CNY/MW per
            interval (T,).
        energy_cost_cny: Σ_i c_e·g·Δt per interval, CNY (T,).
        reserve_cost_cny: Σ_i c_r·r per interval, CNY (T,).
        cost_cny: Total over the day, CNY.
        served_demand_mw: D'_t = min(D_t, Σ cap), MW (T,).
        energy_shortfall_mw: D_t − D'_t, MW (T,).
        requirement_mw: R'_t after relief, MW (T,).
        reserve_shortfall_mw: R_t − R'_t, MW (T,).
        scarcity: Whether an interval has any energy or reserve shortfall (T,).
        status: ``"optimal"``.
    """

    dispatch_mw: NDArray[np.float64]
    reserve_mw: NDArray[np.float64]
    energy_price_cny_per_mwh: NDArray[np.float64]
    shadow_energy_price_cny_per_mwh: NDArray[np.float64]
    reserve_price_cny_per_mw: NDArray[np.float64]
    energy_cost_cny: NDArray[np.float64]
    reserve_cost_cny: NDArray[np.float64]
    cost_cny: float
    served_demand_mw: NDArray[np.float64]
    energy_shortfall_mw: NDArray[np.float64]
    requirement_mw: NDArray[np.float64]
    reserve_shortfall_mw: NDArray[np.float64]
    scarcity: NDArray[np.bool_]
    status: str


def _per_interval(
    values: ArrayLike, name: str, n_t: int, n: int | None, *, nonnegative: bool
) -> NDArray[np.float64]:
    """Validate a per-plant input, constant ``(n,)`` or per interval ``(T, n)``.

    Args:
        values: One value per plant, or per interval and plant.
        name: Argument name used in error messages.
        n_t: Number of intervals T.
        n: Number of plants (None for the first input, taken from it).
        nonnegative: Reject negative values.

    Returns:
        A (T, n) float64 array.

    Raises:
        ValueError: If the shape is neither (n,) nor (T, n), the input is empty
            or holds NaN, infinite or (when forbidden) negative values.
    """
    arr = as_float_array(values, name)
    if arr.ndim == 1:  # the same rows as np.broadcast_to, without its Python overhead
        arr = arr[None, :].repeat(n_t, axis=0)
    if arr.ndim != 2 or arr.shape[0] != n_t or arr.shape[1] == 0:
        raise ValueError(
            f"{name} must be (n_plants,) or ({n_t}, n_plants) (intervals × plants), "
            f"got shape {np.shape(values)}"
        )
    if n is not None and arr.shape[1] != n:
        raise ValueError(f"{name} has {arr.shape[1]} plants, expected {n}")
    check_finite(arr, name, nonnegative=nonnegative, unit=" MW" if nonnegative else "")
    return arr


def _day_matrix(n_t: int, n: int) -> ColumnWise:
    """The day LP's constraint matrix ``[A_ub; A_eq]``, column-wise; it depends on the shape only.

    Variables are ``x = [g (T·n), r (T·n)]``, row-major by interval then plant;
    rows as ``linprog`` stacks them: the T requirement rows ``−Σ_i r[t, i]``, the
    T·n capacity rows ``g[t, i] + r[t, i]``, then the T balance rows ``Σ_i g[t, i]``.
    Entry for entry the matrix ``scipy.sparse.vstack([A_ub, A_eq], format="csc")``
    of the block construction ``A_eq = [I_T ⊗ 1ᵀ_n, 0]``,
    ``A_ub = [[0, −I_T ⊗ 1ᵀ_n], [I_m, I_m]]`` (tested), from its entries by
    :func:`markets._highs.csc_from_triplets`, without importing scipy (about 0.1 s
    a process).

    Args:
        n_t: Number of intervals T.
        n: Number of plants.

    Returns:
        ``(start, index, value)`` of the (2·T + T·n) × 2·T·n matrix, entries ±1.
    """
    m = n_t * n
    j = np.arange(m)
    t = j // n
    rows = np.concatenate([t, n_t + j, n_t + j, n_t + m + t])  # requirement, capacity ×2, balance
    cols = np.concatenate([m + j, j, m + j, j])  # r, g, r, g
    values = np.concatenate([np.full(m, -1.0), np.ones(3 * m)])
    return csc_from_triplets(rows, cols, values, (2 * n_t + m, 2 * m))


@lru_cache(maxsize=16)
def _day_lp(n_t: int, n: int) -> FixedLp:
    """The day LP's HiGHS solver, its matrix (:func:`_day_matrix`) passed once per shape.

    Args:
        n_t: Number of intervals T.
        n: Number of plants.

    Returns:
        A :class:`markets._highs.FixedLp` with (2·T + T·n) rows and 2·T·n columns;
        every solve sets all costs and bounds and starts cold.
    """
    m = n_t * n
    return FixedLp(_day_matrix(n_t, n), shape=(2 * n_t + m, 2 * m))


def co_optimize_day(
    energy_cost_cny_per_mwh: ArrayLike,
    capacity_mw: ArrayLike,
    reserve_cap_mw: ArrayLike,
    reserve_cost_cny_per_mw: ArrayLike,
    demand_mw: ArrayLike,
    requirement_mw: ArrayLike,
    *,
    interval_h: float = 1.0,
    price_cap_cny_per_mwh: float = 1500.0,
    price_floor_cny_per_mwh: float = 0.0,
    time_limit_s: float = 30.0,
    mip_rel_gap: float = 1e-6,
) -> DayReserveResult:
    """Co-optimise energy and reserve for all intervals of a day in one HiGHS LP.

    Worked example (Δt = 1 h; plants A: c_e 20, cap 100, rcap 100; B: c_e 50, cap
    120, rcap 20; reserve offers 0): D = 150, R = 50 → A 70 + 30 reserve, B 80 +
    20 reserve, cost 5400, λ = 50, μ = 30 (B's energy displacing A's: the
    opportunity cost); D = 90, R = 10 → A 90, cost 1800, λ = 20, μ = 0; D = 250 >
    220 → served 220 (shortfall 30), R cut to 0, price = cap.

    Args:
        energy_cost_cny_per_mwh: Energy offers, CNY/MWh, (n,) or (T, n).
        capacity_mw: Available capacity, MW, (n,) or (T, n).
        reserve_cap_mw: Reserve limit (ramp), MW, (n,) or (T, n).
        reserve_cost_cny_per_mw: Reserve offers, CNY/MW per interval, (n,) or
            (T, n) (pass the hourly offer × Δt).
        demand_mw: Demand D_t, MW, (T,).
        requirement_mw: Reserve requirement R_t, MW, scalar or (T,).
        interval_h: Interval length Δt, h.
        price_cap_cny_per_mwh: Energy price cap, CNY/MWh.
        price_floor_cny_per_mwh: Energy price floor, CNY/MWh (<= cap; may be
            negative).
        time_limit_s: HiGHS time limit, s (> 0).
        mip_rel_gap: HiGHS relative gap (binds MIPs only; kept for a uniform
            solver set-up), dimensionless.

    Returns:
        Dispatch, reserve, prices, costs and shortfalls per interval.

    Raises:
        ValueError: On malformed inputs (shapes, NaN, negative capacity, demand
            or requirement, floor above cap), or if HiGHS does not report an
            optimum (e.g. the time limit is hit).

    References:
        Kirschen & Strbac (2019), ch. 5; PHASES.md rule M4; WECC BAL-002-WECC-2
        and the Shanxi price limits (module docstring).
    """
    d = as_float_array(demand_mw, "demand_mw")
    if d.ndim != 1 or d.size == 0:
        raise ValueError(
            f"demand_mw must be a non-empty 1-D array (one per interval), got {d.shape}"
        )
    check_finite(d, "demand_mw", nonnegative=True, unit=" MW")
    n_t = d.size
    c_e = _per_interval(
        energy_cost_cny_per_mwh, "energy_cost_cny_per_mwh", n_t, None, nonnegative=False
    )
    n = c_e.shape[1]
    cap = _per_interval(capacity_mw, "capacity_mw", n_t, n, nonnegative=True)
    rcap = _per_interval(reserve_cap_mw, "reserve_cap_mw", n_t, n, nonnegative=True)
    c_r = _per_interval(
        reserve_cost_cny_per_mw, "reserve_cost_cny_per_mw", n_t, n, nonnegative=False
    )
    r = as_float_array(requirement_mw, "requirement_mw")
    if r.ndim > 1 or (r.ndim == 1 and r.size != n_t):
        raise ValueError(f"requirement_mw must be a scalar or hold {n_t} values, got {r.shape}")
    check_finite(r, "requirement_mw", nonnegative=True, unit=" MW")
    r = np.full(n_t, r) if r.ndim == 0 else r.astype(np.float64)
    h = nonnegative_scalar(interval_h, "interval_h", positive=True, real=True)
    cap_price = float(price_cap_cny_per_mwh)
    floor_price = float(price_floor_cny_per_mwh)
    if not (np.isfinite(cap_price) and np.isfinite(floor_price)) or floor_price > cap_price:
        raise ValueError(
            f"price_floor_cny_per_mwh ({price_floor_cny_per_mwh!r}) must be finite and <= "
            f"price_cap_cny_per_mwh ({price_cap_cny_per_mwh!r})"
        )
    time_limit = nonnegative_scalar(time_limit_s, "time_limit_s", positive=True, real=True)
    gap = nonnegative_scalar(mip_rel_gap, "mip_rel_gap", real=True)

    # relief, vectorised over intervals: energy served first, reserve cut first
    total_cap = cap.sum(axis=1)
    served = np.minimum(d, total_cap)
    energy_short = d - served
    r_cap = np.minimum(rcap, cap)
    req = np.maximum(np.minimum(r, np.minimum(r_cap.sum(axis=1), total_cap - served)), 0.0)
    reserve_short = r - req

    m = n_t * n
    inf = np.full(m, np.inf)
    # rows as linprog passes them: requirement (T), capacity (m), balance (T)
    sol = _day_lp(n_t, n).solve(
        np.concatenate([(c_e * h).ravel(), c_r.ravel()]),
        np.zeros(2 * m),
        np.concatenate([inf, r_cap.ravel()]),
        np.concatenate([np.full(n_t + m, -np.inf), served]),
        np.concatenate([-req, cap.ravel(), served]),
        time_limit_s=time_limit,
        mip_rel_gap=gap,
    )
    g = np.maximum(sol.x[:m], 0.0).reshape(n_t, n)
    rr = np.maximum(sol.x[m:], 0.0).reshape(n_t, n)
    shadow = sol.row_dual[n_t + m :] / h
    mu = -sol.row_dual[:n_t]
    price = np.clip(shadow, floor_price, cap_price)
    tol = 1e-9 * np.maximum(1.0, total_cap)
    price = np.where(energy_short > tol, cap_price, price)
    energy_cost = (c_e * g).sum(axis=1) * h
    reserve_cost = (c_r * rr).sum(axis=1)
    return DayReserveResult(
        dispatch_mw=g,
        reserve_mw=rr,
        energy_price_cny_per_mwh=price,
        shadow_energy_price_cny_per_mwh=shadow,
        reserve_price_cny_per_mw=np.maximum(mu, 0.0),
        energy_cost_cny=energy_cost,
        reserve_cost_cny=reserve_cost,
        cost_cny=float(energy_cost.sum() + reserve_cost.sum()),
        served_demand_mw=served,
        energy_shortfall_mw=energy_short,
        requirement_mw=req,
        reserve_shortfall_mw=reserve_short,
        scarcity=(energy_short > tol) | (reserve_short > tol),
        status="optimal",
    )
