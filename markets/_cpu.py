"""The same floats on every machine: numpy's and OpenBLAS's AVX-512 kernels off, one BLAS thread.

numpy picks its ufunc kernels at import from the CPU it runs on. On a CPU with
AVX-512 (Intel since Skylake-SP, AMD since Zen 4) its float64 ``exp``, ``log``,
``log1p``, ``expm1``, ``power``, ``arctan``, ``sinh``, ``cosh``, ``cbrt`` and the
base-2 and base-10 logarithms run vectorised kernels that are accurate to a few
units in the last place; without AVX-512 numpy calls the C library's functions
for each element. Both are correct, but they differ in the last bits, and a run
of the model turns last bits into different decisions: measured on the small
park's 28-day orderly run (``tests/reference/golden.json``), an AMD Zen 5 machine
gave a different weekly plan, 632 platform events instead of 680 and 0.2 % more
energy curtailed than the AVX2 machines the reference was taken on. Sums, means,
square roots and the random generator's draws are numpy's own loops and the same
on both (checked element for element).

Matrix and vector products (``@``, ``np.dot``) are OpenBLAS's, bundled with
numpy and scipy, which also picks its kernels by CPU at load time: on an Intel
Xeon with AVX-512 it runs its ``SkylakeX`` kernels, whose dot products add in
another order than the ``Haswell`` kernels of AVX2 machines, and Jain's index of
a weekly plan came out one unit in the last place apart (the golden runs failed
on it). :func:`pin_numpy_kernels` therefore also sets ``OPENBLAS_CORETYPE`` to
``Haswell`` on a CPU with AVX-512 (which always has Haswell's AVX2 and FMA), read
from ``/proc/cpuinfo`` (Linux; elsewhere OpenBLAS keeps its own choice).

OpenBLAS also splits a dot product of more than 10,000 elements among its
threads, one per core by default, and adds the partial sums: the result's last
bits depend on the machine's core count (measured here: ``np.dot`` of 100,000
values differs by one unit in the last place between 1 and 2 threads; matrix
products, split by rows and columns, do not). :func:`pin_numpy_kernels` sets
``OPENBLAS_NUM_THREADS=1``, so Jain's index of 100,000 users is the same on a
laptop and a cluster node. It is faster too: the model's products are small, and
OpenBLAS's idle threads spin on the core that the model's own helper threads
(the next day's draws, the ``users.parquet`` encoding) or a sweep's other
worker use (a 10,000-user orderly year through the CLI 4.36 s against 4.63 s, the
mature year 19.6 s against 20.8 s).

:func:`pin_numpy_kernels` sets ``NPY_DISABLE_CPU_FEATURES`` to numpy's AVX-512
dispatch targets before numpy is imported, so a seed gives the same results on
any x86-64 machine (with the same C library): every parksim package calls it
first thing (``markets``, which every other package imports first). It leaves
the variable alone when the user has set it (``NPY_DISABLE_CPU_FEATURES=`` with
nothing keeps every kernel on), and can do nothing when numpy was imported before
parksim (a notebook that imported numpy first): :func:`numpy_kernels_pinned`
tells. The cost is small: the model's transcendental functions run on a few
thousand values a day.

References:
    numpy 2.4 "CPU build options" and "CPU/SIMD optimizations"
    (``NPY_DISABLE_CPU_FEATURES``; the x86 dispatch targets ``X86_V4``,
    ``AVX512_ICL``, ``AVX512_SPR``; before 2.4 ``AVX512F`` … ``AVX512_SPR``).
    OpenBLAS 0.3 "Runtime variables" (``OPENBLAS_CORETYPE``, for builds with
    ``DYNAMIC_ARCH``, as numpy's and scipy's wheels are; ``OPENBLAS_NUM_THREADS``,
    ``GOTO_NUM_THREADS``, ``OMP_NUM_THREADS``).
"""

from __future__ import annotations

import importlib.util
import os
import platform
import re
import sys
import warnings

__all__ = [
    "BLAS_CORE",
    "BLAS_ENV",
    "ENV",
    "THREADS_ENV",
    "avx512_targets",
    "cpu_flags",
    "cpu_has_avx512",
    "numpy_kernels_pinned",
    "numpy_version",
    "pin_numpy_kernels",
]

#: numpy's variable naming the dispatch targets it must not use.
ENV = "NPY_DISABLE_CPU_FEATURES"
#: OpenBLAS's variable naming the CPU whose kernels it runs.
BLAS_ENV = "OPENBLAS_CORETYPE"
#: The kernels of Intel AVX2 machines (Haswell on; AMD Zen kernels are built from their sources).
BLAS_CORE = "Haswell"
#: OpenBLAS's variables for its thread count, read in this order (the first set wins).
THREADS_ENV = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")


