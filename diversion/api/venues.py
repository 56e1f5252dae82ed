"""Venues."""

from diversion.api import Blueprint
from diversion.api.auth import current_actor, requires
from diversion.api.schemas import VenueIn, VenueList, VenueOut
from diversion.domain.vocabulary import Role
from diversion.services import venues

bp = Blueprint("venues", __name__, url_prefix="/api/v1/venues", description="Venues")


@bp.post("")
@bp.arguments(VenueIn)
@bp.response(201, VenueOut)
@requires(Role.COORDINATOR, Role.ADMIN)
def create(data):
    """Add a venue."""
    return venues.create_venue(current_actor(), data["name"], data["address"], data["rooms"])


@bp.get("")
@bp.response(200, VenueList)
@requires(Role.COORDINATOR, Role.ADMIN)
def index():
    """List venues."""
    return {"items": venues.list_venues(), "next": None}
