"""Floors for booking throughput: endpoints that insert one row per request.

``app`` is the service itself (create_app, the same gunicorn settings, the same
engine and request hooks) with one extra route, POST /bench/bare, that inserts
one row and commits: the cost of the framework with no booking logic. ``wsgi``
is a bare WSGI callable on a raw psycopg connection: no Flask at all.
"""

import os

import psycopg
import sqlalchemy as sa
from flask import Blueprint

from diversion import create_app
from diversion.extensions import csrf, db

_bare = Blueprint("bench_bare", __name__)


@_bare.post("/bench/bare")
def insert_one():
    """Insert one row and answer 201, through the service's own stack."""
    db.session.execute(sa.text("INSERT INTO bench_bare (at) VALUES (now())"))
    db.session.commit()
    return {}, 201


app = create_app()
csrf.exempt(_bare)
app.register_blueprint(_bare)

_connection = None


def wsgi(environ, start_response):
    """Insert one row and answer 201, with nothing else in the way."""
    global _connection
    if _connection is None:
        _connection = psycopg.connect(os.environ["BARE_DATABASE_URL"], autocommit=True)
    _connection.execute("INSERT INTO bench_bare (at) VALUES (now())")
    start_response("201 Created", [("Content-Type", "application/json"),
                                   ("Content-Length", "2")])
    return [b"{}"]
