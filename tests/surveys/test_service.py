"""Surveys on the results (issue #6): done cards → one survey task each, dialled in the line's
operator hours with retries, the rating stored over a real FastAGI socket, counted in reports."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.config import Settings
from hotline.ivr.fastagi import FastAgiServer
from hotline.ivr.loader import load_scripts
from hotline.ivr.service import IvrService
from hotline.surveys.service import SurveyDialer
from journal import surveys
from journal.actors import Actor
from journal.calendar import load_calendar_dir
from journal.cards import CardRules
from journal.db import unit_of_work
from journal.errors import InvalidInput
from journal.models import Card, CardHistory, Organization, SurveyStatus, SurveyTask
from journal.reports.period import parse_period
from journal.reports.surveys import survey_report
from tests.support.paths import REPO
from tests.support.agi_peer import AgiPeer, played

FRIDAY_EVENING = datetime(2026, 11, 27, 11, 0, tzinfo=UTC)  # 18:00 in Barnaul: secretary
MONDAY_10 = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)  # 10:00 in Barnaul: operators
CALENDAR = load_calendar_dir(REPO / "config" / "calendar")
_seq = itertools.count(1)


class FakeActions:
    def __init__(self) -> None:
        self.placed: list[dict[str, object]] = []

    async def place_survey(self, **kw: object) -> None:
        self.placed.append(kw)


async def _orgs(session: AsyncSession) -> dict[str, int]:
    return dict((await session.execute(select(Organization.code, Organization.id))).all())


async def done_card(
    sessions: async_sessionmaker[AsyncSession], org: str, *, phone: str | None = "89131234567",
    completed: datetime = FRIDAY_EVENING - timedelta(hours=1), anonymous: bool = False,
) -> int:
    async with unit_of_work(sessions) as session:
        orgs = await _orgs(session)
        n = next(_seq)
        card = Card(
            number=f"S-{n}", year=2026, sequence=n, receiving_organization_id=orgs[org],
            organization_id=orgs[org], received_at=completed - timedelta(days=1),
            registered_at=completed - timedelta(days=1), channel="hotline", form="oral",
            applicant_phone=phone, anonymous=anonymous, status="done", created_at=completed,
            updated_at=completed,
        )
        session.add(card)
        await session.flush()
        session.add(CardHistory(card_id=card.id, at=completed, user_id=None, action="complete",
                                changes={"status": ["in_work", "done"]}))
        return card.id


def _dialer(settings: Settings, sessions: async_sessionmaker[AsyncSession],
            clock: list[datetime], *, agi: bool = True) -> tuple[SurveyDialer, FakeActions]:
    """A dialer on a fake clock; `agi` says whether the FastAGI survey script is served."""
    settings = settings.model_copy(
        update={"asterisk": settings.asterisk.model_copy(update={"agi_serve": agi})})
    actions = FakeActions()
    dialer = SurveyDialer(settings, sessions, CALENDAR, actions,  # type: ignore[arg-type]
                          clock=lambda: clock[0])
    return dialer, actions


async def _tasks(sessions: async_sessionmaker[AsyncSession]) -> list[SurveyTask]:
    async with sessions() as session:
        return list(await session.scalars(select(SurveyTask).order_by(SurveyTask.id)))


def test_the_example_region_surveys_the_fund_by_ivr(settings: Settings) -> None:
    assert settings.organization("tfoms").survey == "ivr"
    assert settings.organization("sogaz").survey == "off"
    assert (settings.surveys.max_attempts, settings.surveys.retry_minutes) == (3, 60)


async def test_scheduling_is_idempotent_never_twice(
    sessions: async_sessionmaker[AsyncSession], region: None, settings: Settings
) -> None:
    wanted = await done_card(sessions, "tfoms")
    await done_card(sessions, "tfoms", anonymous=True)
    await done_card(sessions, "tfoms", phone=None)
    await done_card(sessions, "tfoms", completed=FRIDAY_EVENING - timedelta(days=10))
    await done_card(sessions, "sogaz")  # survey = "off"
    modes = {org.code: org.survey for org in settings.organizations}
    for expected in (1, 0, 0):
        async with unit_of_work(sessions) as session:
            assert await surveys.schedule_for_done_cards(session, modes, FRIDAY_EVENING) == expected
    (task,) = await _tasks(sessions)
    assert (task.card_id, task.mode, task.status, task.attempts) == (wanted, "ivr", "pending", 0)
    # Even a direct second insert is refused by the database.
    with pytest.raises(IntegrityError):
        async with unit_of_work(sessions) as session:
            session.add(SurveyTask(card_id=wanted, organization_id=task.organization_id,
                                   mode="ivr", phone="89131234567", status="pending",
                                   attempts=0, next_attempt_at=FRIDAY_EVENING,
                                   created_at=FRIDAY_EVENING))
    # An operator-mode organization gets a task to call, never an automatic call.
    await done_card(sessions, "sogaz")
    async with unit_of_work(sessions) as session:
        assert await surveys.schedule_for_done_cards(session, {"sogaz": "operator"},
                                                     FRIDAY_EVENING) == 2
        admin = Actor(user_id=None, login="admin", role="admin", organization_id=None)
        assert {t.mode for t in await surveys.operator_tasks(session, admin)} == {"operator"}
        assert [t.mode for t in await surveys.due_tasks(session, MONDAY_10, 3)] == ["ivr"]


async def test_dialled_in_working_hours_with_retries(
    sessions: async_sessionmaker[AsyncSession], region: None, settings: Settings
) -> None:
    card_id = await done_card(sessions, "tfoms")
    clock = [FRIDAY_EVENING]
    dialer, actions = _dialer(settings, sessions, clock)
    assert await dialer.run_once() == []  # scheduled, but the fund's line is off hours
    (task,) = await _tasks(sessions)
    assert task.attempts == 0
    timeline = [
        (MONDAY_10, 1), (MONDAY_10 + timedelta(minutes=30), 1),  # within the retry pause
        (MONDAY_10 + timedelta(minutes=60), 2), (MONDAY_10 + timedelta(minutes=120), 3),
        (MONDAY_10 + timedelta(minutes=180), 3), (MONDAY_10 + timedelta(days=1), 3),
    ]
    for moment, calls in timeline:
        clock[0] = moment
        await dialer.run_once()
        assert len(actions.placed) == calls, moment
    assert actions.placed[0] == {"survey_id": task.id, "card_id": card_id,
                                 "number": "89131234567", "line": "88007758565"}
    (task,) = await _tasks(sessions)
    assert (task.status, task.attempts, task.rating) == (SurveyStatus.FAILED, 3, None)


async def test_without_the_fastagi_script_no_citizen_is_called(
    sessions: async_sessionmaker[AsyncSession], region: None, settings: Settings
) -> None:
    await done_card(sessions, "tfoms")
    dialer, actions = _dialer(settings, sessions, [MONDAY_10], agi=False)
    assert await dialer.run_once() == []
    (task,) = await _tasks(sessions)
    assert (task.attempts, actions.placed) == (0, [])


async def test_a_rating_is_stored_over_fastagi_once(
    sessions: async_sessionmaker[AsyncSession], region: None, settings: Settings
) -> None:
    card_id = await done_card(sessions, "tfoms")
    clock = [MONDAY_10]
    dialer, actions = _dialer(settings, sessions, clock)
    await dialer.run_once()
    (placed,) = actions.placed
    async with sessions() as session:
        version = (await session.get(Card, card_id)).version  # type: ignore[union-attr]
    service = IvrService(settings, load_scripts(REPO / "ivr_scripts", settings), CALENDAR,
                         sessions, CardRules(), clock=lambda: MONDAY_10 + timedelta(minutes=1))
    server = FastAgiServer(service.handle, "127.0.0.1", 0, timeout=2.0)
    await server.start()
    try:
        for keys in (["8", "4"], ["5"]):  # a second call (say, a redial) changes nothing
            peer = AgiPeer(server.port, keys, script="survey", variables={
                "HOTLINE_SURVEY": str(placed["survey_id"]),
                "HOTLINE_SURVEY_CARD": str(card_id)})
            await peer.run()
            await server.idle()
        assert played(peer.commands)[-1] == "survey/thanks"
    finally:
        await server.stop()
    (task,) = await _tasks(sessions)
    assert (task.status, task.rating, task.attempts) == (SurveyStatus.DONE, 4, 1)
    async with sessions() as session:
        history = list(await session.scalars(
            select(CardHistory).where(CardHistory.card_id == card_id,
                                      CardHistory.action == "survey")))
        assert [h.changes["survey_rating"] for h in history] == [[None, 4]]
        assert (await session.get(Card, card_id)).version == version  # type: ignore[union-attr]
    clock[0] = MONDAY_10 + timedelta(hours=2)
    assert await dialer.run_once() == []  # answered: never called again


async def test_the_report_counts_ratings_by_organization_and_score(
    sessions: async_sessionmaker[AsyncSession], region: None, settings: Settings
) -> None:
    modes = {"tfoms": "ivr", "kapital": "operator"}
    cards = [await done_card(sessions, org) for org in ("tfoms", "tfoms", "tfoms", "kapital")]
    async with unit_of_work(sessions) as session:
        await surveys.schedule_for_done_cards(session, modes, FRIDAY_EVENING)
        tasks = {t.card_id: t.id for t in await session.scalars(select(SurveyTask))}
    answered = MONDAY_10
    for card_id, rating in zip(cards, (5, 5, 2, 4), strict=True):
        async with unit_of_work(sessions) as session:
            await surveys.record_rating(session, tasks[card_id], rating, answered)
    async with unit_of_work(sessions) as session:
        with pytest.raises(InvalidInput, match="1 до 5"):
            await surveys.record_rating(session, tasks[cards[0]], 6, answered)
    async with unit_of_work(sessions) as session:
        rows = await survey_report(session, Actor.system("cli"),
                                   parse_period("2026-11", ZoneInfo("Asia/Barnaul")))
        december = await survey_report(session, Actor.system("cli"),
                                       parse_period("2026-12", ZoneInfo("Asia/Barnaul")))
        assert await session.scalar(select(func.count()).select_from(SurveyTask)) == 4
    by_code = {r.code: r for r in rows}
    assert by_code["tfoms"].counts == {1: 0, 2: 1, 3: 0, 4: 0, 5: 2}
    assert by_code["kapital"].counts == {1: 0, 2: 0, 3: 0, 4: 1, 5: 0}
    assert by_code["sogaz"].total == 0
    assert by_code["tfoms"].average == pytest.approx(4.0)
    assert all(r.total == 0 for r in december)
