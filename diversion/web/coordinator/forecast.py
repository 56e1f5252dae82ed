"""The coordinator's capacity forecast: each module's places week by week against the places
published, and the sessions to publish, each a link to the publish form filled in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import render_template, request, url_for
from wtforms import SelectChoice

from diversion.domain.dates import format_short_month
from diversion.domain.forecast import WEEK, SuggestedSession, WeekLine, module_order
from diversion.domain.vocabulary import LONDON, Role
from diversion.services import forecast as forecast_service
from diversion.services.forecast import ProgrammeForecast
from diversion.services.programmes import list_programmes
from diversion.web.charts import ColumnChart, Series, columns
from diversion.web.coordinator import bp
from diversion.web.coordinator.forms import ForecastForm
from diversion.web.roles import actor, role_required

DEFAULT_WEEKS = 12


@dataclass(frozen=True)
class WeekRow:
    line: WeekLine
    sessions: int
    publish_url: str | None


@dataclass(frozen=True)
class SeriesLink:
    url: str
    count: int
    first: SuggestedSession


@dataclass(frozen=True)
class ModuleView:
    module: int
    rows: list[WeekRow]
    chart: ColumnChart
    series: list[SeriesLink]

    @property
    def needed(self) -> int:
        return sum(row.line.seats_needed for row in self.rows)

    @property
    def shortfall(self) -> int:
        return sum(row.line.shortfall for row in self.rows)


@bp.get("/forecast")
@role_required(Role.COORDINATOR)
def forecast():
    """Show each module's places needed week by week against those published, and the
    sessions to publish."""
    programmes = list_programmes()
    args = request.args.copy()
    args.setdefault("weeks", str(DEFAULT_WEEKS))
    if programmes:
        # Until another is chosen the first programme is shown (often the only one).
        args.setdefault("programme_id", str(programmes[0].id))
    form = ForecastForm(args, meta={"csrf": False})
    form.programme_id.choices = [SelectChoice(str(p.id), p.name) for p in programmes]
    shown = None
    if programmes and form.validate():
        report = forecast_service.forecast(actor(), weeks=form.weeks.data,
                                           programme_id=form.programme_id.data)
        (shown,) = report.programmes
    return render_template(
        "coordinator/forecast.html", form=form, shown=shown, several=len(programmes) > 1,
        short_date=short_date,
        modules=_modules(shown, form.weeks.data) if shown else [], title="Capacity forecast")


def week_label(week: date) -> str:
    return f"{week.day} {format_short_month(week)}"


def short_date(day: date) -> str:
    """Write a date as a narrow table column shows it: 4 Jan 2027."""
    return f"{week_label(day)} {day.year}"


def _modules(shown: ProgrammeForecast, weeks: int) -> list[ModuleView]:
    result = shown.forecast
    peak = max((max(line.seats_needed, line.seats_published) for line in result.lines),
               default=0)
    modules = sorted({line.module for line in result.lines}, key=module_order)
    views = []
    for module in modules:
        lines = result.module_lines(module)
        suggested = [s for s in result.suggestions if s.module == module]
        rows = []
        for line in lines:
            this_week = [s for s in suggested if s.week_start == line.week_start]
            url = _publish_url(shown.programme.id, this_week[0], weeks) if this_week else None
            rows.append(WeekRow(line, len(this_week), url))
        chart = columns(
            [week_label(line.week_start) for line in lines],
            [Series("needed", "Places needed", [line.seats_needed for line in lines]),
             Series("published", "Places free", [line.seats_published for line in lines])],
            peak=peak, width=460, height=200, most_labels=6)
        views.append(ModuleView(module, rows, chart,
                                _series_links(shown.programme.id, suggested, weeks)))
    return views


def _prefill(programme_id: int, suggestion: SuggestedSession, weeks: int) -> dict:
    args: dict = {"programme_id": programme_id, "module": suggestion.module,
                  "capacity": suggestion.capacity, "from": "forecast", "weeks": weeks}
    if suggestion.venue_id is not None:
        args["venue_id"] = suggestion.venue_id
    if suggestion.starts_at is not None:
        local = suggestion.starts_at.astimezone(LONDON)
        args["date"] = local.date().isoformat()
        args["time"] = f"{local:%H:%M}"
    return args


def _publish_url(programme_id: int, suggestion: SuggestedSession, weeks: int) -> str:
    return url_for(".new_session", **_prefill(programme_id, suggestion, weeks))


def _series_links(programme_id: int, suggested: list[SuggestedSession],
                  weeks: int) -> list[SeriesLink]:
    """Offer a weekly series for each run of two or more weeks in a row that need sessions."""
    first_of_week: dict[date, SuggestedSession] = {}
    for s in suggested:
        if s.starts_at is not None:
            first_of_week.setdefault(s.week_start, s)
    runs: list[list[SuggestedSession]] = []
    for week in sorted(first_of_week):
        if runs and runs[-1][-1].week_start + WEEK == week:
            runs[-1].append(first_of_week[week])
        else:
            runs.append([first_of_week[week]])
    links = []
    for run in runs:
        if len(run) < 2:
            continue
        args = {**_prefill(programme_id, run[0], weeks), "count": len(run), "interval_days": 7}
        links.append(SeriesLink(url_for(".new_series", **args), len(run), run[0]))
    return links
