"""API sign-ins: a login session is a browser's or an API client's token family

login_sessions.kind tells them apart ("web" for existing rows); renewed_at is when an API
client last refreshed its tokens (for web rows, when they began).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch copy): SQLite would lose indexes it cannot reflect.
    op.add_column('login_sessions', sa.Column('kind', sa.String(length=8), server_default='web', nullable=False))
    op.add_column('login_sessions', sa.Column('renewed_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False))
    op.execute('UPDATE login_sessions SET renewed_at = created_at')


def downgrade():
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.drop_column('renewed_at')
        batch_op.drop_column('kind')
