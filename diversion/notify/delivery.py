"""Deliver what is due in the outbox, email over SMTP and text messages through GOV.UK
Notify, at least once and in order per booking.

One call of ``deliver_due`` is one batch:

1. Claim (one short transaction): lock due rows (``FOR UPDATE SKIP LOCKED`` on
   PostgreSQL; on SQLite, ``BEGIN IMMEDIATE`` already makes claimers take
   turns), withdraw stale reminders, build each email, count the attempt and
   lease the row by moving ``next_attempt_at`` to the end of the claim timeout.
2. Send each email, and hand each text message to Notify, holding no transaction
   (SQLite's write lock must not wait on the network).
3. Mark each row sent, with its audit row, in a transaction of its own straight
   after its own send; or schedule the retry with backoff (a time-out, an SMTP
   4xx, a Notify 5xx), or give up for good (a refused recipient, a Notify 400).

A process killed after claiming leaves rows whose lease simply runs out: they
become due again after the claim lease (``MAIL_CLAIM_LEASE_SECONDS``, default
300) and are sent by a later run. A batch may take longer than the lease: once
half of it has passed, the sender renews the lease on the rows it has yet to send
before its next send, and leaves alone any row another sender has claimed since
(each claim counts an attempt, and the count it left is the sender's proof that
the row is still its own). Before the renewal, no other sender could have claimed
them: their lease had not run out. So the lease need only outlast twice the
longest single send. A sender run by a job also asks the job's guard before each
batch and each send, and when the guard is lost hands the rest of its batch back.

The remaining window: killed after the SMTP server accepted a message but
before its row was marked sent, the message goes out again after the lease.
It carries the same Message-ID (derived from the idempotency key), so mail
stores and our own replay treat it as the same message. Closing the window
fully would need the SMTP server to take part in a transaction, which it cannot.
A text message has no such window: Notify is asked for the row's reference before
any second attempt (``diversion.notify.sms``).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
import sqlalchemy.orm as so
from flask import current_app

from diversion import clock
from diversion.database import is_postgresql, transaction
from diversion.domain.contact import may_text
from diversion.domain.notices import still_to_make_up
from diversion.domain.vocabulary import BookingStatus, Channel, MessageKind, MessageStatus
from diversion.extensions import db
from diversion.i18n import CatalogueMissing
from diversion.models import Booking, Enrolment, OutboxMessage
from diversion.notify import sms
from diversion.notify.messages import Outgoing, build, envelope_address
from diversion.services import Actor, audit
from diversion.services.facts import booking_facts, enrolment_facts

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
    recipient: str
    attempt: int = 0  # the row's attempts once claimed: while unchanged, the row is ours
    outgoing: Outgoing | None = None  # an email
    text: sms.Text | None = None  # a text message


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


def text_settings(config) -> sms.NotifySettings | None:
    """Read and check the GOV.UK Notify settings (None: texts are off), or raise MailConfigError."""
    try:
        return sms.notify_settings(config)
    except ValueError as error:
        raise MailConfigError(str(error)) from None


def deliver_due(limit: int = 100, guard: Callable[[], None] | None = None) -> DeliveryResult:
    """Send one batch of due outbox rows; return what happened to them.

    ``guard`` raises when the job sending this batch has lost its lock: nothing more
    is claimed or sent, and the rest of the batch is handed back.
    """
    settings = mail_settings(current_app.config)
    texts = text_settings(current_app.config)
    result = DeliveryResult()
    if guard is not None:
        guard()
    # No later than the claim: the claimed rows' lease runs at least until then + lease.
    claiming_at = clock.now()
    claimed = _claim(limit, settings, texts, result)
    # Emails go first, then texts; the hold renews and hands back in that order.
    emails = [item for item in claimed if item.outgoing is not None]
    hold = _Hold(emails + [item for item in claimed if item.text is not None],
                 claim_lease(current_app.config), guard, claiming_at)
    _send_emails(hold, len(emails), settings, result)
    if texts is not None:
        _send_texts(hold, len(emails), texts, result)
    return result


def _send_emails(hold: _Hold, count: int, settings: MailSettings,
                 result: DeliveryResult) -> None:
    claimed = hold.claimed[:count]
    if not claimed:
        return
    with _Connection(settings) as smtp:
        for index, item in enumerate(claimed):
            assert item.outgoing is not None
            try:
                smtp.ensure_connected()
            except (smtplib.SMTPException, OSError) as error:
                # The server is unreachable: every email left in the batch waits.
                for rest in claimed[index:]:
                    _retry_later(rest, _describe(error), result)
                break
            if not hold.may_send(index):
                continue
            try:
                smtp.send(item.outgoing)
            except (smtplib.SMTPException, OSError) as error:
                smtp.drop()
                if _permanent(error):
                    _give_up(item, _describe(error), result)
                else:
                    _retry_later(item, _describe(error), result)
                continue
            _mark_sent(item, result)


def _send_texts(hold: _Hold, first: int, texts: sms.NotifySettings,
                result: DeliveryResult) -> None:
    if first == len(hold.claimed):
        return
    notify = sms.Notify(texts)
    for index in range(first, len(hold.claimed)):
        item = hold.claimed[index]
        assert item.text is not None
        if not hold.may_send(index):
            continue
        try:
            notify_id = notify.send(item.text)
        except sms.NotifyError as error:
            if error.permanent:
                _give_up(item, error.description, result)
            else:
                _retry_later(item, error.description, result)
            continue
        _mark_sent(item, result, notify_id=notify_id)


def deliver_all(limit: int = 100, max_batches: int = 1000,
                guard: Callable[[], None] | None = None) -> DeliveryResult:
    """Run batches until nothing is due (retries are due later, so this ends)."""
    total = DeliveryResult()
    for _ in range(max_batches):
        batch = deliver_due(limit, guard)
        total += batch
        if batch.handled == 0:
            break
    return total


def backoff(attempts: int) -> timedelta:
    """Return the wait after a failed attempt: 1, 2, 4, 8 ... minutes, at most an hour."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def anything_due() -> bool:
    """Say whether a row is due, so that a delivery run now would have work."""
    texts = bool((current_app.config.get("NOTIFY_API_KEY") or "").strip())
    return bool(db.session.scalar(sa.select(
        _due(clock.now(), texts=texts, claiming=False).exists())))


