"""Build the email for one outbox row: pure, no Flask, no database.

The shape follows docs/calendar.md (RFC 6047 iMIP): one recipient, and for
invitations, updates and cancellations a ``multipart/mixed`` holding a
``multipart/alternative`` (text, HTML, ``text/calendar; method=...``) and an
``invite.ics`` attachment. Reminders are text and HTML only, and so is the notice
after a missed session: the day it was missed, the day to rebook by, the number to call.

A digest goes to a case officer, not a participant: counts (new flags, completions)
and a sign-in link, never case detail, and a subject that says nothing either.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from email import policy
from email.message import EmailMessage, MIMEPart
from email.utils import format_datetime, parseaddr
from functools import cache
from typing import Protocol
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from diversion.calendar.events import clean_email, clean_text, invitation
from diversion.config import ROOT
from diversion.domain.contact import language_of
from diversion.domain.dates import format_day, format_time, format_weekday_date
from diversion.domain.privacy import disclosing_words
from diversion.domain.vocabulary import LONDON_TZID, Language, MessageKind, values
from diversion.i18n import N_, translations
from diversion.services.invitations import appointment_from_payload

__all__ = [
    "KINDS",
    "Outgoing",
    "appointment_context",
    "build",
    "day_and_time",
    "envelope_address",
    "message_id_for",
    "missed_notice_context",
    "refuse_disclosure",
    "render",
    "when",
]

TEMPLATES = ROOT / "templates" / "emails"
# Paper handed to a participant: the same words and the same checks as their mail.
LETTERS = ROOT / "templates" / "letters"
_CALENDAR_METHOD: dict[str, str] = {
    MessageKind.INVITATION: "REQUEST", MessageKind.UPDATE: "REQUEST",
    MessageKind.CANCELLATION: "CANCEL"}
_SUBJECT: dict[str, str] = {
    MessageKind.INVITATION: N_("Your appointment on %(when)s"),
    MessageKind.UPDATE: N_("Updated: your appointment is now on %(when)s"),
    MessageKind.CANCELLATION: N_("Cancelled: your appointment on %(when)s"),
    MessageKind.REMINDER: N_("Reminder: your appointment on %(when)s"),
    MessageKind.MISSED_NOTICE: N_("Missed appointment on %(when)s"),
}
# What a participant is sent about an appointment; the digest goes to staff.
KINDS = tuple(_SUBJECT)
DIGEST_SUBJECT = "Daily summary"
_LINE_BREAKS = re.compile(r"[\r\n\u0085\u2028\u2029]+")
_URL = re.compile(r"https?://[^\s<>\"']+")


class Row(Protocol):
    """What a message is built from; an OutboxMessage satisfies it."""

    kind: str
    recipient: str
    payload: dict
    idempotency_key: str
    created_at: datetime


@dataclass(frozen=True)
class Outgoing:
    """One built email and the envelope it travels in."""

    message: EmailMessage
    envelope_from: str
    recipient: str
    subject: str
    message_id: str


def build(row: Row, *, sender: str, now: datetime) -> Outgoing:
    """Build the email for one outbox row, or raise ValueError if it cannot be sent safely."""
    if row.kind not in values(MessageKind):
        raise ValueError(f"unknown message kind {row.kind!r}")
    payload = row.payload
    recipient = clean_email(row.recipient)
    envelope_from = envelope_address(sender)
    if row.kind == MessageKind.DIGEST:
        # Staff read the digest: English, like every staff page.
        language = Language.ENGLISH
        subject, text, html = _digest(payload)
    else:
        language = language_of(payload.get("language"))
        if row.kind == MessageKind.MISSED_NOTICE:
            subject, text, html = _missed_notice(payload, language)
        else:
            subject, text, html = _appointment(row.kind, payload, language)

    message_id = message_id_for(row.idempotency_key, payload.get("uid", ""), envelope_from)
    # policy.SMTP writes CRLF and refuses a header value that would fold in a new line.
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = _one_line(sender)
    message["To"] = recipient
    message["Subject"] = _one_line(subject)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    # RFC 3834: tells autoresponders (holiday replies) not to answer.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")

    method = _CALENDAR_METHOD.get(row.kind)
    if method:
        ics = invitation(
            appointment_from_payload(payload, cancelled=method == "CANCEL"),
            organizer=payload["organizer"],
            attendee=recipient,
            attendee_name=payload.get("attendee_name"),
            # The iTIP message was made when the change was queued, so a retry or a
            # resend after a crash carries the same DTSTAMP as the first attempt.
            dtstamp=row.created_at,
            tzid=payload.get("timezone") or LONDON_TZID,
            method=method,
        )
        # base64 keeps the object's CRLF line ends and 75-octet folds byte for byte;
        # 7bit or quoted-printable would let relays rewrite them.
        message.add_alternative(
            ics, maintype="text", subtype="calendar", cte="base64",
            params={"method": method, "charset": "UTF-8"},
        )
        message.add_attachment(
            ics, maintype="application", subtype="ics", cte="base64", filename="invite.ics",
        )
    for part in message.iter_parts():
        _drop_inner_mime_version(part)
    # RFC 3282: mail clients and screen readers read the message in its own language.
    # Set once the parts are in place: making a multipart moves Content-* headers down.
    message["Content-Language"] = language.value
    return Outgoing(message=message, envelope_from=envelope_from, recipient=recipient,
                    subject=subject, message_id=message_id)


def _appointment(kind: str, payload: dict, language: Language) -> tuple[str, str, str]:
    context = appointment_context(payload, language)
    starts_at = context["starts_at"]
    gettext = translations(language).gettext
    # Translators: a day and a time, as a subject line says it: Tuesday 5 January at 6pm.
    day = gettext("%(day)s at %(time)s") % {"day": format_day(starts_at, language),
                                             "time": format_time(starts_at, language)}
    subject = gettext(_SUBJECT[kind]) % {"when": day}
    text = render(f"{kind}.txt", context, language)
    html = render(f"{kind}.html", context, language)
    refuse_disclosure("subject", subject)
    # The link is not words of ours: its token may spell anything, and its address is
    # the deployment's PUBLIC_BASE_URL, which docs/operations.md says participants see.
    refuse_disclosure("text", text.replace(context["link"], "") if context["link"] else text)
    refuse_disclosure("html", html.replace(context["link"], "") if context["link"] else html)
    return subject, text, html


def appointment_context(payload: dict, language: Language = Language.ENGLISH) -> dict:
    """Say what a participant is told of one appointment: its title, time, place and number."""
    zone = ZoneInfo(payload.get("timezone") or LONDON_TZID)
    starts_at = datetime.fromisoformat(payload["starts_at"]).astimezone(zone)
    ends_at = datetime.fromisoformat(payload["ends_at"]).astimezone(zone)
    # No name: the preview on a locked phone or a shared screen shows only this.
    return {
        "title": (clean_text(payload.get("summary") or "")
                  or translations(language).gettext("Appointment")),
        "starts_at": starts_at,
        "when": when(starts_at, ends_at, language),
        "where": clean_text(payload.get("location") or ""),
        "phone": clean_text(payload.get("contact_phone") or ""),
        "link": _link(payload),
    }


def _link(payload: dict) -> str:
    """The participant's appointment link the row carries, if it is a plain http(s) address."""
    link = clean_text(payload.get("link") or "")
    return link if _URL.fullmatch(link) else ""


