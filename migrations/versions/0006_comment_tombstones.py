"""comments outlive their author's account when others replied to them

comments.author_id becomes nullable, ON DELETE SET NULL: deleting an account keeps its
comments that others answered, emptied ("deleted comment"), so the replies stay.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

"""
import warnings
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


@contextmanager
def rebuilt_comments():
    """SQLite rebuilds the table; on the way it reflects users, whose lower() indexes it
    cannot read and says so. Users is not the table being rebuilt."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection")
        with op.batch_alter_table('comments', schema=None) as batch_op:
            yield batch_op


def upgrade():
    with rebuilt_comments() as batch_op:
        batch_op.alter_column('author_id', existing_type=sa.Integer(), nullable=True)
        batch_op.drop_constraint('fk_comments_author_id_users', type_='foreignkey')
        batch_op.create_foreign_key(
            batch_op.f('fk_comments_author_id_users'), 'users', ['author_id'], ['id'],
            ondelete='SET NULL',
        )


def downgrade():
    # Emptied comments have no author to give back: they go, with their replies.
    op.execute('DELETE FROM comments WHERE author_id IS NULL')
    with rebuilt_comments() as batch_op:
        batch_op.drop_constraint('fk_comments_author_id_users', type_='foreignkey')
        batch_op.create_foreign_key(
            batch_op.f('fk_comments_author_id_users'), 'users', ['author_id'], ['id'],
            ondelete='CASCADE',
        )
        batch_op.alter_column('author_id', existing_type=sa.Integer(), nullable=False)
