"""The dashboard's model: a :class:`ParkModel` built from a few choices, with a small history.

:class:`DashboardModel` is what Mesa's SolaraViz (re)creates from its controls:
keyword arguments for the phase, park, seed and horizon, and one keyword per
switch of :data:`SWITCHES` that the composed config has. It steps like the
model it is, stops at the last day (and posts the last month's bills), and
keeps what the per-user pages need beyond the recorder's daily totals in a few
``(2, n_users, intervals_per_day)`` accumulators (weekday and weekend profiles)
and an ``(n_users, 3)`` peak/flat/valley energy table — no per-day curves, so
the state of a session stays small (a year of the default park is well under
a megabyte of extra arrays).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from omegaconf import DictConfig, OmegaConf

from simulation.config import validate
from simulation.model import ParkModel
from simulation.run import CONF_DIR, compose_config

__all__ = [
    "MAX_DASHBOARD_USERS",
    "PERIODS",
    "SWITCHES",
    "DashboardModel",
    "Switch",
    "available_switches",
    "model_params",
    "park_names",
    "phase_names",
    "switch_overrides",
    "tariff_periods",
]

#: Parks larger than this are not offered (the dashboard runs in a browser session).
MAX_DASHBOARD_USERS: int = 1000

#: Tariff periods of the peak-valley distribution, in column order.
PERIODS: tuple[str, ...] = ("peak", "flat", "valley")


@dataclass(frozen=True)
class Switch:
    """A config key offered as a control when the composed config has it.

    Attributes:
        key: Dotted config key (e.g. ``platform.enabled``).
        label: Control label.
        low: Slider minimum (numeric keys only).
        high: Slider maximum (numeric keys only).
        step: Slider step (numeric keys only).
    """

    key: str
    label: str
    low: float = 0.0
    high: float = 1.0
    step: float = 0.05

    @property
    def param(self) -> str:
        """The keyword name of the switch (``platform.enabled`` → ``platform__enabled``)."""
        return self.key.replace(".", "__")


#: Candidate switches, shown only for keys that exist in some phase's composed config
#: (the agency's α, DG and EV keys appear once those modules have config keys).
SWITCHES: tuple[Switch, ...] = (
    Switch("platform.enabled", "Information platform on"),
    Switch("orderly.fairness_weight_cny", "Orderly fairness weight (CNY)", 0.0, 10000.0, 250.0),
    Switch("agency.alpha", "Agency α (benefit share)", 0.0, 0.5, 0.05),
    Switch("dg.enabled", "Distributed generation on"),
    Switch("phase.dg", "Distributed generation on"),
    Switch("ev.enabled", "EV charging on"),
    Switch("phase.ev", "EV charging on"),
)


def phase_names() -> list[str]:
    """The phase presets of ``conf/phase/`` (orderly first, then by name)."""
    names = sorted(p.stem for p in (CONF_DIR / "phase").glob("*.yaml"))
    return sorted(names, key=lambda n: (n != "orderly", n))


@cache
def _composed(phase: str, park: str = "small") -> DictConfig:
    """The composed config of a phase and park (cached: composing takes ~0.1 s)."""
    return compose_config([f"phase={phase}", f"park={park}"])


def park_names(max_users: int = MAX_DASHBOARD_USERS) -> list[str]:
    """The park presets of ``conf/park/`` with at most ``max_users`` users, smallest first."""
    sizes = {
        p.stem: int(_composed("orderly", p.stem).park.n_users)
        for p in (CONF_DIR / "park").glob("*.yaml")
    }
    return sorted((n for n, s in sizes.items() if s <= max_users), key=lambda n: sizes[n])


def available_switches() -> dict[Switch, Any]:
    """The switches some phase's config has, with their initial value.

    Returns:
        Switch → the value of its key in the first phase (of :func:`phase_names`) that has it.
    """
    out: dict[Switch, Any] = {}
    for phase in phase_names():
        cfg = _composed(phase)
        for sw in SWITCHES:
            value = OmegaConf.select(cfg, sw.key, default=None)
            if sw not in out and value is not None and not OmegaConf.is_config(value):
                out[sw] = value
    # two candidate keys for one concept: keep the first that exists
    seen: set[str] = set()
    kept: dict[Switch, Any] = {}
    for sw, value in out.items():
        if sw.label not in seen:
            seen.add(sw.label)
            kept[sw] = value
    return kept


def _select(cfg: Any, key: str) -> Any:
    """The value at a dotted ``key`` of a composed or a model's (frozen) config, or None."""
    if isinstance(cfg, DictConfig):
        return OmegaConf.select(cfg, key, default=None)
    node = cfg
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def switch_overrides(cfg: Any, switches: dict[str, Any]) -> list[str]:
    """Hydra overrides for the switches the user moved that ``cfg`` has.

    A switch left at its initial value keeps each phase's own preset; a switch
    whose key the phase's config does not have is ignored.

    Args:
        cfg: The composed config of the chosen phase and park (or a
            model's frozen config, ``ParkModel.cfg``).
        switches: Keyword name (:attr:`Switch.param`) → chosen value.

    Returns:
        Overrides such as ``["platform.enabled=false"]``.
    """
    initial = {sw.param: (sw, v) for sw, v in available_switches().items()}
    out = []
    for param, value in switches.items():
        if param not in initial:
            continue
        sw, start = initial[param]
        if value == start or _select(cfg, sw.key) is None:
            continue
        text = str(value).lower() if isinstance(value, bool) else repr(float(value))
        out.append(f"{sw.key}={text}")
    return out


