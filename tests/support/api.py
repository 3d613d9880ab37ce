"""The JSON API as a signed-in browser uses it: a session, its CSRF token, the shared password of the test accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from hotline.config import Settings
from hotline.web.keys import CARD_RULES, SESSIONS
from journal import cards
from journal.actors import Actor
from journal.db import unit_of_work
from journal.models import Card, User
from journal.users import add_user
from tests.support.paths import REPO

PASSWORD = "correct-horse-battery"


def web_settings(settings: Settings, db_url: str, tmp: Path) -> Settings:
    return settings.model_copy(update={
        "service": settings.service.model_copy(update={
            "database_url": db_url,
            "spool_dir": tmp / "spool",
            "recordings_dir": tmp / "recordings",
            "calendar_dir": REPO / "config" / "calendar",
        }),
    })




@dataclass
class Api:
    """The client plus the ways tests sign in and make data."""

    client: TestClient
    csrf: str = ""

    @property
    def app(self):
        return self.client.server.app

    async def add_user(self, login: str, org: str, role: str = "operator", level: int | None = 1) -> int:
        async with unit_of_work(self.app[SESSIONS]) as session:
            user = await add_user(session, login=login, password=PASSWORD, full_name=login.title(),
                                  role=role, organization_code=org,
                                  level=level if role == "operator" else None)
            return user.id

    async def login(self, login: str, password: str = PASSWORD) -> dict[str, Any]:
        """Sign in as `login` (any earlier cookie dropped); keeps the CSRF token for changes."""
        self.client.session.cookie_jar.clear()
        resp = await self.client.post("/api/v1/login", json={"login": login, "password": password})
        assert resp.status == 200, await resp.text()
        body = await resp.json()
        self.csrf = body["csrf_token"]
        return body

    async def call(self, method: str, path: str, *, expect: int = 200, **kwargs: Any) -> Any:
        headers = kwargs.pop("headers", {})
        if method != "GET" and self.csrf:
            headers.setdefault("X-CSRF-Token", self.csrf)
        resp = await self.client.request(method, path, headers=headers, **kwargs)
        text = await resp.text()
        assert resp.status == expect, f"{method} {path}: {resp.status} {text}"
        return await resp.json() if resp.content_type == "application/json" else text

    async def user_actor(self, login: str) -> Actor:
        async with self.app[SESSIONS]() as session:
            user = await session.scalar(select(User).where(User.login == login))
        return Actor.of(user)

    async def written_card(self, login: str, **fields: Any) -> Card:
        """A written appeal registered straight through the journal by `login`."""
        actor = await self.user_actor(login)
        async with unit_of_work(self.app[SESSIONS]) as session:
            return await cards.create_written(
                session, actor, channel="post", received_at=datetime.now(UTC),
                fields=fields or {"applicant_name": "Иванова Анна Петровна"},
                rules=self.app[CARD_RULES],
            )

