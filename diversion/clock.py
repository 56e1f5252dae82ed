"""The one clock: the only module that reads the real time.

``DIVERSION_NOW`` (config or environment) pins "now" for training, demos and
tests, so web, API, CLI and jobs all move together.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from diversion.domain.vocabulary import LONDON

_override: datetime | None = None


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 date-time that must carry an offset."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError("DIVERSION_NOW needs an offset, e.g. 2027-03-30T18:00:00+01:00")
    return value.astimezone(UTC)


def set_now(value: datetime | str | None) -> None:
    """Pin the clock (None returns it to the environment or the real time)."""
    global _override
    if isinstance(value, str):
        value = parse_instant(value)
    _override = value.astimezone(UTC) if value is not None else None


def now() -> datetime:
    """Return the current instant, aware, in UTC."""
    if _override is not None:
        return _override
    pinned = os.environ.get("DIVERSION_NOW")
    if pinned:
        return parse_instant(pinned)
    return datetime.now(UTC)


def today(tz: ZoneInfo = LONDON) -> date:
    """Return today's date where the programme runs (Europe/London by default)."""
    return now().astimezone(tz).date()
