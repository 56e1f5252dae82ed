"""The audit trail, for administrators."""

from diversion.api import Blueprint, next_url
from diversion.api.auth import current_actor, requires
from diversion.api.schemas import AuditList, AuditQuery
from diversion.domain.vocabulary import LONDON, Role
from diversion.services import audit

bp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="Audit trail")


@bp.get("")
@bp.arguments(AuditQuery, location="query")
@bp.response(200, AuditList)
@requires(Role.ADMIN)
def index(query):
    """List audit rows, oldest first: who did what to which record, when (UTC); audited."""
    rows = audit.list_events(
        current_actor(),
        case_id=query.get("case_id"),
        by=query.get("actor"),
        since=_aware(query.get("since")),
        after_id=query.get("after"),
        limit=query["limit"],
    )
    return {"items": rows, "next": next_url("audit.index", rows, query["limit"])}


def _aware(value):
    # A date-time without an offset is read in Europe/London (docs/api.md).
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=LONDON)
    return value
