"""Enrolments: progress, flags and bookings."""

from flask import request

from diversion.api import Blueprint, next_url
from diversion.api.auth import current_actor, requires
from diversion.api.schemas import (
    DecisionIn,
    DecisionOut,
    EnrolmentList,
    EnrolmentOut,
    EnrolmentQuery,
    ReferralSummaryOut,
    Shown,
)
from diversion.documents import referral_summary as referral_summary_pdf
from diversion.documents import warning_letter as warning_letter_pdf
from diversion.domain.vocabulary import Role
from diversion.services import decisions, enrolments, notices, referrals
from diversion.web.downloads import pdf_download

bp = Blueprint("enrolments", __name__, url_prefix="/api/v1/enrolments",
               description="Enrolments and their progress")


@bp.get("")
@bp.arguments(EnrolmentQuery, location="query")
@bp.response(200, EnrolmentList)
@requires(Role.CASE_OFFICER, Role.COORDINATOR)
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
        "items": [Shown(e, actor.role) for e in rows],
        "next": next_url("enrolments.index", rows, query["limit"]),
    }


@bp.get("/<int:enrolment_id>")
@bp.response(200, EnrolmentOut)
@requires(Role.CASE_OFFICER, Role.COORDINATOR)
def show(enrolment_id):
    """Show an enrolment (the coordinator's view omits case and screening detail)."""
    actor = current_actor()
    return Shown(enrolments.get_enrolment(actor, enrolment_id), actor.role)


@bp.post("/<int:enrolment_id>/decisions")
@bp.arguments(DecisionIn)
@bp.response(201, DecisionOut)
@bp.refuses(422, "enrolment_closed", "follow_up_not_due")
@requires(Role.CASE_OFFICER)
def decide(data, enrolment_id):
    """Record a decision: refer back to prosecution, continue (optionally extending), or withdraw.

    `refer` sets the status `referred` and `withdraw` sets `withdrawn`: both cancel the
    participant's future bookings (each is sent a cancellation) and close the enrolment.
    Every decision closes the open flags; a reason is required.
    """
    return decisions.decide(current_actor(), enrolment_id, **data)


@bp.get("/<int:enrolment_id>/referral-summary")
@bp.response(200, ReferralSummaryOut)
@bp.alt_response(200, schema={"type": "string", "format": "binary"},
                 content_type="application/pdf", description="The printable referral summary")
@requires(Role.CASE_OFFICER)
def referral_summary(enrolment_id):
    """The full record for a referral decision: JSON, or a PDF with Accept: application/pdf."""
    actor = current_actor()
    wants_pdf = request.accept_mimetypes.best_match(["application/json", "application/pdf"])
    if wants_pdf == "application/pdf" and request.accept_mimetypes["application/pdf"] > (
        request.accept_mimetypes["application/json"]
    ):
        summary = referrals.summary(actor, enrolment_id, form="pdf")
        return pdf_download(referral_summary_pdf.render(summary),
                            f"referral-summary-{enrolment_id}.pdf")
    return referrals.summary(actor, enrolment_id, form="json")


@bp.get("/<int:enrolment_id>/warning-letter")
@bp.response(200, schema={"type": "string", "format": "binary"}, content_type="application/pdf",
             description="The printable warning letter")
@bp.refuses(422, "would_disclose")
@requires(Role.CASE_OFFICER)
def warning_letter(enrolment_id):
    """The letter about the latest unexcused absence, to hand over in person (a PDF).

    404 when there is none: no unexcused absence still to make up, or the enrolment has
    ended. Printing it is recorded as a disclosure.
    """
    letter = notices.warning_letter(current_actor(), enrolment_id)
    return pdf_download(warning_letter_pdf.render(letter), f"letter-{enrolment_id}.pdf")
