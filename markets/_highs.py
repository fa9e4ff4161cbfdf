"""A HiGHS LP of fixed structure, passed to the solver once and re-solved with new data.

``scipy.optimize.linprog(method="highs")`` re-validates, stacks and converts its inputs
and builds a new solver on every call: for the mature phase's day LP (a few hundred
rows, solved 365 times a year) that wrapper costs about three times HiGHS's own solve.
:class:`FixedLp` keeps one ``highspy`` solver per constraint matrix and changes only
the column costs, column bounds and row bounds between solves.

Equivalence with ``linprog``: the matrix is passed as ``linprog`` passes it (the
inequality rows, then the equality rows, column-wise), with the options ``linprog``
sets (presolve on, dual simplex strategy, time limit, ``mip_rel_gap``, no output),
and every solve starts cold (:meth:`highspy.Highs.clearSolver`: no basis kept from
the previous solve), so a solve's result depends only on its own data — not on the
calls before it — and is the same vertex on every run. The duals are HiGHS's
``row_dual``, which are what ``linprog`` returns as ``ineqlin.marginals`` and
``eqlin.marginals`` (``scipy/optimize/_linprog_highs.py`` copies ``row_dual``
unchanged): ∂objective/∂row bound, so <= 0 on a binding ``<=`` row of a minimisation.

Units: whatever the caller's LP uses (dimensionless here); the time limit is in s.

References:
    Huangfu, Q. & Hall, J. A. J., "Parallelizing the dual revised simplex method",
    Mathematical Programming Computation 10:119–142, 2018 (HiGHS).
    HiGHS documentation, "Python interface (highspy)" and "Options",
    https://ergo-code.github.io/HiGHS/stable/ .
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import highspy
import numpy as np
from highspy._core import _Highs
from numpy.typing import NDArray

if TYPE_CHECKING:  # scipy is imported by the first solve: runs that never solve skip it
    import scipy.sparse as sp

#: A sparse matrix's column-wise arrays ``(start, index, value)`` (HiGHS's ``kColwise``).
ColumnWise = tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.float64]]

#: Whether HiGHS's infinity is IEEE infinity (then ±inf bounds pass unchanged).
_HIGHS_INF_IS_INF = bool(np.isposinf(highspy.kHighsInf))


@dataclass(frozen=True, eq=False)
class LpSolution:
    """An optimal solution of a :class:`FixedLp` (dimensionless: the LP's own units).

    Attributes:
        x: Column values (num_cols,).
        row_dual: Row duals ∂objective/∂row bound (num_rows,), sign as ``linprog``'s
            ``marginals``.
    """

    x: NDArray[np.float64]
    row_dual: NDArray[np.float64]


def _finite_or_highs_inf(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Map ±inf to ±``highspy.kHighsInf``, as ``linprog`` does (dimensionless).

    Args:
        values: Bounds, may hold ±inf.

    Returns:
        A contiguous float64 copy with infinite entries replaced.
    """
    out = np.array(values, dtype=np.float64, order="C")
    if _HIGHS_INF_IS_INF:  # the mapping is the identity (highspy >= 1.7: kHighsInf = inf)
        return out
    inf = np.isinf(out)
    out[inf] = np.sign(out[inf]) * highspy.kHighsInf
    return out


class FixedLp:
    """min c·x s.t. row_lower <= A·x <= row_upper, col_lower <= x <= col_upper; A fixed.

    Not thread-safe: one solver object, re-used by every :meth:`solve` (the simulation
    runs one model per process).
    """

    def __init__(
        self,
        a: sp.csr_matrix | sp.csc_matrix | ColumnWise,
        shape: tuple[int, int] | None = None,
    ) -> None:
        """Pass the constraint matrix to a new, silent HiGHS solver.

        Args:
            a: The constraint matrix (num_rows × num_cols): any scipy sparse format, or
                its column-wise arrays ``(start, index, value)`` (as
                :func:`csc_from_triplets` returns them; no scipy import); dimensionless.
            shape: ``(num_rows, num_cols)``; required with column-wise arrays, which
                do not record the row count.

        Raises:
            ValueError: If column-wise arrays come without ``shape`` or do not fit it.
        """
        if isinstance(a, tuple):
            if shape is None:
                raise ValueError("FixedLp: column-wise arrays need shape=(num_rows, num_cols)")
            start, index, value = (np.asarray(x) for x in a)
            self.num_rows, self.num_cols = (int(s) for s in shape)
            if (
                start.shape != (self.num_cols + 1,)
                or index.shape != value.shape
                or (index.size and not 0 <= int(index.min()) <= int(index.max()) < self.num_rows)
            ):
                raise ValueError(
                    f"FixedLp: column-wise arrays do not fit shape {tuple(shape)} "
                    f"(start {start.shape}, index {index.shape}, value {value.shape})"
                )
            matrix = (start, index, value)
        else:
            import scipy.sparse as sp

            csc = sp.csc_matrix(a)
            self.num_rows, self.num_cols = (int(s) for s in csc.shape)
            matrix = (csc.indptr, csc.indices, csc.data)
        # highspy.Highs() prints HiGHS's banner to stdout on construction (it installs
        # its Python callbacks while output is still on) and routes every solve through
        # them; the core class it extends (which scipy's own wrapper uses too) is silent.
        self._h = _Highs()
        self._set_options(
            {
                "output_flag": False,
                "log_to_console": False,
                "presolve": "on",
                "simplex_strategy": 1,  # dual simplex, as linprog(method="highs")
            }
        )
        cols, rows = np.zeros(self.num_cols), np.zeros(self.num_rows)
        lp = _highs_lp(matrix, cols, rows, rows, cols, cols)
        self._check(self._h.passModel(lp), "passModel")
        self._cols = np.arange(self.num_cols, dtype=np.int32)
        self._rows = np.arange(self.num_rows, dtype=np.int32)
        self._limits: tuple[float, float] | None = None

    def _set_options(self, options: dict[str, bool | float | str | int]) -> None:
        """Set HiGHS options by name (dimensionless; ``time_limit`` in s).

        Args:
            options: Option name → value.

        Raises:
            ValueError: If HiGHS rejects an option.
        """
        for name, value in options.items():
            self._check(self._h.setOptionValue(name, value), f"option {name}={value!r}")

    @staticmethod
    def _check(status: highspy.HighsStatus, what: str) -> None:
        """Raise unless a HiGHS call returned ``kOk`` (dimensionless).

        Args:
            status: The call's status.
            what: The call, for the message.

        Raises:
            ValueError: On a warning or an error status.
        """
        if status != highspy.HighsStatus.kOk:
            raise ValueError(f"HiGHS {what} returned {status}")

    def solve(
        self,
        cost: NDArray[np.float64],
        col_lower: NDArray[np.float64],
        col_upper: NDArray[np.float64],
        row_lower: NDArray[np.float64],
        row_upper: NDArray[np.float64],
        *,
        time_limit_s: float,
        mip_rel_gap: float,
    ) -> LpSolution:
        """Solve with new costs and bounds, from a cold start (dimensionless; s).

        Args:
            cost: Column costs c (num_cols,).
            col_lower: Column lower bounds (num_cols,), may be -inf.
            col_upper: Column upper bounds (num_cols,), may be +inf.
            row_lower: Row lower bounds (num_rows,), may be -inf.
            row_upper: Row upper bounds (num_rows,), may be +inf.
            time_limit_s: HiGHS time limit, s (> 0).
            mip_rel_gap: HiGHS relative gap (binds MIPs only), dimensionless.

        Returns:
            The optimal column values and row duals.

        Raises:
            ValueError: If an array has the wrong length, or HiGHS does not report an
                optimum (infeasible, unbounded, time limit, ...).
        """
        for arr, size, name in (
            (cost, self.num_cols, "cost"),
            (col_lower, self.num_cols, "col_lower"),
            (col_upper, self.num_cols, "col_upper"),
            (row_lower, self.num_rows, "row_lower"),
            (row_upper, self.num_rows, "row_upper"),
        ):
            if np.shape(arr) != (size,):
                raise ValueError(f"{name} must hold {size} values, got shape {np.shape(arr)}")
        limits = (float(time_limit_s), float(mip_rel_gap))
        if limits != self._limits:
            self._set_options({"time_limit": limits[0], "mip_rel_gap": limits[1]})
            self._limits = limits
        h = self._h
        n, m = self.num_cols, self.num_rows
        self._check(
            h.changeColsCost(n, self._cols, np.ascontiguousarray(cost, dtype=np.float64)),
            "changeColsCost",
        )
        self._check(
            h.changeColsBounds(
                n, self._cols, _finite_or_highs_inf(col_lower), _finite_or_highs_inf(col_upper)
            ),
            "changeColsBounds",
        )
        # changeRowsBounds is bound in highspy 1.16 but missing from its type stubs
        self._check(
            h.changeRowsBounds(  # type: ignore[attr-defined]
                m, self._rows, _finite_or_highs_inf(row_lower), _finite_or_highs_inf(row_upper)
            ),
            "changeRowsBounds",
        )
        self._check(h.clearSolver(), "clearSolver")
        run_status = h.run()
        model_status = h.getModelStatus()
        if run_status == highspy.HighsStatus.kError or (
            model_status != highspy.HighsModelStatus.kOptimal
        ):
            raise ValueError(
                f"HiGHS did not reach an optimum: {h.modelStatusToString(model_status)}"
            )
        sol = h.getSolution()
        return LpSolution(
            x=np.asarray(sol.col_value, dtype=np.float64),
            row_dual=np.asarray(sol.row_dual, dtype=np.float64),
        )


def _highs_lp(
    matrix: tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.float64]],
    cost: NDArray[np.float64],
    row_lower: NDArray[np.float64],
    row_upper: NDArray[np.float64],
    col_lower: NDArray[np.float64],
    col_upper: NDArray[np.float64],
) -> highspy.HighsLp:
    """A HiGHS LP from a column-wise matrix, costs and bounds (dimensionless).

    Args:
        matrix: ``(start, index, value)`` of A column-wise.
        cost: Column costs (num_cols,).
        row_lower: Row lower bounds (num_rows,), may be -inf.
        row_upper: Row upper bounds (num_rows,), may be +inf.
        col_lower: Column lower bounds (num_cols,), may be -inf.
        col_upper: Column upper bounds (num_cols,), may be +inf.

    Returns:
        The ``highspy.HighsLp``, infinite bounds mapped to HiGHS's infinity.
    """
    start, index, value = matrix
    n_cols, n_rows = int(np.shape(cost)[0]), int(np.shape(row_lower)[0])
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = n_rows
    lp.col_cost_ = np.ascontiguousarray(cost, dtype=np.float64)
    lp.col_lower_ = _finite_or_highs_inf(col_lower)
    lp.col_upper_ = _finite_or_highs_inf(col_upper)
    lp.row_lower_ = _finite_or_highs_inf(row_lower)
    lp.row_upper_ = _finite_or_highs_inf(row_upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = n_cols
    lp.a_matrix_.num_row_ = n_rows
    lp.a_matrix_.start_ = np.ascontiguousarray(start, dtype=np.int32)
    lp.a_matrix_.index_ = np.ascontiguousarray(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.ascontiguousarray(value, dtype=np.float64)
    return lp


def csc_from_triplets(
    rows: NDArray[np.int64],
    cols: NDArray[np.int64],
    values: NDArray[np.float64],
    shape: tuple[int, int],
) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.float64]]:
    """A sparse matrix's column-wise arrays from (row, column, value) triplets.

    The same arrays as ``scipy.sparse.csc_array(scipy.sparse.csr_array((values, (rows,
    cols)), shape))`` (explicit zeros kept, row indices ascending within each column),
    without importing scipy (about 0.4 s a process). Duplicate entries are summed in
    the order given, which may round differently from scipy's sum.

    Args:
        rows: Row index of each entry.
        cols: Column index of each entry.
        values: Entry values (dimensionless: the caller's units).
        shape: (num_rows, num_cols).

    Returns:
        ``(start, index, value)``: column starts (num_cols + 1,), row indices and values.
    """
    n_rows, n_cols = shape
    key = np.asarray(cols, dtype=np.int64) * n_rows + np.asarray(rows, dtype=np.int64)
    order = np.argsort(key, kind="stable")
    key = key[order]
    vals = np.asarray(values, dtype=np.float64)[order]
    first = np.ones(key.size, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    if not first.all():  # duplicates: summed in the order given, as scipy does
        vals = np.add.reduceat(vals, np.flatnonzero(first))
        key = key[first]
    col_of = key // n_rows
    start = np.zeros(n_cols + 1, dtype=np.int32)
    np.cumsum(np.bincount(col_of, minlength=n_cols), out=start[1:])
    return start, (key - col_of * n_rows).astype(np.int32), vals


@dataclass(frozen=True, eq=False)
class MipResult:
    """What HiGHS returns for one MILP or LP (dimensionless: the model's own units).

    Attributes:
        optimal: HiGHS reports the model optimal (for a MILP: within its gap).
        x: Column values, or None if HiGHS has no feasible solution to report.
        objective: The objective at ``x`` (NaN without ``x``).
        dual_bound: A MILP's dual bound (−inf if HiGHS reports none; the objective
            for an optimal LP).
        gap: A MILP's relative gap as HiGHS reports it (NaN for an LP).
    """

    optimal: bool
    x: NDArray[np.float64] | None
    objective: float
    dual_bound: float
    gap: float


def solve_mip(
    cost: NDArray[np.float64],
    matrix: tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.float64]],
    row_lower: NDArray[np.float64],
    row_upper: NDArray[np.float64],
    col_lower: NDArray[np.float64],
    col_upper: NDArray[np.float64],
    integer: NDArray[np.bool_] | None,
    *,
    time_limit_s: float,
    mip_rel_gap: float | None = None,
    options: Mapping[str, bool | float] | None = None,
) -> MipResult:
    """Solve min c·x s.t. row bounds on A·x, column bounds, ``integer`` columns integral.

    One new, silent HiGHS solver per call, with the options ``scipy.optimize.milp``
    passes (time limit, relative gap; HiGHS's defaults otherwise), and what ``milp``
    reports: a MILP stopped by a limit returns its incumbent if it has one; an LP
    returns ``x`` only at its optimum.

    Args:
        cost: Column costs (num_cols,).
        matrix: ``(start, index, value)`` of A column-wise (:func:`csc_from_triplets`).
        row_lower: Row lower bounds (num_rows,), may be -inf.
        row_upper: Row upper bounds (num_rows,), may be +inf.
        col_lower: Column lower bounds (num_cols,).
        col_upper: Column upper bounds (num_cols,), may be +inf.
        integer: Which columns are integral; None or none for an LP.
        time_limit_s: HiGHS time limit, s (> 0).
        mip_rel_gap: HiGHS relative MIP gap (dimensionless); None keeps HiGHS's.
        options: Further HiGHS options by name (e.g. ``mip_heuristic_run_rins``).

    Returns:
        The solver's status, solution, objective, dual bound and gap.

    Raises:
        ValueError: If HiGHS rejects an option or the model.
    """
    is_mip = integer is not None and bool(np.any(integer))
    h = _Highs()
    settings: dict[str, bool | float] = {"output_flag": False, "log_to_console": False}
    settings["time_limit"] = float(time_limit_s)
    if mip_rel_gap is not None:
        settings["mip_rel_gap"] = float(mip_rel_gap)
    settings.update(options or {})
    for name, val in settings.items():
        FixedLp._check(h.setOptionValue(name, val), f"option {name}={val!r}")
    lp = _highs_lp(matrix, cost, row_lower, row_upper, col_lower, col_upper)
    if is_mip:
        kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
        lp.integrality_ = [kinds[int(i)] for i in np.asarray(integer, dtype=bool)]
    if h.passModel(lp) == highspy.HighsStatus.kError:
        raise ValueError("HiGHS passModel rejected the model")
    run_status = h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    ms = highspy.HighsModelStatus
    limits = (ms.kTimeLimit, ms.kIterationLimit, ms.kSolutionLimit)
    has_x = run_status != highspy.HighsStatus.kError and (
        status == ms.kOptimal
        or (is_mip and status in limits and info.objective_function_value != highspy.kHighsInf)
    )
    x = np.asarray(h.getSolution().col_value, dtype=np.float64) if has_x else None
    objective = float(info.objective_function_value) if has_x else np.nan
    if is_mip:
        dual_bound, gap = float(info.mip_dual_bound), float(info.mip_gap)
    else:
        dual_bound, gap = (objective if status == ms.kOptimal else -np.inf), np.nan
    return MipResult(status == ms.kOptimal, x, objective, dual_bound, gap)
