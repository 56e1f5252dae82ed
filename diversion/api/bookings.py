"""Bookings, planning and attendance."""

from flask import Response

from diversion.api import Blueprint
from diversion.api.auth import current_actor, requires
from diversion.api.schemas import (
    AttendanceIn,
    BookingCancelIn,
    BookingIn,
    BookingOut,
    CohortPlanIn,
    CohortPlanOut,
    PlanOut,
)
from diversion.domain.vocabulary import Role
from diversion.services import attendance, bookings, invitations, planning

bp = Blueprint("bookings", __name__, url_prefix="/api/v1", description="Bookings")


@bp.post("/enrolments/<int:enrolment_id>/bookings")
@bp.arguments(BookingIn)
@bp.response(201, BookingOut)
@bp.refuses(409, "session_full", "already_booked", "changed_meanwhile")
@bp.refuses(422, "module_order", "module_already_attended", "spacing",
                "after_deadline", "session_in_past", "session_cancelled", "public_holiday",
                "enrolment_closed", "follow_up_not_due", "outside_follow_up_window")
@requires(Role.COORDINATOR)
def create(data, enrolment_id):
    """Book a participant into a session, or answer the rule that says no."""
    return bookings.book(current_actor(), enrolment_id, data["session_id"])


@bp.post("/enrolments/<int:enrolment_id>/plan")
@bp.response(201, PlanOut)
@bp.refuses(422, "after_deadline", "enrolment_closed",
            description="No complete plan exists, and nothing was booked")
@requires(Role.COORDINATOR)
def plan(enrolment_id):
    """Book every remaining module into the earliest sessions that satisfy every rule."""
    return {"bookings": planning.plan_enrolment(current_actor(), enrolment_id)}


@bp.post("/plans")
@bp.arguments(CohortPlanIn)
@bp.response(200, CohortPlanOut)
@bp.refuses(422, "too_many")
@requires(Role.COORDINATOR)
def plan_cohort(data):
    """Plan a cohort: each enrolment in turn, lowest id first; refusals do not stop the rest."""
    return planning.plan_enrolments(current_actor(), data["enrolment_ids"])


@bp.delete("/bookings/<int:booking_id>")
@bp.arguments(BookingCancelIn)
@bp.response(200, BookingOut)
@bp.refuses(422, "booking_not_active")
@requires(Role.COORDINATOR)
def cancel(data, booking_id):
    """Cancel a booking; the participant receives a cancellation."""
    return bookings.cancel_booking(current_actor(), booking_id, reason=data["reason"],
                                   requested_by=data["requested_by"])


@bp.put("/bookings/<int:booking_id>/attendance")
@bp.arguments(AttendanceIn)
@bp.response(200, BookingOut)
@bp.refuses(422, "attendance_before_start", "reason_required", "booking_cancelled",
            "enrolment_closed")
@requires(Role.COORDINATOR)
def record_attendance(data, booking_id):
    """Record whether the participant attended (only once the session has started)."""
    return attendance.record(current_actor(), booking_id, data["outcome"], data["reason"])


@bp.get("/bookings/<int:booking_id>/invite.ics")
@bp.response(200, {"type": "string"}, content_type="text/calendar",
             description="The iCalendar object (RFC 5545): METHOD:REQUEST, or CANCEL")
@bp.refuses(422, "undeliverable_address",
            description="The participant's stored address cannot receive invitations")
@requires(Role.COORDINATOR)
def invite(booking_id):
    """Return the current calendar object for this booking (REQUEST, or CANCEL if cancelled)."""
    body = invitations.current_invite(current_actor(), booking_id)
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": 'attachment; filename="invite.ics"'})
