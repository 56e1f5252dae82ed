"""GOV.UK Notify's delivery receipts: what became of each text message it accepted.

Notify calls ``POST /notify/callback`` once a message is delivered or has failed, with
its bearer token and a JSON body (``id, reference, to, status, created_at, completed_at,
sent_at, notification_type``). ``reference`` is the outbox row's id; ``id`` must be the
Notify id the row recorded, when it has recorded one already (the receipt can arrive
before the sender has marked the row sent).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from diversion import clock
from diversion.database import is_postgresql, transaction
from diversion.domain.vocabulary import FINAL_TEXT_DELIVERY, Channel, TextDelivery, values
from diversion.extensions import db
from diversion.limits import id_or_none
from diversion.models import OutboxMessage


class BadReceipt(ValueError):
    """A receipt that cannot be read; ``field`` names the part at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Receipt:
    notify_id: str
    outbox_id: int | None  # None: a reference that is not one of ours
    status: str
    reported_at: datetime | None


def read_receipt(body: object) -> Receipt | None:
    """Read Notify's callback body; None for a receipt about anything but a text message."""
    if not isinstance(body, dict):
        raise BadReceipt("body", "Send Notify's delivery receipt as a JSON object")
    if body.get("notification_type", "sms") != "sms":
        return None
    notify_id = body.get("id")
    try:
        notify_id = str(uuid.UUID(notify_id)) if isinstance(notify_id, str) else None
    except ValueError:
        notify_id = None
    if notify_id is None:
        raise BadReceipt("id", "id must be Notify's notification id")
    status = body.get("status")
    if status not in values(TextDelivery):
        raise BadReceipt("status", "status is not one of Notify's text message statuses")
    reported_at = None
    for field in ("completed_at", "sent_at", "created_at"):
        reported_at = _instant(body, field)
        if reported_at is not None:
            break
    return Receipt(notify_id=notify_id, outbox_id=id_or_none(body.get("reference")),
                   status=status, reported_at=reported_at)


def record_receipt(receipt: Receipt) -> bool:
    """Record what Notify reports about one of our text messages; False if it is not ours."""
    if receipt.outbox_id is None:
        return False
    with transaction():
        query = sa.select(OutboxMessage).where(OutboxMessage.id == receipt.outbox_id,
                                               OutboxMessage.channel == Channel.SMS)
        if is_postgresql():
            # A second receipt for the same message (Notify retries) waits for the first.
            query = query.with_for_update()
        row = db.session.scalar(query)
        if row is None or row.notify_id not in (None, receipt.notify_id):
            return False
        row.notify_id = receipt.notify_id
        if row.delivery_status in FINAL_TEXT_DELIVERY and (
                receipt.status not in FINAL_TEXT_DELIVERY):
            return True
        row.delivery_status = receipt.status
        row.delivery_reported_at = receipt.reported_at or clock.now()
    return True


def _instant(body: dict, field: str) -> datetime | None:
    value = body.get(field)
    if value is None:
        return None
    try:
        instant = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        instant = None
    if instant is None:
        raise BadReceipt(field, f"{field} must be an ISO 8601 date-time")
    # Notify writes UTC, with or without a Z.
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)
