"""The coordinator's sessions: the calendar, publishing, and one session's page, register,
move and cancellation."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from wtforms import SelectChoice

from diversion import clock
from diversion.domain.dates import session_day_problem
from diversion.domain.errors import ChangeBreaksBookings, RuleViolation
from diversion.domain.forecast import MAX_WEEKS
from diversion.domain.holidays import UK_HOLIDAY_REGIONS
from diversion.domain.programme import FOLLOW_UP
from diversion.domain.registers import session_state
from diversion.domain.vocabulary import LONDON, BookingStatus, Outcome, Role, SessionStatus
from diversion.services import (
    InvalidInput,
    NotFound,
    attendance,
    bookings,
    rebooking,
    registers,
    self_service,
    waitlist,
)
from diversion.services import sessions as session_service
from diversion.services import venues as venue_service
from diversion.services.programmes import list_programmes
from diversion.web.args import id_arg
from diversion.web.coordinator import bp
from diversion.web.coordinator.forms import (
    TIME_PATTERN,
    ActionForm,
    CancelSessionForm,
    CorrectOutcomeForm,
    MoveSessionForm,
    SeriesForm,
    SessionForm,
    WaitlistForm,
    register_form,
    show_refusal,
)
from diversion.web.filters import local_time, long_date, long_datetime, module_name
from diversion.web.roles import actor, role_required

MAX_SESSIONS_SHOWN = 500
# The coordinator's home leads with the oldest overdue registers, this many at most.
OVERDUE_SHOWN = 10


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
        day = date.fromisoformat(text) if text else None
    except ValueError:
        return None
    # Out of the years sessions are held, there is nothing to show (and a week before
    # 0001-01-03 or after 9999-12-27 does not exist).
    return None if day is None or session_day_problem(day) else day


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
            "module": module, "venue_id": id_arg("venue"),
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
        module_choices=_module_choices(), states=registers.states(rows[:MAX_SESSIONS_SHOWN]),
        overdue=registers.overdue_registers(limit=OVERDUE_SHOWN),
        callbacks=self_service.open_callbacks(actor()), title="Sessions",
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


def _prefilled() -> dict:
    """Read a publish form's starting values from the address (the forecast links to it so).

    Anything unreadable is left out: the person sees the form as usual and fills it in.
    """
    data: dict = {}
    for name in ("programme_id", "module", "venue_id", "capacity", "count", "interval_days"):
        value = request.args.get(name, "")
        if value.isdigit() and len(value) <= 6:
            data[name] = int(value)
    day = _parse_day(request.args.get("date"))
    if day is not None:
        data["date"] = day
    if TIME_PATTERN.match(request.args.get("time", "")):
        data["time"] = request.args["time"]
    return data


def from_forecast() -> str | None:
    """Return the forecast's address when the publish form was opened from it."""
    if request.args.get("from") != "forecast":
        return None
    weeks = request.args.get("weeks", type=int)
    return url_for(".forecast", weeks=weeks if weeks and 1 <= weeks <= MAX_WEEKS else None,
                   programme_id=request.args.get("programme_id", type=int))


def _publish_form(form_class):
    form = form_class(data=_prefilled()) if request.method == "GET" else form_class()
    _session_choices(form)
    return form


