"""The participant's appointment link: the page (or JSON), a move, and asking to be called.

Every request is throttled per link and per address, and a link that opens nothing is a
plain 404, the same whatever the reason. Pages answer in HTML; with ``Accept:
application/json`` (or a JSON body) the same addresses answer in JSON as docs/api.md
says. Form posts carry a CSRF token; JSON posts need none, as they carry no cookie the
link does not already outrank: the token in the address is the key.
"""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    g,
    get_flashed_messages,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf.csrf import CSRFError

from diversion import i18n
from diversion.api.schemas import AppointmentOut, CallbackRequestOut
from diversion.domain.dates import format_time, format_weekday_date
from diversion.domain.errors import RuleViolation
from diversion.domain.vocabulary import LONDON
from diversion.errors import asks_for_json, error_body
from diversion.extensions import csrf, limiter
from diversion.limits import id_or_none
from diversion.services import NotFound, self_service
from diversion.services.appointment_links import token_key
from diversion.web.participant import bp
from diversion.web.participant.forms import CallbackForm, MoveForm

# What a page shows once, after a redirect: the flash category the participant's pages use.
NOTICE = "appointment"


def _link_key() -> str:
    return "appointment:" + token_key((request.view_args or {}).get("token", ""))


def _throttled(view):
    """Hold every use of a link to its own limit, and every address to another."""
    view = limiter.shared_limit(lambda: current_app.config["APPOINTMENT_LINK_LIMIT"],
                                scope="appointment-link", key_func=_link_key)(view)
    return limiter.shared_limit(lambda: current_app.config["APPOINTMENT_ADDRESS_LIMIT"],
                                scope="appointment-address")(view)


@bp.context_processor
def participant_helpers():
    return {"day": _day, "time": _time}


def _day(value) -> str:
    return format_weekday_date(value.astimezone(LONDON), i18n.current_language())


def _time(value) -> str:
    return format_time(value.astimezone(LONDON), i18n.current_language())


def _who():
    return self_service.participant(request.remote_addr)


def _page(shown, *, move_form=None, callback_form=None, refused: str | None = None):
    notices = get_flashed_messages(category_filter=[NOTICE])
    with i18n.speaking(shown.language):
        return render_template(
            "participant/appointment.html", shown=shown, move_form=move_form or MoveForm(),
            callback_form=callback_form or CallbackForm(), refused=refused, notices=notices)


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400)
    return body


def _invalid(field: str, message: str):
    return jsonify(error_body("invalid", message, field)), 400


@bp.get("/appointments/<token>")
@_throttled
def appointment(token: str):
    """Show the participant their appointment and what they may do about it."""
    shown = _shown(token)
    if asks_for_json():
        return jsonify(AppointmentOut().dump(shown))
    return _page(shown)


@bp.post("/appointments/<token>/move")
@csrf.exempt
@_throttled
def move(token: str):
    """Move the appointment into the session the participant chose, or say why not.

    A JSON body, or a form from a client that asks for JSON, is answered in JSON (the
    refusals by the error layer, with their codes); a form from the page is answered
    with the page.
    """
    form = None if request.is_json else _checked(MoveForm, token)
    if form is None:
        session_id = id_or_none(_json_body().get("session_id"))
    else:
        session_id = form.session_id.data if form.validate() else None
    if session_id is None:
        if form is None or asks_for_json():
            return _invalid("session_id", "Give the id of the session you want instead.")
        return _again(token, move_form=form)
    try:
        moved = self_service.move(_who(), token, session_id)
    except NotFound as missing:
        if form is None or asks_for_json() or missing.what != "session":
            abort(404)
        form.session_id.errors = ["choose_session"]
        return _again(token, move_form=form)
    except RuleViolation as refusal:
        if form is None or asks_for_json():
            raise
        return _again(token, move_form=form, refused=refusal.code)
    if asks_for_json():
        return jsonify(AppointmentOut().dump(moved))
    flash("moved", NOTICE)
    return redirect(url_for(".appointment", token=moved.token))


def _checked(form_class, token: str):
    """A participant's form, once its CSRF token is good (a 400 otherwise)."""
    try:
        csrf.protect()
    except CSRFError:
        # The page had expired: say so in the language of the participant it was for.
        g.participant_language = self_service.language_for(token)
        raise
    return form_class()


def _shown(token: str):
    """The appointment a link opens (its view audited), or a plain 404."""
    shown = self_service.appointment(_who(), token)
    if shown is None:
        abort(404)
    # An error page after this point speaks the participant's language (errors.py).
    g.participant_language = shown.language
    return shown


def _again(token: str, **forms):
    """Show the page again with what the participant sent."""
    return _page(_shown(token), **forms)


@bp.post("/appointments/<token>/callback")
@csrf.exempt
@_throttled
def callback(token: str):
    """Record the participant's request to be called, and confirm it."""
    form = None if request.is_json else _checked(CallbackForm, token)
    if form is None:
        message = _json_body().get("message")
        if message is not None and not isinstance(message, str):
            return _invalid("message", "Give the message as text.")
    elif form.validate():
        message = form.message.data
    elif asks_for_json():
        return _invalid("message", "The message is too long or holds characters that "
                                   "cannot be kept.")
    else:
        return _again(token, callback_form=form)
    # A note the rules refuse is the error layer's 400, with its code and field.
    made = self_service.request_callback(_who(), token, message)
    if made is None:
        abort(404)
    if asks_for_json():
        return jsonify(CallbackRequestOut().dump(made)), 202
    return redirect(url_for(".callback_requested", token=token))


@bp.get("/appointments/<token>/callback")
@_throttled
def callback_requested(token: str):
    """Confirm that the participant asked to be called (after their request, or again)."""
    shown = _shown(token)
    if not shown.callbacks:
        return redirect(url_for(".appointment", token=token))
    with i18n.speaking(shown.language):
        return render_template("participant/callback_requested.html", shown=shown)
