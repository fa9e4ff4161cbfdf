"""Mesa's core classes without the rest of mesa's package import.

``mesa/__init__.py`` (mesa 3.3) imports every subpackage: ``mesa.experimental``
(which imports ``scipy.spatial``), ``mesa.space`` (``networkx``),
``mesa.discrete_space`` and ``mesa.batchrunner``. parksim uses three of mesa's
classes, ``mesa.Agent``, ``mesa.Model`` and ``mesa.DataCollector``, and the rest
costs every run 0.3-0.5 s of start-up on a 2-core machine (measured with
``python -X importtime``).

:func:`install` puts mesa's package into ``sys.modules`` before its
``__init__`` has run (:func:`agents._deferred.defer_init`). The three classes are
imported from their own modules (``mesa.agent``, ``mesa.model``,
``mesa.datacollection``) when first read. Any other attribute (``mesa.space``,
``mesa.__version__``, ``from mesa import batch_run``) runs mesa's own ``__init__``
on the same module object first, so code that uses the rest of mesa sees the
package it expects. If mesa is already imported, :func:`install` leaves it alone.

``agents/__init__.py`` calls :func:`install`, and ``simulation/__init__.py``
imports :mod:`agents`, so every parksim module's ``import mesa`` gets this
package.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from types import FrameType, ModuleType
from typing import Any

from agents._deferred import defer_init

__all__ = ["CORE", "install"]

CORE: dict[str, str] = {
    "Agent": "mesa.agent",
    "Model": "mesa.model",
    "DataCollector": "mesa.datacollection",
}
"""The classes parksim uses, and the mesa module each is defined in."""


def install() -> ModuleType:
    """Put mesa's package into ``sys.modules``, its ``__init__`` deferred.

    Returns:
        The ``mesa`` module (the one already imported, if any).
    """
    return defer_init("mesa", CORE, import_module=_import_core)


def _frames(frame: FrameType | None) -> list[inspect.FrameInfo]:
    """``inspect.getouterframes(frame, context=0)`` without reading a source file.

    The frame records carry what a frame knows itself (its code's file name, line
    and function); ``inspect`` would look each frame's source file up as well.
    """
    out = []
    while frame is not None:
        code = frame.f_code
        out.append(
            inspect.FrameInfo(frame, code.co_filename, frame.f_lineno, code.co_name, None, None)
        )
        frame = frame.f_back
    return out


def _import_core(name: str) -> ModuleType:
    """Import one of :data:`CORE`'s modules, ``mesa.model`` without its stack inspection.

    ``mesa/model.py`` names its logger and its ``Model.__init__`` logger from the
    call stack when it is imported (``mesa.mesa_logging``: ``inspect.stack()``,
    ``inspect.getouterframes`` and ``inspect.getmodule``), and ``inspect`` reads
    the source file of every frame of the stack and maps every imported module
    to its file: 30–50 ms of a run's start (measured; more under Hydra's deep
    stack), for two names. During that import those three functions answer from
    the frames themselves (:func:`_frames`; a frame's module by its globals'
    ``__name__``): the same logger names, ``MESA.mesa.model`` and the class
    ``Model``.

    Args:
        name: The module, e.g. ``"mesa.model"``.

    Returns:
        The imported module.
    """
    if name != "mesa.model" or name in sys.modules:
        return importlib.import_module(name)
    saved = (inspect.stack, inspect.getouterframes, inspect.getmodule)
    getmodule = saved[2]

    def stack(context: int = 1) -> list[inspect.FrameInfo]:
        return _frames(sys._getframe(1))

    def getouterframes(frame: FrameType, context: int = 1) -> list[inspect.FrameInfo]:
        return _frames(frame)

    def module_of(obj: Any, _filename: str | None = None) -> ModuleType | None:
        if isinstance(obj, FrameType):
            return sys.modules.get(obj.f_globals.get("__name__", ""))
        return getmodule(obj, _filename)

    inspect.stack = stack  # type: ignore[assignment]
    inspect.getouterframes = getouterframes  # type: ignore[assignment]
    inspect.getmodule = module_of  # type: ignore[assignment]
    try:
        return importlib.import_module(name)
    finally:
        inspect.stack, inspect.getouterframes, inspect.getmodule = saved
