"""Golden baseline: orderly and efficiency reproduce their stored KPIs and outputs.

The reference (``tests/reference/golden.json``) was taken before the
phases-as-modules refactor; every later change keeps it equal unless a
commit of its own regenerates it (``tests/reference/make_reference.py``) and
says why.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from golden import CASES, fingerprint

REFERENCE = json.loads((Path(__file__).parent / "reference" / "golden.json").read_text())


@pytest.mark.parametrize("case", CASES)
def test_golden_case_matches_reference(case, tmp_path):
    ref = REFERENCE[case]
    got = fingerprint(case, tmp_path)
    # Every reference KPI is reproduced exactly (new KPIs may be added).
    for key, value in ref["kpis"].items():
        assert got["kpis"][key] == value, f"{case}: KPI {key} {got['kpis'][key]} != {value}"
    # Every stored file and column is identical (new files and columns may be added).
    for name, columns in ref["parquet_sha256"].items():
        assert name in got["parquet_sha256"], f"{case}: {name} missing"
        for col, digest in columns.items():
            assert got["parquet_sha256"][name].get(col) == digest, f"{case}: {name}:{col} changed"
