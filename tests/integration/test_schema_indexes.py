"""Every foreign key and every column a list page filters on leads some index."""

import sqlalchemy as sa

from diversion.extensions import db

# (table, column) pairs the list pages and the sweep filter or join on, beyond foreign keys.
FILTERED = [
    ("enrolments", "force_id"),  # the case officer's enrolment list
    ("enrolments", "status"),  # ?status=, and the sweep's candidates
    ("enrolments", "start_date"),  # the outcome report's period
    ("flags", "status"),  # the flags queue, oldest first
    ("flags", "enrolment_id"),  # ?flag= on the enrolment list
    ("sessions", "starts_at"),  # the coordinator's calendar
    ("sessions", "programme_id"),
    ("sessions", "venue_id"),
    ("bookings", "session_id"),  # a session's register
    ("bookings", "enrolment_id"),  # an enrolment's page, and the sweep's unexcused absences
    ("cases", "force_id"),  # the case list and search
    ("audit_events", "case_id"),
    ("audit_events", "actor"),
    ("outbox", "status"),
    ("feed_tokens", "token_hash"),
    ("api_tokens", "token_hash"),
]


def _leading_columns(inspector, table: str) -> set[str]:
    leading = set(inspector.get_pk_constraint(table)["constrained_columns"][:1])
    for index in inspector.get_indexes(table):
        if index["column_names"] and index["column_names"][0]:
            leading.add(index["column_names"][0])
    for unique in inspector.get_unique_constraints(table):
        leading.add(unique["column_names"][0])
    return leading


def _unindexed(inspector, pairs) -> list[tuple[str, str]]:
    cache: dict[str, set[str]] = {}
    missing = []
    for table, column in pairs:
        if table not in cache:
            cache[table] = _leading_columns(inspector, table)
        if column not in cache[table]:
            missing.append((table, column))
    return missing


def test_every_foreign_key_column_leads_an_index(ctx):
    inspector = sa.inspect(db.engine)
    foreign_keys = [
        (table, fk["constrained_columns"][0])
        for table in inspector.get_table_names()
        for fk in inspector.get_foreign_keys(table)
    ]
    assert foreign_keys
    assert _unindexed(inspector, foreign_keys) == []


def test_every_column_the_list_pages_filter_on_leads_an_index(ctx):
    assert _unindexed(sa.inspect(db.engine), FILTERED) == []
