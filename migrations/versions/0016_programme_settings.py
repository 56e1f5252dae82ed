"""Programme settings: the Welsh title and self-service limits; each enrolment's own terms.

An enrolment keeps the core months, follow-up months and follow-up window it was enrolled
under, so a later change to its programme never moves its deadlines. Existing enrolments
were all enrolled under their programme's present settings (nothing could change them
before this revision), so they are filled in from it.

Revision ID: 0016_programme_settings
Revises: 0015_withdraw_decision
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_programme_settings"
down_revision = "0015_withdraw_decision"
branch_labels = None
depends_on = None

# The defaults as they stand at this revision, written out.
PROGRAMME_DEFAULTS = {
    "invite_title_cy": "Apwyntiad",
    "self_service_cutoff_hours": 24,
    "self_service_moves": 2,
}
PROGRAMME_COLUMNS = {
    "invite_title_cy": sa.String(length=200),
    "self_service_cutoff_hours": sa.Integer(),
    "self_service_moves": sa.Integer(),
}
TERMS = ("core_months", "follow_up_months", "follow_up_window_days")

programmes = sa.table(
    "programmes",
    sa.column("id", sa.Integer),
    *(sa.column(name, type_) for name, type_ in PROGRAMME_COLUMNS.items()),
    *(sa.column(name, sa.Integer) for name in TERMS),
)
enrolments = sa.table(
    "enrolments",
    sa.column("programme_id", sa.Integer),
    *(sa.column(name, sa.Integer) for name in TERMS),
)


def upgrade():
    # Added nullable, filled, then made NOT NULL: the columns carry no server default,
    # as the models declare none.
    with op.batch_alter_table("programmes") as batch:
        batch.alter_column("invite_title", existing_type=sa.String(length=100),
                           type_=sa.String(length=200), existing_nullable=False)
        for name, type_ in PROGRAMME_COLUMNS.items():
            batch.add_column(sa.Column(name, type_, nullable=True))
    op.execute(programmes.update().values(PROGRAMME_DEFAULTS))
    with op.batch_alter_table("programmes") as batch:
        for name, type_ in PROGRAMME_COLUMNS.items():
            batch.alter_column(name, existing_type=type_, nullable=False)

    with op.batch_alter_table("enrolments") as batch:
        for name in TERMS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=True))
    op.execute(enrolments.update().values({
        name: sa.select(programmes.c[name])
        .where(programmes.c.id == enrolments.c.programme_id)
        .scalar_subquery()
        for name in TERMS
    }))
    with op.batch_alter_table("enrolments") as batch:
        for name in TERMS:
            batch.alter_column(name, existing_type=sa.Integer(), nullable=False)


def downgrade():
    with op.batch_alter_table("enrolments") as batch:
        for name in reversed(TERMS):
            batch.drop_column(name)
    # A title written since may be longer than the narrower column takes.
    titles = sa.table("programmes", sa.column("invite_title", sa.String))
    op.execute(titles.update().values(invite_title=sa.func.substr(titles.c.invite_title, 1, 100)))
    with op.batch_alter_table("programmes") as batch:
        for name in reversed(PROGRAMME_COLUMNS):
            batch.drop_column(name)
        batch.alter_column("invite_title", existing_type=sa.String(length=200),
                           type_=sa.String(length=100), existing_nullable=False)
