"""The migrations and the models describe the same schema: a model changed without its
migration (or the reverse) fails here, not on a production upgrade."""

from __future__ import annotations

import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from journal.db import upgrade
from journal.models import Base


async def test_migrated_database_matches_the_models(pg_engine) -> None:
    """Alembic's autogenerate finds nothing to add, drop or alter after `upgrade head`."""

    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return compare_metadata(context, Base.metadata)

    async with pg_engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == []


def test_the_upgrade_cancels_duplicate_pending_callbacks_and_then_refuses_them(tmp_path) -> None:
    """Migration 0008: pending callbacks doubled by the old race (FastAGI and the journal
    writer registering one secretary message at once) keep only the earliest per card; from
    then on the database refuses a second pending callback of a card."""
    path = tmp_path / "journal.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url, "0007")
    columns = "(id, card_id, organization_id, contact_phone, due_at, status, attempts, created_at)"
    at = "2026-12-01 06:00:00.000000"
    with sqlite3.connect(path) as db:
        db.executemany(f"INSERT INTO callback_tasks {columns} VALUES (?, ?, 1, '+79130000000', ?, ?, 0, ?)", [
            (1, 10, at, "pending", at), (2, 10, at, "pending", at), (3, 10, at, "done", at),
            (4, 11, at, "pending", at), (5, 12, at, "failed", at),
        ])
    upgrade(url)
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT id, status FROM callback_tasks ORDER BY id").fetchall()
        assert rows == [(1, "pending"), (2, "cancelled"), (3, "done"), (4, "pending"), (5, "failed")]
        db.execute(f"INSERT INTO callback_tasks {columns} VALUES (6, 12, 1, '+7913', ?, 'pending', 0, ?)",
                   (at, at))
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            db.execute(f"INSERT INTO callback_tasks {columns} "
                       "VALUES (7, 10, 1, '+7913', ?, 'pending', 0, ?)", (at, at))
