"""Config groups ``agency``, ``plants`` and ``bank``: the energy-agency phase.

Defaults and their sources follow ``PHASES.md`` §3 (``A`` = assumption, to be
calibrated); the rules they parameterise are PHASES.md §1.2 (P1–P3, F, S1–S5,
U0–U1, B1–B2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulation.config._checks import ConfigError, fraction, positive

__all__ = ["AgencyConfig", "BankConfig", "PlantsConfig", "check"]

AGENT_TYPES = ("grid", "independent")
ALLOCATION_RULES = ("coincident_peak", "shapley", "pro_rata_energy")
ALPHA_POLICIES = ("fixed", "hill_climb")
REVIEWS = ("contract_end", "monthly")
GRADES = ("AAA", "AA", "A", "BBB", "BB", "B", "C")


@dataclass
class AgencyConfig:
    """The electricity-sales agent and its members' choices.

    Attributes:
        agent_type: ``grid`` (forecasts from the grid company's load history;
            seed §3: the grid's natural advantage) or ``independent`` (declared
            energy and the industry shape until it has a month of its own data).
        grid_data_sharing: The independent agent gets the grid's history
            (counterfactual of research question 3; A).
        alpha: Share α of the members' benefit the agent retains (A).
        alpha_policy: ``fixed`` or ``hill_climb`` (S2: every ``alpha_review_months``
            α moves by ``alpha_step`` in the direction that raised profit; A).
        alpha_step: Step of the hill climb.
        alpha_max: Upper bound of α under the hill climb.
        alpha_review_months: Months between hill-climb moves.
        f2_headroom_share: h in f2 = min(f2_cap, (1 + h)·F̂1/Q_c) (S1; A).
        allocation_rule: ``coincident_peak`` (DESIGN), ``shapley`` or ``pro_rata_energy``.
        shapley_permutations: Sampled permutations for Shapley values of large parks.
        contract_term_months: Membership term, months (1-year contracts [S30]).
        review: ``contract_end`` (members review at the end of their term) or
            ``monthly``.
        inertia_prob_per_month: ι, probability a user does not even evaluate
            (Power TAC inertia 0.8 [S25]).
        beta_rel: Logit slope on the relative saving (A; inertia evidence [S26]).
        saving_hurdle_share: κ, relative saving needed for even odds (A).
        switching_cost_cny: K_sw, one-off cost of switching supplier, CNY (A).
        demand_margin_share: P_c = (1 + margin)·max L̂ (A; matches the 105 % rule).
        service_cost_cny_per_member_month: c_srv, the agent's cost per member, CNY (A).
        network_fee_cny_per_kwh: n_fee, wires and funds paid to the grid by
            members, CNY/kWh. Calibrated, not free: under the 2015 reform
            (Zhongfa [2015] No. 9) market users pay the same transmission and
            distribution tariff and funds that the catalog price embeds, so
            n_fee = the default park's load-weighted catalog price (0.719) −
            the grid's purchase cost (0.45) ≈ 0.27. With PHASES.md's plain 0.20
            members saved 11 % against the catalog; with 0.27 about 3 %, the
            upper end of Guangdong's 1–3 % evidence [S31].
        penalty_pass_through: Deviation penalties are part of F1 (else the agent bears them).
        curtailment_exempt: Orderly-plan curtailment is exempt from deviation (A).
        forecast_history_days: Days of metered load behind a forecast (A).
        declared_sigma_share: σ of declared-energy errors of new members (A).
        deviation_tolerance_share: θ, band around contracted energy [S1, S5, S6, S2].
        deviation_penalty_share: k, penalty per deviating kWh as a share of b [S5, S2, S1, S4].
        overrun_threshold_share: Contracted peak share above which demand is
            charged ``overrun_factor`` times [S7].
        overrun_factor: Demand-charge multiple above the threshold [S7].
        apply_prob_per_month: B1, probability an eligible user applies for a loan (A).
    """

    agent_type: str = "grid"
    grid_data_sharing: bool = False
    alpha: float = 0.30
    alpha_policy: str = "fixed"
    alpha_step: float = 0.05
    alpha_max: float = 0.5
    alpha_review_months: int = 3
    f2_headroom_share: float = 0.08
    allocation_rule: str = "coincident_peak"
    shapley_permutations: int = 200
    contract_term_months: int = 12
    review: str = "contract_end"
    inertia_prob_per_month: float = 0.8
    beta_rel: float = 50.0
    saving_hurdle_share: float = 0.02
    switching_cost_cny: float = 2000.0
    demand_margin_share: float = 0.05
    service_cost_cny_per_member_month: float = 300.0
    network_fee_cny_per_kwh: float = 0.27
    penalty_pass_through: bool = False
    curtailment_exempt: bool = True
    forecast_history_days: int = 28
    declared_sigma_share: float = 0.10
    deviation_tolerance_share: float = 0.03
    deviation_penalty_share: float = 0.10
    overrun_threshold_share: float = 1.05
    overrun_factor: float = 2.0
    apply_prob_per_month: float = 0.02


@dataclass
class PlantsConfig:
    """Power plants offering two-part bilateral contracts (rule P1).

    Attributes:
        names: One name per plant.
        capacity_share_of_peak: Plant capacity as a share of the park's forecast
            peak (a plant can serve the agent only if capacity ≥ P_c; A).
        capacity_cost_cny_per_kw_month: c_cap, fixed cost per kW·month
            (coal fixed-cost standard 330 CNY/kW·yr / 12).
        variable_cost_cny_per_kwh: c_var per plant, CNY/kWh (A, calibrated so
            p̄(LF 0.6) ≈ the grid's purchase cost).
        markup_init: Initial markup μ (A; ASSUME bids marginal cost [S27]).
        markup_step: Monthly markup step: + after winning, − after losing (A).
        markup_max: Upper bound of μ (A).
        strategy: Offer strategy by name (``adaptive_markup`` or ``marginal_cost``).
    """

    names: list[str] = field(default_factory=lambda: ["coal_a", "coal_b", "coal_c"])
    capacity_share_of_peak: list[float] = field(default_factory=lambda: [1.5, 1.5, 1.5])
    capacity_cost_cny_per_kw_month: float = 27.5
    variable_cost_cny_per_kwh: list[float] = field(default_factory=lambda: [0.34, 0.36, 0.38])
    markup_init: float = 0.05
    markup_step: float = 0.01
    markup_max: float = 0.30
    strategy: str = "adaptive_markup"


@dataclass
class BankConfig:
    """A bank lending to users, with or without electricity-data credit reports (B1–B2).

    Attributes:
        use_reports: Buy a credit report per application (else pooled PD).
        data_holder: Who sells the reports: ``grid`` (24 months of every user's
            history) or ``agent`` (the sales agent: only members with at least
            12 months of its own data; others get the pooled PD).
        loan_max_cny: Largest loan, CNY (Ningxia 电e贷 [S19]).
        loan_term_months: Term, months [S19].
        loan_rate: Interest over the term [S19].
        min_history_months: Eligibility: months of consumption history [S19].
        min_bills_cny: Eligibility: bills over the last 24 months, CNY [S19].
        bill_multiple: Loan asked = min(loan_max, multiple × mean monthly bill) (A).
        pd_by_grade: Default probability per grade (A, calibrated to small-firm
            NPL 3–3.6 % [S20]).
        pooled_pd: PD without a report (small-firm NPL 3.56 % [S20]).
        pd_noise_sigma: σ of the log-normal individual PD deviation (A).
        lgd: Loss given default (A).
        report_fee_cny: Price of one credit report, CNY (A).
        fixed_cost_cny: Handling cost per loan, CNY (A).
        on_time_share_mean: Mean on-time payment share of users' pre-history (A).
        history_growth_sigma: σ of users' annual consumption growth in the
            pre-history (A).
    """

    use_reports: bool = True
    data_holder: str = "grid"
    loan_max_cny: float = 2_000_000.0
    loan_term_months: int = 12
    loan_rate: float = 0.05
    min_history_months: int = 24
    min_bills_cny: float = 100_000.0
    bill_multiple: float = 2.0
    pd_by_grade: dict[str, float] = field(
        default_factory=lambda: {
            "AAA": 0.005,
            "AA": 0.01,
            "A": 0.02,
            "BBB": 0.04,
            "BB": 0.08,
            "B": 0.15,
            "C": 0.30,
        }
    )
    pooled_pd: float = 0.0356
    pd_noise_sigma: float = 0.5
    lgd: float = 0.6
    report_fee_cny: float = 200.0
    fixed_cost_cny: float = 1000.0
    on_time_share_mean: float = 0.95
    history_growth_sigma: float = 0.10


def check(cfg: Any) -> None:
    """Check the ``agency``, ``plants`` and ``bank`` groups.

    Args:
        cfg: The whole composed config.

    Raises:
        ConfigError: Naming the first offending key.
    """
    a = cfg.agency
    if a.agent_type not in AGENT_TYPES:
        raise ConfigError(f"agency.agent_type={a.agent_type!r}: must be one of {AGENT_TYPES}")
    if a.allocation_rule not in ALLOCATION_RULES:
        raise ConfigError(
            f"agency.allocation_rule={a.allocation_rule!r}: must be one of {ALLOCATION_RULES}"
        )
    if a.alpha_policy not in ALPHA_POLICIES:
        raise ConfigError(
            f"agency.alpha_policy={a.alpha_policy!r}: must be one of {ALPHA_POLICIES}"
        )
    if a.review not in REVIEWS:
        raise ConfigError(f"agency.review={a.review!r}: must be one of {REVIEWS}")
    for key in ("alpha", "alpha_step", "alpha_max", "inertia_prob_per_month"):
        fraction(f"agency.{key}", getattr(a, key))
    for key in ("deviation_tolerance_share", "deviation_penalty_share", "apply_prob_per_month"):
        fraction(f"agency.{key}", getattr(a, key))
    if a.alpha_policy == "hill_climb" and a.alpha > a.alpha_max:
        raise ConfigError(f"agency.alpha={a.alpha}: above agency.alpha_max={a.alpha_max}")
    for key in (
        "f2_headroom_share",
        "switching_cost_cny",
        "demand_margin_share",
        "service_cost_cny_per_member_month",
        "network_fee_cny_per_kwh",
        "declared_sigma_share",
        "saving_hurdle_share",
    ):
        positive(f"agency.{key}", getattr(a, key), allow_zero=True)
    positive("agency.beta_rel", a.beta_rel)
    for key in ("alpha_review_months", "contract_term_months", "forecast_history_days"):
        positive(f"agency.{key}", getattr(a, key), integer=True)
    positive("agency.shapley_permutations", a.shapley_permutations - 1, integer=True)
    if a.overrun_threshold_share < 1.0:
        raise ConfigError(
            f"agency.overrun_threshold_share={a.overrun_threshold_share}: must be ≥ 1"
        )
    if a.overrun_factor < 1.0:
        raise ConfigError(f"agency.overrun_factor={a.overrun_factor}: must be ≥ 1")

    p = cfg.plants
    if len(p.names) == 0 and (cfg.phase.agency or cfg.phase.plants):
        raise ConfigError("plants.names: the agency needs at least one plant")
    if len(set(p.names)) != len(p.names):
        raise ConfigError(f"plants.names={list(p.names)}: names must be distinct")
    for key in ("capacity_share_of_peak", "variable_cost_cny_per_kwh"):
        values = list(getattr(p, key))
        if len(values) != len(p.names):
            raise ConfigError(f"plants.{key}: needs one value per plant ({len(p.names)})")
        for k, v in enumerate(values):
            positive(f"plants.{key}[{k}]", v, allow_zero=key != "capacity_share_of_peak")
    positive(
        "plants.capacity_cost_cny_per_kw_month", p.capacity_cost_cny_per_kw_month, allow_zero=True
    )
    for key in ("markup_init", "markup_step", "markup_max"):
        positive(f"plants.{key}", getattr(p, key), allow_zero=True)
    if p.markup_init > p.markup_max:
        raise ConfigError(f"plants.markup_init={p.markup_init}: above plants.markup_max")
    if p.strategy not in ("adaptive_markup", "marginal_cost"):
        raise ConfigError(
            f"plants.strategy={p.strategy!r}: must be 'adaptive_markup' or 'marginal_cost'"
        )

    b = cfg.bank
    if b.data_holder not in ("grid", "agent"):
        raise ConfigError(f"bank.data_holder={b.data_holder!r}: must be 'grid' or 'agent'")
    if b.data_holder == "agent" and cfg.phase.bank and not cfg.phase.agency:
        raise ConfigError("bank.data_holder=agent: needs the agency module (phase.agency=true)")
    for key in ("loan_max_cny", "loan_rate", "min_bills_cny", "bill_multiple", "report_fee_cny"):
        positive(f"bank.{key}", getattr(b, key), allow_zero=True)
    positive("bank.fixed_cost_cny", b.fixed_cost_cny, allow_zero=True)
    positive("bank.pd_noise_sigma", b.pd_noise_sigma, allow_zero=True)
    positive("bank.history_growth_sigma", b.history_growth_sigma, allow_zero=True)
    positive("bank.loan_term_months", b.loan_term_months, integer=True)
    if not 12 <= b.min_history_months <= 24:
        raise ConfigError(f"bank.min_history_months={b.min_history_months}: must be 12..24")
    for key in ("pooled_pd", "lgd", "on_time_share_mean"):
        fraction(f"bank.{key}", getattr(b, key))
    if set(b.pd_by_grade) != set(GRADES):
        raise ConfigError(f"bank.pd_by_grade: needs exactly the grades {GRADES}")
    for g, v in b.pd_by_grade.items():
        fraction(f"bank.pd_by_grade.{g}", v)
