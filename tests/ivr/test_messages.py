"""A finished secretary message in the journal: the call's card, a callback task due the next
working morning of the line, the recording linked by the tracker's path, nothing doubled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.calls.store import MessagePolicy, apply_records
from hotline.config import Settings
from hotline.ivr.engine import MessageTaken
from hotline.ivr.fastagi import FastAgiServer
from hotline.callbacks import messages as callback_messages
from hotline.ivr.loader import load_scripts
from hotline.callbacks.messages import SECRETARY_CONTENT, callback_due
from hotline.ivr.messages import register_message
from hotline.ivr.service import IvrService
from journal.calendar import ProductionCalendar, load_calendar_dir
from journal.cards import CardRules
from journal.db import unit_of_work
from journal.deadlines import DeadlinePolicy
from journal.models import CallbackTask, Card, Recording
from tests.support.paths import REPO
from tests.support.agi_peer import AgiPeer

BARNAUL = ZoneInfo("Asia/Barnaul")
FUND = "88007758565"
SOGAZ = "88002009204"
HOUR = timedelta(hours=1)


@pytest.fixture(scope="module")
def calendar() -> ProductionCalendar:
    return load_calendar_dir(REPO / "config" / "calendar")


def _rules(now: datetime) -> CardRules:
    return CardRules(deadlines=DeadlinePolicy(zone=BARNAUL), clock=lambda: now)


def _local(*args: int) -> datetime:
    return datetime(*args, tzinfo=BARNAUL)


@pytest.mark.parametrize(("now", "due"), [
    # Friday evening → Monday 08:30.
    (_local(2026, 11, 27, 18, 0), _local(2026, 11, 30, 8, 30)),
    # Saturday night → Monday 08:30.
    (_local(2026, 11, 28, 23, 0), _local(2026, 11, 30, 8, 30)),
    # The shortened 03.11 after 16:30, before the 04.11 holiday → Thursday 05.11 08:30.
    (_local(2026, 11, 3, 17, 0), _local(2026, 11, 5, 8, 30)),
    # Before the 12.06 holiday (Friday) → Monday 15.06.
    (_local(2026, 6, 11, 20, 0), _local(2026, 6, 15, 8, 30)),
    # Early morning of a working day → the same morning.
    (_local(2026, 11, 26, 6, 0), _local(2026, 11, 26, 8, 30)),
    # During hours (a queue nobody answered): within the hour.
    (_local(2026, 11, 26, 12, 0), _local(2026, 11, 26, 13, 0)),
    # Five minutes to closing: the next morning instead of after hours.
    (_local(2026, 11, 26, 17, 25), _local(2026, 11, 27, 8, 30)),
])
def test_callback_due(settings: Settings, calendar: ProductionCalendar, now: datetime,
                      due: datetime) -> None:
    """The next working morning of the fund's line, by its schedule and the calendar."""
    assert callback_due(settings.line(FUND), calendar, now, HOUR) == due


def test_callback_due_on_a_24_7_line(settings: Settings, calendar: ProductionCalendar) -> None:
    """Operators are always there: within the hour, even on a holiday night."""
    now = _local(2026, 11, 4, 3, 0)
    assert callback_due(settings.line(SOGAZ), calendar, now, HOUR) == now + HOUR


def _message(now: datetime, number: str | None = "89131234567") -> MessageTaken:
    return MessageTaken("hotline/20261127/msg-1.1.wav", "89131234567", number, now, True)


async def _tasks(sessions: async_sessionmaker[AsyncSession]) -> list[CallbackTask]:
    async with sessions() as session:
        return list((await session.scalars(select(CallbackTask))).all())


async def test_friday_evening_message_is_a_secretary_card_due_monday(
    sessions: async_sessionmaker[AsyncSession], region: None, settings: Settings,
    calendar: ProductionCalendar,
) -> None:
    """No card yet: it is created with the channel "electronic secretary"; the callback task
    is due Monday 08:30 Barnaul; registering again adds nothing."""
    now = _local(2026, 11, 27, 18, 0)
    for _ in range(2):
        await register_message(sessions, settings.line(FUND), calendar, pbx_call_id="1.1",
                               message=_message(now), within=HOUR, rules=_rules(now))
    [task] = await _tasks(sessions)
    assert task.due_at.astimezone(BARNAUL) == _local(2026, 11, 30, 8, 30)
    assert task.contact_phone == "89131234567"
    async with sessions() as session:
        card = await session.get(Card, task.card_id)
    assert card is not None
    assert card.channel == "secretary" and card.status == "in_work"
    assert card.callback_due_at is not None


