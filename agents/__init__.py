"""parksim agents package.

Importing it installs mesa's package with its ``__init__`` deferred
(:mod:`agents._mesa`): parksim's ``import mesa`` costs only the classes it uses.
"""

import markets  # noqa: F401  (numpy without AVX-512 kernels first: markets/_cpu.py)
from agents._mesa import install as _install_mesa

_install_mesa()
