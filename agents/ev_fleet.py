"""EV charge/discharge booking: the park's EV fleet books charging one day ahead.

The ``ev`` module (rule E1 of PHASES.md). Each day (in ``bid``, D−1; the
first day's bookings in ``start``) the EV operator draws the next day's
bookings from the model's generator — Poisson(``bookings_per_user_day`` ×
users) bookings, each owned by a user drawn uniformly (the host of the
charger), arriving uniformly in [``arrival_h_min``, ``arrival_h_max``],
parking ``dwell_h_min``–``dwell_h_max`` hours, needing U(``energy_min_kwh``,
``energy_max_kwh``) kWh at a charger of ``pmax_kw_choices`` kW — and
schedules them:

- ``managed``: :func:`markets.ev_booking.schedule` fills each booking into the
  cheapest intervals of the price signal (:mod:`agents.price_signal`) under
  the park's headroom = the grid's planned capacity − (1 + margin) × the
  forecast park load, or rejects it;
- ``unmanaged``: :func:`markets.ev_booking.unmanaged`, full power from arrival;
- ``v2g``: managed, plus :func:`markets.ev_booking.v2g_discharge` in the
  intervals at the day's top price (the recharge is added to the booking).

On day D (``demand``) the shown bookings (no-shows drawn with
``no_show_prob``) add their charging minus discharge to their owners' demand
rows, before dispatch, so the grid company's capacity checks see it. The
charging is sub-metered: the host's supplier bills the host's own load (the
grid company subtracts :attr:`EVFleet.unbilled_kw`); the owner pays the
``ev_operator`` the energy at the price signal (``ev_charging``) and the
service fee (``ev_service_fee``), the operator pays the host's supplier
(the grid, or the host's retailer, which bought it in the market) for the
net energy (``ev_energy``) and pays owners for V2G discharge (``v2g_payment``).

References:
    PHASES.md §2.2 E1 and §3 (service fee [S17], V2G price [S18]).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import mesa
import numpy as np
from numpy.typing import NDArray

from agents.price_signal import price_cny_per_kwh
from markets.ev_booking import schedule, unmanaged, v2g_discharge

if TYPE_CHECKING:
    from agents._model import ModelView

__all__ = ["DayBookings", "EVFleet", "draw_bookings"]


def draw_bookings(
    rng: np.random.Generator, cfg: Any, n_users: int, ipd: int
) -> tuple[dict[str, NDArray[Any]], NDArray[np.int64], NDArray[np.bool_]]:
    """Draw one day's EV bookings.

    Args:
        rng: The model's generator.
        cfg: The ``ev`` config group.
        n_users: Number of users (owners are drawn among them).
        ipd: Intervals per day.

    Returns:
        ``(bookings, owner, shows)``: the bookings table as a mapping of
        column → array (``arrival``, ``departure`` exclusive, as interval
        indices; ``energy_kwh``, ``pmax_kw``; see
        :data:`markets.ev_booking.Bookings`), each booking's owner row and
        whether it shows up.
    """
    steps = ipd // 24
    n = int(rng.poisson(float(cfg.bookings_per_user_day) * n_users))
    owner = rng.integers(0, n_users, size=n)
    arrival_h = rng.integers(int(cfg.arrival_h_min), int(cfg.arrival_h_max) + 1, size=n)
    dwell_h = rng.integers(int(cfg.dwell_h_min), int(cfg.dwell_h_max) + 1, size=n)
    energy = rng.uniform(float(cfg.energy_min_kwh), float(cfg.energy_max_kwh), size=n)
    pmax = rng.choice(np.asarray(cfg.pmax_kw_choices, dtype=np.float64), size=n)
    shows = rng.random(n) >= float(cfg.no_show_prob)
    arrival = arrival_h * steps
    departure = np.minimum(arrival_h + dwell_h, 24) * steps
    bookings = {"arrival": arrival, "departure": departure, "energy_kwh": energy, "pmax_kw": pmax}
    return bookings, owner.astype(np.int64), shows


class DayBookings:
    """One day's scheduled bookings.

    Attributes:
        day: Model day served.
        bookings: The bookings table (column → array, one row per booking).
        owner: Owner row per booking.
        shows: Whether each booking shows up.
        accepted: Whether each booking was accepted (managed) or served.
        charge_kw: Grid-side charging, bookings × intervals, kW.
        discharge_kw: V2G discharge, bookings × intervals, kW.
        price_cny_per_kwh: The price signal the schedule used, per interval.
    """

    def __init__(
        self,
        day: int,
        bookings: dict[str, NDArray[Any]],
        owner: NDArray[np.int64],
        shows: NDArray[np.bool_],
        accepted: NDArray[np.bool_],
        charge_kw: NDArray[np.float64],
        discharge_kw: NDArray[np.float64],
        price_cny_per_kwh: NDArray[np.float64],
    ) -> None:
        self.day = day
        self.bookings = bookings
        self.owner = owner
        self.shows = shows
        self.accepted = accepted
        self.charge_kw = charge_kw
        self.discharge_kw = discharge_kw
        self.price_cny_per_kwh = price_cny_per_kwh


class EVFleet(mesa.Agent):
    """The park's EV operator and its fleet's bookings (one agent; the ``ev`` module).

    Args:
        model: The park model.
    """

    KPIS: ClassVar[tuple[str, ...]] = (
        "ev_energy_kwh",
        "ev_bookings_count",
        "ev_bookings_rejected_count",
        "ev_load_at_peak_kw",
        "ev_cost_cny",
        "ev_operator_profit_cny",
        "ev_capacity_breach_intervals",
        "v2g_energy_kwh",
        "v2g_payment_cny",
    )
    USER_FIELDS: ClassVar[tuple[str, ...]] = ("ev_kwh", "ev_cost_cny")
    INTERVAL_FIELDS: ClassVar[tuple[str, ...]] = ("ev_kw",)

    model: ModelView

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        self.cfg = model.cfg.ev
        ledger = model.ledger
        self.account = ledger.account("ev_operator")
        self.grid_account = ledger.account("grid")
        n = model.pop.n_users
        #: Today's sub-metered EV power per user and interval (charge − discharge), kW.
        self.unbilled_kw = np.zeros((n, model.ipd))
        self._charge_user_kw = np.zeros((n, model.ipd))
        self._discharge_user_kw = np.zeros((n, model.ipd))
        #: Scheduled bookings by the model day they are for.
        self.booked: dict[int, DayBookings] = {}
        self._price = np.zeros(model.ipd)
        self.totals = dict.fromkeys(
            (
                "bookings",
                "rejected",
                "energy_kwh",
                "cost_cny",
                "v2g_kwh",
                "v2g_cny",
                "breaches",
                "load_at_peak_kw",
                "peak_kw",
            ),
            0.0,
        )

    # ------------------------------------------------------------------ booking
    def headroom_kw(self, day: int) -> NDArray[np.float64]:
        """Park headroom for EV charging on a day, known the day before, kW per interval."""
        m = self.model
        cap = m.module("grid").planned_capacity_kw(day)
        forecast = m.pop.expected_load_kw(m.clock.is_weekend(day)).sum(axis=0)
        return np.asarray(cap - (1.0 + float(self.cfg.forecast_margin_share)) * forecast)

    def book(self, day: int) -> DayBookings:
        """Draw and schedule the bookings of ``day`` (rule E1).

        Args:
            day: The model day the bookings are for.

        Returns:
            The scheduled bookings.
        """
        m = self.model
        cfg = self.cfg
        bookings, owner, shows = draw_bookings(m.rng, cfg, m.pop.n_users, m.ipd)
        price = price_cny_per_kwh(m, day)
        dt = m.interval_h
        eta = float(cfg.eta)
        n_b = owner.size
        discharge = np.zeros((n_b, m.ipd))
        if cfg.mode == "unmanaged":
            sched = unmanaged(price, bookings, dt, eta)
            accepted = np.ones(n_b, dtype=bool)
        else:
            to_book = bookings
            if cfg.mode == "v2g" and n_b:
                mask = price >= price.max() - 1e-12
                t = np.arange(m.ipd)[None, :]
                a = bookings["arrival"][:, None]
                d = bookings["departure"][:, None]
                recharge = np.where((t >= a) & (t < d), price[None, :], np.inf).min(axis=1)
                v2g = v2g_discharge(
                    bookings,
                    mask,
                    recharge,
                    float(cfg.v2g_price_cny_per_kwh),
                    float(cfg.degradation_cny_per_kwh),
                    max_share=float(cfg.v2g_max_share),
                    interval_h=dt,
                    eta=eta,
                )
                discharge = v2g.discharge_kw
                to_book = {
                    **bookings,
                    "energy_kwh": bookings["energy_kwh"] + v2g.discharge_kwh / eta,
                }
            sched = schedule(self.headroom_kw(day), price, to_book, dt, eta)
            accepted = sched.accepted
            discharge = np.where(accepted[:, None], discharge, 0.0)
        return DayBookings(day, bookings, owner, shows, accepted, sched.charge_kw, discharge, price)

    def booked_kw(self, day: int) -> NDArray[np.float64]:
        """Expected EV power booked for a day per user and interval, kW (for the bids).

        The accepted bookings' charging minus V2G discharge, weighted by the
        show-up probability 1 − ``no_show_prob`` (the retailer does not know
        who will show); 0 for a day not booked yet.
        """
        booked = self.booked.get(day)
        if booked is None or not booked.owner.size:
            return np.zeros((self.model.pop.n_users, self.model.ipd))
        net = (booked.charge_kw - booked.discharge_kw)[booked.accepted]
        shows = 1.0 - float(self.cfg.no_show_prob)
        return np.asarray(shows * self._per_user(net, booked.owner[booked.accepted]))

    def _per_user(self, per_booking_kw: NDArray[np.float64], owner: NDArray[np.int64]) -> Any:
        out = np.zeros((self.model.pop.n_users, self.model.ipd))
        np.add.at(out, owner, per_booking_kw)
        return out

    # ------------------------------------------------------------------ stages
    def start(self, today: Any) -> None:
        """Book the first day."""
        self.booked[0] = self.book(0)

    def bid(self, today: Any) -> None:
        """D−1: book tomorrow (before the day-ahead gate)."""
        if today.day + 1 < self.model.n_days:
            self.booked[today.day + 1] = self.book(today.day + 1)

    def demand(self, today: Any) -> None:
        """Add the shown bookings' charging (minus V2G discharge) to their owners' demand."""
        booked = self.booked.pop(today.day, None)
        n, ipd = today.demand_kw.shape
        charge_user = np.zeros((n, ipd))
        dis_user = np.zeros((n, ipd))
        if booked is not None and booked.owner.size:
            live = booked.shows & booked.accepted
            owner = booked.owner[live]
            charge_user = self._per_user(booked.charge_kw[live], owner)
            dis_user = self._per_user(booked.discharge_kw[live], owner)
            # discharge only serves the host's own load behind the meter
            dis_user = np.minimum(dis_user, today.demand_kw + charge_user)
            t = self.totals
            t["bookings"] += booked.owner.size
            t["rejected"] += float(np.count_nonzero(~booked.accepted))
        self._charge_user_kw = charge_user
        self._discharge_user_kw = dis_user
        self.unbilled_kw = charge_user - dis_user
        today.demand_kw = today.demand_kw + self.unbilled_kw
        self._price = booked.price_cny_per_kwh if booked is not None else np.zeros(ipd)
        today.record_intervals(ev_kw=self.unbilled_kw.sum(axis=0))

    def meter(self, today: Any) -> None:
        """Cut the charging that curtailment left unserved (the host's own load is cut first)."""
        c, d = self._charge_user_kw, self._discharge_user_kw
        short = np.maximum(c - d - today.served_kw, 0.0)
        if short.any():
            self._charge_user_kw = c - short
            self.unbilled_kw = self._charge_user_kw - d
            today.record_intervals(ev_kw=self.unbilled_kw.sum(axis=0))

    def settle(self, today: Any) -> None:
        """Post the day's charging, service fees, V2G payments and the energy bought."""
        m = self.model
        cfg = self.cfg
        dt = m.interval_h
        when = m.clock.time_of(today.day, m.ipd - 1)
        charge_kwh = self._charge_user_kw.sum(axis=1) * dt
        dis_kwh = self._discharge_user_kw.sum(axis=1) * dt
        price = self._price
        energy_cny = self._charge_user_kw @ price * dt
        fee_cny = float(cfg.service_fee_cny_per_kwh) * charge_kwh
        v2g_cny = float(cfg.v2g_price_cny_per_kwh) * dis_kwh
        users = np.arange(m.pop.n_users)
        m.ledger.post(when, users, self.account, energy_cny, "ev_charging")
        m.ledger.post(when, users, self.account, fee_cny, "ev_service_fee")
        m.ledger.post(when, self.account, users, v2g_cny, "v2g_payment")
        self._pay_energy(when, self.unbilled_kw @ price * dt)
        t = self.totals
        t["energy_kwh"] += float(charge_kwh.sum())
        t["cost_cny"] += float(energy_cny.sum() + fee_cny.sum())
        t["v2g_kwh"] += float(dis_kwh.sum())
        t["v2g_cny"] += float(v2g_cny.sum())
        today.record_users(ev_kwh=charge_kwh - dis_kwh, ev_cost_cny=energy_cny + fee_cny - v2g_cny)

    def _pay_energy(self, when: Any, net_cny_by_user: NDArray[np.float64]) -> None:
        """Pay each host's supplier for the net EV energy it bought (``ev_energy``).

        Catalog (and sales-agent) hosts' energy is paid to the grid company;
        a retailer customer's to its retailer, which bought it in the market
        (the receipt lowers the retailer's cost per billed kWh).
        """
        m = self.model
        payee = np.full(net_cny_by_user.size, int(self.grid_account), dtype=np.int64)
        retail = m.module("retail") if m.has_module("retail") else None
        if retail is not None:
            k = retail.retailer_of(np.arange(net_cny_by_user.size))
            for j, r in enumerate(retail.retailers):
                mine = k == j
                payee[mine] = r.account
                r.add_cost(-float(net_cny_by_user[mine].sum()))
        for acc in np.unique(payee):
            net_cny = float(net_cny_by_user[payee == acc].sum())
            if net_cny > 0:
                m.ledger.post(when, self.account, int(acc), net_cny, "ev_energy")
            elif net_cny < 0:
                m.ledger.post(when, int(acc), self.account, -net_cny, "ev_energy")

    def collect(self, today: Any) -> None:
        """Count intervals where EV charging pushed the park over its capacity."""
        met = today.metered
        disp = today.dispatch
        ev_kw = self.unbilled_kw.sum(axis=0)
        planned = met.curtailed_int_kw - met.shed_int_kw
        after_plan = met.demand_int_kw - planned
        cap = disp.capacity_kw * (1 + 1e-9) + 1e-6
        breach = (after_plan > cap) & (after_plan - ev_kw <= cap) & (ev_kw > 0)
        t = self.totals
        t["breaches"] += float(np.count_nonzero(breach))
        grid_kw = met.served_int_kw
        k = int(np.argmax(grid_kw))
        if grid_kw[k] > t["peak_kw"]:
            t["peak_kw"] = float(grid_kw[k])
            t["load_at_peak_kw"] = float(ev_kw[k])

    # ------------------------------------------------------------------ outputs
    def kpis(self) -> dict[str, float]:
        """EV energy, bookings, cost, the operator's profit, V2G and capacity breaches."""
        t = self.totals
        return {
            "ev_energy_kwh": t["energy_kwh"],
            "ev_bookings_count": t["bookings"],
            "ev_bookings_rejected_count": t["rejected"],
            "ev_load_at_peak_kw": t["load_at_peak_kw"],
            "ev_cost_cny": t["cost_cny"],
            "ev_operator_profit_cny": self.model.ledger.balance("ev_operator"),
            "ev_capacity_breach_intervals": t["breaches"],
            "v2g_energy_kwh": t["v2g_kwh"],
            "v2g_payment_cny": t["v2g_cny"],
        }
