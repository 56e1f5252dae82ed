"""Liveness: 200 when the database answers; ?detail=1 adds the background jobs."""

import sqlalchemy as sa
from flask import current_app, jsonify, request
from marshmallow import Schema, fields

from diversion.api import Blueprint
from diversion.extensions import db

bp = Blueprint("health", __name__, description="Liveness (no token)")


class JobOut(Schema):
    job = fields.String()
    daily_at = fields.String(allow_none=True)
    last_scheduled_for = fields.String(allow_none=True)
    last_started_at = fields.String(allow_none=True)
    last_finished_at = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)
    next_run = fields.String(allow_none=True)


class HealthOut(Schema):
    status = fields.String(metadata={"enum": ["ok", "unavailable"]})
    jobs = fields.List(fields.Nested(JobOut))


@bp.get("/healthz")
@bp.doc(security=[], parameters=[{
    "in": "query", "name": "detail", "required": False, "schema": {"type": "string"},
    "description": "Any value adds each background job's last run, outcome and next run"}])
@bp.response(200, HealthOut, description="The service and its database answer")
@bp.alt_response(503, schema=HealthOut, description="The database does not answer")
def healthz():
    """Say whether the service and its database answer."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except Exception:  # any database failure means "not healthy", never a 500 page
        db.session.rollback()
        return jsonify({"status": "unavailable"}), 503
    body: dict[str, object] = {"status": "ok"}
    if request.args.get("detail"):
        from diversion.jobs.schedule import job_overview

        # Unauthenticated: times and outcomes only, never what a job did.
        body["jobs"] = [{k: v for k, v in job.items() if k not in ("summary", "counts")}
                        for job in job_overview(current_app.config)]
    return jsonify(body)
