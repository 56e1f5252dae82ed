"""A participant's own moves, and their requests to be called.

Revision ID: 0020_self_service
Revises: 0019_participant_contact
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_self_service"
down_revision = "0019_participant_contact"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "self_service_moves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("from_booking_id", sa.Integer(), nullable=False),
        sa.Column("to_booking_id", sa.Integer(), nullable=False),
        sa.Column("moved_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["enrolment_id"], ["enrolments.id"]),
        sa.ForeignKeyConstraint(["from_booking_id"], ["bookings.id"]),
        sa.ForeignKeyConstraint(["to_booking_id"], ["bookings.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_self_service_moves_enrolment_id", "self_service_moves",
                    ["enrolment_id"])
    op.create_index("ix_self_service_moves_from_booking_id", "self_service_moves",
                    ["from_booking_id"])
    op.create_index("ix_self_service_moves_to_booking_id", "self_service_moves",
                    ["to_booking_id"])

    op.create_table(
        "callback_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=True),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("dealt_with_at", sa.DateTime(), nullable=True),
        sa.Column("dealt_with_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["enrolment_id"], ["enrolments.id"]),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"]),
        sa.ForeignKeyConstraint(["dealt_with_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_callback_requests_enrolment_id", "callback_requests", ["enrolment_id"])
    op.create_index("ix_callback_requests_booking_id", "callback_requests", ["booking_id"])
    op.create_index("ix_callback_requests_dealt_with_by_id", "callback_requests",
                    ["dealt_with_by_id"])
    op.create_index("ix_callback_requests_open", "callback_requests", ["requested_at", "id"],
                    postgresql_where=sa.text("dealt_with_at IS NULL"),
                    sqlite_where=sa.text("dealt_with_at IS NULL"))


def downgrade():
    op.drop_table("callback_requests")
    op.drop_table("self_service_moves")
