"""Programmes and their rules."""

from diversion.api import Blueprint
from diversion.api.auth import requires
from diversion.api.schemas import ProgrammeList
from diversion.domain.vocabulary import Role
from diversion.services.programmes import list_programmes

bp = Blueprint("programmes", __name__, url_prefix="/api/v1/programmes",
               description="Programmes and their rules")


@bp.get("")
@bp.response(200, ProgrammeList)
@requires(Role.ADMIN, Role.COORDINATOR, Role.CASE_OFFICER)
def index():
    """List programmes with their rules."""
    return {"items": list_programmes(), "next": None}
