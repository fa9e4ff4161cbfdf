"""Figure functions: KPI tables in, a matplotlib figure file out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.flows import GROUPS
from experiments.summary import summarise
from simulation.io import write_atomic

__all__ = ["ERROR_MODES", "kpi_bars", "money_flow_figure"]

#: Whisker modes of :func:`kpi_bars`.
ERROR_MODES: tuple[str, ...] = ("ci95", "minmax")


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def kpi_bars(
    table: pd.DataFrame,
    kpis: Sequence[str],
    path: Path,
    title: str,
    variant_col: str = "variant",
    error: str = "minmax",
    labels: Mapping[str, str] | None = None,
) -> Path:
    """One panel per KPI: mean over seeds per variant, with whiskers.

    Args:
        table: One row per run with a ``variant`` column and the KPI columns.
        kpis: KPI names to plot.
        path: Output PNG path (written atomically).
        title: Figure title.
        variant_col: Column naming the variant of each run.
        error: ``minmax`` (whiskers from the smallest to the largest seed) or
            ``ci95`` (the Student-t 95 % interval of the mean; none with one seed).
        labels: Panel title per KPI (the KPI name otherwise).

    Returns:
        The written path.

    Raises:
        ValueError: If ``error`` is not one of :data:`ERROR_MODES`.
    """
    if error not in ERROR_MODES:
        raise ValueError(f"error: {error!r} is not one of {ERROR_MODES}")
    plt = _pyplot()
    labels = labels or {}
    variants = list(dict.fromkeys(table[variant_col]))
    summary = summarise(table, kpis, variant_col)
    ncol = min(3, len(kpis))
    nrow = int(np.ceil(len(kpis) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.0 * nrow), squeeze=False)
    for ax, kpi in zip(axes.ravel(), kpis, strict=False):
        s = summary[summary["kpi"] == kpi].set_index("variant").reindex(variants)
        mean = s["mean"].to_numpy()
        if error == "ci95":
            half = np.nan_to_num(s["ci95"].to_numpy(), nan=0.0)
            yerr = np.vstack([half, half])
        else:
            g = table.groupby(variant_col, sort=False)[kpi]
            yerr = np.vstack(
                [
                    mean - g.min().reindex(variants).to_numpy(),
                    g.max().reindex(variants).to_numpy() - mean,
                ]
            )
        ax.bar(
            range(len(variants)),
            mean,
            yerr=yerr,
            color=[f"C{i}" for i in range(len(variants))],
            capsize=3,
        )
        ax.set_xticks(range(len(variants)), variants, rotation=20, fontsize=8)
        ax.set_title(labels.get(kpi, kpi), fontsize=9)
    for ax in axes.ravel()[len(kpis) :]:
        ax.set_visible(False)
    fig.suptitle(title)
    fig.tight_layout()
    write_atomic(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
    return path


def money_flow_figure(
    flows: pd.DataFrame, path: Path, title: str, max_flows: int = 14, min_cny: float = 1.0
) -> Path:
    """One panel per variant: the largest flows between account groups, CNY (log scale).

    Each bar is ``payer → payee: purpose``, the mean over seeds of the total
    paid over the run; payments inside a group (user to user) are left out.
    Bars are coloured by payer group, with the same colour in every panel.

    Args:
        flows: Output of :func:`experiments.flows.run_money_flows`.
        path: Output PNG path (written atomically).
        title: Figure title.
        max_flows: Largest flows drawn per variant.
        min_cny: Flows smaller than this (CNY) are left out.

    Returns:
        The written path.
    """
    plt = _pyplot()
    between = flows[(flows["payer"] != flows["payee"]) & (flows["amount_cny"] >= min_cny)]
    variants = list(dict.fromkeys(flows["variant"]))
    colours = {g: f"C{i % 10}" for i, g in enumerate(dict.fromkeys([*GROUPS.values(), "other"]))}
    ncol = min(2, max(1, len(variants)))
    nrow = int(np.ceil(max(1, len(variants)) / ncol))
    fig, axes = plt.subplots(
        nrow, ncol, figsize=(7.0 * ncol, 0.32 * max_flows * nrow + 1.2), sharex=True
    )
    axes = np.atleast_1d(axes).ravel()
    shown = between.groupby("variant", sort=False)["amount_cny"].nlargest(max_flows)
    left = 10.0 ** np.floor(np.log10(shown.min())) if len(shown) else 1.0
    for ax, variant in zip(axes, variants, strict=False):
        f = between[between["variant"] == variant].nlargest(max_flows, "amount_cny")[::-1]
        names = [
            f"{a} → {b}: {p}" for a, b, p in zip(f["payer"], f["payee"], f["purpose"], strict=True)
        ]
        ax.barh(
            range(len(f)),
            f["amount_cny"] - left,
            left=left,
            color=[colours[g] for g in f["payer"]],
        )
        ax.set_yticks(range(len(f)), names, fontsize=7)
        ax.set_xscale("log")
        ax.set_xlim(left=left)
        ax.set_xlabel("CNY over the run (mean over seeds)", fontsize=8)
        ax.tick_params(labelbottom=True)
        ax.set_title(str(variant), fontsize=10)
    for ax in axes[len(variants) :]:
        ax.set_visible(False)
    fig.suptitle(title)
    fig.tight_layout()
    write_atomic(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
    return path
