"""Making the journal's people (a user of each role and organization)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from journal.actors import Actor
from journal.db import unit_of_work
from journal.models import Organization, Role, User
from tests.support.journal import People


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

