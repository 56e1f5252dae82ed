"""Retention: how long each kind of record keeps its personal data, and when it is due.

Each programme sets a period per record type, in calendar months. A record is due for
erasure once its whole period has elapsed since the moment that starts it, both read
in UTC: a screening nobody was enrolled from (ineligible, or eligible and never
enrolled) from when it was recorded, a closed enrolment from when it closed, a sent or
failed message from when it was sent or failed, and an audit row from when it was
written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from dateutil.relativedelta import relativedelta


class RecordType(StrEnum):
    INELIGIBLE_SCREENING = "ineligible_screening"
    CLOSED_ENROLMENT = "closed_enrolment"
    MESSAGE_BODY = "message_body"
    AUDIT_ROW = "audit_row"


# The programme setting that holds each record type's period, in months.
SETTINGS: dict[RecordType, str] = {
    RecordType.INELIGIBLE_SCREENING: "retention_ineligible_months",
    RecordType.CLOSED_ENROLMENT: "retention_closed_months",
    RecordType.MESSAGE_BODY: "retention_message_months",
    RecordType.AUDIT_ROW: "retention_audit_months",
}

# The shortest period an audit row is ever kept. The database holds it too (migration
# 0018): the application's role cannot have a younger row deleted, whatever it asks.
AUDIT_FLOOR_MONTHS = 36


@dataclass(frozen=True)
class RetentionSchedule:
    """A programme's retention periods, in calendar months; the defaults are docs/domain.md's."""

    retention_ineligible_months: int = 12
    retention_closed_months: int = 72
    retention_message_months: int = 12
    retention_audit_months: int = 84

    def months(self, record: RecordType) -> int:
        """How many months this record type is kept."""
        months: int = getattr(self, SETTINGS[record])
        return months

    def erase_before(self, record: RecordType, now: datetime) -> datetime:
        """The instant a record of this type must have started before to be due now."""
        return cutoff(self.months(record), now)

    def is_due(self, record: RecordType, since: datetime, now: datetime) -> bool:
        """Whether a record whose period started at ``since`` is due for erasure now."""
        return _utc(since) <= self.erase_before(record, now)


def cutoff(months: int, now: datetime) -> datetime:
    """``now`` less whole calendar months, in UTC (31 March less one month is 28 February)."""
    if months < 1:
        raise ValueError("a retention period is at least one month")
    return _utc(now) - relativedelta(months=months)


def longest(schedules: Iterable[RetentionSchedule], record: RecordType) -> int:
    """The longest period any schedule keeps this record type for.

    Used where a record belongs to no one programme (a screening never enrolled, a
    message to staff, the audit trail): nothing is erased before any programme's
    administrator asked for it to be.
    """
    periods = [schedule.months(record) for schedule in schedules]
    return max(periods) if periods else RetentionSchedule().months(record)


def audit_cutoff(schedules: Iterable[RetentionSchedule], now: datetime) -> datetime:
    """Audit rows written before this instant are due: the longest period, never below the floor."""
    return cutoff(max(longest(schedules, RecordType.AUDIT_ROW), AUDIT_FLOOR_MONTHS), now)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("retention compares aware instants only")
    return moment.astimezone(UTC)
