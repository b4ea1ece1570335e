"""insights: room membership events, time zone, admins

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30

Joins and leaves of rooms get a history (the present members are its first joins), users
a time zone and an admin flag, and the tables insights count over a period an index on
when their rows were made.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('room_membership_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_room_membership_events_room_id_rooms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_room_membership_events_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_room_membership_events'))
    )
    op.create_index('ix_room_membership_events_room_id_created_at', 'room_membership_events', ['room_id', 'created_at'], unique=False)
    op.create_index('ix_room_membership_events_user_id_created_at', 'room_membership_events', ['user_id', 'created_at'], unique=False)
    op.execute(
        "INSERT INTO room_membership_events (room_id, user_id, kind, created_at) "
        "SELECT room_id, user_id, 'joined', joined_at FROM room_members "
        "WHERE removed_at IS NULL ORDER BY joined_at"
    )
    op.create_index('ix_messages_created_at', 'messages', ['created_at'], unique=False)
    op.create_index('ix_messages_author_id_created_at', 'messages', ['author_id', 'created_at'], unique=False)
    op.drop_index('ix_messages_author_id', table_name='messages')
    op.create_index('ix_room_messages_author_id_created_at', 'room_messages', ['author_id', 'created_at'], unique=False)
    op.drop_index('ix_room_messages_author_id', table_name='room_messages')
    op.create_index('ix_posts_author_id_created_at', 'posts', ['author_id', 'created_at'], unique=False)
    op.create_index('ix_post_likes_created_at', 'post_likes', ['created_at'], unique=False)
    op.create_index('ix_comments_created_at', 'comments', ['created_at'], unique=False)
    op.create_index('ix_posts_created_at', 'posts', ['created_at'], unique=False)
    op.create_index('ix_room_messages_room_id_created_at', 'room_messages', ['room_id', 'created_at'], unique=False)
    op.add_column('users', sa.Column('time_zone', sa.String(length=64), nullable=True))
    op.add_column('users', sa.Column('is_admin', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    op.drop_column('users', 'is_admin')
    op.drop_column('users', 'time_zone')
    op.drop_index('ix_room_messages_room_id_created_at', table_name='room_messages')
    op.drop_index('ix_posts_created_at', table_name='posts')
    op.drop_index('ix_comments_created_at', table_name='comments')
    op.drop_index('ix_post_likes_created_at', table_name='post_likes')
    op.drop_index('ix_posts_author_id_created_at', table_name='posts')
    op.create_index('ix_room_messages_author_id', 'room_messages', ['author_id'], unique=False)
    op.drop_index('ix_room_messages_author_id_created_at', table_name='room_messages')
    op.create_index('ix_messages_author_id', 'messages', ['author_id'], unique=False)
    op.drop_index('ix_messages_author_id_created_at', table_name='messages')
    op.drop_index('ix_messages_created_at', table_name='messages')
    op.drop_index('ix_room_membership_events_user_id_created_at', table_name='room_membership_events')
    op.drop_index('ix_room_membership_events_room_id_created_at', table_name='room_membership_events')
    op.drop_table('room_membership_events')
