"""iCalendar objects for participants: iMIP invitations and the private feed.

Everything here follows docs/calendar.md. What reaches a participant's
calendar must not reveal the programme (docs/domain.md, "Privacy"), so text is
sanitised and checked for disclosing words before it is written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event, vCalAddress

from diversion.calendar.timezones import vtimezone
from diversion.domain.privacy import DISCLOSING_WORDS, disclosing_words
from diversion.domain.vocabulary import LONDON_TZID

__all__ = [
    "DISCLOSING_WORDS",
    "PRODID",
    "Appointment",
    "clean_email",
    "clean_text",
    "feed",
    "invitation",
]

PRODID = "-//Appointments//Calendar//EN"
METHODS = frozenset({"REQUEST", "CANCEL"})
FEED_REFRESH = timedelta(hours=1)

# A plain addr-spec: no display name, no list, nothing a content line or a
# parameter could be split on.
_EMAIL = re.compile(r"[^\s@:;,<>()\[\]\"\\]+@[^\s@:;,<>()\[\]\"\\]+\.[^\s@:;,<>()\[\]\"\\]+")
_LINE_BREAKS = re.compile(r"[\r\n\u0085\u2028\u2029]+")
_SPACES = re.compile(r"[ \t]+")


@dataclass(frozen=True)
class Appointment:
    """One booked session as the participant's calendar sees it."""

    uid: str  # stable per booking, e.g. "booking-123-<random>@diversion.invalid"
    sequence: int
    starts_at: datetime  # aware
    ends_at: datetime  # aware
    summary: str  # the programme's neutral invite_title, e.g. "Appointment"
    location: str  # venue name and address (one string)
    description: str  # what to bring, contact number; nothing about the case
    cancelled: bool = False
    # When the appointment last changed (booked, moved, its outcome recorded): the
    # feed's DTSTAMP and LAST-MODIFIED, so an unchanged feed reads the same each hour.
    changed_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.uid or any(ch.isspace() or _is_control(ch) for ch in self.uid):
            raise ValueError("uid must be non-empty, without spaces or control characters")
        if isinstance(self.sequence, bool) or not isinstance(self.sequence, int):
            raise ValueError("sequence must be an int")
        if self.sequence < 0:
            raise ValueError("sequence must not be negative")
        for name in ("starts_at", "ends_at"):
            _require_aware(getattr(self, name), name)
        if self.changed_at is not None:
            _require_aware(self.changed_at, "changed_at")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")


