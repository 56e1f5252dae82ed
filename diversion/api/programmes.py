"""Programmes and their rules."""

from diversion.api import Blueprint
from diversion.api.auth import current_actor, requires
from diversion.api.schemas import ProgrammeIn, ProgrammeList, ProgrammeOut, ProgrammePatch
from diversion.domain.vocabulary import Role
from diversion.services import programmes

bp = Blueprint("programmes", __name__, url_prefix="/api/v1/programmes",
               description="Programmes and their rules")


@bp.get("")
@bp.response(200, ProgrammeList)
@requires(Role.ADMIN, Role.COORDINATOR, Role.CASE_OFFICER)
def index():
    """List programmes with their rules."""
    return {"items": programmes.list_programmes(), "next": None}


@bp.get("/<int:programme_id>")
@bp.response(200, ProgrammeOut)
@requires(Role.ADMIN, Role.COORDINATOR, Role.CASE_OFFICER)
def show(programme_id: int):
    """Show one programme with its rules."""
    return programmes.get_programme(programme_id)


@bp.post("")
@bp.arguments(ProgrammeIn)
@bp.response(201, ProgrammeOut)
@bp.refuses(422, "invalid", "invalid_text", "out_of_range", "reveals_programme",
            "unknown_holiday_region", "unsupported_timezone")
@requires(Role.ADMIN)
def create(data):
    """Add a programme; a setting not given takes its default."""
    return programmes.create_programme(current_actor(), data)


@bp.patch("/<int:programme_id>")
@bp.arguments(ProgrammePatch)
@bp.response(200, ProgrammeOut)
@bp.refuses(422, "invalid", "invalid_text", "out_of_range", "reveals_programme",
            "unknown_holiday_region", "unsupported_timezone", "programme_in_use")
@requires(Role.ADMIN)
def update(data, programme_id: int):
    """Change a programme's settings: enrolments keep the terms they were enrolled under."""
    return programmes.update_programme(current_actor(), programme_id, data).programme
