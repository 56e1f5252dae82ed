"""Venues."""

from diversion.api import Blueprint
from diversion.api.auth import current_actor, requires
from diversion.api.schemas import VenueIn, VenueList, VenueOut
from diversion.domain.vocabulary import Role
from diversion.services import venues

bp = Blueprint("venues", __name__, url_prefix="/api/v1/venues", description="Venues")


def present(venue) -> dict:
    return {"id": venue.id, "name": venue.name, "address": venue.address,
            "rooms": venue.rooms.split("\n") if venue.rooms else []}


@bp.post("")
@bp.arguments(VenueIn)
@bp.response(201, VenueOut)
@requires(Role.COORDINATOR, Role.ADMIN)
def create(data):
    """Add a venue."""
    return present(venues.create_venue(current_actor(), data["name"], data["address"],
                                       data["rooms"]))


@bp.get("")
@bp.response(200, VenueList)
@requires(Role.COORDINATOR, Role.ADMIN)
def index():
    """List venues."""
    return {"items": [present(v) for v in venues.list_venues()], "next": None}
