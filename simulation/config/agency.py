"""Config groups ``agency``, ``plants`` and ``bank``: the energy-agency phase.

Defaults and their sources follow ``PHASES.md`` §3 (``A`` = assumption, to be
calibrated); the rules they parameterise are PHASES.md §1.2 (P1–P3, F, S1–S5,
U0–U1, B1–B2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulation.config._checks import ConfigError, ranged

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
            (source: PHASES.md §3 (grid's natural advantage))
        grid_data_sharing: The independent agent gets the grid's history
            (counterfactual of research question 3; A). (assumption)
        alpha: Share α of the members' benefit the agent retains. Calibrated on
            two figures of [S31]: at 0.30 the agent kept 0.9 fen per kWh sold
            (retail margins are about 1–2 fen/kWh) and members saved 3.8 % of the
            catalog (band 1–3 %), both pointing to a larger retained share; 0.50
            gave 1.55 fen and 3.2 %, 0.60 gives 1.9 fen and 2.8 % (default park,
            one year, seeds 0–4), both inside their bands.
            (assumption: calibrated to the margins and savings of [S31])
        alpha_policy: ``fixed`` or ``hill_climb`` (S2: every ``alpha_review_months``
            α moves by ``alpha_step`` in the direction that raised profit; A). (assumption)
        alpha_step: Step of the hill climb. (assumption)
        alpha_max: Upper bound of α under the hill climb (0.6: the calibrated fixed
            α must be reachable). (assumption)
        alpha_review_months: Months between hill-climb moves. (assumption)
        f2_headroom_share: h in f2 = min(f2_cap, (1 + h)·F̂1/Q_c) (S1; A).
            (assumption: about 2σ of the forecast price error)
        allocation_rule: ``coincident_peak`` (DESIGN), ``shapley`` or ``pro_rata_energy``.
            (source: DESIGN.md)
        shapley_permutations: Sampled permutations for Shapley values of large parks.
            (assumption: run setting)
        contract_term_months: Membership term, months (1-year contracts [S30]).
            (source: 1-year retail contracts [S30])
        review: ``contract_end`` (members review at the end of their term) or
            ``monthly``. (source: [S30])
        inertia_prob_per_month: ι, probability a user does not even evaluate
            (Power TAC inertia 0.8 [S25]). (source: Power TAC inertia 0.8 [S25])
        beta_rel: Logit slope on the relative saving (A; inertia evidence [S26]).
            (assumption: inertia evidence [S26])
        saving_hurdle_share: κ, relative saving needed for even odds (A).
            (assumption: inertia evidence [S26])
        switching_cost_cny: K_sw, one-off cost of switching supplier, CNY (A).
            (assumption: inertia evidence [S26])
        demand_margin_share: P_c = (1 + margin)·max L̂ (A; matches the 105 % rule).
            (assumption: matches the 105 % rule [S7])
        service_cost_cny_per_member_month: c_srv, the agent's cost per member, CNY (A). (assumption)
        network_fee_cny_per_kwh: n_fee, wires and funds paid to the grid by
            members, CNY/kWh. Calibrated, not free: under the 2015 reform
            (Zhongfa [2015] No. 9) market users pay the same transmission and
            distribution tariff and funds that the catalog price embeds, so
            n_fee = the default park's load-weighted catalog price (0.719) −
            the grid's purchase cost (0.45) ≈ 0.27. With PHASES.md's plain 0.20
            members saved 11 % against the catalog; with 0.27 about 3 %, the
            upper end of Guangdong's 1–3 % evidence [S31].
            (source: calibrated to the 1–3 % members' saving of [S31])
        penalty_pass_through: Deviation penalties are part of F1 (else the agent bears them).
            (assumption)
        curtailment_exempt: Orderly-plan curtailment is exempt from deviation (A). (assumption)
        forecast_history_days: Days of metered load behind a forecast (A). (assumption)
        declared_sigma_share: σ of declared-energy errors of new members (A). (assumption)
        deviation_tolerance_share: θ, band around contracted energy [S1, S5, S6, S2].
            (source: [S1, S5, S6, S2])
        deviation_penalty_share: k, penalty per deviating kWh as a share of b [S5, S2, S1, S4].
            (source: [S5, S2, S1, S4])
        overrun_threshold_share: Contracted peak share above which demand is
            charged ``overrun_factor`` times [S7]. (source: [S7])
        overrun_factor: Demand-charge multiple above the threshold [S7]. (source: [S7])
    """

    agent_type: str = "grid"
    grid_data_sharing: bool = False
    alpha: float = ranged(0.60, lo=0.0, hi=1.0)
    alpha_policy: str = "fixed"
    alpha_step: float = ranged(0.05, lo=0.0, hi=1.0)
    alpha_max: float = ranged(0.6, lo=0.0, hi=1.0)
    alpha_review_months: int = ranged(3, lo=1, hi=120, integer=True)
    f2_headroom_share: float = ranged(0.08, lo=0.0, hi=1.0)
    allocation_rule: str = "coincident_peak"
    shapley_permutations: int = ranged(200, lo=2, hi=100_000, integer=True)
    contract_term_months: int = ranged(12, lo=1, hi=120, integer=True)
    review: str = "contract_end"
    inertia_prob_per_month: float = ranged(0.8, lo=0.0, hi=1.0)
    beta_rel: float = ranged(50.0, lo=0.0, hi=10_000.0, lo_open=True)
    saving_hurdle_share: float = ranged(0.02, lo=-1.0, hi=1.0)
    switching_cost_cny: float = ranged(2000.0, lo=0.0, hi=1e9)
    demand_margin_share: float = ranged(0.05, lo=0.0, hi=1.0)
    service_cost_cny_per_member_month: float = ranged(300.0, lo=0.0, hi=1e7)
    network_fee_cny_per_kwh: float = ranged(0.27, lo=0.0, hi=10.0)
    penalty_pass_through: bool = False
    curtailment_exempt: bool = True
    forecast_history_days: int = ranged(28, lo=1, hi=365, integer=True)
    declared_sigma_share: float = ranged(0.10, lo=0.0, hi=2.0)
    deviation_tolerance_share: float = ranged(0.03, lo=0.0, hi=1.0)
    deviation_penalty_share: float = ranged(0.10, lo=0.0, hi=10.0)
    overrun_threshold_share: float = ranged(1.05, lo=1.0, hi=10.0)
    overrun_factor: float = ranged(2.0, lo=1.0, hi=100.0)


