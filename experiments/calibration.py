"""Calibration: every emergent figure of the default configuration beside its evidence band.

``conf/calibration/bands.yaml`` lists the figures, each with a published band
and its source, and the scenario (a list of overrides) whose runs it is read
from; :data:`FIGURES` computes each figure from the run directories of one seed
(``kpis.json`` and the output tables). :func:`run_calibration` runs every
scenario the chosen bands need over several seeds (in parallel, joblib), and
:func:`summarise` gives each figure's mean with a 95 % confidence interval
(Student t over seeds) and whether the mean lies in its band::

    python -m experiments.calibration --park small --seeds 0 1 2 3 --bands efficiency_*

prints the markdown table, writes it to ``docs/calibration.md`` (``--write``)
and plots the figures beside their bands (``--plot PATH``).
"""

from __future__ import annotations

import argparse
import fnmatch
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import OmegaConf
from scipy import stats

from experiments.calibration_figures import (
    FIGURES,
)

__all__ = [
    "BANDS_PATH",
    "FIGURES",
    "Band",
    "FigureSummary",
    "load_bands",
    "main",
    "markdown_table",
    "plot",
    "run_calibration",
    "summarise",
]

#: The evidence bands.
BANDS_PATH: Path = Path(__file__).resolve().parent.parent / "conf" / "calibration" / "bands.yaml"


@dataclass(frozen=True)
class Band:
    """A published band of one emergent figure.

    Attributes:
        name: Figure name (a key of :data:`FIGURES`).
        scenario: Scenario whose run the figure is read from.
        needs: Further scenarios the figure compares against.
        lo: Lower end of the band.
        hi: Upper end of the band.
        lo_open: The lower end is excluded.
        hi_open: The upper end is excluded.
        unit: Unit of the figure.
        label: What the figure is.
        source: Citation of the band.
    """

    name: str
    scenario: str
    needs: tuple[str, ...]
    lo: float
    hi: float
    lo_open: bool
    hi_open: bool
    unit: str
    label: str
    source: str

    def contains(self, value: float) -> bool:
        """Whether a value lies in the band (NaN never does).

        Args:
            value: The figure's value.

        Returns:
            True inside the band.
        """
        if not math.isfinite(value):
            return False
        above = value > self.lo if self.lo_open else value >= self.lo
        below = value < self.hi if self.hi_open else value <= self.hi
        return above and below

    def __str__(self) -> str:
        left = "(" if self.lo_open else "["
        right = ")" if self.hi_open else "]"
        return f"{left}{self.lo:g}, {self.hi:g}{right}"


def load_bands(path: Path = BANDS_PATH) -> tuple[dict[str, list[str]], dict[str, Band]]:
    """Read the scenarios and bands.

    Args:
        path: The bands file.

    Returns:
        ``(scenarios, bands)``: scenario name → overrides, figure name → band.

    Raises:
        ValueError: If a band names an unknown scenario or figure.
    """
    raw = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    assert isinstance(raw, dict)
    scenarios = {str(k): [str(o) for o in v] for k, v in raw["scenarios"].items()}
    bands: dict[str, Band] = {}
    for name, b in raw["bands"].items():
        band = Band(
            name=str(name),
            scenario=str(b["scenario"]),
            needs=tuple(str(n) for n in b.get("needs", ())),
            lo=float(b["lo"]),
            hi=float(b["hi"]),
            lo_open=bool(b.get("lo_open", False)),
            hi_open=bool(b.get("hi_open", False)),
            unit=str(b["unit"]),
            label=str(b["label"]),
            source=str(b["source"]),
        )
        for s in (band.scenario, *band.needs):
            if s not in scenarios:
                raise ValueError(f"band {name}: unknown scenario {s!r}")
        if band.name not in FIGURES:
            raise ValueError(f"band {name}: no figure function in FIGURES")
        bands[band.name] = band
    return scenarios, bands


# ---------------------------------------------------------------------- figures
# ---------------------------------------------------------------------- running
def _run_one(overrides: list[str], out_dir: str) -> str:
    """Run one configuration into ``out_dir`` (a joblib worker)."""
    from simulation.run import compose_config, run_simulation

    cfg = compose_config(overrides)
    run_simulation(cfg, out_dir, progress=False)
    return out_dir


