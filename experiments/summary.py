"""Mean and Student-t 95 % confidence intervals of KPI tables, as data and markdown."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["format_value", "markdown_table", "mean_ci95", "summarise"]


def mean_ci95(values: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """Mean and half-width of the two-sided 95 % Student-t interval of the mean.

    half = t(0.975, n − 1) · s / √n with s the sample standard deviation (ddof 1).

    Args:
        values: One value per seed (non-finite values are dropped).

    Returns:
        ``(mean, half_width)``; the half-width is NaN with fewer than two values.

    References:
        Student (1908), "The probable error of a mean", Biometrika 6(1); the
        interval as in any statistics text, e.g. NIST/SEMATECH e-Handbook §7.2.2.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return float("nan"), float("nan")
    mean = float(x.mean())
    if x.size < 2:
        return mean, float("nan")
    half = float(stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    return mean, half


def summarise(
    table: pd.DataFrame, kpis: Sequence[str], variant_col: str = "variant"
) -> pd.DataFrame:
    """Mean, 95 % half-width and seed count of every KPI per variant.

    Args:
        table: One row per run with ``variant_col`` and the KPI columns.
        kpis: KPI columns to summarise.
        variant_col: Column naming each run's variant.

    Returns:
        Long table with columns ``kpi``, ``variant``, ``mean``, ``ci95``, ``n``
        (variants in order of first appearance, KPIs in the given order).
    """
    rows = []
    variants = list(dict.fromkeys(table[variant_col]))
    for kpi in kpis:
        for v in variants:
            vals = table.loc[table[variant_col] == v, kpi].to_numpy(dtype=float)
            mean, half = mean_ci95(vals)
            rows.append({"kpi": kpi, "variant": v, "mean": mean, "ci95": half, "n": len(vals)})
    return pd.DataFrame(rows, columns=["kpi", "variant", "mean", "ci95", "n"])


def format_value(x: float) -> str:
    """A number with three significant digits and thousands separators (NaN → ``–``)."""
    if not np.isfinite(x):
        return "–"
    if x == 0:
        return "0"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    digits = max(0, 2 - int(np.floor(np.log10(abs(x)))))
    return f"{x:.{digits}f}"


def markdown_table(summary: pd.DataFrame, labels: Mapping[str, str] | None = None) -> str:
    """A markdown table: one row per KPI, one column per variant, ``mean ± ci95``.

    Args:
        summary: Output of :func:`summarise`.
        labels: Optional display label per KPI name (the name itself otherwise).

    Returns:
        The table, header and separator included, ending with a newline.
    """
    labels = labels or {}
    variants = list(dict.fromkeys(summary["variant"]))
    n = summary.groupby("variant", sort=False)["n"].max().reindex(variants)
    head = ["KPI", *(f"{v} (n={int(k)})" for v, k in zip(variants, n, strict=True))]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for kpi, g in summary.groupby("kpi", sort=False):
        g = g.set_index("variant").reindex(variants)
        cells = []
        for mean, half in zip(g["mean"], g["ci95"], strict=True):
            cell = format_value(mean)
            if np.isfinite(half) and not (mean == 0 and half == 0):
                cell += f" ± {format_value(half)}"
            cells.append(cell)
        lines.append("| " + " | ".join([labels.get(str(kpi), str(kpi)), *cells]) + " |")
    return "\n".join(lines) + "\n"
