"""A participant's language and consent to text messages.

Revision ID: 0019_participant_contact
Revises: 0018_retention_schedule
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_participant_contact"
down_revision = "0018_retention_schedule"
branch_labels = None
depends_on = None

# Written out, not read from the vocabulary: this migration must keep meaning the same.
LANGUAGES = ("en", "cy")


def upgrade():
    # Batch mode: SQLite adds a CHECK constraint only by rebuilding the table.
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("language", sa.String(2), nullable=False,
                                   server_default="en"))
        batch.add_column(sa.Column("sms_consent", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        listed = ", ".join(f"'{code}'" for code in LANGUAGES)
        batch.create_check_constraint("ck_cases_language", f"language IN ({listed})")


def downgrade():
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint("ck_cases_language", type_="check")
        batch.drop_column("sms_consent")
        batch.drop_column("language")