def _due(now: datetime, *, texts: bool, claiming: bool = True) -> sa.Select:
    earlier = so.aliased(OutboxMessage)
    # An update or cancellation must not overtake the invitation it follows:
    # clients drop a CANCEL for a UID they have not seen, and the later REQUEST
    # would then put a cancelled session in the calendar. A stuck reminder or
    # notice of a missed session, neither of them calendar messages, never holds
    # anything back, and each channel keeps its own order.
    overtaking = (
        sa.select(earlier.id)
        .where(earlier.booking_id == OutboxMessage.booking_id,
               earlier.id < OutboxMessage.id,
               earlier.status == MessageStatus.PENDING,
               earlier.kind.not_in((MessageKind.REMINDER, MessageKind.MISSED_NOTICE)),
               earlier.channel == OutboxMessage.channel)
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
    if not texts:
        # Text messages wait, pending, until Notify is set up again.
        query = query.where(OutboxMessage.channel == Channel.EMAIL)
    if claiming and is_postgresql():
        # Two senders each take different rows instead of queueing on the same ones.
        query = query.with_for_update(skip_locked=True, of=OutboxMessage)
    return query


def claim_lease(config) -> timedelta:
    """Return how long a claimed row stays out of other senders' reach."""
    seconds = config.get("MAIL_CLAIM_LEASE_SECONDS")
    return timedelta(seconds=int(seconds)) if seconds else CLAIM_TIMEOUT


def _claim(limit: int, settings: MailSettings, texts: sms.NotifySettings | None,
           result: DeliveryResult) -> list[_Claimed]:
    claimed: list[_Claimed] = []
    lease = claim_lease(current_app.config)
    with transaction():
        now = clock.now()
        rows = db.session.scalars(_due(now, texts=texts is not None).limit(limit)).all()
        for row in rows:
            if ((row.kind == MessageKind.REMINDER and _reminder_is_stale(row, now))
                    or (row.kind == MessageKind.MISSED_NOTICE and _notice_is_stale(row))
                    or (row.channel == Channel.SMS and not _text_still_wanted(row))):
                row.status = MessageStatus.SUPERSEDED
                result.superseded += 1
                continue
            if row.attempts >= MAX_ATTEMPTS:
                # Only a row whose sender kept dying gets here; stop feeding it to them.
                _fail(row, "gave up after repeated interrupted attempts", now)
                result.failed += 1
                continue
            try:
                item = _build(row, settings, now)
            except (ValueError, KeyError, TypeError) as error:
                _fail(row, f"cannot build message: {error}", now)
                result.failed += 1
                continue
            except CatalogueMissing as error:
                # The deployment's fault, not the message's: it waits for the catalogue
                # to be compiled, and the rest of the outbox still goes.
                row.next_attempt_at = now + backoff(1)
                row.last_error = str(error)[:500]
                log.error("outbox %s waits: %s", row.id, error)
                result.retrying += 1
                continue
            if row.claimed_at is not None:
                log.warning("outbox %s: trying again after an interrupted run", row.id)
            row.attempts += 1
            row.claimed_at = now
            row.next_attempt_at = now + lease
            claimed.append(replace(item, attempt=row.attempts))
    return claimed


class _Hold:
    """A sender's hold on the batch it claimed: the job's guard and each row's lease."""

    def __init__(self, claimed: list[_Claimed], lease: timedelta,
                 guard: Callable[[], None] | None, claiming_at: datetime) -> None:
        self.claimed = claimed
        self.lease = lease
        self.guard = guard
        self.renew_at = claiming_at + lease / 2
        self.lost: set[int] = set()

    def may_send(self, index: int) -> bool:
        """Say whether the row at ``index`` is still this sender's to send now."""
        rest = self.claimed[index:]
        if self.guard is not None:
            try:
                self.guard()
            except Exception:
                _hand_back([item for item in rest if item.row_id not in self.lost])
                raise
        if clock.now() >= self.renew_at:
            self.renew_at = clock.now() + self.lease / 2  # read before the renewal too
            kept = _renew([item for item in rest if item.row_id not in self.lost], self.lease)
            self.lost.update(item.row_id for item in rest if item.row_id not in kept)
        if self.claimed[index].row_id in self.lost:
            log.warning("outbox %s: claimed by another sender meanwhile; left to it",
                        self.claimed[index].row_id)
            return False
        return True


def _still_ours(items: list[_Claimed]) -> sa.ColumnElement[bool]:
    return sa.and_(
        sa.tuple_(OutboxMessage.id, OutboxMessage.attempts).in_(
            [(item.row_id, item.attempt) for item in items]),
        OutboxMessage.status == MessageStatus.PENDING)


def _renew(items: list[_Claimed], lease: timedelta) -> set[int]:
    """Extend the lease of the rows still ours; return their ids."""
    if not items:
        return set()
    with transaction():
        return set(db.session.scalars(
            sa.update(OutboxMessage).where(_still_ours(items))
            .values(next_attempt_at=clock.now() + lease).returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)))


