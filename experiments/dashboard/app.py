"""parksim's live dashboard: Mesa's SolaraViz over a :class:`DashboardModel`.

Serve it with ``parksim-dashboard`` (see :mod:`experiments.dashboard.cli`). Page 0
is the park (day counter, load against capacity, curtailment, prices, the
platform's events of the day, the ledger's flows), page 1 the platform's
load-analysis service for one user (source paper §4: load curve against its
history, peak-valley distribution, efficiency evaluation against its peers,
bills, inbox), page 2 the comparison of collected sweep runs across phases
(the directory comes from ``$PARKSIM_DASHBOARD_RUNS``, default ``multirun``).
Every chart is matplotlib, so the page needs no asset from the internet.
"""

from __future__ import annotations

import os
from typing import Any

import matplotlib
import pandas as pd
import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz

from experiments.dashboard import compare, views
from experiments.dashboard.model import DashboardModel, model_params

__all__ = ["page"]

matplotlib.use("Agg")

#: The user shown on the user page (per browser session: Solara scopes reactives).
selected_user = solara.reactive(0)
runs_dir = solara.reactive(os.environ.get("PARKSIM_DASHBOARD_RUNS", "multirun"))
chosen_kpi = solara.reactive("")


def _figure(fig: Figure, css: str, *deps: Any) -> solara.Element:
    return solara.Div(
        classes=[css],
        children=[solara.FigureMatplotlib(fig, format="png", dependencies=list(deps))],
    )


def _heading(text: str, level: int = 3) -> solara.Element:
    # plain HTML: solara.Markdown loads KaTeX, which solara-assets does not ship (a 404 offline)
    return solara.v.Html(tag=f"h{level}", children=[text])


def _line(text: str) -> solara.Element:
    """One paragraph; ``**bold**`` spans are shown bold."""
    parts = text.split("**")
    children = [solara.v.Html(tag="b", children=[p]) if i % 2 else p for i, p in enumerate(parts)]
    return solara.v.Html(tag="p", children=[c for c in children if c != ""])


def _table(frame: pd.DataFrame, css: str) -> solara.Element:
    shown = frame.copy()
    for c in shown.columns:
        if pd.api.types.is_datetime64_any_dtype(shown[c]):
            shown[c] = shown[c].dt.strftime("%m-%d %H:%M").fillna("")
        elif pd.api.types.is_float_dtype(shown[c]):
            shown[c] = shown[c].round(2)
    return solara.Div(classes=[css], children=[solara.DataFrame(shown, items_per_page=8)])


# --------------------------------------------------------------------------- page 0: the park


def DayCounter(model: DashboardModel) -> solara.Element:
    """Day counter and the run's identity (phase, park, seed, overrides)."""
    d = model.days_done
    date = f" — {model.clock.date_of(d - 1):%a %Y-%m-%d}" if d else ""
    iv = model.rec.intervals
    curtailed_mwh = float(iv["curtailed_kw"][:d].sum()) * model.interval_h / 1e3
    with solara.Column() as col:
        _heading("Park", 3)
        solara.Div(classes=["parksim-day"], children=[f"Day {d} of {model.n_days}{date}"])
        _line(
            f"{' '.join(model.overrides)} · {model.pop.n_users} users · "
            f"curtailed so far **{curtailed_mwh:,.1f} MWh** · "
            f"platform messages **{len(model.messages()):,}**"
        )
    return col


def ParkLoad(model: DashboardModel) -> solara.Element:
    """The last day's load against capacity, curtailment and prices; daily history."""
    return _figure(views.park_load_figure(model), "parksim-park-load", id(model), model.day)


def DayEvents(model: DashboardModel) -> solara.Element:
    """The platform's messages sent or taking effect on the last day."""
    events = views.day_events(model)
    with solara.Column() as col:
        _heading("Platform events of the day", 4)
        if events.empty:
            solara.Text("no message sent or taking effect today")
        else:
            counts = events["kind"].astype(str).value_counts()
            _line(" · ".join(f"**{k}** {v}" for k, v in counts.items()))
            _table(events, "parksim-events")
    return col


def LedgerFlows(model: DashboardModel) -> solara.Element:
    """Posted money so far by purpose."""
    return _figure(views.flows_figure(model), "parksim-flows", id(model), model.day)


# --------------------------------------------------------------------------- page 1: a user


