"""Course coordinator pages: the calendar of sessions, venues, registers and bookings."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import current_app, flash, redirect, render_template, request, url_for
from wtforms import SelectChoice

from diversion import clock
from diversion.domain.booking import OPEN_STATUSES, EnrolmentFacts
from diversion.domain.errors import RuleViolation
from diversion.domain.planning import remaining_modules
from diversion.domain.programme import FOLLOW_UP
from diversion.services import (
    InvalidInput,
    attendance,
    bookings,
    enrolments,
    invitations,
    planning,
)
from diversion.services import sessions as session_service
from diversion.services import venues as venue_service
from diversion.services.facts import enrolment_facts
from diversion.services.programmes import list_programmes, rules_for
from diversion.web.coordinator import bp
from diversion.web.coordinator.forms import (
    ActionForm,
    BookForm,
    CancelBookingForm,
    CancelSessionForm,
    MoveSessionForm,
    SeriesForm,
    SessionForm,
    VenueForm,
    register_form,
)
from diversion.web.filters import LONDON, local_time, long_date, long_datetime, module_name
from diversion.web.roles import actor, role_required

PER_PAGE = 50
MAX_SESSIONS_SHOWN = 500

# Service field names that differ from the form's.
FORM_FIELD = {"starts_at": "date", "first_starts_at": "date"}


def show_refusal(form, error: RuleViolation | InvalidInput) -> None:
    """Put a service's refusal on the form: on the field it names, or on the whole form."""
    name = FORM_FIELD.get(error.field, error.field) if error.field else None
    field = form._fields.get(name) if name else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


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
@role_required("coordinator")
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
    form.programme_id.choices = [SelectChoice(str(p.id), p.name) for p in list_programmes()]
    form.module.choices = _module_choices()
    form.venue_id.choices = [SelectChoice(str(v.id), v.name)
                             for v in venue_service.list_venues()]


@bp.route("/sessions/new", methods=["GET", "POST"])
@role_required("coordinator")
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
@role_required("coordinator")
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
    rows = (session_service.register(actor(), session.id) if session.status != "cancelled"
            else [])
    if register is None and started and session.status != "cancelled" and rows:
        register = register_form(rows)
    affected = session_service.affected_by_cancellation(session) if session.status == "cancelled" \
        else []
    return render_template(
        "coordinator/session.html", session=session, bookings=rows, started=started,
        register=register, affected=affected,
        title=f"{module_name(session.module)}, {long_date(session.starts_at)}",
    )


@bp.get("/sessions/<int:session_id>")
@role_required("coordinator")
def session(session_id: int):
    """Show a session: its details and its register."""
    return _render_session(session_service.get_session(session_id))


@bp.post("/sessions/<int:session_id>/register")
@role_required("coordinator")
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
            if booking.status == "booked":
                outcomes[booking.id] = ("attended", None)
            continue
        outcome, reason = outcome_field.data, (reason_field.data or "").strip() or None
        if not outcome or (outcome, reason) == (booking.status, booking.reason):
            continue
        outcomes[booking.id] = (outcome, reason)
    return outcomes


@bp.route("/sessions/<int:session_id>/move", methods=["GET", "POST"])
@role_required("coordinator")
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
@role_required("coordinator")
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


@bp.route("/bookings/<int:booking_id>/cancel", methods=["GET", "POST"])
@role_required("coordinator")
def cancel_booking(booking_id: int):
    """Cancel one participant's booking, recording who asked and why."""
    booking = session_service.get_booking(booking_id)
    form = CancelBookingForm()
    if form.validate_on_submit():
        try:
            bookings.cancel_booking(actor(), booking_id, reason=form.reason.data,
                                    requested_by=form.requested_by.data)
        except (RuleViolation, InvalidInput) as error:
            show_refusal(form, error)
        else:
            flash(f"Booking cancelled: {booking.enrolment.case.participant_name}, "
                  f"{module_name(booking.module)}. They are sent a cancellation.")
            return redirect(url_for(".session", session_id=booking.session_id))
    return render_template("coordinator/cancel_booking.html", form=form, booking=booking,
                           title="Cancel a booking")


# ---- venues ----------------------------------------------------------------

@bp.route("/venues", methods=["GET", "POST"])
@role_required("coordinator")
def venues():
    """List venues and add one."""
    form = VenueForm()
    if form.validate_on_submit():
        try:
            venue = venue_service.create_venue(actor(), form.name.data, form.address.data,
                                               (form.rooms.data or "").splitlines())
        except (RuleViolation, InvalidInput) as error:
            show_refusal(form, error)
        else:
            flash(f"Venue added: {venue.name}")
            return redirect(url_for(".venues"))
    return render_template("coordinator/venues.html", form=form,
                           venues=venue_service.list_venues(), title="Venues")


# ---- participants ----------------------------------------------------------

@bp.get("/participants", endpoint="enrolments")
@role_required("coordinator")
def enrolments_():
    """List participants, searchable by name (no case or screening detail)."""
    name = (request.args.get("q") or "").strip()[:100]
    after = request.args.get("after", type=int)
    before = request.args.get("before", type=int)
    who = actor()
    rows = enrolments.list_enrolments(who, search=name, after_id=after, before_id=before,
                                      limit=PER_PAGE)
    newer = older = False
    if rows:
        older = enrolments.any_beyond(who, search=name, before_id=rows[0].id)
        newer = enrolments.any_beyond(who, search=name, after_id=rows[-1].id)
    plannable = [e.id for e in rows if e.status in OPEN_STATUSES]
    return render_template("coordinator/enrolments.html", enrolments=rows, search=name,
                           has_previous=older, has_next=newer, title="Participants",
                           plannable=plannable, plan_form=ActionForm())


