"""Generate ``docs/parameters.md``: every config key with its default, unit, range and source.

The schema (``simulation.config``) is the single place where a key is declared;
each leaf field's line under ``Attributes:`` in its dataclass docstring ends
with its source, ``(source: …)``, or ``(assumption)`` (optionally with a
reason, ``(assumption: …)``). The defaults are those of the composed default
configuration (``conf/config.yaml``: orderly phase, default park), so a value
chosen in ``conf/`` shows rather than the dataclass fallback. Keys below a
dictionary of named entries (``park.industries.*``, ``efficiency.measures.*``)
show each entry's value.

Run ``python -m experiments.parameters`` to rewrite the file;
``tests/test_parameters.py`` fails when the file is out of step with the schema
or a key has no source or assumption mark.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from simulation.config import Config
from simulation.config._checks import field_range
from simulation.config._keys import children

__all__ = [
    "DOC_PATH",
    "Parameter",
    "attribute_docs",
    "iter_parameters",
    "main",
    "render",
    "source_of",
    "unit_of",
]

#: The generated table, relative to the repository root.
DOC_PATH: Path = Path(__file__).resolve().parent.parent / "docs" / "parameters.md"

_MARK = re.compile(
    r"\((source:[^()]*(?:\([^()]*\)[^()]*)*|assumption(?::[^()]*)?)\)\s*\.?\s*$", re.I
)

_UNITS: dict[str, str] = {
    "cny": "CNY",
    "kwh": "kWh",
    "kw": "kW",
    "mwh": "MWh",
    "mw": "MW",
    "kwp": "kWp",
    "w": "W",
    "h": "h",
    "s": "s",
    "month": "month",
    "months": "months",
    "yr": "yr",
    "year": "yr",
    "years": "yr",
    "day": "day",
    "days": "days",
    "tco2": "tCO2",
    "kgce": "kgce",
    "10k": "10⁴",
    "m": "m",
    "deg": "°",
}
_DIMENSIONLESS: dict[str, str] = {
    "share": "share (0–1)",
    "prob": "probability",
    "fraction": "share (0–1)",
    "ratio": "ratio",
    "factor": "factor",
    "rate": "rate per year",
    "cv": "coefficient of variation",
}


@dataclass(frozen=True)
class Parameter:
    """One documented config key.

    Attributes:
        key: Dotted key (``*`` for the entries of a dictionary).
        default: The default value as written in the table.
        unit: Unit read from the name's suffix (empty when none).
        range: The declared range (empty when none).
        source: The source citation or the assumption mark (empty: missing).
        description: The docstring text without the mark.
    """

    key: str
    default: str
    unit: str
    range: str
    source: str
    description: str


def attribute_docs(schema: type) -> dict[str, str]:
    """The ``Attributes:`` entries of a dataclass docstring, joined per field.

    Args:
        schema: A dataclass type.

    Returns:
        Field name → its description (continuation lines joined by spaces).
    """
    doc = inspect.cleandoc(schema.__doc__ or "")
    out: dict[str, str] = {}
    in_section = False
    current: str | None = None
    for line in doc.splitlines():
        if line.strip() == "Attributes:":
            in_section = True
            continue
        if not in_section:
            continue
        if line and not line.startswith(" "):
            break  # the next section
        m = re.match(r"^    (\w+): ?(.*)$", line)
        if m:
            current = m.group(1)
            out[current] = m.group(2).strip()
        elif current is not None and line.strip():
            out[current] = f"{out[current]} {line.strip()}"
    return out


def source_of(description: str) -> tuple[str, str]:
    """Split a description into its text and its trailing source/assumption mark.

    Args:
        description: An attribute description.

    Returns:
        ``(text, mark)``; ``mark`` is ``""`` when the description has none,
        ``"A"`` for an assumption, ``"A: reason"`` or the citation otherwise.
    """
    m = _MARK.search(description)
    if m is None:
        return description, ""
    text = description[: m.start()].rstrip().rstrip(".")
    mark = m.group(1).strip()
    if mark.lower().startswith("source:"):
        return text, mark[len("source:") :].strip()
    rest = mark[len("assumption") :].lstrip(":").strip()
    return text, f"A: {rest}" if rest else "A"


def unit_of(name: str) -> str:
    """The unit of a key read from its name's suffix (``capex_cny_per_kw`` → CNY/kW).

    Args:
        name: A field name.

    Returns:
        The unit, or ``""`` when the name carries none.
    """
    parts = name.lower().split("_")
    if parts[-1] in _DIMENSIONLESS and len(parts) > 1:
        return _DIMENSIONLESS[parts[-1]]
    tail: list[str] = []
    for i in range(len(parts) - 1, -1, -1):
        p = parts[i]
        if p in _UNITS or p == "per":
            tail.insert(0, p)
        elif i > 0 and parts[i - 1] == "per" and tail and tail[0] in _UNITS:
            tail.insert(0, p)  # a qualifier: per contracted kW, per member-month
        else:
            break
    if not tail or all(p == "per" for p in tail):
        return _DIMENSIONLESS.get(parts[-1], "")
    out = ""
    sep = ""
    for p in tail:
        if p == "per":
            sep = "/"
            out = out or "1"
            continue
        out += (sep or ("·" if out else "")) + _UNITS.get(p, p)
        sep = ""
    return out


def _fmt(value: Any) -> str:
    if isinstance(value, ListConfig | DictConfig):
        value = OmegaConf.to_container(value, resolve=True)
    if isinstance(value, list) and len(value) > 6 and len(set(map(str, value))) <= 4:
        runs: list[str] = []
        prev: Any = object()
        count = 0
        for v in [*value, object()]:
            if v == prev:
                count += 1
                continue
            if count:
                runs.append(f"{prev}×{count}" if count > 1 else f"{prev}")
            prev, count = v, 1
        return "[" + ", ".join(runs) + "]"
    if isinstance(value, str):
        return f"`{value}`" if value else '`""`'
    return str(value).replace("|", "\\|")


def _walk(schema: type, node: Any, prefix: str, entries: list[str] | None) -> Iterator[Parameter]:
    docs = attribute_docs(schema)
    kids = children(schema)
    for f in dataclasses.fields(schema):
        sub, dict_of = kids[f.name]
        key = f"{prefix}{f.name}"
        if sub is not None:
            if dict_of:
                names = [str(n) for n in node[f.name]] if node is not None else []
                values = [node[f.name][n] for n in names] if node is not None else []
                yield from _walk_entries(sub, values, names, f"{key}.*.")
            else:
                yield from _walk(sub, None if node is None else node[f.name], f"{key}.", entries)
            continue
        text, mark = source_of(docs.get(f.name, ""))
        rng = field_range(f)
        default = _fmt(node[f.name]) if node is not None else ""
        yield Parameter(key, default, unit_of(f.name), str(rng) if rng else "", mark, text)


def _walk_entries(
    schema: type, values: list[Any], names: list[str], prefix: str
) -> Iterator[Parameter]:
    docs = attribute_docs(schema)
    kids = children(schema)
    for f in dataclasses.fields(schema):
        if kids[f.name][0] is not None:  # no nested groups inside entries today
            continue
        text, mark = source_of(docs.get(f.name, ""))
        rng = field_range(f)
        default = "; ".join(f"{n}: {_fmt(v[f.name])}" for n, v in zip(names, values, strict=True))
        yield Parameter(
            f"{prefix}{f.name}", default, unit_of(f.name), str(rng) if rng else "", mark, text
        )


def iter_parameters(cfg: DictConfig | None = None) -> Iterator[Parameter]:
    """Every leaf key of the schema, with the defaults of a composed config.

    Args:
        cfg: The composed config whose values are the defaults (the default
            configuration when ``None``).

    Yields:
        One :class:`Parameter` per leaf key, in schema order.
    """
    if cfg is None:
        from simulation.run import compose_config

        cfg = compose_config([])
    yield from _walk(Config, cfg, "", None)


def render(params: list[Parameter]) -> str:
    """The markdown table of ``docs/parameters.md``.

    Args:
        params: The parameters, in order.

    Returns:
        The file's text.
    """
    lines = [
        "# Parameters",
        "",
        "<!-- Generated by `python -m experiments.parameters`; do not edit by hand. -->",
        "",
        "Every configuration key, its default in the default configuration (orderly phase,",
        "default park; `conf/phase/*.yaml` switch modules, and the other groups keep these",
        "values in every phase), its unit (from the name), its allowed range and its source.",
        "**A** marks an assumption of this model (a reason follows when there is one);",
        "`[Sn]` refers to the source list of the design notes (`PHASES.md` §7).",
        "",
        "| key | default | unit | range | source | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for p in params:
        cells = [f"`{p.key}`", p.default, p.unit, p.range, p.source, p.description]
        lines.append(
            "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Rewrite ``docs/parameters.md`` (or check it with ``--check``).

    Args:
        argv: Command-line arguments (``--check``: exit 1 when out of step).

    Returns:
        The exit status.
    """
    args = sys.argv[1:] if argv is None else argv
    text = render(list(iter_parameters()))
    if "--check" in args:
        ok = DOC_PATH.exists() and DOC_PATH.read_text(encoding="utf-8") == text
        print("docs/parameters.md is up to date" if ok else "docs/parameters.md is out of step")
        return 0 if ok else 1
    DOC_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {DOC_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