def UserPicker(model: DashboardModel) -> solara.Element:
    """Pick the user of the load-analysis page."""
    n = model.pop.n_users
    labels = [model.user_label(i) for i in range(n)]
    user = min(selected_user.value, n - 1)
    with solara.Column() as col:
        _heading("Load-analysis service (one user)", 3)
        solara.Select(
            "User",
            value=labels[user],
            values=labels,
            on_value=lambda label: selected_user.set(labels.index(label)),
        )
        table = views.efficiency_table(model)
        if not table.empty:
            row = table.iloc[user]
            flags = [
                name
                for name, on in (
                    ("intensity", row["flag_intensity"]),
                    ("base load", row["flag_base_load"]),
                )
                if on
            ]
            _line(
                f"Energy so far **{row['energy_kwh'] / 1e3:,.1f} MWh**, intensity "
                f"**{row['intensity_tce_per_10k_cny']:.4f}** tce/10⁴ CNY vs industry median "
                f"**{row['peer_median_tce_per_10k_cny']:.4f}** (ratio "
                f"{row['benchmark_ratio']:.2f}); off-hours base load "
                f"{row['base_load_ratio']:.2f}; flags: **{', '.join(flags) or 'none'}**"
            )
    return col


def _user(model: DashboardModel) -> int:
    return min(selected_user.value, model.pop.n_users - 1)


def UserLoad(model: DashboardModel) -> solara.Element:
    """The user's load curve against its history."""
    u = _user(model)
    return _figure(views.user_load_figure(model, u), "parksim-user-load", id(model), model.day, u)


def UserPeakValley(model: DashboardModel) -> solara.Element:
    """The user's peak-valley distribution."""
    u = _user(model)
    return _figure(
        views.peak_valley_figure(model, u), "parksim-peak-valley", id(model), model.day, u
    )


def UserEfficiency(model: DashboardModel) -> solara.Element:
    """The user's energy intensity among its peers."""
    u = _user(model)
    return _figure(views.efficiency_figure(model, u), "parksim-efficiency", id(model), model.day, u)


def UserBills(model: DashboardModel) -> solara.Element:
    """The user's posted bills and refunds."""
    u = _user(model)
    return _figure(views.user_bills_figure(model, u), "parksim-bills", id(model), model.day, u)


def UserInbox(model: DashboardModel) -> solara.Element:
    """The user's platform inbox (plans, reminders, notices, reports, ...)."""
    box = views.inbox(model, _user(model))
    with solara.Column() as col:
        _heading(f"Inbox ({len(box)} messages, newest first)", 4)
        if box.empty:
            solara.Text("no message yet")
        else:
            _table(box, "parksim-inbox")
    return col


# --------------------------------------------------------------------------- page 2: comparison


def Comparison(model: DashboardModel) -> solara.Element:
    """Collected sweep runs (``experiments.collect.collect_runs``): KPI mean ± 95 % CI."""
    runs = solara.use_memo(lambda: compare.load_runs(runs_dir.value), [runs_dir.value])
    with solara.Column() as col:
        _heading("Comparison of collected runs", 3)
        solara.InputText("Runs directory", value=runs_dir.value, on_value=runs_dir.set)
        if runs.empty:
            solara.Text(f"no completed run (kpis.json) below {runs_dir.value!r}")
            return col
        kpis = compare.kpi_columns(runs)
        kpi = chosen_kpi.value if chosen_kpi.value in kpis else kpis[0]
        solara.Select("KPI", value=kpi, values=kpis, on_value=chosen_kpi.set)
        summary = compare.summarise(runs, kpis)
        _figure(compare.comparison_figure(summary, kpi), "parksim-compare", runs_dir.value, kpi)
        wide = summary[summary["kpi"] == kpi].drop(columns="kpi")
        _table(wide, "parksim-compare-table")
    return col


page = SolaraViz(
    DashboardModel(),
    components=[
        (DayCounter, 0),
        (ParkLoad, 0),
        (DayEvents, 0),
        (LedgerFlows, 0),
        (UserPicker, 1),
        (UserLoad, 1),
        (UserPeakValley, 1),
        (UserEfficiency, 1),
        (UserBills, 1),
        (UserInbox, 1),
        (Comparison, 2),
    ],
    model_params=model_params(),
    name="parksim — live dashboard",
    play_interval=200,
)
