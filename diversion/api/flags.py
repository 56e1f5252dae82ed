"""Flags: the case officer's queue."""

from diversion.api import Blueprint, next_url
from diversion.api.auth import current_actor, requires
from diversion.api.schemas import FlagList, FlagQuery
from diversion.domain.vocabulary import Role
from diversion.services import compliance

bp = Blueprint("flags", __name__, url_prefix="/api/v1/flags", description="Flags")


@bp.get("")
@bp.arguments(FlagQuery, location="query")
@bp.response(200, FlagList)
@requires(Role.CASE_OFFICER)
def index(query):
    """List your force's flags, oldest first (open by default)."""
    status = None if query["status"] == "all" else query["status"]
    rows = compliance.list_flags(current_actor(), status=status, after_id=query.get("after"),
                                 limit=query["limit"])
    return {"items": rows,
            "next": next_url("flags.index", rows, query["limit"])}
