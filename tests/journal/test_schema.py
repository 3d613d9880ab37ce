"""The migrations and the models describe the same schema: a model changed without its
migration (or the reverse) fails here, not on a production upgrade."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from journal.models import Base


async def test_migrated_database_matches_the_models(pg_engine) -> None:
    """Alembic's autogenerate finds nothing to add, drop or alter after `upgrade head`."""

    def diff(connection):  # noqa: ANN001, ANN202
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return compare_metadata(context, Base.metadata)

    async with pg_engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == []
