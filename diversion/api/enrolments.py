"""Enrolments: progress, flags and bookings."""

from flask_smorest import Blueprint

from diversion.api import next_url, present
from diversion.api.auth import current_actor, requires
from diversion.api.schemas import EnrolmentList, EnrolmentOut, EnrolmentQuery
from diversion.services import enrolments

bp = Blueprint("enrolments", __name__, url_prefix="/api/v1/enrolments",
               description="Enrolments and their progress")


@bp.get("")
@bp.arguments(EnrolmentQuery, location="query")
@bp.response(200, EnrolmentList)
@requires("case_officer", "coordinator")
def index(query):
    """List enrolments you may see, filtered by status or open flag."""
    actor = current_actor()
    rows = enrolments.list_enrolments(
        actor,
        status=query.get("status"),
        flag=query.get("flag"),
        after_id=query.get("after"),
        limit=query["limit"],
    )
    return {
        "items": [present.enrolment(e, actor.role) for e in rows],
        "next": next_url("enrolments.index", rows, query["limit"]),
    }


@bp.get("/<int:enrolment_id>")
@bp.response(200, EnrolmentOut)
@requires("case_officer", "coordinator")
def show(enrolment_id):
    """Show an enrolment (the coordinator's view omits case and screening detail)."""
    actor = current_actor()
    return present.enrolment(enrolments.get_enrolment(actor, enrolment_id), actor.role)
