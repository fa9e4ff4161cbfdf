"""Efficiency management: energy intensity, diagnostics, saving measures and adoption.

Pure functions of the ``efficiency`` phase. The grid company diagnoses users
monthly (:func:`diagnose`), energy-service companies offer a catalogue of
:class:`Measure` objects that are sized per user (:func:`evaluate_measures`),
users adopt by a logit on payback with a peer effect
(:func:`adoption_probability`), energy-hungry industries pay a differential
surcharge (:func:`differential_surcharge_cny`) and intensity is tracked against
a five-year reduction path (:func:`intensity_target_tce_per_10k_cny`).

Conventions:
    * Arrays run over users on axis 0 and, where stated, over measures on
      axis 1 (``users × measures``) or intervals on axis 1
      (``users × intervals``).
    * Energy intensity (EI) is in tce per 10⁴ CNY of output value, with
      electricity converted at its equivalent coefficient (0.1229 kgce/kWh).
    * Savings, capex and surcharges are non-negative amounts in CNY; a
      surcharge is a payment by the user.
    * Bad inputs raise ``ValueError`` naming the argument.

References:
    GB/T 2589-2020, General rules for calculation of the comprehensive energy
    consumption; China's 14th Five-Year Plan (2021-2025) energy-intensity
    target; NDRC differential electricity price policy (发改价格〔2004〕159号,
    〔2010〕978号); Bass (1969), Management Science 15(5); Young (2009),
    American Economic Review 99(5); Park, Sharp & Liu, Contemporary
    Engineering Economics.

Package layout (re-exported here): ``intensity`` (EI, targets, gap, diagnosis),
``measures`` (catalogue and economics), ``adoption`` (logit and peer effect) and
``surcharges`` (differential surcharges).
"""

from __future__ import annotations

from markets.efficiency.adoption import (
    adoption_probability,
    consideration_probability,
    draw_thresholds_months,
    peer_share_by_industry,
)
from markets.efficiency.intensity import (
    KGCE_PER_KWH,
    Diagnosis,
    base_load_ratio,
    diagnose,
    energy_intensity_tce_per_10k_cny,
    intensity_gap,
    intensity_target_tce_per_10k_cny,
)
from markets.efficiency.measures import (
    Measure,
    MeasureEvaluation,
    annual_saving_cny,
    annuity_factor,
    combined_energy_saving_share,
    evaluate_measures,
    measures_from_config,
    npv_cny,
    payback_months,
)
from markets.efficiency.surcharges import (
    CATEGORIES,
    DEFAULT_SURCHARGES_CNY_PER_KWH,
    differential_surcharge_cny,
    differential_surcharge_cny_per_kwh,
)

__all__ = [
    "CATEGORIES",
    "DEFAULT_SURCHARGES_CNY_PER_KWH",
    "KGCE_PER_KWH",
    "Diagnosis",
    "Measure",
    "MeasureEvaluation",
    "adoption_probability",
    "annual_saving_cny",
    "annuity_factor",
    "base_load_ratio",
    "combined_energy_saving_share",
    "consideration_probability",
    "diagnose",
    "differential_surcharge_cny",
    "differential_surcharge_cny_per_kwh",
    "draw_thresholds_months",
    "energy_intensity_tce_per_10k_cny",
    "evaluate_measures",
    "intensity_gap",
    "intensity_target_tce_per_10k_cny",
    "measures_from_config",
    "npv_cny",
    "payback_months",
    "peer_share_by_industry",
]