@bp.post("/participants/plan")
@role_required("coordinator")
def plan_cohort():
    """Plan everyone listed, in turn, and show who was booked and who could not be."""
    form = ActionForm()
    ids = [int(v) for v in request.form.getlist("enrolment_id") if v.isdigit()]
    if not form.validate_on_submit() or not ids:
        flash("Nothing was planned: choose the participants to plan from the list")
        return redirect(url_for(".enrolments"))
    outcome = planning.plan_enrolments(actor(), ids[:PER_PAGE])
    people = {e.id: e for e in enrolments.enrolments_by_id(actor(), set(ids[:PER_PAGE]))}
    return render_template(
        "coordinator/cohort_plan.html", title="Planning results", people=people,
        booked={i: made for i, made in sorted(outcome.planned.items()) if made},
        nothing={i for i, made in outcome.planned.items() if not made},
        refused=dict(sorted(outcome.refused.items())))


def _next_modules(rules, facts: EnrolmentFacts) -> list[int]:
    remaining = remaining_modules(rules, facts)
    return remaining[:1] if rules.modules_in_order else remaining


def _render_enrolment(enrolment_id: int, *, book_form=None, plan_form=None,
                      feed_links=None):
    enrolment = enrolments.get_enrolment(actor(), enrolment_id)
    rules = rules_for(enrolment.programme)
    facts = enrolment_facts(enrolment)
    modules = []
    for number in [*rules.core_module_numbers, FOLLOW_UP]:
        held = [b for b in enrolment.bookings if b.module == number]
        modules.append({"number": number, "bookings": sorted(
            held, key=lambda b: (b.session.starts_at, b.id))})
    is_open = enrolment.status in ("enrolled", "awaiting_follow_up")
    next_modules = _next_modules(rules, facts) if is_open else []
    choices = session_service.bookable_sessions(enrolment, next_modules)
    if book_form is None:
        book_form = BookForm()
    book_form.session_id.choices = [
        SelectChoice(str(s.id), f"{module_name(s.module)}: {long_datetime(s.starts_at)}, "
                                f"{s.venue.name} ({s.capacity - s.booked} places left)")
        for s in choices
    ]
    return render_template(
        "coordinator/enrolment.html", enrolment=enrolment, modules=modules,
        next_modules=next_modules, is_open=is_open, book_form=book_form,
        plan_form=plan_form or ActionForm(), feed_links=feed_links, now=clock.now(),
        title=enrolment.case.participant_name,
    )


@bp.get("/participants/<int:enrolment_id>")
@role_required("coordinator")
def enrolment(enrolment_id: int):
    """Show a participant's modules, deadlines and bookings, with ways to book."""
    return _render_enrolment(enrolment_id)


@bp.post("/participants/<int:enrolment_id>/book")
@role_required("coordinator")
def book(enrolment_id: int):
    """Book the participant into the chosen session, or show the rule that says no."""
    form = BookForm()
    form.session_id.choices = None
    form.session_id.validate_choice = False
    if form.validate_on_submit():
        try:
            made = bookings.book(actor(), enrolment_id, form.session_id.data)
        except (RuleViolation, InvalidInput) as error:
            show_refusal(form, error)
            if not form.session_id.errors:
                form.session_id.errors = [*form.form_errors]
                form.form_errors.clear()
            return _render_enrolment(enrolment_id, book_form=form)
        flash(f"Booked {module_name(made.module)} on {long_datetime(made.starts_at)}")
        return redirect(url_for(".enrolment", enrolment_id=enrolment_id))
    return _render_enrolment(enrolment_id, book_form=form)


@bp.post("/participants/<int:enrolment_id>/plan")
@role_required("coordinator")
def plan(enrolment_id: int):
    """Book every remaining module into the earliest sessions that fit, or explain why not."""
    form = ActionForm()
    if form.validate_on_submit():
        try:
            made = planning.plan_enrolment(actor(), enrolment_id)
        except (RuleViolation, InvalidInput) as error:
            form.form_errors.append(f"Nothing was booked. {error.message}")
            return _render_enrolment(enrolment_id, plan_form=form)
        if made:
            flash(f"Planned and booked {len(made)} "
                  f"{'session' if len(made) == 1 else 'sessions'}: " + "; ".join(
                      f"{module_name(b.module)} on {long_datetime(b.session.starts_at)}"
                      for b in made))
        else:
            flash("Nothing to plan: every module is already booked or attended")
        return redirect(url_for(".enrolment", enrolment_id=enrolment_id))
    return _render_enrolment(enrolment_id, plan_form=form)


@bp.post("/participants/<int:enrolment_id>/calendar-link")
@role_required("coordinator")
def calendar_link(enrolment_id: int):
    """Issue the participant's private calendar link (revoking any earlier one); show it once."""
    form = ActionForm()
    if not form.validate_on_submit():
        return _render_enrolment(enrolment_id, plan_form=form)
    token = invitations.issue_feed_token(actor(), enrolment_id)
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    https = f"{base}/calendar/{token}.ics"
    links = {"https": https, "webcal": "webcal://" + https.split("://", 1)[1]}
    # Shown on this response only: the token is stored hashed and is never shown again.
    return _render_enrolment(enrolment_id, feed_links=links)
