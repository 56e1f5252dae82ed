"""Cases: recording, screening and enrolling."""

from diversion.api import Blueprint
from diversion.api.auth import current_actor, requires
from diversion.api.schemas import (
    CaseIn,
    CaseOut,
    EnrolmentIn,
    EnrolmentOut,
    Shown,
)
from diversion.domain.vocabulary import Role
from diversion.services import cases, enrolments

bp = Blueprint("cases", __name__, url_prefix="/api/v1/cases",
               description="Cases, screening and enrolment")


@bp.post("")
@bp.arguments(CaseIn)
@bp.response(201, CaseOut)
@bp.refuses(409, "already_exists", description="The reference is already used in your force")
@requires(Role.CASE_OFFICER)
def create(data):
    """Record a case and screen it for eligibility."""
    return cases.record_case(
        current_actor(), data["reference"], data["participant"], data["screening"]
    )


@bp.get("/<int:case_id>")
@bp.response(200, CaseOut)
@requires(Role.CASE_OFFICER)
def show(case_id):
    """Show one of your force's cases with its screening result."""
    return cases.get_case(current_actor(), case_id)


@bp.post("/<int:case_id>/enrolment")
@bp.arguments(EnrolmentIn)
@bp.response(201, EnrolmentOut)
@bp.refuses(409, "already_enrolled")
@bp.refuses(422, "ineligible", "start_date_out_of_range")
@requires(Role.CASE_OFFICER)
def enrol(data, case_id):
    """Enrol an eligible case on a programme from a start date."""
    actor = current_actor()
    enrolment = enrolments.enrol(actor, case_id, data["programme_id"], data["start_date"])
    return Shown(enrolments.visible_enrolment(actor, enrolment.id), actor.role)
