"""Distributed generation (rooftop PV) on a host's roof: energy split and sizing.

A DG provider owns PV on a park user's (the host's) roof under an energy-management
contract. Per interval of ``interval_h`` hours with generation G (kW) and host load
L (kW), rule D1 of PHASES.md:

* the host consumes S = min(G, L) behind the meter (self-consumption), the rest
  X = G − S is exported;
* the host pays the provider (1 − δ)·p·S·Δt CNY, p = the host's retail price
  (CNY/kWh), δ = ``discount_share``: the host saves δ·p·S·Δt against buying S from
  its retailer;
* the provider sells the export at ``export_price_cny_per_kwh`` (the coal benchmark
  or the spot price);
* the host's net grid purchase is L − S = max(L − G, 0) kW.

Rule D2 sizes a plant: for candidate sizes (kWp) the provider's NPV over the
lifetime at a discount rate, its simple payback and the self-consumption share
S/G are computed; a size is admissible if it is positive, pays back within
``max_payback_yr``, self-consumes at least ``min_self_consumption_share`` and has
a positive NPV; the admissible size of largest NPV is chosen.

Sign conventions: every money amount is >= 0 and the field name says who pays
(``fee_cny``: host → provider; ``export_revenue_cny``: buyer → provider, may be
negative only if the export price is); energy in kWh, power in kW.

References:
    PHASES.md rules D1 and D2. Self-consumption with surplus to the grid:
    https://www.projectfinance.law/publications/2014/june/rooftop-solar-gets-traction-in-china/ .
    C&I rooftop payback 5–6 yr and self-consumption ≥ 50 % rules: PHASES.md
    sources [S13] and [S14] (newsbreak.com news 2413316549369; nenpower.com,
    "Impacts of new regulations on industrial and commercial solar power").
    Brealey, R. A., Myers, S. C. & Allen, F., "Principles of Corporate Finance",
    13th ed., McGraw-Hill, 2020, ch. 2 and 5 (NPV, annuity factor, payback).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from markets._checks import as_float_array, interval_length_h, nonnegative_scalar
from markets.dg_finance import _array, npv_cny, payback_years

__all__ = [
    "HOURS_PER_YEAR",
    "DgSplit",
    "SizeEvaluation",
    "evaluate_sizes",
    "npv_cny",
    "payback_years",
    "scale_profile",
    "split",
]

#: Hours in a (non-leap) year, used to annualise a window of intervals.
HOURS_PER_YEAR = 8760.0
_CHUNK_ELEMENTS = 2_000_000  # users × intervals per block in evaluate_sizes (memory bound)


def _discount(discount_share: ArrayLike) -> NDArray[np.float64]:
    """Validate the host's discount δ in [0, 1].

    Args:
        discount_share: δ, scalar or one value per site (dimensionless).

    Returns:
        δ as float64, with a trailing axis added for per-site values so it
        broadcasts against sites × intervals.

    Raises:
        ValueError: If δ is negative, above 1 or not finite.
    """
    d = as_float_array(discount_share, "discount_share")
    if not np.isfinite(d).all():
        raise ValueError("discount_share must be finite")
    if (d < 0).any():
        raise ValueError(f"discount_share must be >= 0 (a share of the price), got {d.min()}")
    if (d > 1).any():
        raise ValueError(f"discount_share must be <= 1 (a share of the price), got {d.max()}")
    return d[..., None] if d.ndim else d


@dataclass(frozen=True, eq=False)
class DgSplit:
    """Self-consumption, export and payments of DG sites (rule D1).

    Totals are summed over the last (interval) axis: Python floats for one site
    (1-D inputs), arrays of the leading shape (e.g. one value per user) otherwise.

    Attributes:
        self_consumed_kwh: Σ S·Δt, kWh consumed behind the meter.
        export_kwh: Σ X·Δt, kWh exported.
        generation_kwh: Σ G·Δt, kWh (= self-consumed + export).
        fee_cny: Σ (1 − δ)·p·S·Δt, CNY paid by the host to the provider.
        host_saving_cny: Σ δ·p·S·Δt, CNY the host saves against its retail price.
        export_revenue_cny: Σ p_exp·X·Δt, CNY paid to the provider for export.
        net_load_kw: Host's net grid purchase L − S = max(L − G, 0), kW (array of
            the broadcast shape).
        self_consumed_interval_kwh: S·Δt per interval, kWh (broadcast shape).
        export_interval_kwh: X·Δt per interval, kWh (broadcast shape).
    """

    self_consumed_kwh: float | NDArray[np.float64]
    export_kwh: float | NDArray[np.float64]
    generation_kwh: float | NDArray[np.float64]
    fee_cny: float | NDArray[np.float64]
    host_saving_cny: float | NDArray[np.float64]
    export_revenue_cny: float | NDArray[np.float64]
    net_load_kw: NDArray[np.float64]
    self_consumed_interval_kwh: NDArray[np.float64]
    export_interval_kwh: NDArray[np.float64]


def _total(arr: NDArray[np.float64]) -> float | NDArray[np.float64]:
    """Sum over the interval axis; a Python float for one site.

    Args:
        arr: Values per interval (last axis), any unit.

    Returns:
        The sum over the last axis.
    """
    total = arr.sum(axis=-1)
    return float(total) if total.ndim == 0 else total


def _full(arr: NDArray[np.float64], shape: tuple[int, ...]) -> NDArray[np.float64]:
    """``arr`` broadcast to ``shape`` (itself when it has that shape), any unit.

    Args:
        arr: The array.
        shape: The broadcast shape.

    Returns:
        ``arr`` or a read-only broadcast view of it.
    """
    return arr if arr.shape == shape else np.broadcast_to(arr, shape)


def split(
    gen_kw: ArrayLike,
    load_kw: ArrayLike,
    user_price_cny_per_kwh: ArrayLike,
    discount_share: ArrayLike,
    export_price_cny_per_kwh: ArrayLike,
    interval_h: float = 1.0,
) -> DgSplit:
    """Split DG output into self-consumption and export and price both (rule D1).

    S = min(G, L), X = G − S per interval; fee = (1 − δ)·p·S·Δt, host saving =
    δ·p·S·Δt, export revenue = p_exp·X·Δt; net load = L − S.

    Worked example (Δt = 1 h): G = [0, 50, 120], L = [80, 80, 80] kW, p = 0.6,
    δ = 0.15, p_exp = 0.391: S = [0, 50, 80] → 130 kWh, X = [0, 0, 40] → 40 kWh;
    fee = 0.85·0.6·130 = 66.3 CNY, saving = 0.15·0.6·130 = 11.7 CNY, export
    revenue = 0.391·40 = 15.64 CNY, net load [80, 30, 0] kW.

    Args:
        gen_kw: Generation G per interval, kW (>= 0); 1-D over intervals for one
            site or sites × intervals, broadcast against ``load_kw``.
        load_kw: Host load L per interval, kW (>= 0), same layout.
        user_price_cny_per_kwh: Host's retail price p, CNY/kWh (>= 0); scalar or
            broadcastable to the intervals (e.g. a TOU curve).
        discount_share: δ in [0, 1] (dimensionless); scalar or one value per site.
        export_price_cny_per_kwh: Export price, CNY/kWh (finite, any sign: a spot
            price may be negative); scalar or broadcastable to the intervals.
        interval_h: Interval length Δt, h.

    Returns:
        Totals per site, the per-interval split and the net load.

    Raises:
        ValueError: If generation or load is negative or not finite, the user
            price is negative, δ is outside [0, 1], an export price is not
            finite, the shapes do not broadcast or ``interval_h`` is not positive.

    References:
        PHASES.md rule D1; "self-consumption, surplus to grid" (module docstring).
    """
    gen = _array(gen_kw, "gen_kw", nonnegative=True, noun="generation")
    load = _array(load_kw, "load_kw", nonnegative=True, noun="loads")
    price = _array(
        user_price_cny_per_kwh, "user_price_cny_per_kwh", nonnegative=True, noun="prices"
    )
    export_price = _array(
        export_price_cny_per_kwh, "export_price_cny_per_kwh", nonnegative=False, noun="prices"
    )
    delta = _discount(discount_share)
    dt = interval_length_h(interval_h)
    try:
        shape = np.broadcast_shapes(gen.shape, load.shape, price.shape, export_price.shape)
        if delta.ndim:
            shape = np.broadcast_shapes(shape, delta.shape)
    except ValueError as exc:
        raise ValueError(
            f"gen_kw {gen.shape}, load_kw {load.shape}, prices and discount_share "
            f"{delta.shape} do not broadcast: {exc}"
        ) from exc
    if len(shape) == 0:
        raise ValueError("gen_kw and load_kw must have an interval axis (at least 1-D)")
    gen, load = _full(gen, shape), _full(load, shape)
    self_kw = np.minimum(gen, load)
    self_kwh = self_kw * dt
    export_kwh = (gen - self_kw) * dt
    avoided = price * self_kwh
    return DgSplit(
        self_consumed_kwh=_total(self_kwh),
        export_kwh=_total(export_kwh),
        generation_kwh=_total(gen * dt),
        fee_cny=_total(_full((1.0 - delta) * avoided, shape)),
        host_saving_cny=_total(_full(delta * avoided, shape)),
        export_revenue_cny=_total(_full(export_price * export_kwh, shape)),
        net_load_kw=load - self_kw,
        self_consumed_interval_kwh=self_kwh,
        export_interval_kwh=export_kwh,
    )


def scale_profile(
    shape_kw_per_kwp: ArrayLike, annual_yield_kwh_per_kwp: float, interval_h: float = 1.0
) -> NDArray[np.float64]:
    """Scale a one-year generation shape so that it yields a given energy per kWp.

    profile = shape · Y / (Σ shape · Δt), so Σ profile · Δt = Y.

    Args:
        shape_kw_per_kwp: Non-negative generation shape over one year, kW per kWp
            (any shape; all intervals of the year).
        annual_yield_kwh_per_kwp: Target yield Y, kWh per kWp per year (> 0).
        interval_h: Interval length Δt, h.

    Returns:
        The scaled profile, kW per kWp, the shape of the input.

    Raises:
        ValueError: If Y <= 0 or not finite, the shape is negative, not finite or
            sums to 0, or ``interval_h`` is not positive.

    References:
        Provincial full-load hours of PV: https://wenku.solarbe.com/p-20929.html .
    """
    shape = _array(shape_kw_per_kwp, "shape_kw_per_kwp", nonnegative=True, noun="generation")
    target = nonnegative_scalar(
        annual_yield_kwh_per_kwp, "annual_yield_kwh_per_kwp", positive=True, real=True
    )
    dt = interval_length_h(interval_h)
    energy = float(shape.sum()) * dt
    if energy <= 0:
        raise ValueError("shape_kw_per_kwp yields no energy (all zero); cannot scale it")
    return shape * (target / energy)


def _rows(arr: NDArray[np.float64], lo: int, hi: int, n_users: int) -> NDArray[np.float64]:
    """Rows ``lo:hi`` of a per-user (users × intervals) input, else the shared input.

    Args:
        arr: Input, e.g. prices in CNY/kWh.
        lo: First user of the block.
        hi: One past the last user of the block.
        n_users: Number of users.

    Returns:
        The block's rows, or ``arr`` if it is shared by all users.
    """
    return arr[lo:hi] if arr.ndim == 2 and arr.shape[0] == n_users else arr


@dataclass(frozen=True, eq=False)
class SizeEvaluation:
    """Candidate DG sizes evaluated per user (rule D2); arrays users × sizes.

    Attributes:
        sizes_kwp: Candidate sizes, kWp (users × sizes).
        npv_cny: Provider's NPV, CNY.
        payback_yr: Simple payback, years (``inf`` if never).
        self_consumption_share: S/G (0 for a zero size), dimensionless.
        annual_generation_kwh: kWh per year.
        annual_self_consumed_kwh: kWh per year.
        annual_fee_cny: Host → provider fee, CNY per year.
        annual_export_revenue_cny: Export revenue, CNY per year.
        annual_host_saving_cny: Host's saving, CNY per year.
        annual_net_cny: Provider's fee + export − O&M, CNY per year.
        capex_cny: Investment, CNY.
        admissible: Size > 0, payback ≤ max, share ≥ min and NPV > 0.
        best_index: Chosen size per user (max NPV among admissible), −1 if none.
        best_kwp: Chosen size per user, kWp (0 if none).
        best_npv_cny: NPV of the chosen size, CNY (0 if none).
    """

    sizes_kwp: NDArray[np.float64]
    npv_cny: NDArray[np.float64]
    payback_yr: NDArray[np.float64]
    self_consumption_share: NDArray[np.float64]
    annual_generation_kwh: NDArray[np.float64]
    annual_self_consumed_kwh: NDArray[np.float64]
    annual_fee_cny: NDArray[np.float64]
    annual_export_revenue_cny: NDArray[np.float64]
    annual_host_saving_cny: NDArray[np.float64]
    annual_net_cny: NDArray[np.float64]
    capex_cny: NDArray[np.float64]
    admissible: NDArray[np.bool_]
    best_index: NDArray[np.intp]
    best_kwp: NDArray[np.float64]
    best_npv_cny: NDArray[np.float64]


def evaluate_sizes(
    sizes_kwp: ArrayLike,
    profile_kw_per_kwp: ArrayLike,
    load_kw: ArrayLike,
    user_price_cny_per_kwh: ArrayLike,
    discount_share: ArrayLike,
    export_price_cny_per_kwh: ArrayLike,
    *,
    capex_cny_per_w: float = 3.0,
    om_cny_per_w_yr: float = 0.05,
    lifetime_yr: float = 25.0,
    discount_rate: float = 0.08,
    max_payback_yr: float = 6.0,
    min_self_consumption_share: float = 0.5,
    interval_h: float = 1.0,
    window_years: float | None = None,
) -> SizeEvaluation:
    """Evaluate candidate PV sizes for every user and choose one (rule D2).

    For size K (kWp) the generation is K·profile; :func:`split` gives the fee,
    export revenue and self-consumption over the window, scaled to a year by
    1/``window_years``. Provider cash per year A = fee + export − om·1000·K,
    capex = capex_cny_per_w·1000·K, NPV = −capex + A·annuity(r, n), payback =
    capex/A. Loops over the (few) sizes and over blocks of users; each block is
    vectorised over users × intervals.

    Args:
        sizes_kwp: Candidate sizes, kWp (>= 0): one row for all users
            ``(n_sizes,)`` or per user ``(n_users, n_sizes)`` (e.g. shares of each
            roof).
        profile_kw_per_kwp: Generation per kWp over the window, kW/kWp (1-D,
            intervals).
        load_kw: Host load over the same window, kW: ``(n_intervals,)`` for one
            user or ``(n_users, n_intervals)``.
        user_price_cny_per_kwh: Host retail price, CNY/kWh (scalar, per interval,
            or users × intervals).
        discount_share: δ in [0, 1] (dimensionless), scalar or per user.
        export_price_cny_per_kwh: Export price, CNY/kWh (scalar or per interval).
        capex_cny_per_w: Investment, CNY per W peak.
        om_cny_per_w_yr: O&M, CNY per W peak per year.
        lifetime_yr: Lifetime, years (> 0).
        discount_rate: Provider's discount rate per year (dimensionless, >= 0).
        max_payback_yr: Largest admissible simple payback, years.
        min_self_consumption_share: Smallest admissible S/G (dimensionless).
        interval_h: Interval length, h.
        window_years: Length of the window in years (default: n_intervals ·
            interval_h / 8760 h, i.e. the window is representative of a year).

    Returns:
        NPV, payback, shares and annual flows per user × size, and the choice.

    Raises:
        ValueError: On negative sizes, a profile with negative values or no
            energy (PV yield <= 0), invalid δ, prices or loads, mismatched shapes,
            or invalid economic parameters; the message names the argument.

    References:
        PHASES.md rule D2; Brealey, Myers & Allen (2020), ch. 2 and 5; payback and
        self-consumption thresholds (module docstring).
    """
    profile = _array(profile_kw_per_kwp, "profile_kw_per_kwp", nonnegative=True, noun="generation")
    if profile.ndim != 1 or profile.size == 0:
        raise ValueError(
            f"profile_kw_per_kwp must be a non-empty 1-D curve, got shape {profile.shape}"
        )
    dt = interval_length_h(interval_h)
    if float(profile.sum()) * dt <= 0:
        raise ValueError("profile_kw_per_kwp has a PV yield of 0 kWh/kWp; it must be > 0")
    load = _array(load_kw, "load_kw", nonnegative=True, noun="loads")
    if load.ndim == 1:
        load = load[None, :]
    if load.ndim != 2 or load.shape[1] != profile.size:
        raise ValueError(
            f"load_kw must be (n_intervals,) or (n_users, n_intervals) with "
            f"{profile.size} intervals, got shape {load.shape}"
        )
    n_users, n_t = load.shape
    sizes = _array(sizes_kwp, "sizes_kwp", nonnegative=True, noun="sizes")
    if sizes.ndim == 1:
        sizes = np.broadcast_to(sizes, (n_users, sizes.size))
    if sizes.ndim != 2 or sizes.shape[0] != n_users or sizes.shape[1] == 0:
        raise ValueError(f"sizes_kwp must be (n_sizes,) or ({n_users}, n_sizes), got {sizes.shape}")
    price = _array(
        user_price_cny_per_kwh, "user_price_cny_per_kwh", nonnegative=True, noun="prices"
    )
    export_price = _array(
        export_price_cny_per_kwh, "export_price_cny_per_kwh", nonnegative=False, noun="prices"
    )
    delta = _discount(discount_share)  # scalar, or (k, 1) for k values
    if delta.ndim:
        if delta.ndim != 2 or delta.shape[0] not in (1, n_users):
            raise ValueError(
                f"discount_share must be a scalar or one value per user ({n_users}), "
                f"got shape {delta.shape[:-1]}"
            )
        delta = delta[0, 0] if delta.shape[0] == 1 else delta[:, 0]
    capex_w = nonnegative_scalar(capex_cny_per_w, "capex_cny_per_w", real=True)
    om_w = nonnegative_scalar(om_cny_per_w_yr, "om_cny_per_w_yr", real=True)
    life = nonnegative_scalar(lifetime_yr, "lifetime_yr", positive=True, real=True)
    rate = nonnegative_scalar(discount_rate, "discount_rate", real=True)
    max_pb = nonnegative_scalar(max_payback_yr, "max_payback_yr", real=True)
    min_share = nonnegative_scalar(
        min_self_consumption_share, "min_self_consumption_share", real=True
    )
    if min_share > 1:
        raise ValueError(
            f"min_self_consumption_share must be <= 1, got {min_self_consumption_share!r}"
        )
    years = (
        n_t * dt / HOURS_PER_YEAR
        if window_years is None
        else nonnegative_scalar(window_years, "window_years", positive=True, real=True)
    )
    per_year = 1.0 / years

    n_sizes = sizes.shape[1]
    gen_kwh = np.zeros((n_users, n_sizes))
    self_kwh = np.zeros((n_users, n_sizes))
    fee = np.zeros((n_users, n_sizes))
    export_rev = np.zeros((n_users, n_sizes))
    saving = np.zeros((n_users, n_sizes))
    block = max(1, _CHUNK_ELEMENTS // n_t)
    for lo in range(0, n_users, block):  # blocks of users bound the memory
        hi = min(n_users, lo + block)
        d_block = delta[lo:hi] if delta.ndim else delta  # split() adds the interval axis
        for j in range(n_sizes):  # few candidate sizes
            res = split(
                sizes[lo:hi, j, None] * profile,
                load[lo:hi],
                _rows(price, lo, hi, n_users),
                d_block,
                _rows(export_price, lo, hi, n_users),
                dt,
            )
            gen_kwh[lo:hi, j] = res.generation_kwh
            self_kwh[lo:hi, j] = res.self_consumed_kwh
            fee[lo:hi, j] = res.fee_cny
            export_rev[lo:hi, j] = res.export_revenue_cny
            saving[lo:hi, j] = res.host_saving_cny
    gen_kwh, self_kwh, fee, export_rev, saving = (
        x * per_year for x in (gen_kwh, self_kwh, fee, export_rev, saving)
    )
    sizes = np.array(sizes, dtype=np.float64)
    capex = capex_w * 1000.0 * sizes
    annual_net = fee + export_rev - om_w * 1000.0 * sizes
    npv = npv_cny(capex, annual_net, life, rate)
    payback = payback_years(capex, annual_net)
    share = np.divide(self_kwh, gen_kwh, out=np.zeros_like(gen_kwh), where=gen_kwh > 0)
    admissible = (sizes > 0) & (payback <= max_pb) & (share >= min_share) & (npv > 0)
    masked = np.where(admissible, npv, -np.inf)
    best = np.argmax(masked, axis=1)
    has = admissible.any(axis=1)
    rows = np.arange(n_users)
    best_index = np.where(has, best, -1)
    return SizeEvaluation(
        sizes_kwp=sizes,
        npv_cny=npv,
        payback_yr=payback,
        self_consumption_share=share,
        annual_generation_kwh=gen_kwh,
        annual_self_consumed_kwh=self_kwh,
        annual_fee_cny=fee,
        annual_export_revenue_cny=export_rev,
        annual_host_saving_cny=saving,
        annual_net_cny=annual_net,
        capex_cny=capex,
        admissible=admissible,
        best_index=best_index,
        best_kwp=np.where(has, sizes[rows, best], 0.0),
        best_npv_cny=np.where(has, npv[rows, best], 0.0),
    )
