"""The sales agent's load forecasts and quotes (rules F and U0 of PHASES.md §1.2).

A forecast is two daily profiles per user — weekday and weekend, kW per
interval — from which the agent builds the contract month's curve. The
``grid`` agent forecasts every user from metered history: the mean of its
served load over the last ``history_days`` days of that day type (before any
day is metered, the grid company's long history: the user's expected load).
The ``independent`` agent has no such history: for a user with less than a
month of its own metered data it takes the user's declared energy
``Ê = E_last·(1 + ε)``, ``ε ~ N(0, σ²)``, spread over the industry's
normalised daily shape; afterwards it forecasts like the grid agent.

References:
    PHASES.md §1.2 F and U0; seed §3 (the grid company's data advantage).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["Forecast", "LoadHistory", "industry_shapes", "month_curve", "quote_cost_cny"]


@dataclass(frozen=True)
class Forecast:
    """Daily load profiles per user.

    Attributes:
        weekday_kw: Weekday profile ``(n_users, ipd)``, kW.
        weekend_kw: Weekend profile ``(n_users, ipd)``, kW.
    """

    weekday_kw: NDArray[np.float64]
    weekend_kw: NDArray[np.float64]

    def energy_kwh(self, weekends: NDArray[np.bool_], interval_h: float) -> NDArray[np.float64]:
        """Forecast energy per user over days of the given types, kWh."""
        n_we = int(np.count_nonzero(weekends))
        n_wd = len(weekends) - n_we
        return (
            n_wd * self.weekday_kw.sum(axis=1) + n_we * self.weekend_kw.sum(axis=1)
        ) * interval_h


def month_curve(profiles: Forecast, rows: NDArray[np.int64], weekends: NDArray[np.bool_]) -> Any:
    """Aggregate forecast curve of some users over days of the given types, kW per interval."""
    wd = profiles.weekday_kw[rows].sum(axis=0)
    we = profiles.weekend_kw[rows].sum(axis=0)
    return np.concatenate([we if w else wd for w in weekends]) if len(weekends) else np.zeros(0)


class LoadHistory:
    """Rolling buffer of each user's served load over the last days, by day type.

    Args:
        n_users: Number of users.
        ipd: Intervals per day.
        days: Days kept per day type.
    """

    def __init__(self, n_users: int, ipd: int, days: int) -> None:
        self.days = days
        self._buf = {w: np.zeros((days, n_users, ipd)) for w in (False, True)}
        self._count = {False: 0, True: 0}

    def add(self, served_kw: NDArray[np.float64], weekend: bool) -> None:
        """Store one day's served load."""
        k = self._count[weekend]
        self._buf[weekend][k % self.days] = served_kw
        self._count[weekend] = k + 1

    def profile(self, weekend: bool, fallback_kw: NDArray[np.float64]) -> NDArray[np.float64]:
        """Mean stored profile of a day type (``fallback_kw`` before any such day)."""
        k = min(self._count[weekend], self.days)
        if k == 0:
            return np.asarray(fallback_kw, dtype=float)
        return self._buf[weekend][:k].mean(axis=0)


def industry_shapes(pop: Any, weekend: bool) -> NDArray[np.float64]:
    """Each user's industry-mean daily shape, normalised to a mean of 1 over the weekday.

    Args:
        pop: The population arrays.
        weekend: Weekend shape (kept in its ratio to the weekday shape).

    Returns:
        ``(n_users, ipd)`` shapes.
    """
    n_ind = len(pop.industry_names)
    counts = np.bincount(pop.industry, minlength=n_ind).astype(float)[:, None]
    shape = pop.shape_weekend if weekend else pop.shape_weekday
    sums = np.zeros((n_ind, shape.shape[1]))
    np.add.at(sums, pop.industry, shape)
    wd = np.zeros((n_ind, shape.shape[1]))
    np.add.at(wd, pop.industry, pop.shape_weekday)
    scale = np.where(counts > 0, wd / np.maximum(counts, 1), 1.0).mean(axis=1, keepdims=True)
    mean = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
    return (mean / np.where(scale > 0, scale, 1.0))[pop.industry]


def quote_cost_cny(
    profiles: Forecast,
    members: NDArray[np.bool_],
    weekends: NDArray[np.bool_],
    capacity_rate_cny_per_kw: float,
    energy_rate_cny_per_kwh: float,
    demand_margin_share: float,
    interval_h: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Each user's forecast coincident-peak cost share x̂_i if it were a member (rule U0).

    For user i the aggregate is the members' forecast plus i's own (if it is
    not a member); its peak intervals K_i give the demand share
    ``a·(1 + m)·L̂_i(K_i)``, and ``b·Ê_i`` the energy share — the
    coincident-peak allocation of ``a·P_c + b·Q_c`` with ``P_c = (1 + m)·max L̂``.

    Args:
        profiles: The agent's forecast profiles of every user.
        members: Current members.
        weekends: Day types of the contract month.
        capacity_rate_cny_per_kw: a of the best offer, CNY per kW·month.
        energy_rate_cny_per_kwh: b of the best offer, CNY/kWh.
        demand_margin_share: m, the contract's margin over the forecast peak.
        interval_h: Interval length, h.

    Returns:
        ``(x̂_i in CNY, Ê_i in kWh)`` per user.

    References:
        PHASES.md U0 and S4; DESIGN.md "Agency" step 3 (coincident-peak rule).
    """
    both = np.concatenate([profiles.weekday_kw, profiles.weekend_kw], axis=1)
    has_we = bool(np.any(weekends))
    has_wd = bool(np.any(~weekends))
    ipd = profiles.weekday_kw.shape[1]
    valid = np.r_[np.full(ipd, has_wd), np.full(ipd, has_we)]
    agg = both[members].sum(axis=0)
    cand = agg[None, :] + np.where(members[:, None], 0.0, both)
    cand = np.where(valid[None, :], cand, -np.inf)
    peak = cand.max(axis=1, keepdims=True)
    at_peak = cand >= peak * (1 - 1e-12)
    own_at_peak = np.where(at_peak, both, 0.0).sum(axis=1) / at_peak.sum(axis=1)
    energy = profiles.energy_kwh(weekends, interval_h)
    x = capacity_rate_cny_per_kw * (1 + demand_margin_share) * own_at_peak
    return x + energy_rate_cny_per_kwh * energy, energy
