"""The one clock: the only module that reads the real time.

``DIVERSION_NOW`` (config or environment) pins "now" for demos and tests, so web,
API, CLI and jobs all move together.

The training environment (``DIVERSION_ENV=training``) has a clock of its own: the
real time moved forward by an offset kept in a file under ``instance/``, which
every process started from that directory reads, so an administrator who moves it
moves it for web, API, CLI and the scheduler at once. It ticks like a real clock
between moves, and only ever moves forward.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from diversion.domain.vocabulary import LONDON

_override: datetime | None = None
_training_file: Path | None = None
# The offset last read from the training file, and the file's identity when read.
_training_cache: tuple[tuple[int, int, int], timedelta] | None = None


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
    if _training_file is not None:
        return datetime.now(UTC) + _training_offset(_training_file)
    pinned = os.environ.get("DIVERSION_NOW")
    if pinned:
        return parse_instant(pinned)
    return datetime.now(UTC)


def unmoved_now() -> datetime:
    """Return now without the training clock's moves.

    Sign-in codes come from authenticator apps that keep the real time, and how long
    someone has been signed in is real elapsed time: moving the training clock must
    neither refuse every code nor sign everyone out.
    """
    if _override is None and _training_file is not None:
        return datetime.now(UTC)
    return now()


def today(tz: ZoneInfo = LONDON) -> date:
    """Return today's date where the programme runs (Europe/London by default)."""
    return now().astimezone(tz).date()


def monotonic() -> float:
    """Return seconds on a clock that never goes back, for durations within a process."""
    return time.monotonic()


# ---- the training clock ---------------------------------------------------------

TRAINING_FILE = "training_clock.json"


def use_training_clock(instance: Path | None, starts_at: datetime | str | None = None) -> None:
    """Read the training clock kept in ``instance`` (None: no training clock).

    The first process to start training writes the file: the clock starts at
    ``starts_at`` (DIVERSION_NOW) or at the real time. Later processes, restarts
    included, keep the clock the file holds.
    """
    global _training_file, _training_cache
    _training_cache = None
    if instance is None:
        _training_file = None
        return
    path = instance / TRAINING_FILE
    if not path.exists():
        if isinstance(starts_at, str):
            starts_at = parse_instant(starts_at)
        offset = starts_at - datetime.now(UTC) if starts_at else timedelta(0)
        _write(path, offset, exclusive=True)
    _training_file = path


def training_clock_in_use() -> bool:
    """Say whether this process reads the training clock."""
    return _training_file is not None


def move_training_clock(to: datetime) -> datetime:
    """Move the training clock so that it reads ``to`` now; return the instant."""
    if _training_file is None:
        raise RuntimeError("the training clock is not in use")
    _write(_training_file, to.astimezone(UTC) - datetime.now(UTC), exclusive=False)
    return to.astimezone(UTC)


def _training_offset(path: Path) -> timedelta:
    global _training_cache
    stat = path.stat()
    identity = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    if _training_cache is None or _training_cache[0] != identity:
        seconds = json.loads(path.read_text())["offset_seconds"]
        _training_cache = (identity, timedelta(seconds=seconds))
    return _training_cache[1]


def _write(path: Path, offset: timedelta, *, exclusive: bool) -> None:
    # Written whole under a private name, then put in place in one step: a reader
    # never sees half a file. The first writer of an exclusive write wins.
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    draft.write_text(json.dumps({"offset_seconds": offset.total_seconds()}))
    try:
        if exclusive:
            try:
                os.link(draft, path)
            except FileExistsError:
                pass
        else:
            os.replace(draft, path)
    finally:
        draft.unlink(missing_ok=True)
