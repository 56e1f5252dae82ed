"""Waitlists: people waiting for a place in a full session."""

from diversion.api import Blueprint
from diversion.api.auth import current_actor, requires
from diversion.api.schemas import WaitlistEntryOut, WaitlistIn, WaitlistList
from diversion.domain.vocabulary import Role
from diversion.services import waitlist

bp = Blueprint("waitlist", __name__, url_prefix="/api/v1", description="Waitlists")


@bp.post("/sessions/<int:session_id>/waitlist")
@bp.arguments(WaitlistIn)
@bp.response(201, WaitlistEntryOut)
@bp.refuses(409, "places_available", "already_on_waitlist", "already_booked",
            "changed_meanwhile")
@bp.refuses(422, "module_already_attended", "after_deadline", "session_in_past",
            "session_cancelled", "enrolment_closed", "outside_follow_up_window",
            description="The participant could never take this session")
@requires(Role.COORDINATOR)
def add(data, session_id):
    """Put a participant on a full session's waitlist; a free place is booked instead."""
    return waitlist.add(current_actor(), session_id, data["enrolment_id"])


@bp.get("/sessions/<int:session_id>/waitlist")
@bp.response(200, WaitlistList)
@requires(Role.COORDINATOR)
def index(session_id):
    """List a session's waitlist in order: the first is offered the next free place."""
    return {"items": waitlist.read_list(current_actor(), session_id), "next": None}


@bp.delete("/waitlist/<int:entry_id>")
@bp.response(204)
@requires(Role.COORDINATOR)
def remove(entry_id):
    """Take someone off a waitlist."""
    waitlist.remove(current_actor(), entry_id)
