"""Per-run figures written into the run's ``figures/`` directory.

Drawn as SVG by hand (numpy and string formatting only), so a run pays neither
matplotlib's import (~2 s) nor its rendering: a year of hourly park series is
reduced to a min/max envelope per pixel column (M4-style decimation, which keeps
every peak and trough visible) and written in a few milliseconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from simulation.io import write_atomic

if TYPE_CHECKING:
    from simulation.model import ParkModel

__all__ = ["envelope", "load_svg", "run_figures"]

_W, _H = 1100, 440  # canvas, px
_L, _R, _T, _B = 70, 20, 36, 56  # margins, px
_COLORS = {"demand": "#1f77b4", "served": "#ff7f0e", "capacity": "#000000", "cut": "#d62728"}


def envelope(values: NDArray[np.float64], n_cols: int) -> tuple[NDArray, NDArray, NDArray]:
    """Min, max and mean of ``values`` over ``n_cols`` near-equal consecutive columns.

    Args:
        values: A series (e.g. kW per interval).
        n_cols: Number of columns (pixels); at most ``len(values)`` are used.

    Returns:
        ``(lo, hi, mean)``, one value per column, in the units of ``values``.
    """
    n = values.size
    n_cols = max(1, min(n_cols, n))
    edges = np.linspace(0, n, n_cols + 1).astype(np.int64)
    starts = edges[:-1]
    counts = np.diff(edges)
    lo = np.minimum.reduceat(values, starts)
    hi = np.maximum.reduceat(values, starts)
    mean = np.add.reduceat(values, starts) / counts
    return lo, hi, mean


def _path(xs: NDArray, ys: NDArray) -> str:
    return "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))


def load_svg(
    demand_kw: NDArray[np.float64],
    served_kw: NDArray[np.float64],
    capacity_kw: NDArray[np.float64],
    day_labels: list[str],
    title: str,
) -> str:
    """SVG of park demand, served load and capacity (MW) with the curtailed band.

    Args:
        demand_kw: Park demand per interval, kW.
        served_kw: Park served load per interval, kW.
        capacity_kw: Capacity per interval, kW.
        day_labels: One date label per day (the series cover whole days).
        title: Figure title.

    Returns:
        The SVG document.
    """
    n = demand_kw.size
    pw, ph = _W - _L - _R, _H - _T - _B
    cols = min(n, pw)
    mw = {k: v / 1e3 for k, v in (("d", demand_kw), ("s", served_kw), ("c", capacity_kw))}
    top = max(1e-9, max(float(v.max(initial=0.0)) for v in mw.values())) * 1.05
    step = 10 ** np.floor(np.log10(top / 2)) if top > 0 else 1.0
    ticks = np.arange(0.0, top, step * (2 if top / step > 8 else 1))
    x = _L + (np.arange(cols) + 0.5) * pw / cols

    def y(v: NDArray | float) -> NDArray:
        return _T + ph * (1.0 - np.asarray(v) / top)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" '
        f'viewBox="0 0 {_W} {_H}" font-family="sans-serif" font-size="11">',
        f'<rect width="{_W}" height="{_H}" fill="white"/>',
        f'<text x="{_W / 2}" y="20" text-anchor="middle" font-size="13">{title}</text>',
    ]
    for t in ticks:
        yy = float(y(t))
        out.append(f'<line x1="{_L}" x2="{_W - _R}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{_L - 6}" y="{yy + 4:.1f}" text-anchor="end">{t:g}</text>')
    out.append(
        f'<text x="16" y="{_T + ph / 2}" transform="rotate(-90 16 {_T + ph / 2})" '
        'text-anchor="middle">park load (MW)</text>'
    )
    n_days = max(1, len(day_labels))
    every = max(1, n_days // 8)
    for d in range(0, n_days, every):
        xx = _L + pw * d / n_days
        out.append(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{_T}" y2="{_T + ph}" stroke="#eee"/>')
        out.append(
            f'<text x="{xx:.1f}" y="{_T + ph + 16}" text-anchor="middle">{day_labels[d]}</text>'
        )
    # Curtailed band: between the mean served and the mean demand of each column.
    _, _, s_mean = envelope(mw["s"], cols)
    _, _, d_mean = envelope(mw["d"], cols)
    band = np.concatenate([y(d_mean), y(s_mean)[::-1]])
    xs = np.concatenate([x, x[::-1]])
    out.append(f'<path d="{_path(xs, band)} Z" fill="{_COLORS["cut"]}" fill-opacity="0.4"/>')
    for key, name, dash in (("d", "demand", ""), ("s", "served", ""), ("c", "capacity", "6,4")):
        lo, hi, _ = envelope(mw[key], cols)
        zig = np.empty(2 * cols)
        zig[0::2], zig[1::2] = y(hi), y(lo)
        style = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<path d="{_path(np.repeat(x, 2), zig)}" fill="none" stroke="{_COLORS[name]}" '
            f'stroke-width="0.8"{style}/>'
        )
    for i, (name, label) in enumerate(
        (("demand", "demand"), ("served", "served"), ("capacity", "capacity"), ("cut", "curtailed"))
    ):
        lx = _W - _R - 4 * 95 + i * 95
        out.append(
            f'<rect x="{lx}" y="{_T + 6}" width="14" height="8" fill="{_COLORS[name]}"/>'
            f'<text x="{lx + 18}" y="{_T + 14}">{label}</text>'
        )
    out.append(
        f'<rect x="{_L}" y="{_T}" width="{pw}" height="{ph}" fill="none" stroke="#333"/></svg>'
    )
    return "\n".join(out) + "\n"


def run_figures(model: ParkModel, fig_dir: Path) -> None:
    """Park load against capacity, with curtailment, over the run (``load_vs_capacity.svg``).

    Args:
        model: A model that has run.
        fig_dir: Directory for the figure files.
    """
    rec = model.rec
    days = rec.days_recorded
    iv = {k: v[:days].ravel() for k, v in rec.intervals.items()}
    labels = [str(model.clock.date_of(d)) for d in range(days)]
    title = f"{model.cfg.phase.name} phase, {model.cfg.park.name} park, seed {model.cfg.seed}"
    svg = load_svg(iv["demand_kw"], iv["served_kw"], iv["capacity_kw"], labels, title)
    write_atomic(fig_dir / "load_vs_capacity.svg", lambda p: p.write_text(svg))
