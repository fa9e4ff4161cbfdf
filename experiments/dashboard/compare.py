"""The comparison page's numbers: collected sweep runs, mean and 95 % CI per variant."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from experiments.collect import collect_runs

__all__ = ["VARIANT_KEYS", "comparison_figure", "kpi_columns", "load_runs", "summarise"]

#: Config columns that tell variants apart (the seed is what varies within one).
VARIANT_KEYS: tuple[str, ...] = ("phase", "park", "days", "platform_enabled")

_NOT_KPIS = frozenset({"run_dir", "overrides", "seed", *VARIANT_KEYS})


def load_runs(root: Path | str) -> pd.DataFrame:
    """The completed runs below ``root`` (``experiments.collect.collect_runs``), with a label.

    Args:
        root: A sweep directory or any parent of run directories.

    Returns:
        One row per run; a ``variant`` column joins the variant keys that differ
        between runs (``orderly · platform_enabled=False``); empty if there is none.
    """
    frame = collect_runs(root)
    if frame.empty:
        return frame
    keys = [k for k in VARIANT_KEYS if k in frame and frame[k].nunique(dropna=False) > 1]
    if "phase" in frame and "phase" not in keys:
        keys.insert(0, "phase")

    def label(row: pd.Series) -> str:
        parts = [str(row[k]) if k == "phase" else f"{k}={row[k]}" for k in keys]
        return " · ".join(parts) or "all runs"

    frame["variant"] = frame.apply(label, axis=1) if keys else "all runs"
    return frame


def kpi_columns(frame: pd.DataFrame) -> list[str]:
    """The numeric KPI columns of a collected frame."""
    return [
        c
        for c in frame.columns
        if c not in _NOT_KPIS and c != "variant" and pd.api.types.is_numeric_dtype(frame[c])
    ]


def summarise(frame: pd.DataFrame, kpis: Sequence[str], by: str = "variant") -> pd.DataFrame:
    """Mean and 95 % confidence interval of KPIs over the seeds of each variant.

    The half-width is ``t(0.975, n − 1) · s / √n`` (Student's t, sample standard
    deviation ``s``); with one run it is NaN.

    Args:
        frame: Runs from :func:`load_runs`.
        kpis: KPI columns to summarise.
        by: Grouping column.

    Returns:
        One row per group and KPI: ``by, kpi, n, mean, ci95`` (the half-width).
    """
    rows = []
    for group, sub in frame.groupby(by, sort=True):
        for kpi in kpis:
            values = sub[kpi].dropna().to_numpy(dtype=float)
            n = len(values)
            mean = float(values.mean()) if n else np.nan
            half = (
                float(stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / np.sqrt(n))
                if n > 1
                else np.nan
            )
            rows.append({by: group, "kpi": kpi, "n": n, "mean": mean, "ci95": half})
    return pd.DataFrame(rows, columns=[by, "kpi", "n", "mean", "ci95"])


def comparison_figure(summary: pd.DataFrame, kpi: str, by: str = "variant") -> Figure:
    """Bars of one KPI's mean per variant with 95 % CI error bars.

    Args:
        summary: Output of :func:`summarise`.
        kpi: The KPI to show.
        by: The grouping column of ``summary``.

    Returns:
        The figure.
    """
    fig = Figure(figsize=(7.0, 3.8), layout="constrained")
    ax = fig.subplots()
    rows = summary[summary["kpi"] == kpi]
    if rows.empty:
        ax.text(0.5, 0.5, "no runs collected", ha="center", va="center", transform=ax.transAxes)
        return fig
    x = np.arange(len(rows))
    ax.bar(x, rows["mean"], yerr=rows["ci95"].fillna(0.0), capsize=4, color="tab:blue")
    ax.set_xticks(x, [f"{g}\n(n={n})" for g, n in zip(rows[by], rows["n"], strict=True)])
    ax.set_ylabel(kpi)
    ax.set_title(f"{kpi}: mean and 95 % CI over seeds")
    return fig
