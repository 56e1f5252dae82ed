"""The floor for booking throughput: a WSGI app that inserts one row per request."""

import os

import psycopg

_connection = None


def app(environ, start_response):
    """Insert one row and answer 201, with nothing else in the way."""
    global _connection
    if _connection is None:
        _connection = psycopg.connect(os.environ["BARE_DATABASE_URL"], autocommit=True)
    _connection.execute("INSERT INTO bench_bare (at) VALUES (now())")
    start_response("201 Created", [("Content-Type", "application/json"),
                                   ("Content-Length", "2")])
    return [b"{}"]
