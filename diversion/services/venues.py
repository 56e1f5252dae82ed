"""Venues where sessions are held."""

from __future__ import annotations

import sqlalchemy as sa

from diversion import clock
from diversion.database import transaction
from diversion.domain.vocabulary import Role
from diversion.extensions import db
from diversion.models import Venue
from diversion.services import Actor, NotFound, audit


def create_venue(actor: Actor, name: str, address: str, rooms: list[str] | None = None) -> Venue:
    """Add a venue."""
    actor.require(Role.COORDINATOR, Role.ADMIN)
    with transaction():
        venue = Venue(name=name.strip(), address=address.strip(),
                      rooms="\n".join(r.strip() for r in rooms or [] if r.strip()),
                      created_at=clock.now())
        db.session.add(venue)
        db.session.flush()
        audit.record(actor, "create", "venue", venue.id)
    return venue


def list_venues() -> list[Venue]:
    return list(db.session.scalars(sa.select(Venue).order_by(Venue.name, Venue.id)))


def get_venue(venue_id: int) -> Venue:
    venue = db.session.get(Venue, venue_id)
    if venue is None:
        raise NotFound("venue", venue_id)
    return venue
