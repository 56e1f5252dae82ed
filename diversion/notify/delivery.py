"""Deliver what is due in the outbox over SMTP, at least once and in order per booking.

One call of ``deliver_due`` is one batch:

1. Claim (one short transaction): lock due rows (``FOR UPDATE SKIP LOCKED`` on
   PostgreSQL; on SQLite, ``BEGIN IMMEDIATE`` already makes claimers take
   turns), withdraw stale reminders, build each email, count the attempt and
   lease the row by moving ``next_attempt_at`` to the end of the claim timeout.
2. Send each email, holding no transaction (SQLite's write lock must not wait
   on the network).
3. Mark each row sent, with its audit row, in a transaction of its own straight
   after its own SMTP send; or schedule the retry with backoff.

A process killed after claiming leaves rows whose lease simply runs out: they
become due again after the claim lease (``MAIL_CLAIM_LEASE_SECONDS``, default
300) and are sent by a later run. The lease must outlast the sending of one
batch, or a second sender could take rows that are still being sent.

The remaining window: killed after the SMTP server accepted a message but
before its row was marked sent, the message goes out again after the lease.
It carries the same Message-ID (derived from the idempotency key), so mail
stores and our own replay treat it as the same message. Closing the window
fully would need the SMTP server to take part in a transaction, which it cannot.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from diversion import clock
from diversion.database import is_postgresql, transaction
from diversion.domain.vocabulary import BookingStatus, MessageKind, MessageStatus
from diversion.extensions import db
from diversion.models import Booking, Enrolment, OutboxMessage
from diversion.notify.messages import Outgoing, build, envelope_address
from diversion.services import Actor, audit

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
CLAIM_TIMEOUT = timedelta(minutes=5)  # unless MAIL_CLAIM_LEASE_SECONDS says otherwise
MAX_BACKOFF = timedelta(hours=1)
SMTP_TIMEOUT_SECONDS = 30
MAILER = Actor.system("mailer")


class MailConfigError(Exception):
    """The mail settings cannot work: nothing is claimed or sent."""


@dataclass
class DeliveryResult:
    """What one or more batches did."""

    sent: int = 0
    failed: int = 0
    retrying: int = 0
    superseded: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.failed + self.retrying + self.superseded

    def __add__(self, other: DeliveryResult) -> DeliveryResult:
        return DeliveryResult(self.sent + other.sent, self.failed + other.failed,
                              self.retrying + other.retrying,
                              self.superseded + other.superseded)

    def summary(self) -> str:
        return (f"sent {self.sent}, failed {self.failed}, retry later {self.retrying}, "
                f"superseded {self.superseded}")

    def counts(self) -> dict[str, int]:
        """What the job run records, to add up over a day."""
        return {"sent": self.sent, "failed": self.failed, "retrying": self.retrying,
                "superseded": self.superseded}


@dataclass(frozen=True)
class MailSettings:
    server: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    sender: str


@dataclass(frozen=True)
class _Claimed:
    row_id: int
    kind: str
    case_id: int | None
    outgoing: Outgoing


def mail_settings(config) -> MailSettings:
    """Read and check the mail settings, or raise MailConfigError."""
    server = (config.get("MAIL_SERVER") or "").strip()
    if not server:
        raise MailConfigError("MAIL_SERVER is not set")
    try:
        port = int(config.get("MAIL_PORT"))
    except (TypeError, ValueError):
        raise MailConfigError("MAIL_PORT is not a number") from None
    if not 0 < port < 65536:
        raise MailConfigError("MAIL_PORT is out of range")
    sender = config.get("MAIL_SENDER") or ""
    try:
        envelope_address(sender)
    except (TypeError, ValueError):
        raise MailConfigError("MAIL_SENDER is not a plain email address") from None
    username = config.get("MAIL_USERNAME") or None
    password = config.get("MAIL_PASSWORD") or None
    if username and not password:
        raise MailConfigError("MAIL_USERNAME is set without MAIL_PASSWORD")
    return MailSettings(server=server, port=port, username=username, password=password,
                        use_tls=bool(config.get("MAIL_USE_TLS")), sender=sender)


def deliver_due(limit: int = 100) -> DeliveryResult:
    """Send one batch of due outbox rows; return what happened to them."""
    settings = mail_settings(current_app.config)
    result = DeliveryResult()
    claimed = _claim(limit, settings, result)
    with _Connection(settings) as smtp:
        for index, item in enumerate(claimed):
            try:
                smtp.ensure_connected()
            except (smtplib.SMTPException, OSError) as error:
                # The server is unreachable: every row left in the batch waits.
                for rest in claimed[index:]:
                    _retry_later(rest, error, result)
                break
            try:
                smtp.send(item.outgoing)
            except (smtplib.SMTPException, OSError) as error:
                smtp.drop()
                if _permanent(error):
                    _give_up(item, error, result)
                else:
                    _retry_later(item, error, result)
                continue
            _mark_sent(item, result)
    return result


def deliver_all(limit: int = 100, max_batches: int = 1000) -> DeliveryResult:
    """Run batches until nothing is due (retries are due later, so this ends)."""
    total = DeliveryResult()
    for _ in range(max_batches):
        batch = deliver_due(limit)
        total += batch
        if batch.handled == 0:
            break
    return total


def backoff(attempts: int) -> timedelta:
    """Return the wait after a failed attempt: 1, 2, 4, 8 ... minutes, at most an hour."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _due(now: datetime) -> sa.Select:
    earlier = so.aliased(OutboxMessage)
    # An update or cancellation must not overtake the invitation it follows:
    # clients drop a CANCEL for a UID they have not seen, and the later REQUEST
    # would then put a cancelled session in the calendar. A stuck reminder
    # never holds anything back.
    overtaking = (
        sa.select(earlier.id)
        .where(earlier.booking_id == OutboxMessage.booking_id,
               earlier.id < OutboxMessage.id,
               earlier.status == MessageStatus.PENDING,
               earlier.kind != MessageKind.REMINDER)
        .exists()
    )
    query = (
        sa.select(OutboxMessage)
        .where(OutboxMessage.status == MessageStatus.PENDING,
               OutboxMessage.next_attempt_at <= now,
               OutboxMessage.due_at <= now,
               ~overtaking)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
    )
    if is_postgresql():
        # Two senders each take different rows instead of queueing on the same ones.
        query = query.with_for_update(skip_locked=True, of=OutboxMessage)
    return query


