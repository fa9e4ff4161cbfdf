"""The dashboard's figures and tables, from a :class:`DashboardModel` (no Solara here).

Every function reads the model and returns a matplotlib :class:`Figure` (made
without pyplot, so sessions in threads do not share state) or a DataFrame, so
the views are tested without a browser.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments.dashboard.model import PERIODS, DashboardModel
from markets import efficiency as eff

__all__ = [
    "day_events",
    "efficiency_figure",
    "efficiency_table",
    "flows_by_purpose",
    "flows_figure",
    "inbox",
    "park_load_figure",
    "peak_valley_figure",
    "user_bills",
    "user_bills_figure",
    "user_load_figure",
]


def _hours(model: DashboardModel) -> np.ndarray:
    return np.arange(model.ipd) * model.interval_h


def _empty(fig: Figure, ax: object, text: str) -> Figure:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)  # type: ignore[attr-defined]
    return fig


def park_load_figure(model: DashboardModel) -> Figure:
    """The last day's park load against capacity, curtailment and tariff; daily history below.

    Args:
        model: The dashboard model.

    Returns:
        A two-panel figure (kW over the day's hours; daily peak, capacity and curtailed kWh).
    """
    fig = Figure(figsize=(7.5, 5.2), layout="constrained")
    top, bottom = fig.subplots(2, 1, height_ratios=[3, 2])
    d = model.days_done
    if d == 0:
        _empty(fig, top, "press Step or ▶ to simulate the first day")
        bottom.set_axis_off()
        return fig
    iv = model.rec.intervals
    day = d - 1
    h = _hours(model)
    demand, served = iv["demand_kw"][day] / 1e3, iv["served_kw"][day] / 1e3
    top.step(h, demand, where="post", label="demand", color="tab:gray")
    top.step(h, served, where="post", label="served", color="tab:blue")
    top.step(h, iv["capacity_kw"][day] / 1e3, where="post", label="capacity", color="tab:red")
    top.fill_between(
        h, served, demand, step="post", color="tab:orange", alpha=0.5, label="curtailed"
    )
    top.set_xlim(0, 24)
    top.set_ylim(bottom=0)
    top.set_xlabel("hour")
    top.set_ylabel("park load, MW")
    top.set_title(f"Day {d} ({model.clock.date_of(day):%a %Y-%m-%d}): load against capacity")
    prices = [k for k in iv if k.endswith("_cny_per_kwh")]
    if prices:
        twin = top.twinx()
        for k in prices:
            twin.step(
                h, iv[k][day], where="post", ls=":", color="k", label=k.removesuffix("_cny_per_kwh")
            )
        twin.set_ylabel("price, CNY/kWh")
        twin.set_ylim(bottom=0)
        twin.legend(loc="upper right", fontsize="small")
    top.legend(loc="upper left", fontsize="small", ncols=2)
    days = np.arange(1, d + 1)
    curtailed_mwh = iv["curtailed_kw"][:d].sum(axis=1) * model.interval_h / 1e3
    bottom.bar(days, curtailed_mwh, color="tab:orange", label="curtailed, MWh")
    bottom.set_xlabel("day")
    bottom.set_ylabel("curtailed, MWh")
    twin = bottom.twinx()
    twin.plot(
        days,
        iv["served_kw"][:d].max(axis=1) / 1e3,
        color="tab:blue",
        marker=".",
        label="peak served",
    )
    twin.plot(
        days,
        iv["capacity_kw"][:d].min(axis=1) / 1e3,
        color="tab:red",
        marker=".",
        label="min capacity",
    )
    twin.set_ylabel("MW")
    twin.set_ylim(bottom=0)
    twin.legend(loc="lower right", fontsize="small")
    bottom.set_xlim(0.5, max(model.n_days, d) + 0.5)
    return fig


def day_events(model: DashboardModel) -> pd.DataFrame:
    """Platform messages sent or taking effect on the last simulated day.

    Args:
        model: The dashboard model.

    Returns:
        Columns ``sent_at, effective_at, kind, recipient, quantity, until, payload``.
    """
    frame = model.messages()
    if model.days_done == 0 or frame.empty:
        return frame.iloc[:0]
    start = model.clock.time_of(model.days_done - 1, 0)
    end = model.clock.time_of(model.days_done, 0)
    sent = (frame["sent_at"] >= start) & (frame["sent_at"] < end)
    takes = (frame["effective_at"] >= start) & (frame["effective_at"] < end)
    cols = ["sent_at", "effective_at", "kind", "recipient", "quantity", "until", "payload"]
    out = frame.loc[sent | takes, cols].copy()
    out["payload"] = out["payload"].str.slice(0, 60)
    return out.reset_index(drop=True)


def flows_by_purpose(model: DashboardModel) -> pd.DataFrame:
    """Posted ledger money so far, by payer group, payee group and purpose (CNY).

    Args:
        model: The dashboard model.

    Returns:
        Columns ``payer_group, payee_group, purpose, amount_cny, rows``, largest first.
    """
    frame = model.flows()
    keys = ["payer_group", "payee_group", "purpose"]
    if frame.empty:
        return pd.DataFrame(columns=[*keys, "amount_cny", "rows"])
    out = (
        frame.groupby(keys, observed=True)["amount_cny"]
        .agg(amount_cny="sum", rows="size")
        .reset_index()
        .sort_values("amount_cny", ascending=False, ignore_index=True)
    )
    return out


def flows_figure(model: DashboardModel) -> Figure:
    """Cumulative posted money by purpose (bars labelled payer → payee), million CNY.

    Args:
        model: The dashboard model.

    Returns:
        A horizontal bar chart.
    """
    fig = Figure(figsize=(6.5, 3.6), layout="constrained")
    ax = fig.subplots()
    table = flows_by_purpose(model)
    ax.set_title("Ledger flows so far, by purpose (bills post at month close)")
    if table.empty:
        return _empty(fig, ax, "no money posted yet")
    labels = [
        f"{r.purpose}\n{r.payer_group} → {r.payee_group}" for r in table.itertuples(index=False)
    ]
    y = np.arange(len(table))
    ax.barh(y, table["amount_cny"] / 1e6, color="tab:green")
    ax.set_yticks(y, labels, fontsize="small")
    ax.invert_yaxis()
    ax.set_xlabel("million CNY")
    return fig


# --------------------------------------------------------------------------- user page


def user_load_figure(model: DashboardModel, user: int) -> Figure:
    """A user's last-day load curve against its history of the same day type.

    Args:
        model: The dashboard model.
        user: User row.

    Returns:
        Top: last day's demand and served kW with the mean and min–max band of the
        earlier days of the same type (weekday or weekend). Bottom: daily served kWh
        against the industry's median.
    """
    fig = Figure(figsize=(7.0, 5.0), layout="constrained")
    top, bottom = fig.subplots(2, 1, height_ratios=[3, 2])
    d = model.days_done
    if d == 0:
        _empty(fig, top, "no day simulated yet")
        bottom.set_axis_off()
        return fig
    h = _hours(model)
    today = model.today
    kind = int(today.weekend)
    n_kind = int(model.profile_days[kind])
    if n_kind > 1:
        top.fill_between(
            h,
            model.profile_min_kw[kind, user],
            model.profile_max_kw[kind, user],
            step="post",
            color="tab:blue",
            alpha=0.15,
            label=f"range of {n_kind} {'weekend' if kind else 'weekdays'}",
        )
    if model.history_mean_kw is not None:
        top.step(
            h,
            model.history_mean_kw[user],
            where="post",
            color="tab:blue",
            ls="--",
            label="history mean",
        )
    top.step(h, np.asarray(today.demand_kw)[user], where="post", color="tab:gray", label="demand")
    top.step(h, np.asarray(today.served_kw)[user], where="post", color="k", label="served")
    top.set_xlim(0, 24)
    top.set_ylim(bottom=0)
    top.set_xlabel("hour")
    top.set_ylabel("kW")
    top.set_title(f"{model.user_label(user)}: day {d} ({today.date:%a %Y-%m-%d})")
    top.legend(loc="upper left", fontsize="small", ncols=2)
    served = model.rec.user_field("served_kwh")[:d]
    peers = model.pop.industry == model.pop.industry[user]
    days = np.arange(1, d + 1)
    bottom.plot(days, served[:, user], marker=".", color="k", label="this user")
    bottom.plot(
        days, np.median(served[:, peers], axis=1), color="tab:green", label="industry median"
    )
    bottom.set_xlabel("day")
    bottom.set_ylabel("served, kWh/day")
    bottom.set_ylim(bottom=0)
    bottom.legend(loc="lower left", fontsize="small")
    return fig


def peak_valley_figure(model: DashboardModel, user: int) -> Figure:
    """A user's served energy by tariff period against its industry's mean shares.

    Args:
        model: The dashboard model.
        user: User row.

    Returns:
        Grouped bars of the shares of energy in the peak, flat and valley periods, %.
    """
    fig = Figure(figsize=(5.0, 3.4), layout="constrained")
    ax = fig.subplots()
    kwh = model.period_kwh
    total = kwh.sum(axis=1, keepdims=True)
    ax.set_title("Peak-valley distribution of served energy")
    if total[user, 0] <= 0:
        return _empty(fig, ax, "no energy served yet")
    share = np.divide(kwh, total, out=np.zeros_like(kwh), where=total > 0) * 100
    peers = model.pop.industry == model.pop.industry[user]
    x = np.arange(len(PERIODS))
    ax.bar(x - 0.2, share[user], 0.4, label="this user", color="k")
    ax.bar(x + 0.2, share[peers].mean(axis=0), 0.4, label="industry mean", color="tab:green")
    for xi, (s, e) in enumerate(zip(share[user], kwh[user], strict=True)):
        ax.annotate(
            f"{e / 1e3:,.1f} MWh", (xi - 0.2, s), ha="center", va="bottom", fontsize="x-small"
        )
    ax.set_xticks(x, PERIODS)
    ax.set_ylabel("share of served energy, %")
    ax.legend(fontsize="small")
    return fig


def efficiency_table(model: DashboardModel) -> pd.DataFrame:
    """Energy-intensity diagnosis of every user over the days simulated so far.

    The ESCO's monthly diagnostic rule (``markets.efficiency.diagnose``) applied to
    the run so far: intensity, industry median, benchmark ratio and flags; the
    off-hours base-load ratio comes from the mean served profile.

    Args:
        model: The dashboard model.

    Returns:
        One row per user (empty before the first day).

    References:
        GB/T 2589-2020 (0.1229 kgce/kWh, conf ``efficiency.kgce_per_kwh``); DESIGN.md
        "Efficiency" (1.2 × peer median, base-load ratio 0.3).
    """
    d = model.days_done
    if d == 0:
        return pd.DataFrame()
    cfg = model.cfg.efficiency
    energy = model.rec.user_field("served_kwh")[:d].sum(axis=0)
    output = np.maximum(model.rec.user_field("output_cny")[:d].sum(axis=0), 1e-9)
    mean_kw = model.profile_sum_kw.sum(axis=0) / max(int(model.profile_days.sum()), 1)
    working = np.asarray(model.pop.working, dtype=bool)
    n_off, n_work = (~working).sum(axis=1), working.sum(axis=1)
    off_mean = (mean_kw * ~working).sum(axis=1) / np.maximum(n_off, 1)
    work_mean = (mean_kw * working).sum(axis=1) / np.maximum(n_work, 1)
    blr = np.where((n_off > 0) & (work_mean > 0), off_mean / np.maximum(work_mean, 1e-12), 0.0)
    industry = np.asarray(model.pop.industry_names, dtype=object)[model.pop.industry]
    diag = eff.diagnose(
        energy,
        output,
        blr,
        industry,
        ei_factor=cfg.intensity_factor,
        base_load_threshold=cfg.base_load_threshold,
        kgce_per_kwh=cfg.kgce_per_kwh,
    )
    return pd.DataFrame(
        {
            "industry": industry,
            "energy_kwh": energy,
            "output_cny": output,
            "intensity_tce_per_10k_cny": diag.intensity,
            "peer_median_tce_per_10k_cny": diag.peer_median,
            "benchmark_ratio": diag.benchmark_ratio,
            "base_load_ratio": blr,
            "flag_intensity": diag.flag_intensity,
            "flag_base_load": diag.flag_base_load,
        }
    )


def efficiency_figure(model: DashboardModel, user: int) -> Figure:
    """A user's energy intensity among its industry's peers (median and flag line).

    Args:
        model: The dashboard model.
        user: User row.

    Returns:
        Sorted bars of the peers' intensity, the user in red.
    """
    fig = Figure(figsize=(5.5, 3.4), layout="constrained")
    ax = fig.subplots()
    table = efficiency_table(model)
    if table.empty:
        ax.set_title("Efficiency evaluation")
        return _empty(fig, ax, "no day simulated yet")
    row = table.iloc[user]
    peers = table[table["industry"] == row["industry"]].sort_values("intensity_tce_per_10k_cny")
    colors = ["tab:red" if i == user else "tab:gray" for i in peers.index]
    x = np.arange(len(peers))
    ax.bar(x, peers["intensity_tce_per_10k_cny"], color=colors)
    median = float(row["peer_median_tce_per_10k_cny"])
    factor = float(model.cfg.efficiency.intensity_factor)
    ax.axhline(median, color="tab:green", label="industry median")
    ax.axhline(factor * median, color="tab:red", ls="--", label=f"{factor:g} × median (flag)")
    ax.set_xticks(x, [str(i) for i in peers.index], fontsize="x-small")
    ax.set_xlabel(f"users of {row['industry']}")
    ax.set_ylabel("tce per 10⁴ CNY")
    ax.set_title(f"Energy intensity: ratio {row['benchmark_ratio']:.2f} to the median")
    ax.legend(fontsize="small")
    return fig


def user_bills(model: DashboardModel, user: int) -> pd.DataFrame:
    """A user's posted money by month and purpose (paid positive, received negative).

    Args:
        model: The dashboard model.
        user: User row.

    Returns:
        Columns ``month, purpose, amount_cny``.
    """
    frame = model.flows()
    name = f"user:{user:05d}"
    if frame.empty:
        return pd.DataFrame(columns=["month", "purpose", "amount_cny"])
    payer = frame["payer"].astype(str) == name
    payee = frame["payee"].astype(str) == name
    rows = frame[payer | payee]
    signed = rows["amount_cny"].where(payer[payer | payee], -rows["amount_cny"])
    out = pd.DataFrame(
        {
            "month": pd.to_datetime(rows["time"]).dt.strftime("%Y-%m"),
            "purpose": rows["purpose"].astype(str),
            "amount_cny": signed,
        }
    )
    return out.groupby(["month", "purpose"], as_index=False)["amount_cny"].sum()


def user_bills_figure(model: DashboardModel, user: int) -> Figure:
    """A user's posted bills by month (stacked by purpose) and this month's accrual.

    Args:
        model: The dashboard model.
        user: User row.

    Returns:
        Stacked bars, thousand CNY; refunds (money received) below zero.
    """
    fig = Figure(figsize=(5.5, 3.4), layout="constrained")
    ax = fig.subplots()
    bills = user_bills(model, user)
    d = model.days_done
    accrued = 0.0
    if d:
        dates = pd.DatetimeIndex([model.clock.date_of(i) for i in range(d)])
        last = dates[-1]
        this_month = (dates.year == last.year) & (dates.month == last.month)
        if not model.closed:
            accrued = float(model.rec.user_field("bill_cny")[:d][this_month, user].sum())
    ax.set_title(f"Bills posted (accruing this month: {accrued / 1e3:,.1f} k CNY)")
    if bills.empty:
        return _empty(fig, ax, "no bill posted yet (bills post at month close)")
    table = bills.pivot_table(index="month", columns="purpose", values="amount_cny", aggfunc="sum")
    table = table.fillna(0.0) / 1e3
    x = np.arange(len(table))
    pos = np.zeros(len(table))
    neg = np.zeros(len(table))
    for purpose in table.columns:
        v = table[purpose].to_numpy()
        base = np.where(v >= 0, pos, neg)
        ax.bar(x, v, bottom=base, label=purpose)
        pos += np.maximum(v, 0)
        neg += np.minimum(v, 0)
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xticks(x, list(table.index))
    ax.set_ylabel("thousand CNY (received < 0)")
    ax.legend(fontsize="x-small")
    return fig


def inbox(model: DashboardModel, user: int, limit: int = 200) -> pd.DataFrame:
    """A user's platform inbox (its messages and broadcasts), newest first.

    Args:
        model: The dashboard model.
        user: User row.
        limit: Most messages returned.

    Returns:
        Columns ``sent_at, effective_at, kind, quantity, until, payload``.
    """
    frame = model.messages()
    mine = frame[(frame["recipient"] == user) | (frame["recipient"] == -1)]
    cols = ["sent_at", "effective_at", "kind", "quantity", "until", "payload"]
    out = mine[cols].iloc[::-1].head(limit).copy()
    out["kind"] = out["kind"].astype(str)
    out["payload"] = out["payload"].str.slice(0, 80)
    return out.reset_index(drop=True)
