"""The day as a fixed order of named stages, with each stage's cadence.

The order is a model invariant, not configuration: settlement never runs
before metering. A module implements any subset of these hooks, each a method
named after its stage taking today's :class:`~simulation.day.DayState`; within
a stage, hooks run in module-registry order (:mod:`simulation.modules`).

- ``month_close`` — first day of a month (not day 0), and once after the last
  day: post the month's bills, monthly settlements, reports;
- ``week_plan`` — first day of each week: the orderly plan for the next week;
- ``publish`` — daily: reminders, announcements;
- ``bid`` — daily: offers and bids for tomorrow;
- ``clear`` — daily: market clearing;
- ``demand`` — daily: the day's load (core);
- ``dispatch`` — daily: enforcement and shedding;
- ``meter`` — daily: metering (core), DG and EV metering;
- ``settle`` — daily: accruals and payments;
- ``collect`` — daily: recording (core), history.

Besides the stages, a module may implement ``start(today)``, called once
before the first day (the first weekly plan is issued there).
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["STAGES", "stages_due"]

#: The stages of a day, in order.
STAGES: tuple[str, ...] = (
    "month_close",
    "week_plan",
    "publish",
    "bid",
    "clear",
    "demand",
    "dispatch",
    "meter",
    "settle",
    "collect",
)


class _Calendar(Protocol):
    def is_month_start(self, day: int) -> bool: ...
    def is_week_start(self, day: int) -> bool: ...


def stages_due(clock: _Calendar, day: int) -> tuple[str, ...]:
    """The stages that run on a model day, in order (the one cadence rule).

    Args:
        clock: The run's calendar.
        day: Model day index.

    Returns:
        The due stage names: ``month_close`` on the first of a month after the
        first day, ``week_plan`` on the first day of a week, every other stage daily.
    """
    due = []
    for stage in STAGES:
        if stage == "month_close" and not (day > 0 and clock.is_month_start(day)):
            continue
        if stage == "week_plan" and not clock.is_week_start(day):
            continue
        due.append(stage)
    return tuple(due)
