"""Per-run figures written into the run's ``figures/`` directory."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from simulation.io import write_atomic

if TYPE_CHECKING:
    from simulation.model import ParkModel

__all__ = ["run_figures"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def run_figures(model: ParkModel, fig_dir: Path) -> None:
    """Park load against capacity, with curtailment, over the run.

    Args:
        model: A model that has run.
        fig_dir: Directory for the PNG files.
    """
    plt = _pyplot()
    rec = model.rec
    days = rec.days_recorded
    iv = {k: v[:days].ravel() for k, v in rec.intervals.items()}
    t = model.clock.time_of(0, np.arange(days * model.ipd))
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot(t, iv["demand_kw"] / 1e3, lw=0.8, label="demand")
    ax.plot(t, iv["served_kw"] / 1e3, lw=0.8, label="served")
    ax.plot(t, iv["capacity_kw"] / 1e3, lw=0.8, ls="--", color="k", label="capacity")
    ax.fill_between(
        t, iv["served_kw"] / 1e3, iv["demand_kw"] / 1e3, color="C3", alpha=0.4, label="curtailed"
    )
    ax.set_ylabel("park load (MW)")
    ax.set_title(f"{model.cfg.phase.name} phase, {model.cfg.park.name} park, seed {model.cfg.seed}")
    ax.legend(loc="upper right", ncol=4, fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    write_atomic(fig_dir / "load_vs_capacity.png", lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
