"""Administrator pages: the mail the sink kept, as participants and staff would receive it.

Only where the sink is in use (development and training, or MAIL_SINK=on): elsewhere
mail really goes out and these pages do not exist.
"""

from __future__ import annotations

from pathlib import Path

from flask import Response, abort, current_app, render_template

from diversion.domain.vocabulary import Role
from diversion.notify.sink import KeptMessage, kept_message, kept_messages
from diversion.web.admin import bp
from diversion.web.args import number_arg
from diversion.web.roles import role_required

# The HTML part is shown in a sandboxed frame: its own styles apply, and nothing in it
# may run a script, load anything, submit a form or reach this page.
PER_PAGE = 50
HTML_PART_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                 "frame-ancestors 'self'; sandbox")


def _folder() -> Path:
    if not current_app.config.get("MAIL_SINK"):
        abort(404)
    return Path(current_app.config["MAIL_SINK_DIR"])


def _message(name: str) -> KeptMessage:
    message = kept_message(_folder(), name)
    if message is None:
        abort(404)
    return message


@bp.get("/mail")
@role_required(Role.ADMIN)
def mail():
    """List the messages the mail sink kept, newest first."""
    folder = _folder()
    page = number_arg("page", 1, low=1, high=100_000)
    messages, total = kept_messages(folder, PER_PAGE, (page - 1) * PER_PAGE)
    return render_template("admin/mail.html", messages=messages, total=total, page=page,
                           pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
                           port=current_app.config["MAIL_SINK_PORT"],
                           title="Mail kept by the sink")


@bp.get("/mail/<name>")
@role_required(Role.ADMIN)
def mail_message(name: str):
    """Show one kept message: its headers, text and HTML parts, and its calendar object."""
    message = _message(name)
    return render_template("admin/mail_message.html", message=message,
                           title=message.subject or "Message")


def _part(name: str, part: str, mimetype: str, headers: dict) -> Response:
    content = getattr(_message(name), part)
    if content is None:
        abort(404)
    return Response(content, mimetype=mimetype, headers=headers)


@bp.get("/mail/<name>/html")
@role_required(Role.ADMIN)
def mail_html(name: str):
    """Serve a kept message's HTML part for the sandboxed frame on its page."""
    return _part(name, "html", "text/html", {
        "Content-Security-Policy": HTML_PART_CSP, "X-Frame-Options": "SAMEORIGIN"})


@bp.get("/mail/<name>/invite.ics")
@role_required(Role.ADMIN)
def mail_calendar(name: str):
    """Download a kept message's calendar object, as a calendar app would receive it."""
    return _part(name, "calendar", "text/calendar", {
        "Content-Disposition": 'attachment; filename="invite.ics"'})


@bp.get("/mail/<name>/message.eml")
@role_required(Role.ADMIN)
def mail_download(name: str):
    """Download a kept message whole, to open in a mail app."""
    return _part(name, "raw", "message/rfc822", {
        "Content-Disposition": f'attachment; filename="{name}"'})
