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

from types import ModuleType

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
    return defer_init("mesa", CORE)
