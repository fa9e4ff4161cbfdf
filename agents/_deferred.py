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

A module may also take a function from a package by name when it is imported
(pvlib's ``irradiance`` does ``from scipy.interpolate import splev`` and ``from
scipy.optimize import bisect``, for models parksim does not call). Names in ``lazy``
stand for such functions: each is bound to a function that, when called, runs the
package's ``__init__`` and then the real function, so importing the module costs
nothing of the package (scipy.interpolate and scipy.optimize: about 0.3 s of a run
that builds a PV profile) unless the function is used.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any

__all__ = ["defer_init"]


def defer_init(
    name: str,
    core: Mapping[str, str] | None = None,
    *,
    submodules: bool = False,
    lazy: Sequence[str] = (),
    import_module: Callable[[str], ModuleType] = importlib.import_module,
) -> ModuleType:
    """Put a package into ``sys.modules``, its ``__init__`` deferred.

    Args:
        name: The package, e.g. ``"pvlib"`` or ``"scipy.optimize"`` (a subpackage's
            parent is imported as usual).
        core: Attribute name → the submodule that defines it (read from there on
            first use, without the package's ``__init__``).
        submodules: Whether an attribute that names a submodule imports that
            submodule alone (``from pvlib import atmosphere`` inside pvlib's own
            modules) instead of running the package's ``__init__``.
        lazy: Names of functions the package defines that are bound, until the
            package's ``__init__`` has run, to a function that runs it and then calls
            the real one (for modules that import such a function by name).
        import_module: Imports the submodule that defines a ``core`` name
            (default :func:`importlib.import_module`).

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
            value = getattr(import_module(direct[attr]), attr)
            setattr(package, attr, value)
            return value
        if submodules and not attr.startswith("__"):
            child = f"{name}.{attr}"
            if child in sys.modules or importlib.util.find_spec(child) is not None:
                return importlib.import_module(child)  # the import sets the attribute
        complete()
        return getattr(package, attr)

    package.__getattr__ = deferred  # type: ignore[method-assign]
    for attr in lazy:
        setattr(package, attr, _on_first_call(package, attr, complete))
    sys.modules[name] = package
    parent, _, child = name.rpartition(".")
    if parent:  # as the import system binds a submodule it has loaded
        setattr(sys.modules[parent], child, package)
    return package


def _on_first_call(package: ModuleType, attr: str, complete: Callable[[], None]) -> Any:
    """A stand-in for ``package.attr``: runs the package's ``__init__``, then the real one."""

    def call(*args: Any, **kwargs: Any) -> Any:
        complete()
        real = package.__dict__.get(attr)
        if real is None or real is call:
            raise AttributeError(f"module {package.__name__!r} has no attribute {attr!r}")
        return real(*args, **kwargs)

    call.__name__ = call.__qualname__ = attr
    call.__module__ = package.__name__
    call.__doc__ = f"{package.__name__}.{attr}, imported on its first call."
    return call