def cpu_flags(cpuinfo: str | None = None) -> frozenset[str]:
    """The CPU's feature flags, from the ``flags`` line of ``/proc/cpuinfo`` (dimensionless).

    Args:
        cpuinfo: The text of ``/proc/cpuinfo``; default read from it (no flags when
            it cannot be read: not Linux).

    Returns:
        The flags (``avx2``, ``fma``, ``avx512f``, ...), empty if none are found.
    """
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
                cpuinfo = f.read()
        except OSError:
            return frozenset()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def cpu_has_avx512(cpuinfo: str | None = None) -> bool:
    """Whether the CPU has AVX-512 (``avx512f`` among :func:`cpu_flags`; a flag).

    Args:
        cpuinfo: As for :func:`cpu_flags`.

    Returns:
        True when the ``flags`` line names ``avx512f`` (dimensionless).
    """
    return "avx512f" in cpu_flags(cpuinfo)


def avx512_targets(numpy_version: str) -> tuple[str, ...]:
    """The AVX-512 dispatch targets of numpy on x86-64, by numpy version (dimensionless).

    numpy 2.4 groups the x86 targets by micro-architecture level (``X86_V4`` is
    AVX-512 F/CD/VL/BW/DQ); earlier releases name each AVX-512 extension. Naming
    a target a numpy build does not dispatch is an ``ImportWarning``.

    Args:
        numpy_version: numpy's version string (``"2.4.6"``).

    Returns:
        The target names, as ``NPY_DISABLE_CPU_FEATURES`` takes them.
    """
    parts = [int(p) for p in numpy_version.split(".")[:2] if p.isdigit()]
    if tuple(parts) >= (2, 4):
        return ("X86_V4", "AVX512_ICL", "AVX512_SPR")
    return ("AVX512F", "AVX512CD", "AVX512_SKX", "AVX512_CLX", "AVX512_CNL", "AVX512_ICL")


def numpy_version() -> str | None:
    """The installed numpy's version string, without importing numpy (dimensionless).

    Read from the ``version = "..."`` line of the ``numpy/version.py`` that numpy's
    build generates (numpy 1.26 on), found by ``importlib.util.find_spec``;
    otherwise from the installed distribution's metadata
    (``importlib.metadata.version``, whose import alone takes 25-40 ms here, in
    every command's process).

    Returns:
        The version (``"2.4.6"``), or None when numpy is not installed.
    """
    spec = importlib.util.find_spec("numpy")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        try:
            with open(os.path.join(folder, "version.py"), encoding="utf-8") as f:
                found = re.search(r'^version\s*(?::\s*str\s*)?=\s*"([^"]+)"', f.read(), re.M)
        except OSError:
            continue
        if found:
            return found.group(1)
    from importlib import metadata

    try:
        return metadata.version("numpy")
    except metadata.PackageNotFoundError:
        return None


def pin_numpy_kernels() -> None:
    """Import numpy with its and OpenBLAS's AVX-512 kernels off, unless imported already.

    ``OPENBLAS_NUM_THREADS`` is set to 1 when none of :data:`THREADS_ENV` is set.
    On x86-64 only: ``NPY_DISABLE_CPU_FEATURES`` is set when unset;
    ``OPENBLAS_CORETYPE`` is set to :data:`BLAS_CORE` when unset and the CPU has
    AVX-512 (:func:`cpu_has_avx512`). numpy is imported here, with its warning
    about any target its build does not dispatch silenced. The variables stay
    set, so worker processes (a sweep's, a SLURM job's) import numpy the same
    way (dimensionless: no quantity is returned).
    """
    if "numpy" in sys.modules:
        return
    if not any(name in os.environ for name in THREADS_ENV):
        os.environ[THREADS_ENV[0]] = "1"
    if platform.machine().lower() in ("x86_64", "amd64"):
        if BLAS_ENV not in os.environ and cpu_has_avx512():
            os.environ[BLAS_ENV] = BLAS_CORE
        if ENV not in os.environ:
            version = numpy_version()
            if version is None:
                return
            os.environ[ENV] = " ".join(avx512_targets(version))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ImportWarning)
        import numpy  # noqa: F401


def numpy_kernels_pinned() -> bool:
    """Whether this process's numpy and OpenBLAS run without AVX-512 kernels (a flag).

    The thread count is not checked: a count the user chose is kept on purpose.

    Returns:
        True when numpy dispatches none of its AVX-512 targets and, on a CPU
        with AVX-512, ``OPENBLAS_CORETYPE`` is :data:`BLAS_CORE` (pinned by
        :func:`pin_numpy_kernels`); or a CPU without AVX-512; or not x86-64 (dimensionless).
    """
    import numpy as np

    try:
        umath = importlib.import_module("numpy._core._multiarray_umath")  # numpy >= 2
    except ImportError:  # numpy 1.26
        umath = importlib.import_module("numpy.core._multiarray_umath")
    dispatched = set(getattr(umath, "__cpu_dispatch__", ()))
    features = getattr(umath, "__cpu_features__", {})
    targets = avx512_targets(np.__version__)
    if any(features.get(t, False) for t in targets if t in dispatched):
        return False
    return os.environ.get(BLAS_ENV) == BLAS_CORE or not cpu_has_avx512()
