"""The coordinator's participants: the list, one participant's page, booking them into a
session that fits, recording an outcome still missing, cancelling a booking, and their
calendar link."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for

from diversion import clock
from diversion.domain.booking import EnrolmentFacts, register_missing
from diversion.domain.errors import RuleViolation
from diversion.domain.planning import remaining_modules
from diversion.domain.programme import FOLLOW_UP
from diversion.domain.rebooking import check_registers
from diversion.domain.standing import standing
from diversion.domain.vocabulary import (
    OPEN_ENROLMENT,
    BookingStatus,
    EnrolmentStatus,
    FlagStatus,
    Role,
    values,
)
from diversion.services import (
    InvalidInput,
    attendance,
    bookings,
    invitations,
    referrals,
    self_service,
    waitlist,
)
from diversion.services import choices as choice_service
from diversion.services import enrolments as enrolment_service
from diversion.services.facts import booking_facts, enrolment_facts
from diversion.services.programmes import rules_for
from diversion.web import callbacks
from diversion.web.args import text_arg
from diversion.web.coordinator import bp
from diversion.web.coordinator.forms import (
    OUTCOMES,
    ActionForm,
    BookForm,
    CancelBookingForm,
    OutcomeForm,
    show_refusal,
)
from diversion.web.filters import form_error_summary, long_datetime, module_name
from diversion.web.roles import actor, role_required

PER_PAGE = 50
OUTCOME_WORDS = {choice.value: choice.label.lower() for choice in OUTCOMES}
# The sessions of a module shown at first; "show all" lists every one that fits.
FIRST_FEW = 5


def list_filters() -> dict:
    """Read a list's filters (status, flag or concern, search, sort) from the address."""
    status = request.args.get("status") or None
    flag = request.args.get("flag") or None
    sort = request.args.get("sort") or None
    return {
        "status": status if status in values(EnrolmentStatus) else None,
        "flag": flag if flag in enrolment_service.FLAG_FILTERS else None,
        "search": text_arg("q"),
        "sort": sort if sort in enrolment_service.SORTS else None,
    }


@bp.get("/participants", endpoint="enrolments")
@role_required(Role.COORDINATOR)
def enrolments_():
    """List participants with what needs attention; filter, search, sort and page them."""
    filters = list_filters()
    page = enrolment_service.enrolment_page(
        actor(), status=filters["status"], flag=filters["flag"], search=filters["search"],
        sort=filters["sort"] or "enrolled", after=request.args.get("after"),
        before=request.args.get("before"), per_page=PER_PAGE)
    plannable = [row.enrolment.id for row in page.rows
                 if row.enrolment.status in OPEN_ENROLMENT]
    return render_template("coordinator/enrolments.html", page=page, filters=filters,
                           title="Participants", plannable=plannable, plan_form=ActionForm())


def _next_modules(rules, facts: EnrolmentFacts) -> list[int]:
    remaining = remaining_modules(rules, facts)
    return remaining[:1] if rules.modules_in_order else remaining


def render_enrolment(enrolment_id: int, *, book_form=None, plan_form=None, feed_links=None,
                     outcome_form=None, outcome_booking_id=None):
    """Render a participant's page, with any form that came back with errors."""
    enrolment = enrolment_service.get_enrolment(actor(), enrolment_id)
    rules = rules_for(enrolment.programme)
    facts = enrolment_facts(enrolment)
    now = clock.now()
    modules = []
    for number in [*rules.core_module_numbers, FOLLOW_UP]:
        held = [b for b in enrolment.bookings if b.module == number]
        modules.append({"number": number, "bookings": sorted(
            held, key=lambda b: (b.session.starts_at, b.id))})
    is_open = enrolment.status in OPEN_ENROLMENT
    # Outcomes that can be recorded here: sessions that have started with none yet.
    to_record = sorted((b for b in enrolment.bookings if register_missing(booking_facts(b), now)),
                       key=lambda b: (b.session.starts_at, b.id)) if is_open else []
    outcome_forms = {
        b.id: outcome_form if b.id == outcome_booking_id else OutcomeForm(
            prefix=f"booking-{b.id}", formdata=None)
        for b in to_record
    }
    blocked = None
    if is_open:
        try:
            check_registers(rules, facts, now)
        except RuleViolation as refusal:
            blocked = refusal.message
    next_modules = _next_modules(rules, facts) if is_open else []
    show_all = request.args.get("all") == "1"
    offers = choice_service.booking_choices(enrolment, next_modules,
                                            first=None if show_all else FIRST_FEW)
    seen = standing(rules, facts, [f.kind for f in enrolment.flags
                                   if f.status == FlagStatus.OPEN], now)
    errors = next((_summary(form, anchor) for form, anchor in (
        (book_form, "#book"), (plan_form, "#plan"), (outcome_form, "#outcomes"))
        if form is not None and form.errors), None)
    return render_template(
        "coordinator/enrolment.html", enrolment=enrolment, modules=modules,
        next_modules=next_modules, is_open=is_open, offers=offers,
        show_all=show_all, first_few=FIRST_FEW,
        plan_form=plan_form or ActionForm(), feed_links=feed_links, now=now,
        to_record=to_record, outcome_forms=outcome_forms, blocked=blocked,
        concerns=seen.concerns, error_summary=errors,
        waitlist_entries=waitlist.entries_of(enrolment.id),
        callbacks=self_service.callbacks_of(enrolment),
        messages=referrals.messages_to_participant(enrolment),
        reference=enrolment_service.participant_reference(enrolment.id),
        title=enrolment.case.participant_name,
    )


