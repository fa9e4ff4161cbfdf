"""Regenerate the golden reference of tests/test_golden.py.

Run from the repository root: ``.venv/bin/python tests/reference/make_reference.py``.
Only regenerate in a commit of its own whose message says why the random
stream or the results changed deliberately.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))
sys.path.insert(0, str(HERE.parent))

from golden import CASES, fingerprint  # noqa: E402


def main() -> None:
    """Run every golden case and store its KPIs and parquet hashes."""
    ref: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            ref[case] = fingerprint(case, Path(tmp) / case)
            print(case, "done", flush=True)
    (HERE / "golden.json").write_text(json.dumps(ref, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
