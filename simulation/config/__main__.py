"""``python -m simulation.config``: every config key with its allowed range."""

from __future__ import annotations

from simulation.config import MAX_CELLS, Config, iter_ranges


def main() -> None:
    """Print one line per ranged key (``*`` stands for any industry or measure name)."""
    for key, rng, many in iter_ranges(Config):
        print(f"{key + ('[...]' if many else ''):<58} {rng}")
    print(f"{'park.n_users × days × intervals_per_day':<58} at most {MAX_CELLS:,}")


if __name__ == "__main__":
    main()