def _hand_back(items: list[_Claimed]) -> None:
    """Make the rows still ours due at once, for whoever holds the job now."""
    if not items:
        return
    with transaction():
        db.session.execute(sa.update(OutboxMessage).where(_still_ours(items))
                           .values(next_attempt_at=clock.now(), claimed_at=None)
                           .execution_options(synchronize_session=False))


def _build(row: OutboxMessage, settings: MailSettings, now: datetime) -> _Claimed:
    case_id = _case_id(row.enrolment_id)
    if row.channel == Channel.SMS:
        body = sms.build_text(row.kind, row.recipient, row.payload)
        text = sms.Text(recipient=row.recipient, body=body, reference=str(row.id),
                        look_first=row.attempts > 0)
        return _Claimed(row_id=row.id, kind=row.kind, case_id=case_id,
                        recipient=row.recipient, text=text)
    outgoing = build(row, sender=settings.sender, now=now)
    return _Claimed(row_id=row.id, kind=row.kind, case_id=case_id,
                    recipient=outgoing.recipient, outgoing=outgoing)


def _text_still_wanted(row: OutboxMessage) -> bool:
    # Consent withdrawn or the number changed since it was queued: the text must not go.
    enrolment = db.session.get(Enrolment, row.enrolment_id) if row.enrolment_id else None
    if enrolment is None:
        return False
    case = enrolment.case
    return may_text(case.phone, case.sms_consent) and case.phone == row.recipient