@bp.route("/sessions/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def new_session():
    """Publish one session."""
    form = _publish_form(SessionForm)
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
            return redirect(from_forecast() or url_for(".session", session_id=session.id))
    return render_template("coordinator/new_session.html", form=form,
                           back=from_forecast(), title="Publish a session")


@bp.route("/sessions/series", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def new_series():
    """Publish a series of sessions at one local time; holidays move to the next day."""
    form = _publish_form(SeriesForm)
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
            return redirect(from_forecast() or url_for(
                ".week", week=made[0].starts_at.astimezone(LONDON).date().isoformat()))
    return render_template("coordinator/new_series.html", form=form,
                           back=from_forecast(), title="Publish a series of sessions")


# ---- one session -----------------------------------------------------------

def _render_session(session, *, register=None, waitlist_form=None):
    started = session.starts_at <= clock.now()
    cancelled = session.status == SessionStatus.CANCELLED
    rows = [] if cancelled else session_service.register(actor(), session.id)
    waiting = [] if cancelled else waitlist.read_list(actor(), session.id)
    if register is None and started and not cancelled and rows:
        register = register_form(rows)
    affected = session_service.affected_by_cancellation(session) if cancelled else []
    missing = sum(1 for b in rows if b.status == BookingStatus.BOOKED)
    state = session_state(session.status, session.starts_at, session.ends_at, missing,
                          clock.now())
    return render_template(
        "coordinator/session.html", session=session, bookings=rows, started=started,
        register=register, affected=affected, state=state, missing=missing,
        waiting=waiting, waitlist_form=waitlist_form or WaitlistForm(formdata=None),
        remove_form=ActionForm(),
        title=f"{module_name(session.module)}, {long_date(session.starts_at)}",
    )


@bp.get("/sessions/<int:session_id>")
@role_required(Role.COORDINATOR)
def session(session_id: int):
    """Show a session: its details and its register."""
    return _render_session(session_service.get_session(session_id))


@bp.post("/sessions/<int:session_id>/waitlist")
@role_required(Role.COORDINATOR)
def add_to_waitlist(session_id: int):
    """Put a participant on this full session's waitlist."""
    record = session_service.get_session(session_id)
    form = WaitlistForm()
    if not form.validate_on_submit():
        return _render_session(record, waitlist_form=form)
    try:
        placed = waitlist.add(actor(), session_id, form.enrolment_id())
    except NotFound as error:
        if error.what != "enrolment":
            raise
        form.reference.errors = [*form.reference.errors,
                                 "No participant on this programme has that reference"]
        return _render_session(record, waitlist_form=form)
    except RuleViolation as error:
        form.reference.errors = [*form.reference.errors, error.message]
        return _render_session(record, waitlist_form=form)
    flash(f"{placed.entry.enrolment.case.participant_name} added to the waitlist, "
          f"number {placed.position}")
    return redirect(url_for(".session", session_id=session_id, _anchor="waitlist"))


@bp.post("/waitlist/<int:entry_id>/remove")
@role_required(Role.COORDINATOR)
def remove_from_waitlist(entry_id: int):
    """Take a participant off a session's waitlist."""
    if not ActionForm().validate_on_submit():
        abort(400)
    entry = waitlist.remove(actor(), entry_id)
    flash(f"{entry.enrolment.case.participant_name} taken off the waitlist")
    return redirect(url_for(".session", session_id=entry.session_id, _anchor="waitlist"))


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


def _outcomes(form, rows) -> dict[int, tuple[str, str | None]]:
    """Collect the outcomes that change (the service checks each one)."""
    outcomes: dict[int, tuple[str, str | None]] = {}
    for booking in rows:
        if f"outcome_{booking.id}" not in form:
            continue  # already recorded: only the correction page changes it
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
    """Change a session's date, time, venue or capacity, confirming what it does to people."""
    record = session_service.get_session(session_id)
    local = record.starts_at.astimezone(LONDON)
    form = MoveSessionForm(data={
        "date": local.date(), "time": f"{local:%H:%M}", "venue_id": record.venue_id,
        "capacity": record.capacity, "room": record.room, "facilitator": record.facilitator,
    }) if request.method == "GET" else MoveSessionForm()
    form.venue_id.choices = [SelectChoice(str(v.id), v.name)
                             for v in venue_service.list_venues()]
    if form.validate_on_submit():
        change = {"starts_at": form.starts_at(), "venue_id": form.venue_id.data,
                  "capacity": form.capacity.data, "room": form.room.data or "",
                  "facilitator": form.facilitator.data or ""}
        confirmed = form.confirmed.data == "yes"
        try:
            result = rebooking.change_session(actor(), session_id, rebook=confirmed, **change)
        except ChangeBreaksBookings:
            rehearsal = rebooking.change_session(actor(), session_id, rebook=True,
                                                 rehearse=True, **change)
            affected = rebooking.preview_change(session_id, starts_at=change["starts_at"])
            form.confirmed.data = "yes"
            return render_template(
                "coordinator/move_session_confirm.html", form=form, session=record,
                new_starts_at=change["starts_at"], affected=affected,
                rebooked={r.enrolment_id: r for r in rehearsal.rebooked},
                not_rebooked={n.enrolment_id: n for n in rehearsal.not_rebooked},
                title="Check what this change does")
        except (RuleViolation, InvalidInput) as error:
            show_refusal(form, error)
        else:
            moved = result.session
            flash_outcome(
                f"Session changed: {long_datetime(moved.starts_at)} at {moved.venue.name}, "
                f"{moved.capacity} places. Booked participants are sent the new details.",
                result)
            return redirect(url_for(".session", session_id=session_id))
    return render_template("coordinator/move_session.html", form=form, session=record,
                           title="Change the session")


def flash_outcome(message: str, result: rebooking.SessionChange) -> None:
    """Flash what a change did: a success only when everyone it affected was placed."""
    if result.rebooked:
        message += f" {len(result.rebooked)} re-planned into the earliest sessions that fit."
    if not result.not_rebooked:
        flash(message)
        return
    people = "; ".join(f"{n.participant}: {n.reason}" for n in result.not_rebooked)
    flash(f"{message} {len(result.not_rebooked)} could not be re-planned and need a booking "
          f"({people}).", "warning")


@bp.route("/sessions/<int:session_id>/cancel", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def cancel_session(session_id: int):
    """Cancel a session, optionally rebooking its participants."""
    record = session_service.get_session(session_id)
    form = CancelSessionForm()
    if form.validate_on_submit():
        try:
            result = rebooking.cancel_session(actor(), session_id, reason=form.reason.data,
                                              rebook=form.rebook.data)
        except (RuleViolation, InvalidInput) as error:
            show_refusal(form, error)
        else:
            message = "Session cancelled."
            cancelled = len(result.cancelled)
            if form.rebook.data and cancelled:
                message += (f" {len(result.rebooked)} of {cancelled} booked participants "
                            "rebooked.")
            elif cancelled:
                message += f" {cancelled} booked participants were sent a cancellation."
            flash_outcome(message, dataclasses.replace(result, rebooked=[]))
            return redirect(url_for(".session", session_id=session_id))
    return render_template("coordinator/cancel_session.html", form=form, session=record,
                           booked=record.booked,
                           title="Cancel the session")


@bp.route("/bookings/<int:booking_id>/correct", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def correct_outcome(booking_id: int):
    """Correct an outcome already recorded: a reason, then a check of what it changes."""
    booking = bookings.get_booking(booking_id)
    form = CorrectOutcomeForm(data={"outcome": booking.status}) if request.method == "GET" \
        else CorrectOutcomeForm()
    if form.validate_on_submit():
        if form.outcome.data == booking.status:
            form.outcome.errors = [*form.outcome.errors,
                                   "Select an outcome different from the one recorded"]
        else:
            try:
                if form.confirmed.data != "yes":
                    consequence = attendance.rehearse(actor(), booking_id, form.outcome.data,
                                                      form.reason.data)
                    form.confirmed.data = "yes"
                    return render_template(
                        "coordinator/correct_outcome_check.html", form=form, booking=booking,
                        consequence=consequence, title="Check the correction")
                attendance.record(actor(), booking_id, form.outcome.data, form.reason.data)
            except (RuleViolation, InvalidInput) as error:
                show_refusal(form, error)
            else:
                flash(f"Outcome corrected for {booking.enrolment.case.participant_name}")
                return redirect(url_for(".session", session_id=booking.session_id))
    return render_template("coordinator/correct_outcome.html", form=form, booking=booking,
                           history=attendance.history(booking_id), title="Correct an outcome")
