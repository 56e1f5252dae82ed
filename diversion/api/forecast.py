"""The capacity forecast, for coordinators."""

from diversion.api import Blueprint
from diversion.api.auth import current_actor, requires
from diversion.api.schemas import ForecastOut, ForecastQuery
from diversion.domain.vocabulary import Role
from diversion.services import forecast

bp = Blueprint("forecast", __name__, url_prefix="/api/v1/forecast",
               description="Capacity forecast")


@bp.get("")
@bp.arguments(ForecastQuery, location="query")
@bp.response(200, ForecastOut)
@requires(Role.COORDINATOR)
def index(query):
    """Forecast the places each module needs week by week, and the sessions to publish."""
    return forecast.forecast(current_actor(), weeks=query["weeks"],
                             programme_id=query.get("programme_id"))
