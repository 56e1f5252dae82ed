"""The outcome report's page and CSV download, shared by administrators (every force) and
case officers (their own): each audience's blueprint routes to these."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, render_template, request, url_for
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import DateField, SubmitField
from wtforms.validators import InputRequired

from diversion.domain.dates import format_short_month
from diversion.domain.outcomes import Outcomes
from diversion.services import InvalidInput, reports
from diversion.services.reports import OutcomeReport
from diversion.web.charts import ColumnChart, Series, columns
from diversion.web.downloads import csv_download
from diversion.web.forms import BaseForm, DateInput
from diversion.web.roles import actor

OUTCOME_SERIES = (("in_progress", "In progress"), ("completed", "Completed"),
                  ("referred", "Referred"), ("withdrawn", "Withdrawn"))


def _date_field(label: str, name: str, example: str) -> DateField:
    message = f"Enter the {label.lower()} date as a real date, like {example}"
    return DateField(label, name=name, format="%d %m %Y", widget=DateInput(),
                     description=f"For example, {example}",
                     validators=[InputRequired(message)], invalid_value_message=message)


class OutcomePeriodForm(BaseForm):
    """The report's period: read from the address, so no CSRF token."""

    start = _date_field("From", "from", "1 1 2027")
    end = _date_field("To", "to", "31 12 2027")
    submit = SubmitField("Show report", widget=GovSubmitInput())


def _period_form() -> tuple[OutcomePeriodForm, bool]:
    """Return the period form and whether it holds a period to report on."""
    if not request.args:
        start, end = reports.period(None, None)
        return OutcomePeriodForm(data={"start": start, "end": end}, meta={"csrf": False}), True
    form = OutcomePeriodForm(request.args, meta={"csrf": False})
    return form, form.validate()


def _report(form: OutcomePeriodForm) -> OutcomeReport | None:
    try:
        return reports.outcomes(actor(), start=form.start.data, end=form.end.data)
    except InvalidInput as error:
        field = form.start if error.field == "from" else form.end
        field.errors = [*field.errors, error.message]
        return None


def rate(outcomes: Outcomes) -> str:
    """Write a completion rate as people read it: 67%, or "None closed"."""
    value = outcomes.completion_rate
    return "None closed" if value is None else f"{value:.0%}"


def outcome_cells(outcomes: Outcomes) -> list[dict]:
    """Return a table row's cells for the outcomes: the counts, then the completion rate."""
    counts = (outcomes.enrolled, outcomes.in_progress, outcomes.completed, outcomes.referred,
              outcomes.withdrawn)
    return [{"text": n, "format": "numeric"} for n in counts] + [
        {"text": rate(outcomes), "format": "numeric"}]


def month_label(month: date) -> str:
    return f"{format_short_month(month)} {month:%y}"


def _chart(categories: list[str], outcomes: list[Outcomes]) -> ColumnChart:
    return columns(categories, [Series(key, label, [getattr(o, key) for o in outcomes])
                                for key, label in OUTCOME_SERIES], stacked=True)


def render_outcomes(page_endpoint: str, csv_endpoint: str) -> str:
    """Show the outcome report for the period asked (the last twelve months by default)."""
    form, ready = _period_form()
    report = _report(form) if ready else None
    charts = {}
    download = None
    if report is not None:
        charts["months"] = _chart([month_label(m.month) for m in report.months],
                                  [m.outcomes for m in report.months])
        if len(report.forces) > 1:
            charts["forces"] = _chart([f.force.code for f in report.forces],
                                      [f.outcomes for f in report.forces])
        period: dict[str, Any] = {"from": _parts(report.start), "to": _parts(report.end)}
        download = url_for(csv_endpoint, **period)
    return render_template("reports/outcomes.html", form=form, report=report, charts=charts,
                           download=download, action=url_for(page_endpoint),
                           outcome_cells=outcome_cells, rate=rate, title="Outcomes")


def _parts(day: date) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


def outcomes_download(page_endpoint: str, csv_endpoint: str) -> Response | str:
    """Download the outcome report as CSV (an export: recorded in the audit trail)."""
    form = OutcomePeriodForm(request.args, meta={"csrf": False})
    if not form.validate():
        return render_outcomes(page_endpoint, csv_endpoint)
    try:
        export = reports.outcomes_csv(actor(), start=form.start.data, end=form.end.data)
    except InvalidInput:
        return render_outcomes(page_endpoint, csv_endpoint)
    return csv_download(export)
