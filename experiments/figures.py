"""Figure functions: KPI tables in, a matplotlib figure file out."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.io import write_atomic

__all__ = ["kpi_bars"]


def kpi_bars(
    table: pd.DataFrame, kpis: Sequence[str], path: Path, title: str, variant_col: str = "variant"
) -> Path:
    """One panel per KPI: mean over seeds per variant, with min–max whiskers.

    Args:
        table: One row per run with a ``variant`` column and the KPI columns.
        kpis: KPI names to plot.
        path: Output PNG path (written atomically).
        title: Figure title.
        variant_col: Column naming the variant of each run.

    Returns:
        The written path.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variants = list(dict.fromkeys(table[variant_col]))
    ncol = min(3, len(kpis))
    nrow = int(np.ceil(len(kpis) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.0 * nrow), squeeze=False)
    for ax, kpi in zip(axes.ravel(), kpis, strict=False):
        g = table.groupby(variant_col, sort=False)[kpi]
        mean = g.mean().reindex(variants)
        lo = mean - g.min().reindex(variants)
        hi = g.max().reindex(variants) - mean
        ax.bar(
            range(len(variants)),
            mean.to_numpy(),
            yerr=[lo.to_numpy(), hi.to_numpy()],
            color=[f"C{i}" for i in range(len(variants))],
            capsize=3,
        )
        ax.set_xticks(range(len(variants)), variants, rotation=20, fontsize=8)
        ax.set_title(kpi, fontsize=9)
    for ax in axes.ravel()[len(kpis) :]:
        ax.set_visible(False)
    fig.suptitle(title)
    fig.tight_layout()
    write_atomic(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
    return path