def run_calibration(
    out_dir: Path,
    bands: Mapping[str, Band],
    scenarios: Mapping[str, list[str]],
    *,
    seeds: Sequence[int],
    park: str = "default",
    days: int = 365,
    n_jobs: int = 2,
    extra: Sequence[str] = (),
) -> pd.DataFrame:
    """Run every scenario the bands need for each seed and compute each figure.

    Args:
        out_dir: Directory for the runs (``<park>_<days>d/<scenario>/seed_<k>``,
            so runs of another park or horizon are never mistaken for these); an
            existing complete run (its ``kpis.json``) is reused (``extra``
            overrides are not part of the path: use another ``out_dir``).
        bands: The bands to compute.
        scenarios: Scenario name → overrides.
        seeds: Seeds.
        park: Park preset.
        days: Horizon, days.
        n_jobs: Parallel runs (joblib).
        extra: Overrides added to every run (for example a retuned parameter).

    Returns:
        One row per (figure, seed): ``figure``, ``seed``, ``value``.
    """
    from joblib import Parallel, delayed

    needed = sorted({s for b in bands.values() for s in (b.scenario, *b.needs)})
    out_dir = out_dir / f"{park}_{days}d"
    jobs: list[tuple[list[str], str]] = []
    for name in needed:
        for seed in seeds:
            run = out_dir / name / f"seed_{seed}"
            if (run / "kpis.json").exists():
                continue
            over = [
                *scenarios[name],
                f"park={park}",
                f"days={days}",
                f"seed={seed}",
                "output.figures=false",
                "progress=false",
                *extra,
            ]
            jobs.append((over, str(run)))
    Parallel(n_jobs=n_jobs)(delayed(_run_one)(o, d) for o, d in jobs)
    rows = []
    for seed in seeds:
        runs = {name: out_dir / name / f"seed_{seed}" for name in needed}
        for b in bands.values():
            rows.append({"figure": b.name, "seed": seed, "value": FIGURES[b.name](runs)})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class FigureSummary:
    """One figure over seeds beside its band.

    Attributes:
        band: The band.
        mean: Mean over seeds.
        ci_lo: Lower end of the 95 % confidence interval of the mean.
        ci_hi: Upper end.
        n: Seeds with a finite value.
        inside: The mean lies in the band.
    """

    band: Band
    mean: float
    ci_lo: float
    ci_hi: float
    n: int
    inside: bool


def summarise(values: pd.DataFrame, bands: Mapping[str, Band]) -> list[FigureSummary]:
    """Each figure's mean and 95 % confidence interval (Student t) beside its band.

    Args:
        values: Rows ``figure``, ``seed``, ``value`` (:func:`run_calibration`).
        bands: The bands by figure name.

    Returns:
        One summary per figure present, in band order.
    """
    out = []
    for name, band in bands.items():
        v = values.loc[values["figure"] == name, "value"].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        n = len(v)
        mean = float(v.mean()) if n else math.nan
        if n > 1:
            half = float(stats.t.ppf(0.975, n - 1) * v.std(ddof=1) / math.sqrt(n))
        else:
            half = math.nan
        out.append(FigureSummary(band, mean, mean - half, mean + half, n, band.contains(mean)))
    return out


def markdown_table(rows: Sequence[FigureSummary]) -> str:
    """The calibration table in markdown.

    Args:
        rows: Summaries.

    Returns:
        The table.
    """

    def f(x: float) -> str:
        return "–" if not math.isfinite(x) else f"{x:.3g}"

    lines = [
        "| figure | unit | mean | 95 % CI | seeds | band | in band | source |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        b = r.band
        lines.append(
            f"| {b.label} | {b.unit} | {f(r.mean)} | [{f(r.ci_lo)}, {f(r.ci_hi)}] | {r.n} | "
            f"{b} | {'yes' if r.inside else '**no**'} | {b.source} |"
        )
    return "\n".join(lines) + "\n"


def plot(rows: Sequence[FigureSummary], path: Path) -> None:
    """Each figure's mean and CI beside its band, normalised to the band (0 = lo, 1 = hi).

    Args:
        rows: Summaries.
        path: PNG file.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 0.5 + 0.45 * len(rows)))
    for i, r in enumerate(rows):
        b = r.band
        width = (b.hi - b.lo) or 1.0

        def norm(x: float, b: Band = b, width: float = width) -> float:
            return (x - b.lo) / width

        ax.barh(i, 1.0, left=0.0, color="#cfe8cf", edgecolor="#6a6")
        if math.isfinite(r.mean):
            err = (
                [[norm(r.mean) - norm(r.ci_lo)], [norm(r.ci_hi) - norm(r.mean)]]
                if math.isfinite(r.ci_lo)
                else None
            )
            ax.errorbar(norm(r.mean), i, xerr=err, fmt="o", color="k" if r.inside else "r")
    ax.set_yticks(range(len(rows)), [r.band.name for r in rows], fontsize=8)
    ax.set_xlabel("position in the evidence band (0 = lower end, 1 = upper end)")
    ax.invert_yaxis()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: run, print the table, optionally write docs/calibration.md and a plot.

    Args:
        argv: Arguments (see ``--help``).

    Returns:
        Exit status (0).
    """
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--out", type=Path, default=Path("outputs/calibration"))
    ap.add_argument("--park", default="default")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--bands", nargs="*", default=None, help="figure names or globs (default: all)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--write", type=Path, default=None, help="write the table to this file")
    ap.add_argument("--plot", type=Path, default=None, help="PNG of the figures and bands")
    args = ap.parse_args(argv)
    scenarios, bands = load_bands()
    if args.bands:
        bands = {k: b for k, b in bands.items() if any(fnmatch.fnmatch(k, p) for p in args.bands)}
    values = run_calibration(
        args.out,
        bands,
        scenarios,
        seeds=args.seeds,
        park=args.park,
        days=args.days,
        n_jobs=args.jobs,
    )
    rows = summarise(values, bands)
    table = markdown_table(rows)
    print(table)
    if args.write is not None:
        args.write.write_text(table, encoding="utf-8")
    if args.plot is not None:
        plot(rows, args.plot)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