def claim_lease(config) -> timedelta:
    """Return how long a claimed row stays out of other senders' reach."""
    seconds = config.get("MAIL_CLAIM_LEASE_SECONDS")
    return timedelta(seconds=int(seconds)) if seconds else CLAIM_TIMEOUT


def _claim(limit: int, settings: MailSettings, result: DeliveryResult) -> list[_Claimed]:
    claimed: list[_Claimed] = []
    lease = claim_lease(current_app.config)
    with transaction():
        now = clock.now()
        rows = db.session.scalars(_due(now).limit(limit)).all()
        for row in rows:
            if row.kind == MessageKind.REMINDER and _reminder_is_stale(row, now):
                row.status = MessageStatus.SUPERSEDED
                result.superseded += 1
                continue
            if row.attempts >= MAX_ATTEMPTS:
                # Only a row whose sender kept dying gets here; stop feeding it to them.
                _fail(row, "gave up after repeated interrupted attempts", now)
                result.failed += 1
                continue
            try:
                outgoing = build(row, sender=settings.sender, now=now)
            except (ValueError, KeyError, TypeError) as error:
                _fail(row, f"cannot build message: {error}", now)
                result.failed += 1
                continue
            if row.claimed_at is not None:
                log.warning("outbox %s: resending after an interrupted run (same Message-ID)",
                            row.id)
            row.attempts += 1
            row.claimed_at = now
            row.next_attempt_at = now + lease
            claimed.append(_Claimed(row_id=row.id, kind=row.kind,
                                    case_id=_case_id(row.enrolment_id), outgoing=outgoing))
    return claimed


