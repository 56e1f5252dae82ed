"""The migrations build exactly the schema the models describe."""

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from diversion.extensions import db
from diversion.models import JobRun


def test_the_migrated_schema_matches_the_models(ctx):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


# INCLUDE columns are PostgreSQL's: SQLite's indexes have none to compare.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_migrated_indexes_include_the_columns_the_models_declare(ctx):
    # compare_metadata leaves INCLUDE columns out, and the sweep reads them.
    inspector = sa.inspect(db.engine)
    for table in db.metadata.sorted_tables:
        migrated = {index["name"]: index["dialect_options"].get("postgresql_include", [])
                    for index in inspector.get_indexes(table.name)}
        for index in table.indexes:
            declared = index.dialect_options["postgresql"]["include"] or []
            assert migrated[index.name] == list(declared), index.name


def _quoted(condition: str) -> set[str]:
    return set(re.findall(r"'([^']*)'", condition))


def test_the_migrated_check_constraints_allow_the_values_the_models_declare(ctx):
    # compare_metadata leaves CHECK constraints out; a value added to the vocabulary
    # needs a migration, or the database refuses the first row that uses it.
    inspector = sa.inspect(db.engine)
    for table in db.metadata.sorted_tables:
        migrated = {check["name"]: _quoted(check["sqltext"])
                    for check in inspector.get_check_constraints(table.name)}
        for constraint in table.constraints:
            if isinstance(constraint, sa.CheckConstraint):
                declared = _quoted(str(constraint.sqltext))
                assert migrated.get(constraint.name) == declared, constraint.name


def test_a_value_outside_the_vocabulary_is_refused_by_the_database(ctx):
    now = datetime(2027, 3, 1, tzinfo=UTC)
    db.session.add(JobRun(job="sweep", scheduled_for=now, started_at=now, outcome="crashed"))
    with pytest.raises(sa_exc.IntegrityError):
        db.session.flush()
    db.session.rollback()
