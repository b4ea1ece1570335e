"""posts: rendered bodies, hashtags, mentions, search; notification mutes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 14:31:39.508945


Rows written before this revision have an empty body_html: `flask rerender --missing`
(run by `make run`) renders them.
"""
from alembic import op
import sqlalchemy as sa

# Full-text search over posts: an external-content FTS5 table kept in step by triggers
# on SQLite; a generated tsvector column with a GIN index on PostgreSQL. Both stem English.
SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE posts_fts USING fts5("
    "body, content='posts', content_rowid='id', tokenize='porter unicode61')",
    "CREATE TRIGGER posts_fts_insert AFTER INSERT ON posts BEGIN "
    "INSERT INTO posts_fts(rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER posts_fts_delete AFTER DELETE ON posts BEGIN "
    "INSERT INTO posts_fts(posts_fts, rowid, body) VALUES ('delete', old.id, old.body); END",
    "CREATE TRIGGER posts_fts_update AFTER UPDATE OF body ON posts BEGIN "
    "INSERT INTO posts_fts(posts_fts, rowid, body) VALUES ('delete', old.id, old.body); "
    "INSERT INTO posts_fts(rowid, body) VALUES (new.id, new.body); END",
    "INSERT INTO posts_fts(posts_fts) VALUES ('rebuild')",
]
SQLITE_SEARCH_DROP = [
    "DROP TRIGGER IF EXISTS posts_fts_update",
    "DROP TRIGGER IF EXISTS posts_fts_delete",
    "DROP TRIGGER IF EXISTS posts_fts_insert",
    "DROP TABLE IF EXISTS posts_fts",
]
POSTGRES_SEARCH = [
    "ALTER TABLE posts ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('english', body)) STORED",
    "CREATE INDEX ix_posts_search_vector ON posts USING gin (search_vector)",
]
POSTGRES_SEARCH_DROP = [
    "DROP INDEX IF EXISTS ix_posts_search_vector",
    "ALTER TABLE posts DROP COLUMN IF EXISTS search_vector",
]


def _run(statements):
    for statement in statements:
        op.execute(statement)


def _dialect():
    return op.get_bind().dialect.name


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('hashtags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hashtags')),
    sa.UniqueConstraint('name', name=op.f('uq_hashtags_name'))
    )
    op.create_table('notification_mutes',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_mutes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'kind', name=op.f('pk_notification_mutes'))
    )
    op.create_table('post_hashtags',
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('hashtag_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['hashtag_id'], ['hashtags.id'], name=op.f('fk_post_hashtags_hashtag_id_hashtags'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_hashtags_post_id_posts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('post_id', 'hashtag_id', name=op.f('pk_post_hashtags'))
    )
    with op.batch_alter_table('post_hashtags', schema=None) as batch_op:
        batch_op.create_index('ix_post_hashtags_hashtag_id_post_id', ['hashtag_id', 'post_id'], unique=False)

    op.create_table('post_mentions',
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_mentions_post_id_posts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_post_mentions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('post_id', 'user_id', name=op.f('pk_post_mentions'))
    )
    with op.batch_alter_table('post_mentions', schema=None) as batch_op:
        batch_op.create_index('ix_post_mentions_user_id_post_id', ['user_id', 'post_id'], unique=False)

    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_html', sa.Text(), nullable=False, server_default=''))

    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_html', sa.Text(), nullable=False, server_default=''))

    _run(SQLITE_SEARCH if _dialect() == "sqlite" else POSTGRES_SEARCH)


def downgrade():
    # First, before SQLite's batch mode rebuilds the posts table under the triggers.
    _run(SQLITE_SEARCH_DROP if _dialect() == "sqlite" else POSTGRES_SEARCH_DROP)
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_column('body_html')

    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_column('body_html')

    with op.batch_alter_table('post_mentions', schema=None) as batch_op:
        batch_op.drop_index('ix_post_mentions_user_id_post_id')

    op.drop_table('post_mentions')
    with op.batch_alter_table('post_hashtags', schema=None) as batch_op:
        batch_op.drop_index('ix_post_hashtags_hashtag_id_post_id')

    op.drop_table('post_hashtags')
    op.drop_table('notification_mutes')
    op.drop_table('hashtags')