def _missed_notice(payload: dict, language: Language) -> tuple[str, str, str]:
    subject, context = missed_notice_context(payload, language)
    text = render("missed_notice.txt", context, language)
    html = render("missed_notice.html", context, language)
    refuse_disclosure("subject", subject)
    refuse_disclosure("text", text)
    refuse_disclosure("html", html)
    return subject, text, html


def missed_notice_context(payload: dict, language: Language = Language.ENGLISH
                          ) -> tuple[str, dict]:
    """Say the subject and what a participant is told of a session they missed."""
    zone = ZoneInfo(payload.get("timezone") or LONDON_TZID)
    starts_at = datetime.fromisoformat(payload["starts_at"]).astimezone(zone)
    rebook_by = payload.get("rebook_by")
    gettext = translations(language).gettext
    subject = gettext(_SUBJECT[MessageKind.MISSED_NOTICE]) % {
        "when": format_day(starts_at, language)}
    return subject, {
        "title": clean_text(payload.get("summary") or "") or gettext("Appointment"),
        "when": day_and_time(starts_at, language),
        "rebook_by": (format_weekday_date(date.fromisoformat(rebook_by), language)
                      if rebook_by else ""),
        "phone": clean_text(payload.get("contact_phone") or ""),
        "reference": clean_text(payload.get("reference") or ""),
    }


