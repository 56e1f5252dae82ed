"""The jobs themselves: thin, each one service call inside an exactly-once run."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from diversion import clock
from diversion.jobs.runs import run_once

log = logging.getLogger(__name__)
LONDON = ZoneInfo("Europe/London")


def mail_slot(now: datetime, interval_seconds: int) -> datetime:
    """Return the start of the mail interval containing ``now``."""
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % interval_seconds, tz=now.tzinfo)


def daily_slot(now: datetime, at: str) -> datetime:
    """Return today's scheduled local time for a daily job (as an aware instant)."""
    hour, minute = (int(part) for part in at.split(":"))
    local_day = now.astimezone(LONDON).date()
    return datetime.combine(local_day, time(hour, minute), tzinfo=LONDON)


def deliver_mail() -> str | None:
    """Deliver what is due in the outbox."""
    from diversion.notify import delivery

    interval = current_app.config["SCHEDULER_MAIL_INTERVAL_SECONDS"]
    slot = mail_slot(clock.now(), interval)

    def work() -> str:
        total = delivery.deliver_all()
        return total.summary() if hasattr(total, "summary") else str(total)

    return run_once("send_mail", slot, work)


def sweep() -> str | None:
    """Run the compliance sweep once for today's slot."""
    from diversion.services import compliance

    slot = daily_slot(clock.now(), current_app.config["SCHEDULER_SWEEP_AT"])
    return run_once("sweep", slot, lambda: compliance.sweep().summary())


def digest() -> str | None:
    """Queue each case officer's daily digest of new flags."""
    from diversion.services import digests

    slot = daily_slot(clock.now(), current_app.config.get("SCHEDULER_DIGEST_AT", "07:00"))
    since = slot - timedelta(days=1)
    return run_once("digest", slot, lambda: digests.queue_digests(since))


def retention() -> str | None:
    """Erase personal data past its retention date."""
    from diversion.services import retention as retention_service

    slot = daily_slot(clock.now(), current_app.config.get("SCHEDULER_RETENTION_AT", "02:30"))
    return run_once("retention", slot, lambda: retention_service.erase_expired().summary())