def _reminder_is_stale(row: OutboxMessage, now: datetime) -> bool:
    booking = db.session.get(Booking, row.booking_id) if row.booking_id else None
    if booking is None or booking.status != BookingStatus.BOOKED:
        return True
    starts_at = booking.session.starts_at
    if starts_at != datetime.fromisoformat(row.payload["starts_at"]):
        return True
    # Mail held up past the session (a long SMTP outage) would only confuse.
    return starts_at <= now


def _case_id(enrolment_id: int | None) -> int | None:
    if enrolment_id is None:
        return None
    return db.session.scalar(sa.select(Enrolment.case_id).where(Enrolment.id == enrolment_id))


def _mark_sent(item: _Claimed, result: DeliveryResult) -> None:
    with transaction():
        row = db.session.get_one(OutboxMessage, item.row_id)
        now = clock.now()
        row.status = MessageStatus.SENT
        row.sent_at = now
        row.message_id = item.outgoing.message_id
        row.subject = item.outgoing.subject[:200]
        row.last_error = None
        audit.record(MAILER, "disclose", "message", row.id, case_id=item.case_id,
                     detail={"kind": item.kind, "recipient": item.outgoing.recipient,
                             "message_id": item.outgoing.message_id})
    result.sent += 1


def _retry_later(item: _Claimed, error: BaseException, result: DeliveryResult) -> None:
    with transaction():
        row = db.session.get_one(OutboxMessage, item.row_id)
        now = clock.now()
        if row.attempts >= MAX_ATTEMPTS:
            _fail(row, _describe(error), now)
            result.failed += 1
            return
        row.claimed_at = None
        row.next_attempt_at = now + backoff(row.attempts)
        row.last_error = _describe(error)
    result.retrying += 1


def _give_up(item: _Claimed, error: BaseException, result: DeliveryResult) -> None:
    with transaction():
        row = db.session.get_one(OutboxMessage, item.row_id)
        _fail(row, _describe(error), clock.now())
    result.failed += 1


def _fail(row: OutboxMessage, reason: str, now: datetime) -> None:
    row.status = MessageStatus.FAILED
    row.failed_at = now
    row.claimed_at = None
    row.next_attempt_at = now
    row.last_error = reason[:500]
    log.error("outbox %s failed: %s", row.id, row.last_error)


def _permanent(error: BaseException) -> bool:
    # A 5xx refusal of the recipient will not change by asking again.
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    return False


def _describe(error: BaseException) -> str:
    # Never the password or the message: the class and the server's own words.
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        detail = f"{error.smtp_code} {text}"
    elif isinstance(error, smtplib.SMTPRecipientsRefused):
        detail = "; ".join(f"{code}" for code, _ in error.recipients.values())
    else:
        detail = str(error)
    return f"{type(error).__name__}: {detail}"[:500]


class _Connection:
    """One SMTP connection per batch, opened when first needed, reopened after an error."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> _Connection:
        return self

    def __exit__(self, *_exc) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self.drop()

    def ensure_connected(self) -> None:
        if self.smtp is not None:
            return
        s = self.settings
        smtp = smtplib.SMTP(s.server, s.port, timeout=SMTP_TIMEOUT_SECONDS)
        try:
            if s.use_tls:
                smtp.starttls(context=ssl.create_default_context())
            if s.username:
                smtp.login(s.username, s.password or "")
        except BaseException:
            smtp.close()
            raise
        self.smtp = smtp

    def send(self, outgoing: Outgoing) -> None:
        assert self.smtp is not None
        # Explicit envelope: exactly the one recipient, whatever the headers say.
        self.smtp.send_message(outgoing.message, from_addr=outgoing.envelope_from,
                               to_addrs=[outgoing.recipient])

    def drop(self) -> None:
        if self.smtp is not None:
            self.smtp.close()
        self.smtp = None
