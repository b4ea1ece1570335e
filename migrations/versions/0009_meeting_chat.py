"""meetings.chat_id: the group conversation a standalone meeting talks in

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30

"""
import warnings
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


@contextmanager
def rebuilt_meetings():
    """SQLite rebuilds the table to add a foreign key; on the way it reflects users, whose
    lower() indexes it cannot read and says so. Users is not the table being rebuilt."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection")
        with op.batch_alter_table('meetings', schema=None) as batch_op:
            yield batch_op


def upgrade():
    with rebuilt_meetings() as batch_op:
        batch_op.add_column(sa.Column('chat_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_meetings_chat_id', ['chat_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_meetings_chat_id_conversations'), 'conversations', ['chat_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with rebuilt_meetings() as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_meetings_chat_id_conversations'), type_='foreignkey')
        batch_op.drop_index('ix_meetings_chat_id')
        batch_op.drop_column('chat_id')