def _reminder_is_stale(row: OutboxMessage, now: datetime) -> bool:
    booking = db.session.get(Booking, row.booking_id) if row.booking_id else None
    if booking is None or booking.status != BookingStatus.BOOKED:
        return True
    starts_at = booking.session.starts_at
    if starts_at != datetime.fromisoformat(row.payload["starts_at"]):
        return True
    # Mail held up past the session (a long SMTP outage) would only confuse.
    return starts_at <= now


def _notice_is_stale(row: OutboxMessage) -> bool:
    # Corrected, made up, or the enrolment closed since it was queued: nothing to rebook.
    booking = db.session.get(Booking, row.booking_id) if row.booking_id else None
    return booking is None or not still_to_make_up(enrolment_facts(booking.enrolment),
                                                   booking_facts(booking))


def _case_id(enrolment_id: int | None) -> int | None:
    if enrolment_id is None:
        return None
    return db.session.scalar(sa.select(Enrolment.case_id).where(Enrolment.id == enrolment_id))


def _mark_sent(item: _Claimed, result: DeliveryResult, notify_id: str | None = None) -> None:
    try:
        _record_sent(item, notify_id)
    except sa_exc.DBAPIError as error:
        if not error.connection_invalidated:
            raise
        # The message went, and the connection was lost before the mark was committed:
        # the whole transaction was undone, so one more try on a new connection is safe,
        # where leaving the row would send the message again after its lease.
        log.warning("outbox %s: marking it sent again after a lost connection", item.row_id)
        db.session.rollback()
        _record_sent(item, notify_id)
    result.sent += 1


def _record_sent(item: _Claimed, notify_id: str | None) -> None:
    with transaction():
        row = db.session.get_one(OutboxMessage, item.row_id)
        now = clock.now()
        row.status = MessageStatus.SENT
        row.sent_at = now
        row.last_error = None
        detail: dict = {"kind": item.kind, "recipient": item.recipient}
        if item.outgoing is not None:
            row.message_id = item.outgoing.message_id
            row.subject = item.outgoing.subject[:200]
            detail["message_id"] = item.outgoing.message_id
        else:
            # The delivery status is left alone: Notify's receipt may have come first.
            row.notify_id = notify_id
            detail.update(channel=Channel.SMS.value, notify_id=notify_id)
        audit.record(MAILER, "disclose", "message", row.id, case_id=item.case_id,
                     detail=detail)


def _own(item: _Claimed) -> OutboxMessage | None:
    """Return the claimed row, locked, unless another sender has claimed it since."""
    row = db.session.get_one(OutboxMessage, item.row_id, with_for_update=True,
                             populate_existing=True)
    if row.attempts != item.attempt or row.status != MessageStatus.PENDING:
        log.warning("outbox %s: claimed by another sender meanwhile; left to it", row.id)
        return None
    return row


def _retry_later(item: _Claimed, reason: str, result: DeliveryResult) -> None:
    with transaction():
        row = _own(item)
        if row is None:
            return
        now = clock.now()
        if row.attempts >= MAX_ATTEMPTS:
            _fail(row, reason, now)
            result.failed += 1
            return
        row.claimed_at = None
        row.next_attempt_at = now + backoff(row.attempts)
        row.last_error = reason[:500]
    result.retrying += 1


def _give_up(item: _Claimed, reason: str, result: DeliveryResult) -> None:
    with transaction():
        row = _own(item)
        if row is None:
            return
        _fail(row, reason, clock.now())
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