@dataclass
class PlantsConfig:
    """Power plants offering two-part bilateral contracts (rule P1).

    Attributes:
        names: One name per plant. (assumption)
        capacity_share_of_peak: Plant capacity as a share of the park's forecast
            peak (a plant can serve the agent only if capacity ≥ P_c; A). (assumption)
        capacity_cost_cny_per_kw_month: c_cap, fixed cost per kW·month
            (coal fixed-cost standard 330 CNY/kW·yr / 12).
            (source: coal fixed-cost standard 330 CNY/kW·yr)
        variable_cost_cny_per_kwh: c_var per plant, CNY/kWh (A, calibrated so
            p̄(LF 0.6) ≈ the grid's purchase cost).
            (assumption: calibrated to the grid purchase cost 0.45)
        markup_init: Initial markup μ (A; ASSUME bids marginal cost [S27]). (assumption)
        markup_step: Monthly markup step: + after winning, − after losing (A). (assumption)
        markup_max: Upper bound of μ (A). (assumption)
        strategy: Offer strategy by name (``adaptive_markup`` or ``marginal_cost``). (assumption)
    """

    names: list[str] = field(default_factory=lambda: ["coal_a", "coal_b", "coal_c"])
    capacity_share_of_peak: list[float] = ranged(  # noqa: RUF009
        factory=lambda: [1.5, 1.5, 1.5], lo=0.0, hi=100.0, lo_open=True
    )
    capacity_cost_cny_per_kw_month: float = ranged(27.5, lo=0.0, hi=1e4)
    variable_cost_cny_per_kwh: list[float] = ranged(  # noqa: RUF009
        factory=lambda: [0.34, 0.36, 0.38], lo=0.0, hi=100.0
    )
    markup_init: float = ranged(0.05, lo=0.0, hi=10.0)
    markup_step: float = ranged(0.01, lo=0.0, hi=10.0)
    markup_max: float = ranged(0.30, lo=0.0, hi=10.0)
    strategy: str = "adaptive_markup"