def invitation(
    appt: Appointment,
    *,
    organizer: str,
    attendee: str,
    attendee_name: str | None,
    dtstamp: datetime,
    tzid: str = LONDON_TZID,
    method: str = "REQUEST",
) -> bytes:
    """Render one iMIP REQUEST or CANCEL for one attendee as iCalendar bytes."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, not {method!r}")
    if appt.cancelled and method == "REQUEST":
        # A REQUEST carrying STATUS:CANCELLED leaves the event in most calendars.
        raise ValueError("a cancelled appointment must be sent with method CANCEL")
    zone = _zone(tzid)
    cal = _calendar(tzid)
    cal.add("METHOD", method)

    event = _event(appt, dtstamp=dtstamp, zone=zone)
    event.add("ORGANIZER", vCalAddress(f"mailto:{clean_email(organizer)}"))
    who = vCalAddress(f"mailto:{clean_email(attendee)}")
    name = _attendee_name(attendee_name)
    if name:
        who.params["CN"] = name
    who.params["ROLE"] = "REQ-PARTICIPANT"
    who.params["PARTSTAT"] = "NEEDS-ACTION"
    who.params["RSVP"] = "FALSE"
    event.add("ATTENDEE", who)
    event.add("STATUS", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    cal.add_component(event)
    return cal.to_ical()


def feed(
    appts: Iterable[Appointment],
    *,
    dtstamp: datetime,
    name: str,
    tzid: str = LONDON_TZID,
) -> bytes:
    """Render a participant's subscribable feed of their appointments, past and to come.

    ``dtstamp`` stands in for an appointment that does not say when it last changed.
    """
    zone = _zone(tzid)
    cal = _calendar(tzid)
    cal.calendar_name = _clean_public_text(name, "name")  # writes NAME and X-WR-CALNAME
    # RFC 7986 requires the VALUE parameter; icalendar's property setter omits it.
    cal.add("REFRESH-INTERVAL", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("X-PUBLISHED-TTL", "PT1H")

    seen: set[str] = set()
    live = sorted(
        (appt for appt in appts if not appt.cancelled),
        key=lambda appt: (appt.starts_at, appt.uid),
    )
    for appt in live:
        # One UID per session: two entries with one UID would make clients keep
        # whichever they read last, which is not necessarily the booked one.
        if appt.uid in seen:
            raise ValueError(f"duplicate uid in feed: {appt.uid!r}")
        seen.add(appt.uid)
        event = _event(appt, dtstamp=appt.changed_at or dtstamp, zone=zone)
        if appt.changed_at is not None:
            event.add("LAST-MODIFIED", appt.changed_at.astimezone(UTC).replace(microsecond=0))
        event.add("STATUS", "CONFIRMED")
        # Shared and delegated calendars show a private event as busy time only.
        event.add("CLASS", "PRIVATE")
        cal.add_component(event)
    return cal.to_ical()


def clean_text(value: str) -> str:
    """Return value on one line, without control characters."""
    if not isinstance(value, str):
        raise TypeError(f"expected str, got {type(value).__name__}")
    # Line breaks become spaces rather than vanishing, so "Room 1\nBlock B" keeps
    # its words apart; icalendar would escape them, but docs/calendar.md wants none.
    value = _LINE_BREAKS.sub(" ", value).replace("\t", " ")
    value = "".join(ch for ch in value if not _is_control(ch))
    # icalendar reads a typed backslash-N as its own escaped line break: keep them apart.
    value = value.replace("\\N", "\\ N")
    return _SPACES.sub(" ", value).strip()


def clean_email(value: str) -> str:
    """Return value as a bare address, or raise ValueError if it is not one."""
    if not isinstance(value, str):
        raise TypeError(f"expected str, got {type(value).__name__}")
    # Surrounding whitespace is how form input arrives; anything inside is not.
    address = value.strip()
    if address.lower().startswith("mailto:"):
        raise ValueError("pass the bare address, without mailto:")
    if any(_is_control(ch) for ch in address) or not _EMAIL.fullmatch(address):
        raise ValueError(f"not a plain email address: {value!r}")
    return address


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) == "Cc" or ch in "\u2028\u2029"


def _require_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def _zone(tzid: str) -> ZoneInfo:
    try:
        return ZoneInfo(tzid)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tzid!r}") from exc


def _clean_public_text(value: str, field: str) -> str:
    text = clean_text(value)
    disclosed = disclosing_words(text)
    if disclosed:
        raise ValueError(f"{field} would reveal the programme: {', '.join(disclosed)}")
    return text


def _attendee_name(value: str | None) -> str | None:
    if value is None:
        return None
    # A double quote in a parameter needs RFC 6868's ^' escape, which Outlook shows
    # literally; an apostrophe reads the same and needs no escape.
    return clean_text(value).replace('"', "'") or None


def _calendar(tzid: str) -> Calendar:
    cal = Calendar()
    cal.add("PRODID", PRODID)
    cal.add("VERSION", "2.0")
    cal.add("CALSCALE", "GREGORIAN")
    # Always present, even in an empty feed: a VCALENDAR needs one component, and
    # without it Outlook shows TZID times an hour off.
    cal.add_component(vtimezone(tzid))
    return cal


def _local_or_utc(instant: datetime, zone: ZoneInfo) -> datetime:
    """The instant in local time, or in UTC where the local time is ambiguous.

    A local time in the hour repeated in October names two instants, and RFC 5545
    §3.3.5 reads it as the first: UTC is the form no client can misread.
    """
    local = instant.astimezone(zone).replace(microsecond=0)
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        return instant.astimezone(UTC).replace(microsecond=0)
    return local


def _event(appt: Appointment, *, dtstamp: datetime, zone: ZoneInfo) -> Event:
    _require_aware(dtstamp, "dtstamp")
    summary = _clean_public_text(appt.summary, "summary") or "Appointment"
    event = Event()
    event.add("UID", appt.uid)
    # Assigned, never add()ed: a second add appends a second SEQUENCE, which Gmail rejects.
    event.sequence = appt.sequence
    event.add("DTSTAMP", dtstamp.astimezone(UTC).replace(microsecond=0))
    event.add("DTSTART", _local_or_utc(appt.starts_at, zone))
    event.add("DTEND", _local_or_utc(appt.ends_at, zone))
    event.add("SUMMARY", summary)
    location = _clean_public_text(appt.location, "location")
    if location:
        event.add("LOCATION", location)
    description = _clean_public_text(appt.description, "description")
    if description:
        event.add("DESCRIPTION", description)
    event.add("TRANSP", "OPAQUE")
    return event
