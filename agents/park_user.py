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
