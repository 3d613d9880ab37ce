"""Fixtures of the card tests: the example region's people, and quick ways to make cards."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hotline.bootstrap import sync_region
from hotline.config import Settings
from journal import cards
from journal.actors import Actor
from journal.db import make_sessionmaker, unit_of_work
from journal.models import AuditEntry, Card, CardHistory, Organization, Role, User

_call_ids = itertools.count(1)


@dataclass(frozen=True)
class People:
    """Organizations of config/hotline.toml and one actor per role that matters."""

    orgs: dict[str, int]
    admin: Actor  # the contact center's administrator (at the fund)
    sysadmin: Actor
    system: Actor  # the telephony integration
    tfoms_op: Actor
    sogaz_op: Actor
    sogaz_op2: Actor  # a level-2 colleague in the same insurer
    kapital_op: Actor


async def _user(
    session: AsyncSession, login: str, role: str, org_id: int, level: int | None
) -> Actor:
    # A fake hash: argon2 is proven in test_users and would only slow these tests down.
    user = User(
        login=login, password_hash="x", full_name=login, role=role, level=level,
        organization_id=org_id, active=True, failed_logins=0, created_at=datetime.now(UTC),
    )
    session.add(user)
    await session.flush()
    return Actor.of(user, remote_addr="10.0.0.1")


async def make_people(sessions: async_sessionmaker[AsyncSession]) -> People:
    """One user per role in the already seeded region."""
    async with unit_of_work(sessions) as session:
        orgs = dict((await session.execute(select(Organization.code, Organization.id))).all())
        return People(
            orgs=orgs,
            admin=await _user(session, "admin", Role.ADMIN, orgs["tfoms"], None),
            sysadmin=await _user(session, "root", Role.SYSADMIN, orgs["tfoms"], None),
            system=Actor.system(),
            tfoms_op=await _user(session, "tf1", Role.OPERATOR, orgs["tfoms"], 1),
            sogaz_op=await _user(session, "sg1", Role.OPERATOR, orgs["sogaz"], 1),
            sogaz_op2=await _user(session, "sg2", Role.OPERATOR, orgs["sogaz"], 2),
            kapital_op=await _user(session, "kp1", Role.OPERATOR, orgs["kapital"], 1),
        )


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


def recently(minutes: int = 5) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


MakeCard = Callable[..., Awaitable[Card]]


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


async def count(sessions: async_sessionmaker[AsyncSession], model: type, *where: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


async def audit_rows(
    sessions: async_sessionmaker[AsyncSession], card_id: int | None = None
) -> list[AuditEntry]:
    async with sessions() as session:
        stmt = select(AuditEntry).order_by(AuditEntry.id)
        if card_id is not None:
            stmt = stmt.where(AuditEntry.object_type == "card", AuditEntry.object_id == str(card_id))
        return list(await session.scalars(stmt))


async def history_rows(sessions: async_sessionmaker[AsyncSession], card_id: int) -> list[CardHistory]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(CardHistory).where(CardHistory.card_id == card_id).order_by(CardHistory.id)
            )
        )
