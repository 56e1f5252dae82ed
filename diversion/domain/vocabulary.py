"""The domain's words: every status, outcome, kind and decision, stated once.

Models build their CHECK constraints from these values, schemas validate against
them, and templates compare with them. A ``StrEnum`` member equals its value, so
rows read back as plain strings still compare equal.
"""

from __future__ import annotations

from enum import StrEnum
from zoneinfo import ZoneInfo

# Every programme runs in the UK; its sessions are held in London's local time.
LONDON_TZID = "Europe/London"
LONDON = ZoneInfo(LONDON_TZID)


class Role(StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    CASE_OFFICER = "case_officer"


class EnrolmentStatus(StrEnum):
    ENROLLED = "enrolled"
    AWAITING_FOLLOW_UP = "awaiting_follow_up"
    COMPLETED = "completed"
    REFERRED = "referred"
    WITHDRAWN = "withdrawn"


# An enrolment still on the programme: its flags, bookings and deadlines are live.
OPEN_ENROLMENT = frozenset({EnrolmentStatus.ENROLLED, EnrolmentStatus.AWAITING_FOLLOW_UP})


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class SessionState(StrEnum):
    """Where a session stands as people see it: its status and its register together.

    Derived, never stored: a session that has ended is held once every outcome is
    recorded, and its register is overdue until then.
    """

    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    REGISTER_OVERDUE = "register_overdue"
    HELD = "held"
    CANCELLED = "cancelled"


class BookingStatus(StrEnum):
    BOOKED = "booked"
    ATTENDED = "attended"
    ABSENT_EXCUSED = "absent_excused"
    ABSENT_UNEXCUSED = "absent_unexcused"
    CANCELLED = "cancelled"


# A booking that holds its module: one still to happen, or one attended.
HOLDS_MODULE = frozenset({BookingStatus.BOOKED, BookingStatus.ATTENDED})


class Outcome(StrEnum):
    """What the register records for a booking."""

    ATTENDED = "attended"
    ABSENT_EXCUSED = "absent_excused"
    ABSENT_UNEXCUSED = "absent_unexcused"


class FlagKind(StrEnum):
    AT_RISK = "at_risk"
    NON_COMPLETION = "non_completion"
    FOLLOW_UP_MISSED = "follow_up_missed"


class Concern(StrEnum):
    """What a list shows beside an open enrolment's status; derived, never stored."""

    AT_RISK = "at_risk"
    DEADLINE_PASSED = "deadline_passed"
    FOLLOW_UP_MISSED = "follow_up_missed"
    REGISTER_OVERDUE = "register_overdue"


class FlagStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class DecisionKind(StrEnum):
    REFER = "refer"
    CONTINUE = "continue"
    WITHDRAW = "withdraw"


class ExtensionTarget(StrEnum):
    """The date a continue decision moves on."""

    CORE_DEADLINE = "core_deadline"
    FOLLOW_UP_WINDOW = "follow_up_window"


class MessageKind(StrEnum):
    """What an outbox row carries: the participant's messages, and the staff digest."""

    INVITATION = "invitation"  # a new booking: METHOD:REQUEST, SEQUENCE 0
    UPDATE = "update"  # the booked session moved: REQUEST, a higher SEQUENCE
    CANCELLATION = "cancellation"  # booking or session cancelled: METHOD:CANCEL
    REMINDER = "reminder"  # an email some hours before the session
    DIGEST = "digest"  # the case officers' daily summary
    MISSED_NOTICE = "missed_notice"  # after an unexcused absence: rebook by a date


class MessageStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SUPERSEDED = "superseded"


class Channel(StrEnum):
    """How an outbox row reaches the participant: by email, or by text message (GOV.UK Notify)."""

    EMAIL = "email"
    SMS = "sms"


class TextDelivery(StrEnum):
    """What GOV.UK Notify reports about a text message it accepted: its own status words."""

    CREATED = "created"
    SENDING = "sending"
    PENDING = "pending"
    SENT = "sent"  # to a number abroad: networks there send no receipt
    DELIVERED = "delivered"
    PERMANENT_FAILURE = "permanent-failure"
    TEMPORARY_FAILURE = "temporary-failure"
    TECHNICAL_FAILURE = "technical-failure"


# Notify's last word on a text message: a later report saying less never replaces one.
FINAL_TEXT_DELIVERY = frozenset({
    TextDelivery.SENT, TextDelivery.DELIVERED, TextDelivery.PERMANENT_FAILURE,
    TextDelivery.TEMPORARY_FAILURE, TextDelivery.TECHNICAL_FAILURE})

# Kept apart from WORDS: "sent" and "pending" mean something else there.
TEXT_DELIVERY_WORDS: dict[str, str] = {
    TextDelivery.CREATED: "accepted by GOV.UK Notify, no report from the phone network yet",
    TextDelivery.SENDING: "on its way, no report from the phone network yet",
    TextDelivery.PENDING: "on its way, waiting for the phone network's report",
    TextDelivery.SENT: "sent to a number abroad, whose network gives no delivery report",
    TextDelivery.DELIVERED: "delivered to the phone",
    TextDelivery.PERMANENT_FAILURE: "not delivered: the number is wrong or its network "
                                    "refused the message",
    TextDelivery.TEMPORARY_FAILURE: "not delivered: the phone was off, out of signal or "
                                    "full for 72 hours",
    TextDelivery.TECHNICAL_FAILURE: "not delivered: a technical fault between GOV.UK Notify "
                                    "and the phone network",
}


def text_delivery_in_words(status: str | None) -> str:
    """Say what Notify reported about a text message, or that it has reported nothing yet."""
    if status is None:
        return "no report from the phone network yet"
    return TEXT_DELIVERY_WORDS.get(status, status.replace("-", " "))


class Language(StrEnum):
    """The language a participant is written to in: every message, page and calendar text."""

    ENGLISH = "en"
    WELSH = "cy"


class JobOutcome(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


# How people read each value: pages, the API's words and printed documents all say
# these. Keyed by value, so a word serves every enumeration that shares the value.
WORDS: dict[str, str] = {
    EnrolmentStatus.ENROLLED: "Enrolled",
    EnrolmentStatus.AWAITING_FOLLOW_UP: "Awaiting follow-up",
    EnrolmentStatus.COMPLETED: "Completed",
    EnrolmentStatus.REFERRED: "Referred",
    EnrolmentStatus.WITHDRAWN: "Withdrawn",
    SessionStatus.SCHEDULED: "Scheduled",
    BookingStatus.BOOKED: "Booked",
    BookingStatus.ATTENDED: "Attended",
    BookingStatus.ABSENT_EXCUSED: "Absent (excused)",
    BookingStatus.ABSENT_UNEXCUSED: "Absent (unexcused)",
    BookingStatus.CANCELLED: "Cancelled",
    FlagKind.AT_RISK: "At risk",
    FlagKind.NON_COMPLETION: "Non-completion",
    FlagKind.FOLLOW_UP_MISSED: "Follow-up missed",
    FlagStatus.OPEN: "Open",
    FlagStatus.CLOSED: "Closed",
    DecisionKind.REFER: "Refer back to prosecution",
    DecisionKind.CONTINUE: "Continue",
    "withdraw": "Withdraw",
    ExtensionTarget.CORE_DEADLINE: "Core deadline",
    ExtensionTarget.FOLLOW_UP_WINDOW: "Follow-up window",
    MessageKind.INVITATION: "Invitation",
    MessageKind.UPDATE: "Update",
    MessageKind.CANCELLATION: "Cancellation",
    MessageKind.REMINDER: "Reminder",
    MessageKind.DIGEST: "Daily summary",
    MessageKind.MISSED_NOTICE: "Missed-session notice",
    MessageStatus.PENDING: "Not sent yet",
    MessageStatus.SENT: "Sent",
    MessageStatus.FAILED: "Failed",
    MessageStatus.SUPERSEDED: "Withdrawn before sending",
    Channel.EMAIL: "Email",
    Channel.SMS: "Text message",
    Language.ENGLISH: "English",
    Language.WELSH: "Welsh (Cymraeg)",
    JobOutcome.RUNNING: "Running",
    JobOutcome.SUCCEEDED: "Succeeded",
    "in_progress": "In progress",
    "held": "Held",
    "register_overdue": "Register overdue",
    "deadline_passed": "Deadline passed",
}


# A delivery report standing alone (a list's column) reads as a sentence of its own.
WORDS.update({value: said[:1].upper() + said[1:]
              for value, said in TEXT_DELIVERY_WORDS.items() if value not in WORDS})


def in_words(value: str) -> str:
    """Say a status, outcome, kind or decision as people read it: "Absent (excused)"."""
    if value in WORDS:
        return WORDS[value]
    # A value added without words still reads as words, never as a code.
    return value.replace("_", " ").capitalize()


def values(enum: type[StrEnum]) -> tuple[str, ...]:
    """Return an enumeration's values in order, as a CHECK constraint or a choice lists them."""
    return tuple(member.value for member in enum)
