"""parksim simulation package."""

import agents  # noqa: F401  (installs the deferred mesa package first: agents/_mesa.py)
