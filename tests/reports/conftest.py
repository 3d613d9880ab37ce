"""A small seeded journal for the reports: cards and calls written straight into the tables."""

from __future__ import annotations


import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from journal.db import unit_of_work
from tests.support.people import make_people
from tests.support.journal import People
from tests.support.report_data import add_call, add_callback, add_card, local





@pytest.fixture
async def people(sessions: async_sessionmaker[AsyncSession], region: None) -> People:
    return await make_people(sessions)








__all__ = ["People", "add_call", "add_callback", "add_card", "local", "unit_of_work"]
