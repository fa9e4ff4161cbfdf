"""Shared fixtures: composed configs and short runs written into tmp_path."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from hypothesis import settings

# Tests write only to tmp_path: no hypothesis example database in the repository.
# The default profile is derandomized so CI is reproducible; explore new examples
# locally with HYPOTHESIS_PROFILE=explore.
settings.register_profile("parksim", database=None, derandomize=True)
settings.register_profile("explore", database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "parksim"))

os.environ.setdefault("MPLBACKEND", "Agg")

from simulation.run import compose_config, run_simulation  # noqa: E402


@pytest.fixture(scope="session")
def run_small(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., tuple[dict, Path]]:
    """Run the small park with overrides; cached per override set for the session."""
    cache: dict[tuple[str, ...], tuple[dict, Path]] = {}

    def _run(overrides: Sequence[str] = ()) -> tuple[dict, Path]:
        key = tuple(overrides)
        if key not in cache:
            out = tmp_path_factory.mktemp("run")
            cfg = compose_config(["park=small", "output.figures=false", *overrides])
            cache[key] = (run_simulation(cfg, out, progress=False), out)
        return cache[key]

    return _run
