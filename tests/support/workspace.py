"""The operator's workspace in the browser: a long call at the fund's line, its card, the answer scripts."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from hotline.sim.calls import Timing
from hotline.web.keys import CARD_RULES, SESSIONS
from journal import cards
from journal.actors import Actor
from journal.db import unit_of_work
from journal.models import AnswerScript, Call, Card, User

CITIZEN = "79131234567"


CITIZEN_SHOWN = "+7 913 123-45-67"


# Long enough (simulated seconds × the simulator's time scale) that the citizen is still on
# the line while the operator types, reloads and transfers.
LONG_TALK = Timing(talk=30000.0, level2_talk=30000.0)


async def _add_scripts(client) -> None:
    """Two answer scripts common to every organization (the administrator's data)."""
    async with unit_of_work(client.server.app[SESSIONS]) as session:
        now = datetime.now(UTC)
        session.add_all([
            AnswerScript(title="Замена страховой медицинской организации", topic_code="4.4",
                         keywords="смена СМО, замена страховой, переезд",
                         body="Сменить СМО можно один раз в год до 1 ноября или при переезде.",
                         updated_at=now),
            AnswerScript(title="Полис для иностранного гражданина", topic_code="4.1.1",
                         keywords="иностранец, беженец, полис",
                         body="Полис выдаётся при наличии разрешения на временное проживание.",
                         updated_at=now),
        ])


async def _card_of_call(client, caller: str) -> Card:
    async with client.server.app[SESSIONS]() as session:
        call = await session.scalar(select(Call).where(Call.caller_number == caller))
        return await session.get(Card, call.card_id)


async def _live(page) -> None:
    """The workspace is loaded and its live channel connected."""
    await page.wait_for_selector("body[data-ready=true]")
    await page.wait_for_selector("[data-testid=conn-live][data-state=on]")


async def _written_card(client, login: str, **fields) -> Card:
    app = client.server.app
    async with unit_of_work(app[SESSIONS]) as session:
        user = await session.scalar(select(User).where(User.login == login))
        return await cards.create_written(
            session, Actor.of(user), channel="post", received_at=datetime.now(UTC),
            fields=fields, rules=app[CARD_RULES],
        )

