"""An index the outcome report reads on its own: enrolments by start date, force and status.

Revision ID: 0010_outcome_report_index
Revises: (see down_revision)
"""

from alembic import op

revision = "0010_outcome_report_index"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    # The report counts the enrolments started in a period by force, month and status:
    # with all three in the index it is answered from the index, however many forces.
    op.create_index("ix_enrolments_start_force_status", "enrolments",
                    ["start_date", "force_id", "status"])


def downgrade():
    op.drop_index("ix_enrolments_start_force_status", table_name="enrolments")
