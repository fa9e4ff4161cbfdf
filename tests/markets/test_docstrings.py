"""Docstring coverage of the ``markets`` package.

Every module of ``markets`` (found with pkgutil, so new modules are checked too) must
document itself and its public API in Google style:

* each module has a docstring; each public function and class defined in it (name without a
  leading underscore, ``obj.__module__ == module.__name__``) and each public method or
  property of such a class has its own docstring (a dataclass's generated signature
  ``Name(field: type, ...)`` does not count);
* the docstring of each mechanism module (every submodule; the package ``__init__`` is
  not a mechanism) and of each public function names a unit (kW, kWh, CNY, tce, years, ...)
  or says ``dimensionless``, unless the function is listed in ``UNIT_EXEMPT`` with a reason;
* each mechanism module has a ``References:`` section with content in its docstring, or
  else every public function of the module has one;
* each public function documents every parameter under ``Args:``, has a ``Returns:``
  section unless it returns ``None``, and a ``Raises:`` section if its body raises;
* each public dataclass documents every field under ``Attributes:``.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable, Iterator
from types import ModuleType

import pytest

import markets

MODULE_NAMES: list[str] = [markets.__name__] + [
    info.name for info in pkgutil.walk_packages(markets.__path__, prefix=f"{markets.__name__}.")
]
MECHANISM_MODULES: list[str] = [name for name in MODULE_NAMES if name != markets.__name__]

# Qualified names of public functions that handle no physical or monetary quantity,
# mapped to the reason. Keep it short: prefer naming the unit in the docstring.
UNIT_EXEMPT: dict[str, str] = {}

UNIT = re.compile(
    r"(?<![\w-])"
    r"(kW|kWh|MW|MWh|CNY|tce|kgce|h|hours?|days?|months?|years?|%"
    r"|dimensionless|unit-free|unitless)"
    r"(?![\w-])"
)
SECTION = re.compile(r"^(\w[\w ]*):\s*$")


def _module(name: str) -> ModuleType:
    return importlib.import_module(name)


def _public(module: ModuleType) -> Iterator[tuple[str, object]]:
    """Public functions and classes defined in ``module`` (not imported into it)."""
    for name, obj in sorted(vars(module).items()):
        if name.startswith("_"):
            continue
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        if getattr(obj, "__module__", None) == module.__name__:
            yield name, obj


def _public_functions(module: ModuleType) -> list[tuple[str, Callable[..., object]]]:
    return [(name, obj) for name, obj in _public(module) if inspect.isfunction(obj)]


def _own_doc(obj: object) -> str:
    """The docstring written for ``obj`` itself: not inherited, not dataclass-generated."""
    if inspect.isclass(obj):
        doc = vars(obj).get("__doc__") or ""
        if dataclasses.is_dataclass(obj) and doc.startswith(f"{obj.__name__}("):
            return ""
        return inspect.cleandoc(doc)
    return inspect.cleandoc(getattr(obj, "__doc__", None) or "")


def _sections(doc: str) -> dict[str, list[str]]:
    """Google-style sections of a cleaned docstring: header -> its (indented) body lines."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in doc.splitlines():
        match = SECTION.match(line)
        if match:
            current = sections.setdefault(match.group(1), [])
        elif current is not None and (line.startswith(" ") or not line.strip()):
            current.append(line)
        else:
            current = None
    return sections


def _entries(body: list[str]) -> set[str]:
    """Names documented in a section body: lines ``    name:`` or ``    name (type):``."""
    entries = set()
    for line in body:
        match = re.match(r"^ {4}(\*{0,2}\w+)(?: \([^)]*\))?:", line)
        if match:
            entries.add(match.group(1).lstrip("*"))
    return entries


def _has_content(body: list[str] | None) -> bool:
    return body is not None and any(line.strip() for line in body)


def _raises(func: Callable[..., object]) -> bool:
    """The function's own source contains a ``raise`` statement."""
    source = inspect.getsource(func)
    return re.search(r"^\s+raise\b", source, re.MULTILINE) is not None


