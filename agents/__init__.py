"""parksim agents package.

Importing it installs mesa's package with its ``__init__`` deferred
(:mod:`agents._mesa`): parksim's ``import mesa`` costs only the classes it uses.
"""

from agents._mesa import install as _install_mesa

_install_mesa()
