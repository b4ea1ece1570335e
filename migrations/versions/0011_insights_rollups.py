"""insights rollups: counts per UTC quarter-hour, kept by triggers

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30

The insights read counts per quarter-hour instead of every row of a period (see
qosyl/models/rollups.py). The triggers are made from the module's SOURCES, and the counts
are filled from the rows already there. The period indexes of 0010 that only the plain
counts read go (they cost every write); a room's messages get the author in their period
index, for active members and contributors.

"""
from alembic import op
import sqlalchemy as sa

from qosyl.models import rollups


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

# Dropped here, made again by downgrade.
PERIOD_INDEXES = [
    ('ix_messages_created_at', 'messages'),
    ('ix_posts_created_at', 'posts'),
    ('ix_post_likes_created_at', 'post_likes'),
    ('ix_comments_created_at', 'comments'),
]


def upgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    op.create_table('activity_counts',
    sa.Column('scope', sa.String(length=8), nullable=False),
    sa.Column('scope_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('series', sa.String(length=16), nullable=False),
    sa.Column('slot', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    *([] if postgresql else [sa.PrimaryKeyConstraint('scope', 'scope_id', 'series', 'slot', name=op.f('pk_activity_counts'))]),
    sqlite_with_rowid=False,
    )
    if postgresql:
        # n rides in the key's index: a period's counts come from the index alone.
        op.execute(
            'ALTER TABLE activity_counts ADD CONSTRAINT pk_activity_counts '
            'PRIMARY KEY (scope, scope_id, series, slot) INCLUDE (n)'
        )
    op.create_table('active_days',
    sa.Column('day', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('user_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'user_id', name=op.f('pk_active_days')),
    sqlite_with_rowid=False,
    )
    for name, table in PERIOD_INDEXES:
        op.drop_index(name, table_name=table)
    op.create_index('ix_room_messages_room_id_created_at_author_id', 'room_messages', ['room_id', 'created_at', 'author_id'], unique=False)
    op.drop_index('ix_room_messages_room_id_created_at', table_name='room_messages')
    connection = op.get_bind()
    rollups.install(connection)
    rollups.rebuild(connection)


def downgrade():
    rollups.uninstall(op.get_bind())
    op.create_index('ix_room_messages_room_id_created_at', 'room_messages', ['room_id', 'created_at'], unique=False)
    op.drop_index('ix_room_messages_room_id_created_at_author_id', table_name='room_messages')
    for name, table in PERIOD_INDEXES:
        op.create_index(name, table, ['created_at'], unique=False)
    op.drop_table('active_days')
    op.drop_table('activity_counts')
