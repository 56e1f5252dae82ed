"""The mail sink: a local SMTP server that keeps every message as a file, never sends one.

``make run`` (development) and the training environment point the service's SMTP
settings at it (``flask --app wsgi mail-sink``), so a newcomer or a trainee reads at
/admin/mail exactly what participants and staff would be sent, and no message can
reach a real person. Each message is one ``.eml`` file in ``MAIL_SINK_DIR``, named
by the service's clock when it arrived, so names sort oldest first.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import secrets
import signal
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

from diversion import clock

log = logging.getLogger(__name__)

_NAME = re.compile(r"^\d{8}T\d{12}Z-\d{6}-[0-9a-f]{8}\.eml$")
# Messages kept in the same instant (a pinned clock) still sort in arrival order.
_arrivals = itertools.count(1)


@dataclass(frozen=True)
class KeptMessage:
    """One message the sink kept: its headers, and its parts when read whole."""

    name: str
    subject: str
    recipient: str
    sent_at: datetime | None
    text: str | None = None
    html: str | None = None
    calendar: bytes | None = None
    raw: bytes | None = None


def keep(folder: Path, raw: bytes) -> Path:
    """Write one message into the folder whole, readable by its owner only."""
    folder.mkdir(parents=True, exist_ok=True)
    name = (f"{clock.now():%Y%m%dT%H%M%S%f}Z-{next(_arrivals) % 1_000_000:06d}-"
            f"{secrets.token_hex(4)}.eml")
    draft = folder / f".{name}"
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(raw)
    # Put in place in one step: the page never lists half a message.
    os.replace(draft, folder / name)
    return folder / name


def kept_messages(folder: Path, limit: int = 50, skip: int = 0) -> tuple[list[KeptMessage], int]:
    """Return a page of the kept messages, newest first, from their headers alone, and
    how many there are in all."""
    if not folder.is_dir():
        return [], 0
    names = sorted((p.name for p in folder.iterdir() if _NAME.match(p.name)), reverse=True)
    messages = []
    for name in names[skip:skip + limit]:
        with open(folder / name, "rb") as handle:
            headers = BytesParser(policy=policy.default).parse(handle, headersonly=True)
        messages.append(_summary(name, headers))
    return messages, len(names)


def kept_message(folder: Path, name: str) -> KeptMessage | None:
    """Return one kept message with its text, HTML and calendar parts, or None."""
    if not _NAME.match(name) or not (folder / name).is_file():
        return None
    raw = (folder / name).read_bytes()
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    text = html = None
    calendar: bytes | None = None
    for part in message.walk():
        kind = part.get_content_type()
        if part.is_multipart():
            continue
        if kind == "text/plain" and text is None:
            text = part.get_content()
        elif kind == "text/html" and html is None:
            html = part.get_content()
        elif kind in ("text/calendar", "application/ics") and calendar is None:
            payload = part.get_payload(decode=True)
            calendar = payload if isinstance(payload, bytes) else None
    summary = _summary(name, message)
    return KeptMessage(summary.name, summary.subject, summary.recipient, summary.sent_at,
                       text=text, html=html, calendar=calendar, raw=raw)


def _summary(name: str, headers) -> KeptMessage:
    try:
        sent_at = parsedate_to_datetime(headers["Date"]) if headers["Date"] else None
    except (TypeError, ValueError):
        sent_at = None
    return KeptMessage(name=name, subject=str(headers["Subject"] or ""),
                       recipient=str(headers["To"] or ""), sent_at=sent_at)


class Handler:
    """aiosmtpd's handler: every message is accepted and kept."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server, session, envelope):
        path = keep(self.folder, envelope.original_content or envelope.content)
        log.info("mail sink: kept %s for %s", path.name, ", ".join(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def serve(folder: Path, port: int, host: str = "127.0.0.1") -> None:
    """Keep every message sent to host:port in the folder until SIGTERM or Ctrl-C."""
    from aiosmtpd.controller import Controller

    # As the scheduler does: only sigwait takes the stop signals, in ordinary code.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    # aiosmtpd logs every SMTP command; one line per message kept is enough.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    controller = Controller(Handler(folder), hostname=host, port=port)
    controller.start()
    try:
        signal.sigwait(STOP_SIGNALS)
    finally:
        controller.stop()
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        log.info("mail sink stopped")
