"""The migrations build exactly the schema the models describe."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from diversion.extensions import db


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
