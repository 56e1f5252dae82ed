"""The coordinator's sessions: the calendar, publishing, and one session's page, register,
move and cancellation."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import flash, redirect, render_template, request, url_for
from wtforms import SelectChoice

from diversion import clock
from diversion.domain.errors import RuleViolation
from diversion.domain.holidays import UK_HOLIDAY_REGIONS
from diversion.domain.programme import FOLLOW_UP
from diversion.domain.vocabulary import LONDON, BookingStatus, Outcome, Role, SessionStatus
from diversion.services import InvalidInput, attendance, bookings
from diversion.services import sessions as session_service
from diversion.services import venues as venue_service
from diversion.services.programmes import list_programmes
from diversion.web.coordinator import bp
from diversion.web.coordinator.forms import (
    CancelSessionForm,
    MoveSessionForm,
    SeriesForm,
    SessionForm,
    register_form,
    show_refusal,
)
from diversion.web.filters import local_time, long_date, long_datetime, module_name
from diversion.web.roles import actor, role_required

MAX_SESSIONS_SHOWN = 500


@bp.context_processor
def coordinator_helpers():
    return {"fill_level": fill_level, "weekday_date": weekday_date, "time_range": time_range,
            "local_day": local_day}


def fill_level(session) -> str:
    """Name the fill level of a session (shown as text and a colour class)."""
    if session.booked >= session.capacity:
        return "full"
    return "mid" if session.booked * 2 >= session.capacity else "low"


def local_day(value: datetime) -> date:
    return value.astimezone(LONDON).date()


def weekday_date(value: datetime | date) -> str:
    if isinstance(value, datetime):
        value = local_day(value)
    return f"{value:%A} {long_date(value)}"


def time_range(session) -> str:
    return f"{local_time(session.starts_at)} to {local_time(session.ends_at)}"


# ---- the calendar ----------------------------------------------------------

def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LONDON)


def _parse_day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _month_start(day: date, months: int = 0) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _module_filter(text: str | None) -> int | None:
    if text == "follow_up":
        return FOLLOW_UP
    return int(text) if text and text.isdigit() and 0 < int(text) < 100 else None


def shown_period() -> dict:
    """Read the calendar's period (week or month) and filters from the address."""
    view = "month" if request.args.get("view") == "month" else "week"
    chosen = _parse_day(request.args.get("week")) or clock.today()
    module_arg = request.args.get("module") or ""
    module = _module_filter(module_arg)
    if view == "month":
        first = _month_start(chosen)
        last = _month_start(chosen, 1)
        previous, following = _month_start(chosen, -1), last
    else:
        first = chosen - timedelta(days=chosen.weekday())
        last = first + timedelta(days=7)
        previous, following = first - timedelta(days=7), last
    return {"view": view, "first": first, "last": last, "previous": previous,
            "following": following, "module_arg": module_arg if module is not None else "",
            "module": module, "venue_id": request.args.get("venue", type=int),
            "start": _local_midnight(first), "end": _local_midnight(last)}


@bp.get("/sessions")
@role_required(Role.COORDINATOR)
def week():
    """Show a week's (or a month's) sessions with their fill levels."""
    period = shown_period()
    view, first, last = period["view"], period["first"], period["last"]
    previous, following = period["previous"], period["following"]
    module, venue_id = period["module"], period["venue_id"]
    module_arg = period["module_arg"]
    rows = session_service.list_sessions(
        start=period["start"], end=period["end"], module=module,
        venue_id=venue_id, limit=MAX_SESSIONS_SHOWN + 1,
    )
    days: dict[date, list] = {}
    for s in rows[:MAX_SESSIONS_SHOWN]:
        days.setdefault(s.starts_at.astimezone(LONDON).date(), []).append(s)
    filters = {"module": module_arg or None, "venue": venue_id}
    return render_template(
        "coordinator/week.html", view=view, days=days, first=first,
        last=last - timedelta(days=1), previous=previous, following=following,
        truncated=len(rows) > MAX_SESSIONS_SHOWN, venues=venue_service.list_venues(),
        module=module_arg, venue_id=venue_id, filters=filters,
        module_choices=_module_choices(), title="Sessions",
    )