async def test_two_paths_registering_one_message_at_once_make_one_callback(
    sessions: async_sessionmaker[AsyncSession], region: None, settings: Settings,
    calendar: ProductionCalendar, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The FastAGI secretary and the journal writer register the same message at once: the
    second looked for a pending callback just before the first committed. Its deferral finds
    the first's task and moves it rather than adding a second: one callback to make. (Had
    both written at the same instant, the card's version would make the later a conflict;
    and the database refuses a second pending callback of a card in any case.)"""
    now = _local(2026, 11, 27, 18, 0)
    first = await register_message(sessions, settings.line(FUND), calendar, pbx_call_id="5.5",
                                   message=_message(now), within=HOUR, rules=_rules(now))
    assert first is not None

    async def looked_too_early(_session: AsyncSession, _card_id: int) -> bool:
        return False

    monkeypatch.setattr(callback_messages, "_has_callback", looked_too_early)
    await register_message(sessions, settings.line(FUND), calendar, pbx_call_id="5.5",
                           message=_message(now), within=HOUR, rules=_rules(now))
    [task] = await _tasks(sessions)
    assert (task.id, task.status, task.contact_phone) == (first.id, "pending", "89131234567")


async def test_tracker_card_and_recording_are_reused(
    sessions: async_sessionmaker[AsyncSession], region: None, settings: Settings,
    calendar: ProductionCalendar,
) -> None:
    """The tracker made the card at arrival (channel hotline): the message goes on it, marked
    in its content; the recording comes once, from the tracker's HotlineMessage path, and is
    linked to that card. Before the 04.11 holiday the callback is due 05.11 08:30."""
    now = _local(2026, 11, 3, 17, 0)
    rules = _rules(now)
    at = now.astimezone(UTC).isoformat()
    arrived = {"event": "call_arrived", "call_id": "2.2", "at": at, "direction": "in",
               "line": FUND, "organization": "tfoms", "caller_number": "89131234567"}
    async with unit_of_work(sessions) as session:
        await apply_records(session, [arrived], rules=rules)
    await register_message(sessions, settings.line(FUND), calendar, pbx_call_id="2.2",
                           message=_message(now, "89137654321"), within=HOUR, rules=rules)
    message = {"event": "secretary_message", "call_id": "2.2", "at": at,
               "file": "hotline/20261103/msg-2.2.wav", "line": FUND,
               "caller_number": "89137654321", "duration": 30}
    for _ in range(2):  # a replayed batch changes nothing
        async with unit_of_work(sessions) as session:
            await apply_records(session, [message], rules=rules)
    [task] = await _tasks(sessions)
    assert task.due_at.astimezone(BARNAUL) == _local(2026, 11, 5, 8, 30)
    assert task.contact_phone == "89137654321"
    async with sessions() as session:
        cards = (await session.scalars(select(Card))).all()
        recordings = (await session.scalars(select(Recording))).all()
    [card] = cards
    assert card.channel == "hotline" and card.content == SECRETARY_CONTENT
    [recording] = recordings
    assert recording.card_id == card.id and recording.kind == "message"


async def test_a_message_in_the_same_batch_as_its_arrival_gets_its_callback(
    sessions: async_sessionmaker[AsyncSession], region: None, settings: Settings,
    calendar: ProductionCalendar,
) -> None:
    """The plain-dialplan secretary with the service's writer behind: the call's arrival and
    its message are written together, the card registered with the batch's arrivals is found
    by the message, which gets its callback task; the writer reports the card as committed
    (in work, with the message's content); a replayed batch adds nothing."""
    now = _local(2026, 11, 27, 18, 0)
    rules = _rules(now)
    at = now.astimezone(UTC).isoformat()
    records = [
        {"event": "call_arrived", "call_id": "5.5", "at": at, "direction": "in",
         "line": FUND, "organization": "tfoms", "caller_number": "89131234567"},
        {"event": "secretary_message", "call_id": "5.5", "at": at,
         "file": "hotline/20261127/msg-5.5.wav", "line": FUND, "caller_number": "89131234567",
         "duration": 30},
    ]
    policy = MessagePolicy({FUND: settings.line(FUND)}, calendar, within=HOUR)
    results = []
    for _ in range(2):
        async with unit_of_work(sessions) as session:
            results.append(await apply_records(session, records, rules=rules, messages=policy))
    [task] = await _tasks(sessions)
    assert task.due_at.astimezone(BARNAUL) == _local(2026, 11, 30, 8, 30)
    async with sessions() as session:
        [card] = (await session.scalars(select(Card))).all()
        [recording] = (await session.scalars(select(Recording))).all()
    assert task.card_id == card.id == recording.card_id
    assert (card.status, card.content) == ("in_work", SECRETARY_CONTENT)
    first, replay = (result["5.5"] for result in results)
    assert first.card is not None and replay.card is None
    assert (first.card["status"], first.card["content"], first.card["version"]) == (
        card.status, card.content, card.version)


async def test_a_message_whose_callback_fails_leaves_the_card_as_registered(
    sessions: async_sessionmaker[AsyncSession], region: None, settings: Settings,
    calendar: ProductionCalendar,
) -> None:
    """A number the journal refuses for the callback: the message's savepoint rolls back its
    change of the card too, and the writer reports the card as it commits (a draft)."""
    now = _local(2026, 11, 27, 18, 0)
    at = now.astimezone(UTC).isoformat()
    records = [
        {"event": "call_arrived", "call_id": "6.6", "at": at, "direction": "in",
         "line": FUND, "organization": "tfoms", "caller_number": "89131234567"},
        {"event": "secretary_message", "call_id": "6.6", "at": at,
         "file": "hotline/20261127/msg-6.6.wav", "line": FUND, "caller_number": "12"},
    ]
    policy = MessagePolicy({FUND: settings.line(FUND)}, calendar, within=HOUR)
    async with unit_of_work(sessions) as session:
        written = await apply_records(session, records, rules=_rules(now), messages=policy)
    assert await _tasks(sessions) == []
    async with sessions() as session:
        [card] = (await session.scalars(select(Card))).all()
    snapshot = written["6.6"].card
    assert snapshot is not None
    assert (card.status, card.content) == ("draft", None)
    assert (snapshot["status"], snapshot["content"], snapshot["version"]) == (
        card.status, card.content, card.version)


async def test_no_usable_number_no_task(
    sessions: async_sessionmaker[AsyncSession], region: None, settings: Settings,
    calendar: ProductionCalendar,
) -> None:
    """An anonymous caller who typed nothing: the card exists, no callback task."""
    now = _local(2026, 11, 27, 18, 0)
    message = MessageTaken("hotline/20261127/msg-3.3.wav", None, None, now)
    assert await register_message(sessions, settings.line(FUND), calendar, pbx_call_id="3.3",
                                  message=message, within=HOUR, rules=_rules(now)) is None
    assert await _tasks(sessions) == []


async def test_end_to_end_over_fastagi(
    sessions: async_sessionmaker[AsyncSession], region: None, settings: Settings,
    calendar: ProductionCalendar,
) -> None:
    """A caller on Friday evening leaves a message over a real FastAGI socket: the card and a
    callback task due Monday 08:30 are in the journal."""
    now = _local(2026, 11, 27, 18, 0)
    service = IvrService(settings, load_scripts(REPO / "ivr_scripts", settings), calendar,
                         sessions, _rules(now), clock=lambda: now)
    server = FastAgiServer(service.handle, "127.0.0.1", 0, timeout=2.0)
    await server.start()
    try:
        peer = AgiPeer(server.port, ["2", "#", "1"],
                       variables={"HOTLINE_LINE": FUND, "HOTLINE_ID": "4.4"})
        await peer.run()
        await server.idle()
    finally:
        await server.stop()
    [task] = await _tasks(sessions)
    assert task.due_at.astimezone(BARNAUL) == _local(2026, 11, 30, 8, 30)
