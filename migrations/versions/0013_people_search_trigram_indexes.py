"""people search: trigram indexes on usernames and names (PostgreSQL)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01

Finding people by the start of a username or of any part of their names is a LIKE with a
leading wildcard over the names ('% ann%'): no b-tree helps, and every search read all the
users (85 ms for 100,000 at issue 15's scale). pg_trgm's GIN indexes answer both LIKEs.
The names index is on the expression qosyl.reads.search.NAMES_SQL writes into the query
(tests/test_search.py checks that the query uses both indexes).

PostgreSQL only, like the full-text objects: SQLite reads its (small) users table. pg_trgm
ships with PostgreSQL (contrib) and is a trusted extension, so the database's owner may
create it; where it is not installed the indexes are skipped (people search still works,
reading every user) and a warning says so. The downgrade leaves the extension in place:
something else may use it.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

INDEXES = {
    'ix_users_username_trgm': 'lower(username)',
    'ix_users_names_trgm': "replace(' ' || lower(first_name) || ' ' || lower(last_name), '-', ' ')",
}


def upgrade():
    connection = op.get_bind()
    if connection.dialect.name != 'postgresql':
        return
    available = connection.scalar(
        sa.text("SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_trgm'")
    )
    if not available:
        import warnings

        warnings.warn('pg_trgm is not installed: people search reads every user', stacklevel=1)
        return
    op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    for name, expression in INDEXES.items():
        op.execute(f'CREATE INDEX {name} ON users USING gin (({expression}) gin_trgm_ops)')


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for name in INDEXES:
        op.execute(f'DROP INDEX IF EXISTS {name}')
