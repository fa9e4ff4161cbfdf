"""Every config key states a source or an assumption; docs/parameters.md follows the schema."""

from __future__ import annotations

import dataclasses

import pytest

from experiments.parameters import (
    DOC_PATH,
    attribute_docs,
    iter_parameters,
    render,
    source_of,
    unit_of,
)
from simulation.config import Config, EfficiencyConfig
from simulation.config._keys import children


@pytest.fixture(scope="module")
def params() -> list:
    """The documented parameters of the default configuration (composed once)."""
    return list(iter_parameters())


def test_every_key_has_a_source_or_assumption_mark(params: list) -> None:
    """A new key whose docstring line lacks ``(source: …)`` or ``(assumption)`` fails here."""
    missing = [p.key for p in params if not p.source]
    assert missing == [], f"keys without a source or an assumption mark: {missing}"


def test_every_leaf_of_the_schema_is_documented(params: list) -> None:
    """The table has one row per leaf field of the schema (walked independently here)."""

    def leaves(schema: type, prefix: str) -> list[str]:
        out: list[str] = []
        for name, (sub, dict_of) in children(schema).items():
            if sub is None:
                out.append(prefix + name)
            else:
                out += leaves(sub, f"{prefix}{name}.{'*.' if dict_of else ''}")
        return out

    assert [p.key for p in params] == leaves(Config, "")


def test_docs_parameters_md_is_in_step_with_the_schema(params: list) -> None:
    """Regenerate the table and compare (run ``python -m experiments.parameters`` to fix)."""
    assert DOC_PATH.read_text(encoding="utf-8") == render(params)


def test_source_of_splits_marks() -> None:
    """The three mark forms, a nested parenthesis inside a citation, and a missing mark."""
    assert source_of("Penalty, CNY/kWh. (assumption)") == ("Penalty, CNY/kWh", "A")
    assert source_of("Cap. (assumption: run setting)") == ("Cap", "A: run setting")
    assert source_of("Fee (source: Beijing (2016) [S17])") == ("Fee", "Beijing (2016) [S17]")
    assert source_of("No mark here.") == ("No mark here.", "")


def test_attribute_docs_joins_continuation_lines() -> None:
    """The efficiency group's docstring: one entry per field, wrapped lines joined."""
    docs = attribute_docs(EfficiencyConfig)
    assert set(docs) == {f.name for f in dataclasses.fields(EfficiencyConfig)}
    assert docs["kgce_per_kwh"].endswith("(source: GB/T 2589 equivalent value 0.1229 kgce/kWh)")


@pytest.mark.parametrize(
    ("name", "unit"),
    [
        ("capex_cny_per_kw", "CNY/kW"),
        ("demand_charge_cny_per_kw_month", "CNY/kW·month"),
        ("prob_per_day", "1/day"),
        ("median_load_kw", "kW"),
        ("waste_user_share", "share (0–1)"),
        ("n_users", ""),
    ],
)
def test_unit_of_reads_the_name_suffix(name: str, unit: str) -> None:
    """Units from the name's suffix (STYLE.md: units in names)."""
    assert unit_of(name) == unit
