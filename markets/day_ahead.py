"""Day-ahead uniform-price double auction, cleared independently per product.

Each product (a delivery interval, e.g. an hour of the next day) is cleared as a
welfare-maximising double auction with simple (divisible) bids: supply offers are
accepted in ascending order of price, demand bids in descending order, as long as
the marginal demand price is at least the marginal supply price. Every accepted
megawatt-hour is settled at one uniform price per product.

Conventions (all prices in CNY/MWh, all quantities in MWh):

* **Volume.** Among the welfare-maximising allocations the one with the largest
  traded volume is chosen, i.e. trades with zero surplus (supply and demand at
  the same price) are executed. The volume of a product is therefore
  ``max over p of min(S(p), D(p))`` with ``S(p)`` the supply offered at prices
  ``<= p`` and ``D(p)`` the demand bid at prices ``>= p``.
* **Price.** The reported price is the midpoint of the interval of market-clearing
  prices ``[lower, upper]`` compatible with the allocation (the competitive
  equilibrium conditions below), where ``lower = max(highest accepted offer,
  highest (partly) rejected demand bid)`` and ``upper = min(lowest accepted demand
  bid, lowest (partly) rejected offer)``. If a bid is partly accepted, both ends
  equal its price, so the marginal bid sets the price. When the curves overlap on
  a vertical segment (the volume is fixed but a range of prices clears the market)
  the midpoint of that range is reported, as in the European day-ahead algorithm
  EUPHEMIA. ``price_lower_cny_per_mwh`` and ``price_upper_cny_per_mwh`` report the
  whole interval.
* **No crossing** (cheapest offer above the highest bid): zero volume; the price is
  the midpoint between the highest demand bid and the cheapest supply offer (the
  same midpoint rule: every price in that gap clears the market with zero volume).
* **One-sided product** (only supply or only demand): zero volume and price
  ``NaN`` (no bid on the other side bounds the price).
* **Shortage.** Price-taking demand is a demand bid at ``price_cap``. If it alone
  exceeds all supply offered, all supply is accepted, the cap-priced demand is
  rationed pro rata and the price is ``price_cap`` (the partly accepted marginal
  bid is at the cap). If price-taking demand *exactly* equals all supply, the
  market-clearing interval is ``[highest offer, price_cap]`` and the midpoint rule
  applies.
* **Ties.** Bids of the same side and product at exactly the marginal price are
  accepted pro rata to their quantities (every bid at that price receives the same
  accepted fraction). No randomness is involved; the result does not depend on the
  order of the rows.

Every result satisfies the competitive-equilibrium conditions per product with
price p: accepted offers are priced ``<= p``, accepted demand bids ``>= p``,
rejected offers ``>= p``, rejected demand bids ``<= p``, a partly accepted bid is
priced exactly ``p``, and accepted supply equals accepted demand.

Numerical note: a price level whose cumulative quantity is within ``tol`` MWh of
the traded volume is snapped to fully accepted or fully rejected, so that
floating-point rounding in the cumulative sums does not create spurious
partly-accepted bids; per product ``tol = min(1e-9 * max(total offered, total
bid), 0.25 * smallest bid quantity)``.

References:
    Kirschen, D. S. & Strbac, G., "Fundamentals of Power System Economics",
    2nd ed., Wiley, 2019, ch. 3 (electricity pools: supply and demand curves,
    market-clearing price).
    Stoft, S., "Power System Economics", IEEE Press/Wiley, 2002, part 1 (welfare
    maximisation and uniform marginal pricing).
    NEMO Committee, "EUPHEMIA Public Description: Single Price Coupling
    Algorithm" (price indeterminacy resolved at the middle of the range of
    clearing prices).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = ["BID_COLUMNS", "DayAheadResult", "clear"]

#: Columns a bid table must have.
BID_COLUMNS: tuple[str, ...] = ("product", "side", "price_cny_per_mwh", "quantity_mwh", "bidder")

_SIDES = ("supply", "demand")


@dataclass(frozen=True, eq=False)
class DayAheadResult:
    """Outcome of a day-ahead clearing.

    Products are the index of every per-product series (index name ``product``),
    sorted when the labels are sortable, otherwise in order of first appearance.

    Attributes:
        prices: Uniform clearing price per product, CNY/MWh (``NaN`` for one-sided
            products, see the module docstring).
        volumes: Traded volume per product, MWh (accepted supply = accepted demand).
        accepted_mwh: Accepted quantity of every bid, MWh, aligned with the input
            ``bids.index`` (``0 <= accepted <= quantity``).
        welfare_cny: Social welfare per product, CNY: sum over accepted demand of
            bid price x quantity minus sum over accepted supply of offer price x
            quantity (the sum of consumer and producer surplus at any uniform
            price).
        price_lower_cny_per_mwh: Lower end of the interval of market-clearing prices.
        price_upper_cny_per_mwh: Upper end of the interval of market-clearing prices.
        status: Per product: ``"cleared"`` (positive volume), ``"no_crossing"``
            (both sides present, zero volume) or ``"one_sided"``.
    """

    prices: pd.Series
    volumes: pd.Series
    accepted_mwh: pd.Series
    welfare_cny: pd.Series
    price_lower_cny_per_mwh: pd.Series
    price_upper_cny_per_mwh: pd.Series
    status: pd.Series

    def summary(self) -> pd.DataFrame:
        """Per-product table of price, price interval, volume, welfare and status.

        Returns:
            DataFrame indexed by product with columns ``price_cny_per_mwh``,
            ``price_lower_cny_per_mwh``, ``price_upper_cny_per_mwh``,
            ``volume_mwh``, ``welfare_cny`` and ``status``.
        """
        return pd.DataFrame(
            {
                "price_cny_per_mwh": self.prices,
                "price_lower_cny_per_mwh": self.price_lower_cny_per_mwh,
                "price_upper_cny_per_mwh": self.price_upper_cny_per_mwh,
                "volume_mwh": self.volumes,
                "welfare_cny": self.welfare_cny,
                "status": self.status,
            }
        )


def _check_limits(price_floor: float, price_cap: float) -> tuple[float, float]:
    """Validate the administrative price limits.

    Args:
        price_floor: Lowest admissible bid price, CNY/MWh.
        price_cap: Highest admissible bid price, CNY/MWh.

    Returns:
        The limits as floats.

    Raises:
        ValueError: If a limit is not finite or ``price_floor >= price_cap``.
    """
    floor, cap = float(price_floor), float(price_cap)
    if not np.isfinite(floor):
        raise ValueError(f"price_floor must be finite, got {price_floor!r}")
    if not np.isfinite(cap):
        raise ValueError(f"price_cap must be finite, got {price_cap!r}")
    if floor >= cap:
        raise ValueError(f"price_floor ({floor}) must be below price_cap ({cap})")
    return floor, cap


def _raise_for_bids(
    bids: pd.DataFrame, bad: NDArray[np.bool_], describe: Callable[[int], str]
) -> None:
    """Raise a ValueError naming the first offending bid, if any.

    Args:
        bids: The bid table.
        bad: Boolean mask over the rows of ``bids``.
        describe: Maps a row position to a description of the problem.

    Raises:
        ValueError: If any entry of ``bad`` is true.
    """
    positions = np.flatnonzero(bad)
    if positions.size == 0:
        return
    i = int(positions[0])
    more = positions.size - 1
    suffix = f" ({more} more bid(s) fail the same check)" if more else ""
    raise ValueError(
        f"bid {bids.index[i]!r} (bidder {bids['bidder'].iloc[i]!r}): {describe(i)}{suffix}"
    )


def _finite_column(bids: pd.DataFrame, column: str) -> NDArray[np.float64]:
    """Extract a numeric bid column, rejecting missing, non-numeric and infinite entries.

    Args:
        bids: The bid table.
        column: Name of the column (e.g. ``price_cny_per_mwh``, CNY/MWh).

    Returns:
        The column as a float64 array over the rows.

    Raises:
        ValueError: Naming the first bid whose entry is not a finite number.
    """
    raw = bids[column]
    values: NDArray[np.float64] = pd.to_numeric(raw, errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    _raise_for_bids(
        bids,
        ~np.isfinite(values),
        lambda i: f"{column} must be a finite number, got {raw.iloc[i]!r}",
    )
    return values


def _validated_columns(
    bids: pd.DataFrame, floor: float, cap: float
) -> tuple[NDArray[np.bool_], NDArray[np.float64], NDArray[np.float64]]:
    """Validate a bid table and extract its numeric columns.

    Args:
        bids: Bid table with the columns in ``BID_COLUMNS``.
        floor: Price floor, CNY/MWh.
        cap: Price cap, CNY/MWh.

    Returns:
        ``(is_supply, price_cny_per_mwh, quantity_mwh)`` as arrays over the rows.

    Raises:
        ValueError: On missing columns, a missing product or bidder, an unknown
            side, a NaN/infinite price or quantity, a price outside
            ``[floor, cap]``, or a zero or negative quantity.
    """
    if not isinstance(bids, pd.DataFrame):
        raise ValueError(f"bids must be a pandas DataFrame, got {type(bids).__name__}")
    missing = [c for c in BID_COLUMNS if c not in bids.columns]
    if missing:
        raise ValueError(f"bids is missing column(s) {missing}; required: {list(BID_COLUMNS)}")

    _raise_for_bids(bids, bids["bidder"].isna().to_numpy(), lambda _: "bidder must not be missing")
    _raise_for_bids(
        bids, bids["product"].isna().to_numpy(), lambda _: "product must not be missing"
    )
    side = bids["side"]
    _raise_for_bids(
        bids,
        ~side.isin(_SIDES).to_numpy(dtype=bool),
        lambda i: f"side must be 'supply' or 'demand', got {side.iloc[i]!r}",
    )
    price = _finite_column(bids, "price_cny_per_mwh")
    _raise_for_bids(
        bids,
        (price < floor) | (price > cap),
        lambda i: (
            f"price_cny_per_mwh {price[i]} is outside [price_floor, price_cap] = [{floor}, {cap}]"
        ),
    )
    qty = _finite_column(bids, "quantity_mwh")
    _raise_for_bids(bids, qty < 0, lambda i: f"quantity_mwh must be positive, got {qty[i]}")
    _raise_for_bids(bids, qty == 0, lambda _: "zero-quantity bid (quantity_mwh must be positive)")
    return (side == "supply").to_numpy(dtype=bool), price, qty


def _factorize_products(products: pd.Series) -> tuple[NDArray[np.intp], pd.Index]:
    """Encode product labels as integer codes.

    Args:
        products: Product label of every bid.

    Returns:
        ``(codes, labels)``; labels are sorted when they are mutually comparable,
        otherwise in order of first appearance.
    """
    try:
        codes, uniques = pd.factorize(products, sort=True)
    except TypeError:
        codes, uniques = pd.factorize(products, sort=False)
    return np.asarray(codes, dtype=np.intp), pd.Index(uniques, name="product")


def _grouped_cumsum(values: NDArray[np.float64], groups: NDArray[np.intp]) -> NDArray[np.float64]:
    """Inclusive cumulative sum restarted in every group (rows sorted by group).

    Summation is sequential within each group, so the result does not carry the
    rounding error of the other groups' sums.

    Args:
        values: Values to accumulate.
        groups: Group id of every value, non-decreasing.

    Returns:
        The grouped cumulative sums.
    """
    sums: NDArray[np.float64] = (
        pd.Series(values).groupby(groups, sort=False).cumsum().to_numpy(dtype=np.float64)
    )
    return sums


def _empty_result(index: pd.Index) -> DayAheadResult:
    """Result of clearing an empty bid table.

    Args:
        index: The (empty) index of the bid table.

    Returns:
        A result whose series are all empty.
    """
    labels = pd.Index([], name="product")

    def empty(name: str, dtype: str = "float64") -> pd.Series:
        return pd.Series([], index=labels, name=name, dtype=dtype)

    return DayAheadResult(
        prices=empty("price_cny_per_mwh"),
        volumes=empty("volume_mwh"),
        accepted_mwh=pd.Series([], index=index.copy(), name="accepted_mwh", dtype="float64"),
        welfare_cny=empty("welfare_cny"),
        price_lower_cny_per_mwh=empty("price_lower_cny_per_mwh"),
        price_upper_cny_per_mwh=empty("price_upper_cny_per_mwh"),
        status=empty("status", "object"),
    )


def clear(bids: pd.DataFrame, price_floor: float, price_cap: float) -> DayAheadResult:
    """Clear a day-ahead double auction for every product in a bid table.

    The products are cleared independently; the computation is vectorised over
    all bids of all products (one global sort, grouped cumulative sums), with no
    Python loop over bids or products.

    Args:
        bids: One row per bid with columns ``product`` (any hashable label, e.g.
            the delivery interval), ``side`` (``"supply"`` or ``"demand"``),
            ``price_cny_per_mwh`` (limit price, CNY/MWh; a price-taking demand bid
            uses ``price_cap``), ``quantity_mwh`` (offered/bid energy, MWh, > 0) and
            ``bidder`` (any label, used in error messages). Any index; it is
            carried to ``DayAheadResult.accepted_mwh``.
        price_floor: Lowest admissible bid price, CNY/MWh.
        price_cap: Highest admissible bid price, CNY/MWh (scarcity price).

    Returns:
        The per-product prices, volumes, welfare and price intervals and the
        per-bid accepted quantities; see the module docstring for the tie,
        vertical-segment, no-crossing, one-sided and shortage conventions.

    Raises:
        ValueError: If the limits are not finite or not ordered, a column is
            missing, or a bid has a missing product or bidder, an unknown side, a
            NaN/infinite/out-of-range price, or a NaN, infinite, negative or zero
            quantity. The message names the first offending bid by index and
            bidder.

    References:
        Kirschen, D. S. & Strbac, G., "Fundamentals of Power System Economics",
        2nd ed., Wiley, 2019, ch. 3.
        NEMO Committee, "EUPHEMIA Public Description", 2020.
    """
    floor, cap = _check_limits(price_floor, price_cap)
    is_supply, price, qty = _validated_columns(bids, floor, cap)
    codes, labels = _factorize_products(bids["product"])
    n_products = len(labels)
    if n_products == 0:
        return _empty_result(bids.index)

    # Sort by product, then price ascending; group equal (product, price) into levels.
    order = np.lexsort((price, codes))
    codes_s, price_s = codes[order], price[order]
    qty_s, supply_s = qty[order], is_supply[order]
    n = order.size
    new_level = np.ones(n, dtype=bool)
    if n > 1:
        new_level[1:] = (codes_s[1:] != codes_s[:-1]) | (price_s[1:] != price_s[:-1])
    level_of_bid = np.cumsum(new_level) - 1
    level_start = np.flatnonzero(new_level)
    n_levels = level_start.size
    level_product = codes_s[level_start]
    level_price = price_s[level_start]
    sup_at = np.asarray(
        np.bincount(level_of_bid, weights=np.where(supply_s, qty_s, 0.0), minlength=n_levels),
        dtype=np.float64,
    )
    dem_at = np.asarray(
        np.bincount(level_of_bid, weights=np.where(supply_s, 0.0, qty_s), minlength=n_levels),
        dtype=np.float64,
    )

    # Level index ranges of every product (each product has at least one level).
    prod_start = np.flatnonzero(np.r_[True, level_product[1:] != level_product[:-1]])
    prod_last = np.r_[prod_start[1:], n_levels] - 1

    # S(p): supply offered at prices <= p; D(p): demand bid at prices >= p.
    s_incl = _grouped_cumsum(sup_at, level_product)
    d_incl = _grouped_cumsum(dem_at[::-1], level_product[::-1])[::-1]
    s_excl = np.r_[0.0, s_incl[:-1]]
    s_excl[prod_start] = 0.0
    d_excl = np.r_[d_incl[1:], 0.0]
    d_excl[prod_last] = 0.0

    volume = np.maximum.reduceat(np.minimum(s_incl, d_incl), prod_start)
    total_s = s_incl[prod_last]
    total_d = d_incl[prod_start]
    smallest = np.minimum.reduceat(qty_s, np.flatnonzero(np.r_[True, codes_s[1:] != codes_s[:-1]]))
    tol = np.minimum(1e-9 * np.maximum(total_s, total_d), 0.25 * smallest)

    q_lvl = volume[level_product]
    t_lvl = tol[level_product]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac_s = np.clip((q_lvl - s_excl) / sup_at, 0.0, 1.0)
        frac_d = np.clip((q_lvl - d_excl) / dem_at, 0.0, 1.0)
    frac_s = np.where(s_incl - q_lvl <= t_lvl, 1.0, frac_s)
    frac_s = np.where(q_lvl - s_excl <= t_lvl, 0.0, frac_s)
    frac_d = np.where(d_incl - q_lvl <= t_lvl, 1.0, frac_d)
    frac_d = np.where(q_lvl - d_excl <= t_lvl, 0.0, frac_d)
    frac_s = np.where(sup_at > 0, frac_s, 0.0)
    frac_d = np.where(dem_at > 0, frac_d, 0.0)

    # Interval of market-clearing prices from the competitive-equilibrium conditions.
    inf = np.inf
    has_s, has_d = sup_at > 0, dem_at > 0
    s_acc_max = np.maximum.reduceat(np.where(has_s & (frac_s > 0), level_price, -inf), prod_start)
    s_rem_min = np.minimum.reduceat(np.where(has_s & (frac_s < 1), level_price, inf), prod_start)
    d_acc_min = np.minimum.reduceat(np.where(has_d & (frac_d > 0), level_price, inf), prod_start)
    d_rem_max = np.maximum.reduceat(np.where(has_d & (frac_d < 1), level_price, -inf), prod_start)
    lower = np.maximum(s_acc_max, d_rem_max)
    upper = np.minimum(d_acc_min, s_rem_min)
    defined = np.isfinite(lower) & np.isfinite(upper)
    lower = np.where(defined, lower, np.nan)
    upper = np.where(defined, upper, np.nan)
    clearing = 0.5 * (lower + upper)

    # Per-bid acceptance, back in the input row order.
    accepted_s = qty_s * np.where(supply_s, frac_s[level_of_bid], frac_d[level_of_bid])
    accepted = np.empty(n, dtype=np.float64)
    accepted[order] = accepted_s
    signed_value = np.where(is_supply, -price, price) * accepted
    welfare = np.bincount(codes, weights=signed_value, minlength=n_products)

    one_sided = (total_s == 0) | (total_d == 0)
    status = np.where(one_sided, "one_sided", np.where(volume > 0, "cleared", "no_crossing"))
    volume = np.where(volume > 0, volume, 0.0)

    def per_product(values: NDArray[np.generic], name: str) -> pd.Series:
        return pd.Series(values, index=labels.copy(), name=name)

    return DayAheadResult(
        prices=per_product(clearing, "price_cny_per_mwh"),
        volumes=per_product(volume, "volume_mwh"),
        accepted_mwh=pd.Series(accepted, index=bids.index.copy(), name="accepted_mwh"),
        welfare_cny=per_product(welfare, "welfare_cny"),
        price_lower_cny_per_mwh=per_product(lower, "price_lower_cny_per_mwh"),
        price_upper_cny_per_mwh=per_product(upper, "price_upper_cny_per_mwh"),
        status=per_product(status, "status"),
    )
