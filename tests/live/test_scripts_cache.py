"""The answer scripts a screen-pop shows come from memory: a slow journal never holds a pop."""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.live.screen_pop import ScriptsCache
from journal.clock import utc_now
from journal.db import make_sessionmaker, unit_of_work
from journal.models import AnswerScript

TTL = 0.2


def _titles(scripts: list[dict[str, object]]) -> list[object]:
    return [s["title"] for s in scripts]


async def test_out_of_date_scripts_are_shown_while_the_journal_is_slow(
    pg_only_engine: AsyncEngine, pg_url: str
) -> None:
    """Past their time the scripts are read again, but the pops of that moment show them as
    last read instead of waiting behind a journal busy with something else (here, a lock an
    administrator's long transaction holds); the next pops show the new ones."""
    sessions = make_sessionmaker(pg_only_engine)
    async with unit_of_work(sessions) as session:
        session.add(AnswerScript(title="Полис ОМС", body="Полис выдаёт страховая компания.",
                                 updated_at=utc_now()))
    cache = ScriptsCache(sessions, ttl=TTL)
    assert _titles(await cache.for_organization(None)) == ["Полис ОМС"]

    other = await asyncpg.connect(pg_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        busy = other.transaction()
        await busy.start()
        await other.execute(
            "INSERT INTO answer_scripts (title, keywords, body, active, updated_at)"
            " VALUES ('Диспансеризация', '', 'Раз в три года, с 40 лет ежегодно.', true, now())")
        await other.execute("LOCK TABLE answer_scripts IN ACCESS EXCLUSIVE MODE")
        await asyncio.sleep(TTL * 1.5)
        for _ in range(3):  # every pop of the moment, at once
            async with asyncio.timeout(0.5):
                assert _titles(await cache.for_organization(None)) == ["Полис ОМС"]
        await busy.commit()
    finally:
        await other.close()
    async with asyncio.timeout(5):
        while _titles(await cache.for_organization(None)) != ["Диспансеризация", "Полис ОМС"]:
            await asyncio.sleep(0.02)


async def test_scripts_edited_here_are_in_the_next_pop(pg_only_engine: AsyncEngine) -> None:
    """After an edit through this instance the next pop waits for the scripts as saved."""
    sessions = make_sessionmaker(pg_only_engine)
    cache = ScriptsCache(sessions, ttl=3600)
    assert await cache.for_organization(None) == []
    async with unit_of_work(sessions) as session:
        session.add(AnswerScript(title="Смена страховой", body="Раз в год до 1 ноября.",
                                 updated_at=utc_now()))
    assert await cache.for_organization(None) == []  # within its time: from memory
    cache.invalidate()
    assert _titles(await cache.for_organization(None)) == ["Смена страховой"]
