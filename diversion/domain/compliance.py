"""Which flags does an enrolment's history raise today?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from diversion.domain.booking import (
    EnrolmentFacts,
    attended_modules,
    booked_modules,
)
from diversion.domain.dates import format_date
from diversion.domain.programme import FOLLOW_UP, ProgrammeRules, module_name
from diversion.domain.vocabulary import (
    OPEN_ENROLMENT,
    BookingStatus,
    EnrolmentStatus,
    FlagKind,
)

# How close to the core deadline an unbooked module puts the enrolment at risk.
UNBOOKED_WARNING_DAYS = 28


class Cause(StrEnum):
    """Why a flag was raised: a flag's cause is ``"<Cause>:<key>"``, once per enrolment.

    The key is the deadline or window the rule measured against (so an extension
    that moves it lets the rule fire again), or the absent booking's id.
    """

    CORE_DEADLINE = "core_deadline"
    CANNOT_FIT = "cannot_fit"
    UNBOOKED_NEAR_DEADLINE = "unbooked_near_deadline"
    FOLLOW_UP_WINDOW = "follow_up_window"
    UNEXCUSED_ABSENCE = "unexcused_absence"


def cause(reason: Cause, key: date | int) -> str:
    """Write a flag's cause: the rule and the date (ISO 8601) or booking id it is about."""
    return f"{reason}:{key.isoformat() if isinstance(key, date) else key}"


@dataclass(frozen=True)
class FlagDue:
    kind: FlagKind
    cause: str
    detail: str


def flags_due(rules: ProgrammeRules, enrolment: EnrolmentFacts, today: date) -> list[FlagDue]:
    """List the flags the enrolment's history calls for today, each with a stable cause."""
    if enrolment.status not in OPEN_ENROLMENT:
        return []
    flags = _unexcused_absences(rules, enrolment)
    if enrolment.status == EnrolmentStatus.ENROLLED:
        flags += _core_flags(rules, enrolment, today)
    else:
        flags += _follow_up_flags(enrolment, today)
    return flags


def _unexcused_absences(rules: ProgrammeRules, enrolment: EnrolmentFacts) -> list[FlagDue]:
    absences = sorted(
        (b for b in enrolment.bookings if b.status == BookingStatus.ABSENT_UNEXCUSED),
        key=lambda b: (b.starts_at, b.id),
    )
    return [
        FlagDue(
            FlagKind.AT_RISK,
            cause(Cause.UNEXCUSED_ABSENCE, b.id),
            f"{module_name(b.module).capitalize()} on "
            f"{format_date(rules.local_date(b.starts_at))}: absent without excuse",
        )
        for b in absences
    ]


def _core_flags(rules: ProgrammeRules, enrolment: EnrolmentFacts, today: date) -> list[FlagDue]:
    deadline = enrolment.core_deadline
    attended = attended_modules(enrolment)
    missing = [m for m in rules.core_module_numbers if m not in attended]
    if not missing:
        return []
    on_deadline = format_date(deadline)
    if today > deadline:
        done = rules.core_modules - len(missing)
        return [
            FlagDue(
                FlagKind.NON_COMPLETION,
                cause(Cause.CORE_DEADLINE, deadline),
                f"Core deadline {on_deadline} passed with {done} of "
                f"{rules.core_modules} modules attended",
            )
        ]

    flags = []
    spacing = timedelta(days=rules.min_days_between_sessions)
    if today + spacing * (len(missing) - 1) > deadline:
        flags.append(
            FlagDue(
                FlagKind.AT_RISK,
                cause(Cause.CANNOT_FIT, deadline),
                f"{len(missing)} modules still to attend no longer fit before the core "
                f"deadline {on_deadline} at {rules.min_days_between_sessions} days apart",
            )
        )
    booked = booked_modules(enrolment)
    unbooked = [m for m in missing if m not in booked]
    if unbooked and deadline - timedelta(days=UNBOOKED_WARNING_DAYS) <= today:
        names = ", ".join(str(m) for m in unbooked)
        flags.append(
            FlagDue(
                FlagKind.AT_RISK,
                cause(Cause.UNBOOKED_NEAR_DEADLINE, deadline),
                f"Core deadline {on_deadline} is {_days_away(deadline - today)} and "
                f"module{'s' if len(unbooked) > 1 else ''} {names} "
                f"{'have' if len(unbooked) > 1 else 'has'} no booking",
            )
        )
    return flags


def _days_away(gap: timedelta) -> str:
    if gap.days == 0:
        return "today"
    return f"{gap.days} day{'' if gap.days == 1 else 's'} away"


def _follow_up_flags(enrolment: EnrolmentFacts, today: date) -> list[FlagDue]:
    window = enrolment.follow_up_window
    if window is None or FOLLOW_UP in attended_modules(enrolment):
        return []
    closes = window[1]
    if today <= closes:
        return []
    return [
        FlagDue(
            FlagKind.FOLLOW_UP_MISSED,
            cause(Cause.FOLLOW_UP_WINDOW, closes),
            f"Follow-up window closed on {format_date(closes)} without attendance",
        )
    ]
