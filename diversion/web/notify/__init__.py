"""GOV.UK Notify's delivery receipts for text messages: no staff login, Notify's own token."""

from __future__ import annotations

import hmac
import logging

from flask import Blueprint, abort, current_app, jsonify, request

from diversion.errors import error_body
from diversion.extensions import csrf
from diversion.notify import receipts

log = logging.getLogger(__name__)

bp = Blueprint("notify_callback", __name__)
# Notify sends a bearer token, never a cookie: there is no session to forge a request in.
csrf.exempt(bp)


@bp.post("/notify/callback")
def delivery_receipt():
    """Record GOV.UK Notify's delivery receipt for one text message."""
    expected = current_app.config.get("NOTIFY_CALLBACK_TOKEN")
    if not expected:
        # Receipts are not taken here: the address reveals nothing.
        abort(404)
    if not _bearer_matches(request.headers.get("Authorization", ""), expected):
        log.warning("notify callback refused: no or wrong bearer token")
        return jsonify(error_body("unauthenticated", "Notify's bearer token is needed")), 401
    try:
        receipt = receipts.read_receipt(request.get_json(silent=True))
    except receipts.BadReceipt as error:
        return jsonify(error_body("invalid", error.message, error.field)), 400
    if receipt is None or not receipts.record_receipt(receipt):
        # Not a text message of ours (an email receipt, an erased database): nothing to do,
        # and Notify need not try again.
        log.info("notify callback: nothing recorded for this receipt")
    return "", 204


def _bearer_matches(header: str, expected: str) -> bool:
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        token.strip().encode(), expected.encode())
