"""profile counters: posts, friends, followers and following stored on users

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

A profile counted its rows on every view (20 ms for 50,000 posts and 33,000 followers at
issue 15's scale). The counts are now columns of users, kept by triggers made from
qosyl/models/counters.py, and filled here from the rows already there.

"""
import sqlalchemy as sa
from alembic import op

from qosyl.models import counters

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

COLUMNS = [counter.column for counter in counters.COUNTERS]


def upgrade():
    for column in COLUMNS:
        op.add_column('users', sa.Column(column, sa.Integer(), server_default='0', nullable=False))
    connection = op.get_bind()
    counters.install(connection)
    counters.recount(connection)


def downgrade():
    counters.uninstall(op.get_bind())
    for column in reversed(COLUMNS):
        op.drop_column('users', column)
