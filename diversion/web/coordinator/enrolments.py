"""The coordinator's participants: the list, one participant's page, booking them into a
session and cancelling a booking, and their calendar link."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from wtforms import SelectChoice

from diversion import clock
from diversion.domain.booking import EnrolmentFacts
from diversion.domain.errors import RuleViolation
from diversion.domain.planning import remaining_modules
from diversion.domain.programme import FOLLOW_UP
from diversion.domain.vocabulary import OPEN_ENROLMENT, Role
from diversion.services import InvalidInput, bookings, invitations
from diversion.services import enrolments as enrolment_service
from diversion.services import sessions as session_service
from diversion.services.facts import enrolment_facts
from diversion.services.programmes import rules_for
from diversion.web.args import id_arg, text_arg
from diversion.web.coordinator import bp
from diversion.web.coordinator.forms import ActionForm, BookForm, CancelBookingForm, show_refusal
from diversion.web.filters import long_datetime, module_name
from diversion.web.roles import actor, role_required

PER_PAGE = 50


@bp.get("/participants", endpoint="enrolments")
@role_required(Role.COORDINATOR)
def enrolments_():
    """List participants, searchable by name (no case or screening detail)."""
    name = text_arg("q")
    after = id_arg("after")
    before = id_arg("before")
    who = actor()
    rows = enrolment_service.list_enrolments(who, search=name, after_id=after,
                                             before_id=before, limit=PER_PAGE)
    newer = older = False
    if rows:
        older = enrolment_service.any_beyond(who, search=name, before_id=rows[0].id)
        newer = enrolment_service.any_beyond(who, search=name, after_id=rows[-1].id)
    plannable = [e.id for e in rows if e.status in OPEN_ENROLMENT]
    return render_template("coordinator/enrolments.html", enrolments=rows, search=name,
                           has_previous=older, has_next=newer, title="Participants",
                           plannable=plannable, plan_form=ActionForm())


def _next_modules(rules, facts: EnrolmentFacts) -> list[int]:
    remaining = remaining_modules(rules, facts)
    return remaining[:1] if rules.modules_in_order else remaining


def render_enrolment(enrolment_id: int, *, book_form=None, plan_form=None, feed_links=None):
    """Render a participant's page, with any form that came back with errors."""
    enrolment = enrolment_service.get_enrolment(actor(), enrolment_id)
    rules = rules_for(enrolment.programme)
    facts = enrolment_facts(enrolment)
    modules = []
    for number in [*rules.core_module_numbers, FOLLOW_UP]:
        held = [b for b in enrolment.bookings if b.module == number]
        modules.append({"number": number, "bookings": sorted(
            held, key=lambda b: (b.session.starts_at, b.id))})
    is_open = enrolment.status in OPEN_ENROLMENT
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
@role_required(Role.COORDINATOR)
def enrolment(enrolment_id: int):
    """Show a participant's modules, deadlines and bookings, with ways to book."""
    return render_enrolment(enrolment_id)


@bp.post("/participants/<int:enrolment_id>/book")
@role_required(Role.COORDINATOR)
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
            return render_enrolment(enrolment_id, book_form=form)
        flash(f"Booked {module_name(made.module)} on {long_datetime(made.starts_at)}")
        return redirect(url_for(".enrolment", enrolment_id=enrolment_id))
    return render_enrolment(enrolment_id, book_form=form)


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
