"""Park users (factories).

A ``ParkUser`` holds its row index into the model's population arrays and
reads and writes its state through it. Decisions that every user takes in
every interval are vectorised class-level rules (``decide_compliance``);
decisions taken at most once a month per user are agent methods
(``consider_measures``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
from numpy.typing import NDArray

from markets._arrays import logistic

if TYPE_CHECKING:
    from agents._model import ModelView

__all__ = ["ParkUser"]


class ParkUser(mesa.Agent):
    """A factory in the park, bound to one row of the population arrays.

    Args:
        model: The park model.
        row: Index of this user in the population arrays.
    """

    model: ModelView

    def __init__(self, model: Any, row: int) -> None:
        super().__init__(model)
        self.row = row

    @property
    def name(self) -> str:
        """Ledger account name of the user."""
        return f"user:{self.row:05d}"

    @property
    def industry(self) -> str:
        """Industry name."""
        pop = self.model.pop
        return pop.industry_names[int(pop.industry[self.row])]

    @property
    def block_kw(self) -> float:
        """Curtailable block ΔP, kW."""
        return float(self.model.pop.block_kw[self.row])

    @staticmethod
    def decide_compliance(
        n_users: int, compliance_prob: float, rng: np.random.Generator
    ) -> NDArray[np.bool_]:
        """Whether each user follows today's curtailment instructions.

        Args:
            n_users: Number of users.
            compliance_prob: Probability of compliance per user and day.
            rng: The model's generator.

        Returns:
            Boolean array ``(n_users,)``.
        """
        if compliance_prob >= 1.0:
            return np.ones(n_users, dtype=bool)
        return rng.random(n_users) < compliance_prob

    @staticmethod
    def decide_switch(
        relative_gain: NDArray[np.float64],
        eligible: NDArray[np.bool_],
        *,
        beta_rel: float,
        hurdle_share: float,
        inertia_prob: float,
        rng: np.random.Generator,
    ) -> NDArray[np.bool_]:
        """Whether each user switches supplier this month (join, or leave, the agent).

        A user evaluates with probability ``1 − ι`` (inertia) and then switches
        with ``P = σ(β_rel·(g − κ))``, where ``g`` is its relative gain
        ``(S − K_sw/12)/C`` (monthly saving net of the amortised switching
        cost, over its monthly catalog bill). Two uniform draws per user, every
        call, keep the random stream independent of who is eligible.

        Args:
            relative_gain: g per user (dimensionless).
            eligible: Users who may switch this month.
            beta_rel: β_rel, logit slope.
            hurdle_share: κ, the gain at even odds.
            inertia_prob: ι, probability of not evaluating.
            rng: The model's generator.

        Returns:
            Boolean array ``(n_users,)``.

        References:
            PHASES.md U1; Power TAC TariffEvaluator (inertia 0.8) [S25];
            Hortaçsu, Madanizadeh & Puller (2014), switching inertia [S26].
        """
        u = rng.random((2, len(relative_gain)))
        evaluates = eligible & (u[0] >= inertia_prob)
        z = np.clip(beta_rel * (relative_gain - hurdle_share), -60.0, 60.0)
        return evaluates & (u[1] < logistic(z))

    @staticmethod
    def decide_loan_application(
        eligible: NDArray[np.bool_], apply_prob: float, rng: np.random.Generator
    ) -> NDArray[np.bool_]:
        """Whether each eligible user applies for a loan this month (rule B1).

        Args:
            eligible: Users meeting the bank's eligibility rules.
            apply_prob: Monthly application probability.
            rng: The model's generator (one draw per user, every call).

        Returns:
            Boolean array ``(n_users,)``.

        References:
            PHASES.md B1 (Ningxia 电e贷 eligibility [S19]; the probability is an assumption).
        """
        return eligible & (rng.random(len(eligible)) < apply_prob)

    def consider_measures(self) -> None:
        """Monthly decision whether to install the best recommended measure.

        The probability comes from the ESCO's offer: a logit on payback against
        the user's threshold, raised by a diagnostic report and by peers'
        adoption (``markets.efficiency.adoption_probability``); the user draws
        from the model's generator and accepts or not.
        """
        esco = self.model.module("esco")
        p_adopt = esco.offer(self.row)
        if p_adopt is None:
            return
        if self.model.rng.random() < p_adopt:
            esco.accept(self.row)
