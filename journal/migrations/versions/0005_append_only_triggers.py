"""the audit log and card history refuse UPDATE and DELETE in the database itself (PostgreSQL)

152-ФЗ and 59-ФЗ want who-did-what kept whole: the ORM only ever inserts these rows, and these
triggers make sure nothing else (a script, a console session, a bug) rewrites or removes them.
TRUNCATE (the test suite's wipe, a deliberate administrative act) is not a row change and is
not blocked. SQLite, the single-box trial backend, keeps the ORM-level rule only.

Revision ID: 0005
Revises: 0004

"""
from typing import Sequence, Union

from alembic import op

revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TABLES = ("audit_log", "card_history")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE FUNCTION hotline_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'append-only table %: % refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
    """)
    for table in TABLES:
        op.execute(f"""
            CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION hotline_append_only()
        """)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
    op.execute("DROP FUNCTION hotline_append_only()")
