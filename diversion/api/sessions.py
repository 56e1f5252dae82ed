"""Sessions: publish, list, move, cancel."""

from datetime import date, datetime, time, timedelta

from diversion.api import Blueprint, next_url
from diversion.api.auth import current_actor, requires
from diversion.api.schemas import (
    SeriesIn,
    SeriesOut,
    SessionCancelIn,
    SessionCancelOut,
    SessionChangeOut,
    SessionIn,
    SessionList,
    SessionOut,
    SessionPatch,
    SessionQuery,
)
from diversion.domain.vocabulary import LONDON, Role
from diversion.services import rebooking, sessions

bp = Blueprint("sessions", __name__, url_prefix="/api/v1/sessions",
               description="Sessions and series")


@bp.post("")
@bp.arguments(SessionIn)
@bp.response(201, SessionOut)
@bp.refuses(422, "session_in_past", "public_holiday")
@requires(Role.COORDINATOR)
def create(data):
    """Publish one session (never in the past or on a public holiday)."""
    return sessions.publish_session(current_actor(), **data)


@bp.post("/series")
@bp.arguments(SeriesIn)
@bp.response(201, SeriesOut)
@bp.refuses(422, "session_in_past", "public_holiday")
@requires(Role.COORDINATOR)
def create_series(data):
    """Publish a series at one local time; holiday dates move to the next day and are listed."""
    items, moved = sessions.publish_series(current_actor(), **data)
    return {"items": items, "moved": moved}


@bp.get("")
@bp.arguments(SessionQuery, location="query")
@bp.response(200, SessionList)
@requires(Role.COORDINATOR)
def index(query):
    """List sessions by start time, with how many are booked."""
    start = query.get("from_")
    end = query.get("to")
    # A date means the whole local day: from its midnight to the next midnight.
    if isinstance(start, date) and not isinstance(start, datetime):
        start = datetime.combine(start, time(0), tzinfo=LONDON)
    if isinstance(end, date) and not isinstance(end, datetime):
        end = datetime.combine(end + timedelta(days=1), time(0), tzinfo=LONDON)
    rows = sessions.list_sessions(
        programme_id=query.get("programme_id"),
        start=start,
        end=end,
        module=query.get("module"),
        venue_id=query.get("venue_id"),
        after_id=query.get("after"),
        limit=query["limit"],
    )
    return {"items": rows, "next": next_url("sessions.index", rows, query["limit"])}


@bp.get("/<int:session_id>")
@bp.response(200, SessionOut)
@requires(Role.COORDINATOR)
def show(session_id):
    """Show one session."""
    return sessions.get_session(session_id)


@bp.patch("/<int:session_id>")
@bp.arguments(SessionPatch)
@bp.response(200, SessionChangeOut)
@bp.refuses(409, "capacity_below_booked", "changed_meanwhile")
@bp.refuses(422, "session_cancelled", "session_in_past", "public_holiday", "spacing",
            "module_order", "after_deadline", "outside_follow_up_window")
@requires(Role.COORDINATOR)
def move(data, session_id):
    """Move a session or change its venue or capacity; booked participants are told.

    A new time that would break a booking rule for anyone booked is refused (422, one
    error per person with their `enrolment_id`) unless `rebook` is true: then the change
    goes ahead and each person it breaks is re-planned.
    """
    return rebooking.change_session(current_actor(), session_id, **data)


@bp.post("/<int:session_id>/cancel")
@bp.arguments(SessionCancelIn)
@bp.response(200, SessionCancelOut)
@bp.refuses(422, "session_cancelled")
@requires(Role.COORDINATOR)
def cancel(data, session_id):
    """Cancel a session; with rebook, move each participant into the next suitable one."""
    return rebooking.cancel_session(current_actor(), session_id, reason=data["reason"],
                                   rebook=data["rebook"])
