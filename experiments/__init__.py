"""parksim experiments package."""

import markets  # noqa: F401  (numpy without AVX-512 kernels first: markets/_cpu.py)
