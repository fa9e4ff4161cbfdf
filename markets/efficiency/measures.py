"""Energy-saving measures: the catalogue, their economics (CNY, months, years) and sizing.

Energy-service companies offer a catalogue of :class:`Measure` objects
(:func:`measures_from_config`) that are sized per user (:func:`evaluate_measures`) with
saving, payback, annuity and NPV (:func:`annual_saving_cny`, :func:`payback_months`,
:func:`annuity_factor`, :func:`npv_cny`).

References:
    Park, Sharp & Liu, Contemporary Engineering Economics (payback, annuity, NPV);
    parksim DESIGN.md, "Efficiency management" (measure catalogue).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from markets._checks import (
    bool_array,
    finite_array,
    group_labels,
    real_scalar,
    vector,
)
from markets.efficiency.economics import (
    annual_saving_cny,
    annuity_factor,
    npv_cny,
    payback_months,
)

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

__all__ = [
    "Measure",
    "MeasureEvaluation",
    "annual_saving_cny",
    "annuity_factor",
    "combined_energy_saving_share",
    "evaluate_measures",
    "measures_from_config",
    "npv_cny",
    "payback_months",
]


# --------------------------------------------------------------------------- measures

_REQUIRED_MEASURE_KEYS = ("name", "energy_saving_share", "lifetime_years")
_CAPEX_KEYS = ("capex_cny", "capex_cny_per_kw")


@dataclass(frozen=True)
class Measure:
    """An energy-saving measure of the catalogue, sized per user.

    Sizing scheme: a fixed part plus a part proportional to the user's size,
    measured by its contracted capacity ``C`` (kW), annual energy ``E`` (kWh)
    and annual standby waste ``W`` (kWh, off-hours load kept running
    needlessly):

    * capex ``K = capex_cny + capex_cny_per_kw · C``;
    * energy saving ``ΔE = energy_saving_share · E + (W if standby else 0)``
      (kWh/year);
    * peak saving ``ΔP = min(peak_saving_kw + peak_saving_share · C, C)``.

    Attributes:
        name: Unique name, e.g. ``"variable_speed_drives"``.
        capex_cny: Fixed investment, CNY, ≥ 0.
        energy_saving_share: Share of annual energy saved, in [0, 1).
        peak_saving_kw: Fixed reduction of the monthly peak demand, kW, ≥ 0.
        lifetime_years: Economic lifetime, years, > 0.
        industries: Industry labels the measure applies to; empty means every
            industry.
        capex_cny_per_kw: Investment per kW of contracted capacity, CNY/kW, ≥ 0.
        peak_saving_share: Peak reduction per kW of contracted capacity, in
            [0, 1).
        standby: The measure also removes the user's standby waste.

    References:
        DESIGN.md "Efficiency" (capex K, saving ΔE, peak saving ΔP); typical
        measures after the Top-10,000 Enterprises Energy Saving Programme
        (variable-speed drives, compressed-air leak repair, lighting retrofit,
        waste-heat recovery, power-factor correction).
    """

    name: str
    capex_cny: float
    energy_saving_share: float
    peak_saving_kw: float
    lifetime_years: float
    industries: tuple[str, ...] = ()
    capex_cny_per_kw: float = 0.0
    peak_saving_share: float = 0.0
    standby: bool = False

    def __post_init__(self) -> None:
        """Validate fields and normalise numbers to float and industries to a tuple.

        Raises:
            ValueError: Naming the bad field.
        """
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Measure name must be a non-empty str, got {self.name!r}")
        bounds: dict[str, dict[str, Any]] = {
            "capex_cny": {"lower": 0.0},
            "energy_saving_share": {"lower": 0.0, "upper": 1.0, "upper_open": True},
            "peak_saving_kw": {"lower": 0.0},
            "lifetime_years": {"lower": 0.0, "lower_open": True},
            "capex_cny_per_kw": {"lower": 0.0},
            "peak_saving_share": {"lower": 0.0, "upper": 1.0, "upper_open": True},
        }
        for key, bound in bounds.items():
            label = f"Measure {self.name!r}: {key}"
            object.__setattr__(self, key, real_scalar(getattr(self, key), label, **bound))
        industries = self.industries
        if isinstance(industries, str) or not isinstance(industries, Sequence):
            raise ValueError(
                f"Measure {self.name!r}: industries must be a sequence of str, got {industries!r}"
            )
        if not all(isinstance(label, str) for label in industries):
            raise ValueError(f"Measure {self.name!r}: industries must contain only str")
        object.__setattr__(self, "industries", tuple(industries))
        if not isinstance(self.standby, bool | np.bool_):
            raise ValueError(f"Measure {self.name!r}: standby must be a bool, got {self.standby!r}")
        object.__setattr__(self, "standby", bool(self.standby))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], name: str | None = None) -> Measure:
        """Build a measure from a config mapping (one catalogue entry).

        Keys are the field names. Required: ``name`` (or the ``name``
        argument), ``energy_saving_share``, ``lifetime_years`` and at least one
        of ``capex_cny``/``capex_cny_per_kw``; the other numeric keys default to
        0, ``industries`` to all and ``standby`` to false.

        Args:
            d: The entry, e.g. a dict or an OmegaConf ``DictConfig``.
            name: The measure's name when ``d`` has no ``name`` key (e.g. the
                catalogue key).

        Returns:
            The validated :class:`Measure`.

        Raises:
            ValueError: If ``d`` is not a mapping, a required key is missing,
                an unknown key is present, the two names differ, or a value is
                invalid (naming the key).
        """
        if not isinstance(d, Mapping):
            raise ValueError(f"measure entry must be a mapping, got {type(d).__name__}")
        known = [f.name for f in fields(cls)]
        unknown = sorted(str(k) for k in d if k not in known)
        if unknown:
            raise ValueError(f"unknown measure key(s) {unknown}; expected a subset of {known}")
        kwargs: dict[str, Any] = {
            "capex_cny": 0.0,
            "peak_saving_kw": 0.0,
            **({} if name is None else {"name": name}),
        }
        if name is not None and d.get("name", name) != name:
            raise ValueError(f"measure name {d['name']!r} differs from its key {name!r}")
        missing = [k for k in _REQUIRED_MEASURE_KEYS if k not in d and k not in kwargs]
        if not any(k in d for k in _CAPEX_KEYS):
            missing.append(" or ".join(_CAPEX_KEYS))
        if missing:
            raise ValueError(f"measure {d.get('name', name)!r} is missing key(s) {missing}")
        kwargs.update(d)
        return cls(**kwargs)


def measures_from_config(
    entries: Mapping[str, Mapping[str, Any]] | Sequence[Mapping[str, Any]],
) -> tuple[Measure, ...]:
    """Build the measure catalogue from config entries, checking names are unique.

    Args:
        entries: Either a mapping from measure name to entry (the layout of
            ``conf/efficiency``) or a sequence of entries with a ``name`` key;
            entries as accepted by :meth:`Measure.from_dict`, in the units of
            the :class:`Measure` fields (capex in CNY and CNY/kW of contracted
            capacity, peak saving in kW, lifetime in years, saving shares
            dimensionless).

    Returns:
        The measures in the given order (the order of the measure axis).

    Raises:
        ValueError: If ``entries`` is neither, an entry is invalid, or two
            measures share a name.

    References:
        DESIGN.md "Efficiency" measure catalogue.
    """
    if isinstance(entries, Mapping):
        measures = tuple(Measure.from_dict(e, name=str(k)) for k, e in entries.items())
    elif isinstance(entries, Sequence) and not isinstance(entries, str):
        measures = tuple(Measure.from_dict(e) for e in entries)
    else:
        raise ValueError("entries must be a mapping or a sequence of measure entries")
    names = [m.name for m in measures]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"entries has duplicate measure name(s) {duplicates}")
    return measures


@dataclass(frozen=True)
class MeasureEvaluation:
    """Measures sized and priced for every user (arrays ``users × measures``).

    Entries of measures that do not apply to a user's industry are 0 (capex,
    savings) and ``inf`` (payback).

    Attributes:
        names: Measure names, the order of axis 1.
        lifetime_years: Lifetime per measure, years, shape ``(n_measures,)``.
        applicable: Measure applies to the user's industry.
        capex_cny: Investment K, CNY.
        energy_saving_kwh: Energy saving ΔE, kWh/year.
        peak_saving_kw: Peak-demand saving ΔP, kW.
        annual_saving_cny: Saving S, CNY/year.
        payback_months: Payback 12·K/S, months (``inf`` if S = 0).
        best: Per user, index of the applicable, not yet installed measure
            with finite and shortest payback (lowest index on ties), −1 if
            none.
        best_payback_months: Payback of ``best``, months (``inf`` if none).
    """

    names: tuple[str, ...]
    lifetime_years: FloatArray
    applicable: BoolArray
    capex_cny: FloatArray
    energy_saving_kwh: FloatArray
    peak_saving_kw: FloatArray
    annual_saving_cny: FloatArray
    payback_months: FloatArray
    best: IntArray
    best_payback_months: FloatArray


def evaluate_measures(
    measures: Sequence[Measure],
    industry: ArrayLike,
    annual_energy_kwh: ArrayLike,
    contracted_kw: ArrayLike,
    price_cny_per_kwh: ArrayLike,
    demand_charge_cny_per_kw_month: ArrayLike,
    installed: ArrayLike | None = None,
    *,
    standby_waste_kwh: ArrayLike = 0.0,
) -> MeasureEvaluation:
    """Size every measure for every user and rank the candidates by payback.

    Sizing follows :class:`Measure`; savings are computed independently per
    measure from the ``annual_energy_kwh`` passed in (after adoption the model
    lowers the user's loads, so later evaluations see the reduced energy).

    Args:
        measures: The catalogue, in the order of the measure axis.
        industry: Industry label per user, shape ``(n_users,)``, compared as
            str with :attr:`Measure.industries` (pass names, not codes).
        annual_energy_kwh: Current annual energy per user, kWh, ≥ 0.
        contracted_kw: Contracted capacity per user, kW, ≥ 0.
        price_cny_per_kwh: Marginal energy price (incl. surcharges), CNY/kWh,
            ≥ 0, scalar or per user.
        demand_charge_cny_per_kw_month: Demand charge, CNY/(kW·month), ≥ 0,
            scalar or per user.
        installed: Measures already installed, bool ``(n_users, n_measures)``;
            ``None`` means none.
        standby_waste_kwh: Annual standby waste per user that ``standby``
            measures remove, kWh, ≥ 0, scalar or per user.

    Returns:
        A :class:`MeasureEvaluation`.

    Raises:
        ValueError: If ``measures`` contains a non-Measure or duplicate names,
            or an array has the wrong shape or range (naming it).

    References:
        DESIGN.md "Efficiency"; Park, Sharp & Liu, Contemporary Engineering
        Economics (payback period).
    """
    measures = tuple(measures)
    if not all(isinstance(m, Measure) for m in measures):
        raise ValueError("measures must contain only Measure objects")
    names = tuple(m.name for m in measures)
    if len(set(names)) != len(names):
        raise ValueError(f"measures has duplicate names: {names}")
    energy = vector(annual_energy_kwh, "annual_energy_kwh", lower=0.0)
    n, n_measures = energy.shape[0], len(measures)
    contracted = vector(contracted_kw, "contracted_kw", length=n, lower=0.0)
    price = finite_array(price_cny_per_kwh, "price_cny_per_kwh", lower=0.0)
    demand = finite_array(
        demand_charge_cny_per_kw_month, "demand_charge_cny_per_kw_month", lower=0.0
    )
    waste = finite_array(standby_waste_kwh, "standby_waste_kwh", lower=0.0)
    for arr, name in (
        (price, "price_cny_per_kwh"),
        (demand, "demand_charge_cny_per_kw_month"),
        (waste, "standby_waste_kwh"),
    ):
        if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] != n):
            raise ValueError(f"{name} must be a scalar or have shape ({n},), got {arr.shape}")
    if installed is None:
        done = np.zeros((n, n_measures), dtype=np.bool_)
    else:
        done = bool_array(installed, "installed")
        if done.shape != (n, n_measures):
            raise ValueError(f"installed must have shape ({n}, {n_measures}), got {done.shape}")
    uniq, inv = group_labels(industry, n, "industry")

    labels = uniq.astype(str)
    by_industry = np.ones((labels.shape[0], n_measures), dtype=np.bool_)
    for j, measure in enumerate(measures):  # loop over measures, not users
        if measure.industries:
            by_industry[:, j] = np.isin(labels, np.asarray(measure.industries, dtype=str))
    applicable = by_industry[inv]

    def column(attr: str) -> FloatArray:
        return np.array([getattr(m, attr) for m in measures], dtype=np.float64)[None, :]

    size_kw = contracted[:, None]
    capex = column("capex_cny") + column("capex_cny_per_kw") * size_kw
    de = column("energy_saving_share") * energy[:, None]
    de = de + column("standby") * np.reshape(waste, (-1, 1))
    dp = np.minimum(column("peak_saving_kw") + column("peak_saving_share") * size_kw, size_kw)
    saving = annual_saving_cny(de, np.reshape(price, (-1, 1)), dp, np.reshape(demand, (-1, 1)))
    payback = payback_months(capex, saving)

    capex = np.where(applicable, capex, 0.0)
    de = np.where(applicable, de, 0.0)
    dp = np.where(applicable, dp, 0.0)
    saving = np.where(applicable, saving, 0.0)
    payback = np.where(applicable, payback, np.inf)

    candidate = applicable & ~done & np.isfinite(payback)
    ranked = np.where(candidate, payback, np.inf)
    if n_measures:
        best = np.where(candidate.any(axis=1), np.argmin(ranked, axis=1), -1)
        best_payback = ranked.min(axis=1)
    else:
        best, best_payback = np.full(n, -1), np.full(n, np.inf)
    return MeasureEvaluation(
        names=names,
        lifetime_years=column("lifetime_years")[0],
        applicable=applicable,
        capex_cny=capex,
        energy_saving_kwh=de,
        peak_saving_kw=dp,
        annual_saving_cny=saving,
        payback_months=payback,
        best=best.astype(np.int64),
        best_payback_months=best_payback,
    )


def combined_energy_saving_share(
    installed: ArrayLike, energy_saving_share: ArrayLike
) -> FloatArray:
    """Combined energy-saving share of the installed measures: ``1 − Π(1 − s_j)``.

    Each measure saves its share of the energy left by the others.

    Args:
        installed: Installed measures, bool ``(n_users, n_measures)``.
        energy_saving_share: Share of the annual energy (kWh) saved per
            measure, dimensionless, in [0, 1), shape ``(n_measures,)``.

    Returns:
        Combined share of the annual energy saved per user, dimensionless, in
        [0, 1), shape ``(n_users,)``.

    Raises:
        ValueError: If ``installed`` is not a 2-D boolean array or
            ``energy_saving_share`` is out of range or does not match it.

    References:
        DESIGN.md "Efficiency"; sequential (interacting) measures, each saving a
        share of the energy left by the others, as in energy-audit practice.
    """
    done = bool_array(installed, "installed")
    if done.ndim != 2:
        raise ValueError(f"installed must be 2-D (n_users, n_measures), got {done.shape}")
    share = vector(
        energy_saving_share, "energy_saving_share", lower=0.0, upper=1.0, upper_open=True
    )
    if share.shape[0] != done.shape[1]:
        raise ValueError(
            f"energy_saving_share must have shape ({done.shape[1]},), got {share.shape}"
        )
    combined: FloatArray = 1.0 - np.prod(np.where(done, 1.0 - share[None, :], 1.0), axis=1)
    return combined