def test_markets_modules_are_discovered() -> None:
    """Guard against a vacuous pass: the walk finds the package and its known modules."""
    assert markets.__name__ in MODULE_NAMES
    for name in ("efficiency", "day_ahead", "real_time", "allocation", "tariffs"):
        assert f"markets.{name}" in MECHANISM_MODULES
    # Every module that declares a public API offers at least one function (packages
    # re-export theirs; private helper modules such as orderly.milp declare none).
    declared = [
        n
        for n in MECHANISM_MODULES
        if getattr(_module(n), "__all__", None) and not hasattr(_module(n), "__path__")
    ]
    assert len(declared) >= 10
    assert all(_public_functions(_module(name)) for name in declared)


@pytest.mark.parametrize("module_name", MODULE_NAMES)
def test_module_has_docstring(module_name: str) -> None:
    assert (_module(module_name).__doc__ or "").strip(), f"{module_name} has no docstring"


@pytest.mark.parametrize("module_name", MODULE_NAMES)
def test_public_functions_classes_and_methods_have_docstrings(module_name: str) -> None:
    module = _module(module_name)
    missing = []
    for name, obj in _public(module):
        if not _own_doc(obj).strip():
            missing.append(name)
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_"):
                    continue
                target = member
                if isinstance(member, (classmethod, staticmethod)):
                    target = member.__func__
                elif isinstance(member, property):
                    target = member.fget
                if inspect.isfunction(target) and not _own_doc(target).strip():
                    missing.append(f"{name}.{attr}")
    assert not missing, f"{module_name}: no docstring for {missing}"


@pytest.mark.parametrize("module_name", MECHANISM_MODULES)
def test_mechanism_module_docstring_names_units(module_name: str) -> None:
    doc = _module(module_name).__doc__ or ""
    assert UNIT.search(doc), f"{module_name}: module docstring names no unit"


@pytest.mark.parametrize("module_name", MECHANISM_MODULES)
def test_public_function_docstrings_name_units(module_name: str) -> None:
    module = _module(module_name)
    missing = [
        name
        for name, func in _public_functions(module)
        if f"{module_name}.{name}" not in UNIT_EXEMPT and not UNIT.search(_own_doc(func))
    ]
    assert not missing, f"{module_name}: docstrings naming no unit (or 'dimensionless'): {missing}"


def test_unit_exemptions_are_current() -> None:
    """Every exemption names an existing public function and gives a reason."""
    for qualified, reason in UNIT_EXEMPT.items():
        module_name, _, name = qualified.rpartition(".")
        assert module_name in MECHANISM_MODULES, qualified
        assert name in dict(_public_functions(_module(module_name))), qualified
        assert reason.strip(), qualified


@pytest.mark.parametrize("module_name", MECHANISM_MODULES)
def test_references_in_module_or_every_function(module_name: str) -> None:
    module = _module(module_name)
    if _has_content(_sections(inspect.cleandoc(module.__doc__ or "")).get("References")):
        return
    missing = [
        name
        for name, func in _public_functions(module)
        if not _has_content(_sections(_own_doc(func)).get("References"))
    ]
    assert not missing, (
        f"{module_name}: no References section in the module docstring, nor in {missing}"
    )


@pytest.mark.parametrize("module_name", MECHANISM_MODULES)
def test_public_functions_are_google_style(module_name: str) -> None:
    module = _module(module_name)
    problems = []
    for name, func in _public_functions(module):
        sections = _sections(_own_doc(func))
        signature = inspect.signature(func)
        params = {p for p in signature.parameters if p not in ("self", "cls")}
        undocumented = params - _entries(sections.get("Args", []))
        if undocumented:
            problems.append(f"{name}: Args lacks {sorted(undocumented)}")
        if signature.return_annotation not in (None, "None") and not _has_content(
            sections.get("Returns", sections.get("Yields"))
        ):
            problems.append(f"{name}: no Returns section")
        if _raises(func) and not _has_content(sections.get("Raises")):
            problems.append(f"{name}: raises but has no Raises section")
    assert not problems, f"{module_name}: {problems}"


@pytest.mark.parametrize("module_name", MECHANISM_MODULES)
def test_dataclass_fields_are_documented(module_name: str) -> None:
    module = _module(module_name)
    problems = []
    for name, cls in _public(module):
        if not (inspect.isclass(cls) and dataclasses.is_dataclass(cls)):
            continue
        documented = _entries(_sections(_own_doc(cls)).get("Attributes", []))
        undocumented = {f.name for f in dataclasses.fields(cls)} - documented
        if undocumented:
            problems.append(f"{name}: Attributes lacks {sorted(undocumented)}")
    assert not problems, f"{module_name}: {problems}"