def _module_choices() -> list[SelectChoice]:
    most = max((p.core_modules for p in list_programmes()), default=5)
    return [SelectChoice(str(m), module_name(m)) for m in range(1, most + 1)] + [
        SelectChoice(str(FOLLOW_UP), module_name(FOLLOW_UP))
    ]


def _session_choices(form) -> None:
    programmes = list_programmes()
    choices = [SelectChoice(str(p.id), p.name) for p in programmes]
    # With one programme it is the answer; with several, a choice must be made, not
    # defaulted to whichever is listed first.
    form.programme_id.choices = choices if len(choices) == 1 else [
        SelectChoice("", "Choose a programme"), *choices]
    form.programme_id.description = " ".join(
        f"{p.name}: {p.session_minutes}-minute sessions, never on a public holiday in "
        f"{UK_HOLIDAY_REGIONS.get(p.holiday_region, p.holiday_region)}." for p in programmes)
    form.module.choices = _module_choices()
    form.venue_id.choices = [SelectChoice(str(v.id), v.name)
                             for v in venue_service.list_venues()]


@bp.route("/sessions/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def new_session():
    """Publish one session."""
    form = SessionForm()
    _session_choices(form)
    if form.validate_on_submit():
        try:
            session = session_service.publish_session(
                actor(), programme_id=form.programme_id.data, module=form.module.data,
                starts_at=form.starts_at(), venue_id=form.venue_id.data,
                capacity=form.capacity.data, facilitator=form.facilitator.data,
                room=form.room.data,
            )
        except (RuleViolation, InvalidInput) as error:
            show_refusal(form, error)
        else:
            flash(f"{module_name(session.module)} published for "
                  f"{long_datetime(session.starts_at)}")
            return redirect(url_for(".session", session_id=session.id))
    return render_template("coordinator/new_session.html", form=form,
                           title="Publish a session")


@bp.route("/sessions/series", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def new_series():
    """Publish a series of sessions at one local time; holidays move to the next day."""
    form = SeriesForm()
    _session_choices(form)
    if form.validate_on_submit():
        try:
            made, moved = session_service.publish_series(
                actor(), programme_id=form.programme_id.data, module=form.module.data,
                first_starts_at=form.starts_at(), count=form.count.data,
                interval_days=form.interval_days.data, venue_id=form.venue_id.data,
                capacity=form.capacity.data, facilitator=form.facilitator.data,
                room=form.room.data,
            )
        except (RuleViolation, InvalidInput) as error:
            show_refusal(form, error)
        else:
            message = (f"{len(made)} sessions of {module_name(form.module.data)} published, "
                       f"from {long_date(made[0].starts_at)} to {long_date(made[-1].starts_at)}.")
            if moved:
                message += " Moved off public holidays: " + "; ".join(
                    f"{weekday_date(m['from'])} to {weekday_date(m['to'])}" for m in moved
                ) + "."
            flash(message)
            return redirect(url_for(".week", week=made[0].starts_at.astimezone(LONDON)
                                    .date().isoformat()))
    return render_template("coordinator/new_series.html", form=form,
                           title="Publish a series of sessions")


# ---- one session -----------------------------------------------------------

def _render_session(session, *, register=None):
    started = session.starts_at <= clock.now()
    cancelled = session.status == SessionStatus.CANCELLED
    rows = [] if cancelled else session_service.register(actor(), session.id)
    if register is None and started and not cancelled and rows:
        register = register_form(rows)
    affected = session_service.affected_by_cancellation(session) if cancelled else []
    return render_template(
        "coordinator/session.html", session=session, bookings=rows, started=started,
        register=register, affected=affected,
        title=f"{module_name(session.module)}, {long_date(session.starts_at)}",
    )


@bp.get("/sessions/<int:session_id>")
@role_required(Role.COORDINATOR)
def session(session_id: int):
    """Show a session: its details and its register."""
    return _render_session(session_service.get_session(session_id))


@bp.post("/sessions/<int:session_id>/register")
@role_required(Role.COORDINATOR)
def record_register(session_id: int):
    """Record the register: each participant's outcome, or everyone as attended."""
    record = session_service.get_session(session_id)
    rows = session_service.register(actor(), session_id)
    form = register_form(rows, formdata=request.form)
    if not form.validate_on_submit():
        return _render_session(record, register=form)
    outcomes = _outcomes(form, rows)
    if not outcomes:
        flash("Nothing changed on the register")
        return redirect(url_for(".session", session_id=session_id))
    try:
        attendance.record_register(actor(), outcomes)
    except attendance.RowRefused as error:
        name = f"{error.field}_{error.booking_id}"
        if name in form:
            person = next(b.enrolment.case.participant_name for b in rows
                          if b.id == error.booking_id)
            form[name].errors = [*form[name].errors, f"{error.message} ({person})"]
        else:
            form.form_errors.append(error.message)
        return _render_session(record, register=form)
    except (RuleViolation, InvalidInput) as error:
        form.form_errors.append(error.message)
        return _render_session(record, register=form)
    flash(f"Register saved: {len(outcomes)} "
          f"{'participant' if len(outcomes) == 1 else 'participants'} marked")
    return redirect(url_for(".session", session_id=session_id))


def _outcomes(form, rows) -> dict:
    """Collect the outcomes that change (the service checks each one)."""
    outcomes = {}
    for booking in rows:
        outcome_field = form[f"outcome_{booking.id}"]
        reason_field = form[f"reason_{booking.id}"]
        if form.mark_all.data:
            if booking.status == BookingStatus.BOOKED:
                outcomes[booking.id] = (Outcome.ATTENDED, None)
            continue
        outcome, reason = outcome_field.data, (reason_field.data or "").strip() or None
        if not outcome or (outcome, reason) == (booking.status, booking.reason):
            continue
        outcomes[booking.id] = (outcome, reason)
    return outcomes


@bp.route("/sessions/<int:session_id>/move", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def move_session(session_id: int):
    """Change a session's date, time, venue or capacity."""
    record = session_service.get_session(session_id)
    local = record.starts_at.astimezone(LONDON)
    form = MoveSessionForm(data={
        "date": local.date(), "time": f"{local:%H:%M}", "venue_id": record.venue_id,
        "capacity": record.capacity, "room": record.room, "facilitator": record.facilitator,
    }) if request.method == "GET" else MoveSessionForm()
    form.venue_id.choices = [SelectChoice(str(v.id), v.name)
                             for v in venue_service.list_venues()]
    if form.validate_on_submit():
        try:
            moved = session_service.move_session(
                actor(), session_id, starts_at=form.starts_at(), venue_id=form.venue_id.data,
                capacity=form.capacity.data, room=form.room.data or "",
                facilitator=form.facilitator.data or "",
            )
        except (RuleViolation, InvalidInput) as error:
            show_refusal(form, error)
        else:
            flash(f"Session changed: {long_datetime(moved.starts_at)} at {moved.venue.name}, "
                  f"{moved.capacity} places. Booked participants are sent the new details.")
            return redirect(url_for(".session", session_id=session_id))
    return render_template("coordinator/move_session.html", form=form, session=record,
                           title="Change the session")


@bp.route("/sessions/<int:session_id>/cancel", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def cancel_session(session_id: int):
    """Cancel a session, optionally rebooking its participants."""
    record = session_service.get_session(session_id)
    form = CancelSessionForm()
    if form.validate_on_submit():
        try:
            result = bookings.cancel_session(actor(), session_id, reason=form.reason.data,
                                             rebook=form.rebook.data)
        except (RuleViolation, InvalidInput) as error:
            show_refusal(form, error)
        else:
            message = "Session cancelled."
            cancelled = len(result["cancelled"])
            if form.rebook.data and cancelled:
                message += (f" {len(result['rebooked'])} of {cancelled} booked participants "
                            "rebooked")
                if result["not_rebooked"]:
                    message += (f"; {len(result['not_rebooked'])} could not be rebooked and "
                                "need a new booking")
                message += "."
            elif cancelled:
                message += f" {cancelled} booked participants were sent a cancellation."
            flash(message)
            return redirect(url_for(".session", session_id=session_id))
    return render_template("coordinator/cancel_session.html", form=form, session=record,
                           booked=record.booked,
                           title="Cancel the session")
