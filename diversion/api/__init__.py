"""The JSON API under /api/v1, documented by the OpenAPI document it generates."""

from __future__ import annotations

import flask_smorest
from flask import Flask, current_app, request, url_for
from webargs.flaskparser import FlaskParser, abort, is_json_request

from diversion.extensions import api, csrf
from diversion.limits import MAX_JSON_DEPTH, json_too_deep


class _Parser(FlaskParser):
    # docs/api.md keeps 422 for a rule that says no, with a rule code; a body or query
    # that does not fit its schema is a malformed request.
    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req):
        # json.loads recurses once per level: a 2 KB body of brackets would exhaust
        # the interpreter's stack before any schema sees it.
        if is_json_request(req) and json_too_deep(req.get_data(cache=True)):
            abort(400, messages={"json": [
                f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep."]})
        return super()._raw_load_json(req)


# The answers any operation may give besides its own, as the one error layer
# (diversion/errors.py) words them; each is documented on every operation it can
# come from, so the OpenAPI document lists every status a client can see.
ERRORS = {
    400: "Malformed request (`malformed`), or a body or query that fails its schema "
         "(`invalid`, with the field)",
    401: "No bearer token, or an unknown or revoked one (`unauthenticated`)",
    403: "Your role may not do this (`forbidden`)",
    404: "No such thing, or not yours to see (`not_found`); an id beyond any row is one",
    409: "Someone else changed this at the same moment: nothing changed, and trying again "
         "is safe (`changed_meanwhile`)",
    413: "The request is too large (`too_large`)",
}
WRITES = ("post", "put", "patch", "delete")


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's blueprint, answering a request that fails its schema with 400, and
    documenting the errors every operation may answer."""

    ARGUMENTS_PARSER = _Parser()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(self._prepare_errors_doc)

    def arguments(self, schema, **kwargs):
        # Given a schema class, webargs builds a new schema, fields deep-copied, on
        # every request: build it once here.
        return super().arguments(schema() if isinstance(schema, type) else schema, **kwargs)

    def refuses(self, status: int, *codes: str, description: str | None = None):
        """Document a 409 or 422 this operation answers, with the codes it may carry."""
        from diversion.api.schemas import ErrorResponse

        words = description or ("A rule says no" if status == 422 else "A conflict")
        listed = ", ".join(f"`{code}`" for code in codes)
        return self.alt_response(status, schema=ErrorResponse,
                                 description=f"{words}: {listed}" if codes else words)

    @staticmethod
    def _prepare_errors_doc(doc, doc_info, *, method, **kwargs):
        from diversion.api.schemas import ErrorResponse

        responses = doc.setdefault("responses", {})
        public = doc_info.get("manual_doc", {}).get("security") == []
        statuses = [] if public else [401, 403, 404]
        if "arguments" in doc_info:
            statuses.append(400)
            if method in WRITES:
                statuses.append(413)
        if method in WRITES:
            statuses.append(409)
        for status in statuses:
            if status not in responses and str(status) not in responses:
                responses[status] = {
                    "description": ERRORS[status],
                    "content": {"application/json": {"schema": ErrorResponse}},
                }
        return doc


def next_url(endpoint: str, rows: list, limit: int, **params) -> str | None:
    """Return the keyset link to the next page, or None on the last page."""
    if len(rows) < limit:
        return None
    args: dict = {k: v for k, v in request.args.items() if k not in ("after",)}
    args.update({k: v for k, v in params.items() if v is not None})
    args["after"] = rows[-1].id
    # From the configured address, never the request's Host header, which the caller
    # chooses: a link built from it could send the next request anywhere.
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return base + url_for(endpoint, **args)


def register(app: Flask) -> None:
    """Register every API blueprint (token-authenticated, so CSRF-exempt)."""
    from diversion.api import (
        audit,
        bookings,
        cases,
        enrolments,
        flags,
        forecast,
        health,
        participants,
        programmes,
        reports,
        sessions,
        venues,
        waitlist,
    )

    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer"}
    )
    document_fields()
    for module in (programmes, cases, enrolments, flags, venues, sessions, bookings,
                   participants, audit, forecast, reports, waitlist):
        csrf.exempt(module.bp)
        api.register_blueprint(module.bp)
    api.register_blueprint(health.bp)
    app.before_request(_authenticate_first)


def document_fields() -> None:
    """Give the OpenAPI document the types of this API's own fields."""
    from diversion.api import fields

    api.register_field(fields.Instant, "string", "date-time")
    api.register_field(fields.UTCInstant, "string", "date-time")
    api.register_field(fields.DeliverableEmail, "string", "email")
    api.ma_plugin.converter.add_attribute_function(_field_schema)


def _field_schema(self, field, **kwargs) -> dict:
    """The schema of a field that is one of two things (apispec attribute function)."""
    from diversion.api import fields

    if isinstance(field, fields.Module):
        return {"oneOf": [
            {"type": "integer", "minimum": 1, "maximum": fields.Module.MOST},
            {"type": "string", "enum": ["follow_up"]},
        ]}
    if isinstance(field, fields.DayOrInstant):
        return {"anyOf": [{"type": "string", "format": "date"},
                          {"type": "string", "format": "date-time"}]}
    return {}


def allowed_roles(view) -> frozenset | None:
    """Find the roles an API view declared with ``requires`` (through any wrappers)."""
    while view is not None:
        roles = getattr(view, "allowed_roles", None)
        if roles is not None:
            return roles
        view = getattr(view, "__wrapped__", None)
    return None


def _authenticate_first():
    # Who is asking is settled before the body is read: an anonymous or wrong-role
    # caller learns nothing from validation messages.
    if not request.path.startswith("/api/v1/") or request.endpoint is None:
        return
    from diversion.api.auth import current_actor
    from diversion.services import Forbidden

    roles = allowed_roles(current_app.view_functions.get(request.endpoint))
    if roles is None:
        return
    actor = current_actor()
    if roles and actor.role not in roles:
        raise Forbidden()