@dataclass
class BankConfig:
    """A bank lending to users, with or without electricity-data credit reports (B1–B2).

    Attributes:
        use_reports: Buy a credit report per application (else pooled PD).
            (assumption: module switch)
        data_holder: Who sells the reports: ``grid`` (24 months of every user's
            history) or ``agent`` (the sales agent: only members with at least
            12 months of its own data; others get the pooled PD). (assumption)
        loan_max_cny: Largest loan, CNY (Ningxia 电e贷 [S19]). (source: Ningxia 电e贷 [S19])
        loan_term_months: Term, months [S19]. (source: [S19])
        loan_rate: Interest over the term [S19]. (source: [S19])
        min_history_months: Eligibility: months of consumption history [S19]. (source: [S19])
        min_bills_cny: Eligibility: bills over the last 24 months, CNY [S19]. (source: [S19])
        apply_prob_per_month: B1, probability an eligible user applies for a loan
            in a month (A). (assumption)
        bill_multiple: Loan asked = min(loan_max, multiple × mean monthly bill) (A). (assumption)
        pd_by_grade: Default probability per grade (A, calibrated to small-firm
            NPL 3–3.6 % [S20]). (assumption: calibrated to small-firm NPL 3–3.6 % [S20])
        pooled_pd: PD without a report (small-firm NPL 3.56 % [S20]). (source: [S20])
        pd_noise_sigma: σ of the log-normal individual PD deviation (A). (assumption)
        lgd: Loss given default (A). (assumption)
        report_fee_cny: Price of one credit report, CNY (A). (assumption)
        fixed_cost_cny: Handling cost per loan, CNY (A). (assumption)
        on_time_share_mean: Mean on-time payment share of users' pre-history (A). (assumption)
        history_growth_sigma: σ of users' annual consumption growth in the
            pre-history (A). (assumption)
    """

    use_reports: bool = True
    data_holder: str = "grid"
    loan_max_cny: float = ranged(2_000_000.0, lo=0.0, hi=1e12)
    loan_term_months: int = ranged(12, lo=1, hi=360, integer=True)
    loan_rate: float = ranged(0.05, lo=0.0, hi=1.0)
    min_history_months: int = ranged(24, lo=12, hi=24, integer=True)
    min_bills_cny: float = ranged(100_000.0, lo=0.0, hi=1e12)
    apply_prob_per_month: float = ranged(0.02, lo=0.0, hi=1.0)
    bill_multiple: float = ranged(2.0, lo=0.0, hi=1000.0)
    pd_by_grade: dict[str, float] = ranged(  # noqa: RUF009
        lo=0.0,
        hi=1.0,
        factory=lambda: {
            "AAA": 0.005,
            "AA": 0.01,
            "A": 0.02,
            "BBB": 0.04,
            "BB": 0.08,
            "B": 0.15,
            "C": 0.30,
        },
    )
    pooled_pd: float = ranged(0.0356, lo=0.0, hi=1.0)
    pd_noise_sigma: float = ranged(0.5, lo=0.0, hi=5.0)
    lgd: float = ranged(0.6, lo=0.0, hi=1.0)
    report_fee_cny: float = ranged(200.0, lo=0.0, hi=1e7)
    fixed_cost_cny: float = ranged(1000.0, lo=0.0, hi=1e9)
    on_time_share_mean: float = ranged(0.95, lo=0.0, hi=1.0)
    history_growth_sigma: float = ranged(0.10, lo=0.0, hi=5.0)


def check(cfg: Any) -> None:
    """Check the ``agency``, ``plants`` and ``bank`` groups beyond their declared ranges.

    Args:
        cfg: The whole composed config.

    Raises:
        ConfigError: Naming the first offending key.
    """
    a = cfg.agency
    for key, allowed in (
        ("agent_type", AGENT_TYPES),
        ("allocation_rule", ALLOCATION_RULES),
        ("alpha_policy", ALPHA_POLICIES),
        ("review", REVIEWS),
    ):
        value = getattr(a, key)
        if value not in allowed:
            raise ConfigError(f"agency.{key}={value!r}: must be one of {allowed}")
    if a.alpha_policy == "hill_climb" and a.alpha > a.alpha_max:
        raise ConfigError(f"agency.alpha={a.alpha}: above agency.alpha_max={a.alpha_max}")

    p = cfg.plants
    if len(p.names) == 0 and (cfg.phase.agency or cfg.phase.plants):
        raise ConfigError("plants.names: the agency needs at least one plant")
    if len(set(p.names)) != len(p.names):
        raise ConfigError(f"plants.names={list(p.names)}: names must be distinct")
    for key in ("capacity_share_of_peak", "variable_cost_cny_per_kwh"):
        if len(getattr(p, key)) != len(p.names):
            raise ConfigError(f"plants.{key}: needs one value per plant ({len(p.names)})")
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
    if set(b.pd_by_grade) != set(GRADES):
        raise ConfigError(f"bank.pd_by_grade: needs exactly the grades {GRADES}")