def _count(payload: dict, key: str) -> int:
    value = payload.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"a digest's {key} must be a count")
    return value


def _digest(payload: dict) -> tuple[str, str, str]:
    new_items = _count(payload, "new_flags")
    completed = _count(payload, "completed")
    if new_items + completed < 1:
        raise ValueError("a digest needs a positive count of new items or completions")
    sign_in_url = clean_text(payload["sign_in_url"])
    if not _URL.fullmatch(sign_in_url):
        raise ValueError("a digest needs an http(s) sign-in address")
    context = {"title": DIGEST_SUBJECT, "new_items": new_items, "completed": completed,
               "sign_in_url": sign_in_url}
    text = render("digest.txt", context)
    html = render("digest.html", context)
    refuse_disclosure("subject", DIGEST_SUBJECT)
    # The service's own address may name the organisation; the words around it may not.
    refuse_disclosure("text", text.replace(sign_in_url, ""))
    refuse_disclosure("html", html.replace(sign_in_url, ""))
    return DIGEST_SUBJECT, text, html


def message_id_for(idempotency_key: str, uid: str, sender: str) -> str:
    """Return the Message-ID for a row: the same on every attempt, so resends dedupe."""
    # The booking's random UID keeps two databases (demo, a restored copy) from
    # ever minting the same Message-ID for different mail.
    digest = hashlib.sha256(f"{idempotency_key}\n{uid}".encode()).hexdigest()[:32]
    domain = sender.rpartition("@")[2] or "diversion"
    return f"<{digest}@{domain}>"


def day_and_time(starts_at: datetime, language: str = Language.ENGLISH) -> str:
    """Say when a missed appointment was: 'Tuesday 5 January 2027 at 6pm' (local time)."""
    # Translators: the day and time of a missed appointment: Tuesday 5 January 2027 at 6pm.
    return translations(language).gettext("%(day)s at %(time)s") % {
        "day": format_weekday_date(starts_at, language),
        "time": format_time(starts_at, language)}


def when(starts_at: datetime, ends_at: datetime, language: str = Language.ENGLISH) -> str:
    """Say a session's time as people read it: 'Tuesday 5 January 2027, 6pm to 7:30pm'."""
    return translations(language).gettext("%(date)s, %(start)s to %(end)s") % {
        "date": format_weekday_date(starts_at, language),
        "start": format_time(starts_at, language),
        "end": format_time(ends_at, language),
    }


def render(template: str, context: dict, language: str = Language.ENGLISH) -> str:
    """Render one email template in a language (HTML ones autoescaped)."""
    chosen = language_of(language)
    return _environment(chosen).get_template(template).render(language=chosen.value, **context)


@cache
def _environment(language: Language) -> Environment:
    # One environment per language: installing a catalogue changes the environment's
    # globals, so two languages never share one.
    environment = Environment(
        loader=FileSystemLoader([str(TEMPLATES), str(LETTERS)]),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    # Added to the environment by the i18n extension, which mypy cannot see.
    environment.install_gettext_translations(  # type: ignore[attr-defined]
        translations(language), newstyle=True)
    return environment


def _one_line(value: str) -> str:
    return _LINE_BREAKS.sub(" ", value).strip()


def _drop_inner_mime_version(part: MIMEPart) -> None:
    # EmailMessage stamps MIME-Version on every part it creates; RFC 2045 wants
    # it once, at the top.
    del part["MIME-Version"]
    for child in part.iter_parts():
        _drop_inner_mime_version(child)


def envelope_address(sender: str) -> str:
    """Return the bare address of MAIL_SENDER, or raise ValueError."""
    _name, address = parseaddr(_one_line(sender))
    return clean_email(address)


def refuse_disclosure(part: str, text: str) -> None:
    # The calendar object checks its own fields; this covers our templates and
    # subject lines too, which an inbox shows before anything is opened.
    found = disclosing_words(text)
    if found:
        raise ValueError(f"{part} would reveal the programme: {', '.join(found)}")
