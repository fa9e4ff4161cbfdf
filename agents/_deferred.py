"""A package in ``sys.modules`` before its ``__init__`` has run, for its submodules only.

Some field libraries' package ``__init__`` imports every subpackage: mesa 3.3's
(``mesa.experimental`` pulls in ``scipy.spatial``, ``mesa.space`` ``networkx``) and
pvlib's (``pvlib.spectrum``, ``pvlib.ivtools``, ``pvlib.bifacial``, … pull in
``scipy.integrate``, ``h5py`` and more). parksim uses a few of their modules, and the
rest costs a run 0.3–0.5 s each on a 2-core machine (``python -X importtime``).

:func:`defer_init` puts such a package into ``sys.modules`` with its ``__init__``
deferred. Its submodules import as usual (``import pvlib.location`` loads that module
alone, and whatever it imports; with ``submodules=True`` so does ``from pvlib import
irradiance``); the names in ``core`` are read from the submodule that defines them.
Any other attribute (say ``pvlib.__version__``, ``mesa.space`` or ``from mesa import
batch_run``) runs the package's own ``__init__`` on the same module object first, so
code that uses the rest of the package sees the package it expects. A package
already imported is left alone.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from collections.abc import Mapping
from types import ModuleType
from typing import Any

__all__ = ["defer_init"]


def defer_init(
    name: str, core: Mapping[str, str] | None = None, *, submodules: bool = False
) -> ModuleType:
    """Put a package into ``sys.modules``, its ``__init__`` deferred.

    Args:
        name: The top-level package, e.g. ``"pvlib"``.
        core: Attribute name → the submodule that defines it (read from there on
            first use, without the package's ``__init__``).
        submodules: Whether an attribute that names a submodule imports that
            submodule alone (``from pvlib import atmosphere`` inside pvlib's own
            modules) instead of running the package's ``__init__``.

    Returns:
        The package module (the one already imported, if any).

    Raises:
        ModuleNotFoundError: If the package is not installed.
    """
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:  # not installed: let ``import`` say so
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = spec.loader
    package = importlib.util.module_from_spec(spec)
    direct = dict(core or {})
    lock = threading.RLock()

    def complete() -> None:
        """Run the package's own ``__init__`` on the package (once)."""
        with lock:
            if package.__dict__.get("__getattr__") is not deferred:
                return
            del package.__dict__["__getattr__"]
            loader.exec_module(package)

    def deferred(attr: str) -> Any:
        """A missing attribute of the package: one of ``core``, or the whole package."""
        if attr in direct:
            value = getattr(importlib.import_module(direct[attr]), attr)
            setattr(package, attr, value)
            return value
        if submodules and not attr.startswith("__"):
            child = f"{name}.{attr}"
            if child in sys.modules or importlib.util.find_spec(child) is not None:
                return importlib.import_module(child)  # the import sets the attribute
        complete()
        return getattr(package, attr)

    package.__getattr__ = deferred  # type: ignore[method-assign]
    sys.modules[name] = package
    return package
