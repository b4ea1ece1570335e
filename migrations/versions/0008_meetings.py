"""meetings: video meetings, standalone or of a room or a conversation

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('host_id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=True),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('room_id IS NULL OR conversation_id IS NULL', name=op.f('ck_meetings_one_place_at_most')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_meetings_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['host_id'], ['users.id'], name=op.f('fk_meetings_host_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_meetings_room_id_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meetings'))
    )
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.create_index('ix_meetings_conversation_id', ['conversation_id'], unique=False)
        batch_op.create_index('ix_meetings_host_id', ['host_id'], unique=False)
        batch_op.create_index('ix_meetings_room_id', ['room_id'], unique=False)
        batch_op.create_index('uq_meetings_public_id', ['public_id'], unique=True)
        # One running meeting per room and per conversation (partial unique indexes).
        for column in ('room_id', 'conversation_id'):
            where = sa.text(f'ended_at IS NULL AND {column} IS NOT NULL')
            batch_op.create_index(f'uq_meetings_running_{column}', [column], unique=True, sqlite_where=where, postgresql_where=where)


def downgrade():
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index('uq_meetings_running_conversation_id')
        batch_op.drop_index('uq_meetings_running_room_id')
        batch_op.drop_index('uq_meetings_public_id')
        batch_op.drop_index('ix_meetings_room_id')
        batch_op.drop_index('ix_meetings_host_id')
        batch_op.drop_index('ix_meetings_conversation_id')

    op.drop_table('meetings')
