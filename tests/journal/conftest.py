"""Fixtures of the card tests: the example region's people, and quick ways to make cards."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hotline.bootstrap import sync_region
from hotline.config import Settings
from journal import cards
from journal.db import make_sessionmaker, unit_of_work
from journal.models import Card
from tests.support.journal import MakeCard, People, recently
from tests.support.people import make_people

_call_ids = itertools.count(1)








@pytest.fixture
async def people(sessions: async_sessionmaker[AsyncSession], region: None) -> People:
    return await make_people(sessions)


@pytest.fixture
def pg_sessions(pg_only_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on PostgreSQL only, for the concurrency tests."""
    return make_sessionmaker(pg_only_engine)


@pytest.fixture
async def pg_people(pg_sessions: async_sessionmaker[AsyncSession], settings: Settings) -> People:
    await sync_region(pg_sessions, settings)
    return await make_people(pg_sessions)






@pytest.fixture
def call_card(sessions: async_sessionmaker[AsyncSession], people: People) -> MakeCard:
    """Make (and commit) a draft card for a fresh call to an organization's line."""

    async def make(org: str = "sogaz", *, caller: str = "+79130000001", **kwargs: Any) -> Card:
        async with unit_of_work(sessions) as session:
            return await cards.create_for_call(
                session, people.system, pbx_call_id=f"call-{next(_call_ids)}",
                organization_code=org, caller_number=caller, **{"received_at": recently(), **kwargs},
            )

    return make






