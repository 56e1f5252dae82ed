"""Outcome reports: administrators see every force, case officers their own."""

from diversion.api import Blueprint
from diversion.api.auth import current_actor, requires
from diversion.api.schemas import OutcomeQuery, OutcomeReportOut
from diversion.domain.vocabulary import Role
from diversion.services import reports

bp = Blueprint("reports", __name__, url_prefix="/api/v1/reports", description="Reports")


@bp.get("/outcomes")
@bp.arguments(OutcomeQuery, location="query")
@bp.response(200, OutcomeReportOut)
@requires(Role.ADMIN, Role.CASE_OFFICER)
def outcomes(query):
    """Count the outcomes of the enrolments started in a period, by force and by month."""
    return reports.outcomes(current_actor(), start=query.get("from_"), end=query.get("to"))
