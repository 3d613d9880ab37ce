"""The secretary asks for the ЕНП after the callback number (issue #19): 16 digits checked by
the control digit, a wrong one said and asked again, `#` alone skips; the card's applicant is
filled from the register of insured persons. The digits never leave the service: no SET
VARIABLE, no UserEvent, not in the steps that are logged."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.config import Settings
from hotline.ivr.engine import MessageTaken
from hotline.ivr.fastagi import FastAgiServer
from hotline.ivr.loader import load_scripts
from hotline.ivr.messages import register_message
from hotline.ivr.service import IvrService
from journal import enp
from journal.calendar import load_calendar_dir
from journal.cards import CardRules
from journal.db import unit_of_work
from journal.models import AuditEntry, Card, Organization
from journal.register import Insured, replace
from tests.support.paths import REPO
from tests.support.agi_peer import SILENCE, AgiPeer, played

FUND = "88007758565"
NOW = datetime(2026, 11, 27, 13, 0, tzinfo=UTC)  # 20:00 in Barnaul: the secretary's hours
GOOD = "770000000000001" + str(enp.control_digit("770000000000001"))
BAD = GOOD[:-1] + str((int(GOOD[-1]) + 1) % 10)


class Kept(IvrService):
    """The real service with the message's outcome kept for the test."""

    def __init__(self, *args: object, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self.taken: list[MessageTaken] = []

    async def message_left(self, line_number: str, call_id: str, message: MessageTaken,
                           within: timedelta) -> None:
        self.taken.append(message)
        await super().message_left(line_number, call_id, message, within)


async def _secretary(settings: Settings, sessions: async_sessionmaker[AsyncSession],
                     keys: list[str | None]) -> tuple[Kept, AgiPeer]:
    service = Kept(settings, load_scripts(REPO / "ivr_scripts", settings),
                   load_calendar_dir(REPO / "config" / "calendar"), sessions,
                   CardRules(clock=lambda: NOW), clock=lambda: NOW)
    server = FastAgiServer(service.handle, "127.0.0.1", 0, timeout=2.0)
    await server.start()
    try:
        peer = AgiPeer(server.port, keys, variables={"HOTLINE_LINE": FUND,
                                                      "HOTLINE_ID": "1764248400.9"})
        await peer.run()
        await server.idle()
    finally:
        await server.stop()
    return service, peer


async def _register(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with unit_of_work(sessions) as db:
        await replace(db, [Insured(GOOD, "Соколова Анна Игоревна", date(1984, 3, 9), "22007")],
                      source="test.csv", loaded_by="test")


async def test_a_wrong_enp_is_asked_again_and_the_right_one_fills_the_card(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], region: None,
) -> None:
    await _register(sessions)
    service, peer = await _secretary(settings, sessions, ["2", "#", "1", BAD, GOOD])
    prompts = played(peer.commands)
    asks = [c for c in peer.commands if c.startswith("GET DATA hotline/secretary/enp-ask")]
    assert len(asks) == 2 and asks[0].endswith(" 16")
    assert prompts.count("secretary/enp-invalid") == 1
    assert prompts[-2:] == ["secretary/enp-thanks", "secretary/message-thanks"]
    [message] = service.taken
    assert message.enp == GOOD
    # Nothing of it on the channel (so nothing on the AMI stream) and not in the log's steps.
    assert not any(GOOD in c and not c.startswith("GET DATA") for c in peer.commands)
    assert all(GOOD not in str(v) for v in peer.variables.values())
    async with sessions() as session:
        card = await session.scalar(select(Card))
        insurer = await session.get(Organization, card.insurer_concerned_id)
        audit = (await session.scalars(select(AuditEntry).where(
            AuditEntry.action == "register_lookup"))).all()
    assert (card.applicant_policy, card.applicant_name, card.applicant_birth_date) == (
        GOOD, "Соколова Анна Игоревна", date(1984, 3, 9))
    assert insurer.code == "sogaz"
    assert len(audit) == 1


async def test_hash_alone_skips_the_enp(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], region: None,
) -> None:
    service, peer = await _secretary(settings, sessions, ["2", "#", "1", SILENCE])
    assert played(peer.commands)[-1] == "secretary/message-thanks"
    assert "secretary/enp-thanks" not in played(peer.commands)
    [message] = service.taken
    assert message.enp is None


async def test_an_enp_not_in_the_register_stays_on_the_card_alone(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], region: None,
) -> None:
    """The register knows nobody with it: the card keeps the typed ЕНП, nothing else."""
    now = NOW
    message = MessageTaken("hotline/20261127/msg-1.wav", "89131234567", "89131234567", now,
                           number_confirmed=True, enp=GOOD)
    await register_message(sessions, settings.line(FUND),
                           load_calendar_dir(REPO / "config" / "calendar"), pbx_call_id="2.2",
                           message=message, within=timedelta(hours=1),
                           rules=CardRules(clock=lambda: now))
    async with sessions() as session:
        card = await session.scalar(select(Card))
    assert card.applicant_policy == GOOD and card.applicant_name is None
