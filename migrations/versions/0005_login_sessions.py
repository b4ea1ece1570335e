"""login sessions: a row per sign-in, named by the key its cookies carry

Replaces users.session_version: a password change now ends sign-ins by deleting their
rows, and signing out ends the sign-in on the server. Existing cookies stop working, so
everyone signs in again once.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('user_agent', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_login_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_sessions')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_login_sessions_key_hash'))
    )
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_login_sessions_user_id', ['user_id'], unique=False)

    # Not batch mode: SQLite's copy of the table would lose the lower() indexes it cannot
    # reflect. Both PostgreSQL and SQLite 3.35+ drop a plain column in place.
    op.execute('ALTER TABLE users DROP COLUMN session_version')


def downgrade():
    op.execute('ALTER TABLE users ADD COLUMN session_version INTEGER NOT NULL DEFAULT 1')

    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_login_sessions_user_id')

    op.drop_table('login_sessions')
