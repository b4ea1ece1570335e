"""room messages: rendered bodies, client ids; room search

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 15:50:29.247594

Messages written before this revision have an empty body_html: `flask rerender --missing`
(run by `make run`) renders them.
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# Full-text search over rooms' names and descriptions, as 0002 does for posts.
SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE rooms_fts USING fts5("
    "name, description, content='rooms', content_rowid='id', tokenize='porter unicode61')",
    "CREATE TRIGGER rooms_fts_insert AFTER INSERT ON rooms BEGIN "
    "INSERT INTO rooms_fts(rowid, name, description) "
    "VALUES (new.id, new.name, new.description); END",
    "CREATE TRIGGER rooms_fts_delete AFTER DELETE ON rooms BEGIN "
    "INSERT INTO rooms_fts(rooms_fts, rowid, name, description) "
    "VALUES ('delete', old.id, old.name, old.description); END",
    "CREATE TRIGGER rooms_fts_update AFTER UPDATE OF name, description ON rooms BEGIN "
    "INSERT INTO rooms_fts(rooms_fts, rowid, name, description) "
    "VALUES ('delete', old.id, old.name, old.description); "
    "INSERT INTO rooms_fts(rowid, name, description) "
    "VALUES (new.id, new.name, new.description); END",
    "INSERT INTO rooms_fts(rooms_fts) VALUES ('rebuild')",
]
SQLITE_SEARCH_DROP = [
    "DROP TRIGGER IF EXISTS rooms_fts_update",
    "DROP TRIGGER IF EXISTS rooms_fts_delete",
    "DROP TRIGGER IF EXISTS rooms_fts_insert",
    "DROP TABLE IF EXISTS rooms_fts",
]
POSTGRES_SEARCH = [
    "ALTER TABLE rooms ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('english', name || ' ' || description)) STORED",
    "CREATE INDEX ix_rooms_search_vector ON rooms USING gin (search_vector)",
]
POSTGRES_SEARCH_DROP = [
    "DROP INDEX IF EXISTS ix_rooms_search_vector",
    "ALTER TABLE rooms DROP COLUMN IF EXISTS search_vector",
]


def _run(statements):
    for statement in statements:
        op.execute(statement)


def _sqlite():
    return op.get_bind().dialect.name == "sqlite"


def upgrade():
    with op.batch_alter_table('room_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_html', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('client_id', sa.String(length=64), nullable=True))
    # An index, not a constraint: SQLite adds it without rebuilding the table.
    op.create_index(
        'uq_room_messages_author_id_client_id', 'room_messages', ['author_id', 'client_id'],
        unique=True,
    )

    _run(SQLITE_SEARCH if _sqlite() else POSTGRES_SEARCH)


def downgrade():
    _run(SQLITE_SEARCH_DROP if _sqlite() else POSTGRES_SEARCH_DROP)

    op.drop_index('uq_room_messages_author_id_client_id', table_name='room_messages')
    with op.batch_alter_table('room_messages', schema=None) as batch_op:
        batch_op.drop_column('client_id')
        batch_op.drop_column('body_html')
