"""The training environment: moving its clock for every process at once."""

from __future__ import annotations

from datetime import date, datetime

from diversion import clock
from diversion.database import transaction
from diversion.domain.training import moved_clock
from diversion.domain.vocabulary import LONDON, Role
from diversion.services import Actor, Forbidden, audit


def move_clock(actor: Actor, move: str, day: date | None = None) -> datetime:
    """Move the training clock forward (a day, a week, or to 9am on a date); audited."""
    actor.require(Role.ADMIN)
    if not clock.training_clock_in_use():
        raise Forbidden()
    now = clock.now()
    target = moved_clock(now, move, day, LONDON)
    with transaction():
        audit.record(actor, "move_clock", "training_clock",
                     detail={"from": now.isoformat(), "to": target.isoformat()})
        # Last: a clock that could not be moved leaves no audit row saying it was.
        clock.move_training_clock(target)
    return target
