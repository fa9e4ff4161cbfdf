"""parksim markets package."""

# numpy's AVX-512 kernels off before anything imports numpy (markets/_cpu.py): the
# same floats, and so the same results from a seed, on every x86-64 machine.
from markets._cpu import pin_numpy_kernels as _pin_numpy_kernels

_pin_numpy_kernels()
