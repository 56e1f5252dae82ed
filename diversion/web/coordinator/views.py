"""Course coordinator pages: the calendar of sessions and the participants."""

from __future__ import annotations

from flask import render_template, request

from diversion.services import enrolments
from diversion.web.coordinator import bp
from diversion.web.roles import actor, role_required

PER_PAGE = 50


@bp.get("/sessions")
@role_required("coordinator")
def week():
    """Show the week's sessions with their fill levels."""
    return render_template("coordinator/week.html", sessions=[], title="Sessions")


@bp.get("/participants", endpoint="enrolments")
@role_required("coordinator")
def enrolments_():
    """List enrolled participants (no case or screening detail)."""
    after = request.args.get("after", type=int)
    rows = enrolments.list_enrolments(actor(), after_id=after, limit=PER_PAGE)
    return render_template("coordinator/enrolments.html", enrolments=rows, per_page=PER_PAGE,
                           title="Participants")