def model_params() -> dict[str, Any]:
    """SolaraViz ``model_params``: phase, park, seed, days and the available switches."""
    params: dict[str, Any] = {
        "phase": {"type": "Select", "value": "orderly", "values": phase_names(), "label": "Phase"},
        "park": {"type": "Select", "value": "small", "values": park_names(), "label": "Park"},
        "seed": {"type": "SliderInt", "value": 0, "min": 0, "max": 99, "step": 1, "label": "Seed"},
        "days": {
            "type": "SliderInt",
            "value": 28,
            "min": 7,
            "max": 365,
            "step": 7,
            "label": "Days",
        },
    }
    for sw, value in available_switches().items():
        if isinstance(value, bool):
            params[sw.param] = {"type": "Checkbox", "value": value, "label": sw.label}
        else:
            params[sw.param] = {
                "type": "SliderFloat",
                "value": float(value),
                "min": sw.low,
                "max": sw.high,
                "step": sw.step,
                "label": sw.label,
            }
    return params


def tariff_periods(tariff_cny_per_kwh: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Peak / flat / valley mask of a day's intervals from its tariff.

    The highest price level is the peak, the lowest the valley, the rest flat
    (a flat tariff is all ``flat``).

    Args:
        tariff_cny_per_kwh: The day's tariff per interval, CNY/kWh, ``(ipd,)``.

    Returns:
        Boolean mask ``(ipd, 3)`` in the order of :data:`PERIODS`; each row has one True.
    """
    t = np.asarray(tariff_cny_per_kwh, dtype=float)
    hi, lo = t.max(), t.min()
    if np.isclose(hi, lo):
        peak = valley = np.zeros(t.shape, dtype=bool)
    else:
        peak, valley = np.isclose(t, hi), np.isclose(t, lo)
    return np.stack([peak, ~peak & ~valley, valley], axis=1)


class DashboardModel(ParkModel):
    """A :class:`ParkModel` made from the dashboard's controls.

    Args:
        phase: Phase preset (``conf/phase``).
        park: Park preset (``conf/park``).
        seed: Model seed.
        days: Days to simulate.
        **kwargs: One value per available switch (:attr:`Switch.param` names; Mesa's
            SolaraViz requires the catch-all to be called ``kwargs``).
    """

    def __init__(
        self,
        phase: str = "orderly",
        park: str = "small",
        seed: int = 0,
        days: int = 28,
        **kwargs: Any,
    ) -> None:
        logging.getLogger("MESA").setLevel(logging.WARNING)
        base = [f"phase={phase}", f"park={park}", f"seed={int(seed)}", f"days={int(days)}"]
        self.overrides = [*base, *switch_overrides(_composed(phase, park), kwargs)]
        cfg = compose_config([*self.overrides, "progress=false"])
        validate(cfg)
        super().__init__(cfg)
        n, ipd = self.pop.n_users, self.ipd
        #: Served-load profile sums per day type (0 weekday, 1 weekend), kW·days.
        self.profile_sum_kw = np.zeros((2, n, ipd))
        self.profile_min_kw = np.full((2, n, ipd), np.inf)
        self.profile_max_kw = np.zeros((2, n, ipd))
        self.profile_days = np.zeros(2, dtype=np.int64)
        #: Served energy per user by tariff period (:data:`PERIODS`), kWh.
        self.period_kwh = np.zeros((n, len(PERIODS)))
        #: The last day's profile mean before it was added (what "history" meant that day).
        self.history_mean_kw: NDArray[np.float64] | None = None
        self.closed = False
        self._frames: dict[str, tuple[int, pd.DataFrame]] = {}

    def step(self) -> None:
        """Simulate one day (nothing after the last) and update the history."""
        if self.day >= self.n_days:
            self.running = False
            return
        super().step()
        today = self.today
        served = np.asarray(today.served_kw)
        kind = int(today.weekend)
        count = self.profile_days[kind]
        self.history_mean_kw = self.profile_sum_kw[kind] / count if count else None
        self.profile_sum_kw[kind] += served
        np.minimum(self.profile_min_kw[kind], served, out=self.profile_min_kw[kind])
        np.maximum(self.profile_max_kw[kind], served, out=self.profile_max_kw[kind])
        self.profile_days[kind] += 1
        mask = tariff_periods(self.rec.intervals["tariff_cny_per_kwh"][today.day])
        self.period_kwh += (served @ mask) * self.interval_h
        if not self.running and not self.closed:
            self.close()
            self.closed = True

    # ------------------------------------------------------------------ cached frames
    def _frame(self, name: str, make: Any) -> pd.DataFrame:
        cached = self._frames.get(name)
        if cached is None or cached[0] != self.day:
            cached = (self.day, make())
            self._frames[name] = cached
        return cached[1]

    def messages(self) -> pd.DataFrame:
        """The platform's log sent before the end of the last simulated day."""

        def make() -> pd.DataFrame:
            frame = self.platform.to_frame()
            now = self.clock.time_of(self.day, 0)
            return frame[frame["sent_at"] < now].reset_index(drop=True)

        return self._frame("messages", make)

    def flows(self) -> pd.DataFrame:
        """The ledger's rows with account groups (``user:*`` → ``users``) added."""

        def make() -> pd.DataFrame:
            frame = self.ledger.to_frame()
            for side in ("payer", "payee"):
                names = frame[side].astype(str)
                frame[f"{side}_group"] = names.where(~names.str.startswith("user:"), "users")
            return frame

        return self._frame("flows", make)

    def user_label(self, user: int) -> str:
        """``user 3 · electronics · class 2``."""
        pop = self.pop
        industry = pop.industry_names[int(pop.industry[user])]
        return f"user {user} · {industry} · class {int(pop.klass[user])}"

    @property
    def days_done(self) -> int:
        """Days simulated so far."""
        return int(self.rec.days_recorded)
