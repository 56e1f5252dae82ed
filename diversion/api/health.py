"""Liveness: 200 when the database answers; ?detail=1 adds the background jobs."""

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, request

from diversion.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
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

        # Unauthenticated: times and outcomes only, never a job's summary text.
        body["jobs"] = [{k: v for k, v in job.items() if k != "summary"}
                        for job in job_overview(current_app.config)]
    return jsonify(body)