def _summary(form, anchor: str) -> dict:
    """The error summary of a form; a refusal of the whole form links to its section."""
    summary = form_error_summary(form)
    for item in summary["errorList"]:
        if item["href"] == "#main-content":
            item["href"] = anchor
    return summary


@bp.get("/participants/<int:enrolment_id>")
@role_required(Role.COORDINATOR)
def enrolment(enrolment_id: int):
    """Show a participant's modules, deadlines and bookings, with the sessions that fit."""
    return render_enrolment(enrolment_id)


@bp.post("/participants/<int:enrolment_id>/book")
@role_required(Role.COORDINATOR)
def book(enrolment_id: int):
    """Book the participant into the chosen session, or show the rule that says no."""
    form = BookForm()
    if form.validate_on_submit():
        try:
            made = bookings.book(actor(), enrolment_id, form.session_id.data)
        except (RuleViolation, InvalidInput) as error:
            form.form_errors.append(f"Nothing was booked. {error.message}")
            return render_enrolment(enrolment_id, book_form=form)
        flash(f"Booked {module_name(made.module)} on {long_datetime(made.starts_at)}")
        return redirect(url_for(".enrolment", enrolment_id=enrolment_id))
    return render_enrolment(enrolment_id, book_form=form)


@bp.post("/participants/<int:enrolment_id>/bookings/<int:booking_id>/outcome")
@role_required(Role.COORDINATOR)
def record_outcome(enrolment_id: int, booking_id: int):
    """Record what happened at a session whose register was not taken, from this page."""
    booking = bookings.get_booking(booking_id)
    if booking.enrolment_id != enrolment_id:
        abort(404)
    form = OutcomeForm(prefix=f"booking-{booking_id}")
    if booking.status != BookingStatus.BOOKED:
        # Recorded meanwhile (on the register, or a second click): a change is a correction.
        flash(f"The outcome of {module_name(booking.module)} on "
              f"{long_datetime(booking.starts_at)} is already recorded; change it on the "
              "session's register.", "warning")
        return redirect(url_for(".enrolment", enrolment_id=enrolment_id))
    if form.validate_on_submit():
        try:
            attendance.record(actor(), booking_id, form.outcome.data, form.reason.data)
        except (RuleViolation, InvalidInput) as error:
            show_refusal(form, error)
        else:
            flash(f"Outcome recorded: {module_name(booking.module)} on "
                  f"{long_datetime(booking.starts_at)}, "
                  f"{OUTCOME_WORDS[form.outcome.data]}")
            return redirect(url_for(".enrolment", enrolment_id=enrolment_id))
    return render_enrolment(enrolment_id, outcome_form=form, outcome_booking_id=booking_id)


@bp.route("/bookings/<int:booking_id>/cancel", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def cancel_booking(booking_id: int):
    """Cancel one participant's booking, recording who asked and why."""
    booking = bookings.get_booking(booking_id)
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


@bp.post("/participants/<int:enrolment_id>/calendar-link")
@role_required(Role.COORDINATOR)
def calendar_link(enrolment_id: int):
    """Issue the participant's private calendar link (revoking any earlier one); show it once."""
    form = ActionForm()
    if not form.validate_on_submit():
        return render_enrolment(enrolment_id, plan_form=form)
    token = invitations.issue_feed_token(actor(), enrolment_id)
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    https = f"{base}/calendar/{token}.ics"
    links = {"https": https, "webcal": "webcal://" + https.split("://", 1)[1]}
    # Shown on this response only: the token is stored hashed and is never shown again.
    return render_enrolment(enrolment_id, feed_links=links)


@bp.post("/participants/<int:enrolment_id>/callbacks/<int:request_id>/dealt-with")
@role_required(Role.COORDINATOR)
def callback_dealt_with(enrolment_id: int, request_id: int):
    """Record that the participant's request to be called has been dealt with."""
    return callbacks.mark_dealt_with(enrolment_id, request_id, back_to="coordinator.enrolment")
