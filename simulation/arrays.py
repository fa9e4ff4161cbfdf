"""Moved to :mod:`markets._arrays`; re-exported here until callers are repointed."""

from markets._arrays import Runs, runs

__all__ = ["Runs", "runs"]
