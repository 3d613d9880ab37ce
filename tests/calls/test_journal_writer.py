"""Every real transcript, through the tracker, into the journal: calls, timelines, cards.

Runs on PostgreSQL and SQLite. The whole path is the production one: AMI messages → pure
tracker → serialised records → `apply_records` in one transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from hotline.calls.store import apply_records
from journal.actors import Actor
from journal.cards import create_written
from journal.db import unit_of_work
from journal.models import Call, CallEvent, CallTransfer, Card, Recording
from tests.support.records import records_of

pytestmark = pytest.mark.usefixtures("region")
CALLER = "Иванов Иван Петрович"






async def write(sessions, records: list[dict]) -> None:
    async with unit_of_work(sessions) as session:
        await apply_records(session, records)


async def only_call(sessions) -> Call:
    async with sessions() as session:
        calls = (await session.scalars(select(Call))).all()
    assert len(calls) == 1
    return calls[0]


async def timeline(sessions, call: Call) -> list[tuple[str, str | None]]:
    async with sessions() as session:
        rows = await session.execute(
            select(CallEvent.kind, CallEvent.interface)
            .where(CallEvent.call_id == call.id).order_by(CallEvent.at, CallEvent.id)
        )
        return [tuple(r) for r in rows]


async def test_answered_call_has_its_timeline_card_and_recording(sessions) -> None:
    await write(sessions, records_of("operator_answered"))
    call = await only_call(sessions)
    assert (call.direction, call.line_number, call.caller_number, call.caller_name) == (
        "in", "88007758565", "79161234567", CALLER)
    assert call.outcome == "answered"
    assert call.answered_interface == "PJSIP/op102"
    assert call.queue_wait_seconds == 2
    assert call.end_cause == "16 Normal Clearing"
    assert call.talk_seconds is not None and call.talk_seconds >= 5
    assert await timeline(sessions, call) == [
        ("call_arrived", None),
        ("recording_started", None),
        ("call_queued", None),
        ("operator_ringing", "PJSIP/op102"),
        ("operator_answered", "PJSIP/op102"),
        ("call_ended", None),
    ]
    async with sessions() as session:
        card = await session.get(Card, call.card_id)
        recording = await session.scalar(select(Recording))
    assert card.status == "draft" and card.channel == "hotline" and card.form == "oral"
    assert card.number == f"TFOMS-{card.year}-000001"
    assert card.applicant_phone == "79161234567"
    assert (recording.pbx_file, recording.kind, recording.status) == (
        "hotline/20261123/1795444523.2.wav", "call", "pending")


async def test_abandoned_and_secretary_calls_have_cards_too(sessions) -> None:
    await write(sessions, records_of("abandoned_in_queue"))
    await write(sessions, records_of("secretary_message"))
    async with sessions() as session:
        calls = {c.outcome: c for c in (await session.scalars(select(Call))).all()}
        cards = (await session.scalars(select(Card))).all()
        message = await session.scalar(select(Recording).where(Recording.kind == "message"))
    assert set(calls) == {"abandoned", "secretary"}
    assert calls["abandoned"].queue_wait_seconds == 6
    assert calls["abandoned"].answered_at is None
    assert len(cards) == 2 and all(c.status == "draft" for c in cards)
    assert {c.id for c in cards} == {calls["abandoned"].card_id, calls["secretary"].card_id}
    assert message.pbx_file == "hotline/msg-1795444764.23.wav"
    assert message.card_id == calls["secretary"].card_id


@pytest.mark.parametrize(
    ("name", "kind", "from_interface", "to_queue", "to_interface"),
    [
        ("blind_transfer_to_level2", "blind", "PJSIP/op102", "l2-tfoms", None),
        ("attended_transfer_to_level2", "attended", "PJSIP/op101", "l2-tfoms", "PJSIP/op201"),
    ],
)
async def test_transfer_to_level2_keeps_one_call_and_one_card(
    sessions, name, kind, from_interface, to_queue, to_interface
) -> None:
    await write(sessions, records_of(name))
    call = await only_call(sessions)
    async with sessions() as session:
        transfers = (await session.scalars(select(CallTransfer))).all()
        cards = await session.scalar(select(func.count(Card.id)))
    assert cards == 1
    assert [(t.kind, t.from_interface, t.to_queue) for t in transfers] == [
        (kind, from_interface, to_queue)]
    if to_interface:
        assert transfers[0].to_interface == to_interface
    assert call.outcome == "answered"
    answered = [i for k, i in await timeline(sessions, call) if k == "operator_answered"]
    assert answered[0] == from_interface and "PJSIP/op201" in answered


@pytest.mark.parametrize("batches", ["one batch", "a batch per record"])
async def test_a_blind_transfer_names_the_level2_operator_who_answers(sessions, batches) -> None:
    """The transfer is reported before anyone at level 2 answers; whoever then answers is
    its target, whether the answer comes in the same batch of the writer or a later one."""
    records = records_of("blind_transfer_to_level2")
    for chunk in [records] if batches == "one batch" else [[r] for r in records]:
        await write(sessions, chunk)
    async with sessions() as session:
        transfers = (await session.scalars(select(CallTransfer))).all()
    assert [(t.kind, t.from_interface, t.to_interface) for t in transfers] == [
        ("blind", "PJSIP/op102", "PJSIP/op201")]


async def test_callback_attaches_to_the_card_named_by_the_channel_variable(sessions) -> None:
    async with unit_of_work(sessions) as session:
        card = await create_written(
            session, Actor.system("test"), channel="post", organization_id=1,
            received_at=datetime(2026, 11, 20, tzinfo=UTC),
            fields={"applicant_name": CALLER, "applicant_phone": "79161234567"},
        )
    await write(sessions, records_of("callback_originate", {"22-2026-000042": str(card.id)}))
    call = await only_call(sessions)
    assert (call.direction, call.outcome, call.card_id) == ("out", "callback", card.id)
    assert call.answered_interface == "PJSIP/op201"
    async with sessions() as session:
        recording = await session.scalar(select(Recording))
        cards = await session.scalar(select(func.count(Card.id)))
    assert cards == 1, "a callback never opens a new card"
    assert (recording.kind, recording.pbx_file) == ("callback", "hotline/cb-1795444712.19.wav")


async def test_callback_for_an_unknown_card_is_kept_unlinked(sessions) -> None:
    await write(sessions, records_of("callback_originate"))
    call = await only_call(sessions)
    assert call.card_id is None and call.outcome == "callback"


async def test_writing_the_same_records_twice_changes_nothing(sessions) -> None:
    records = records_of("blind_transfer_to_level2")
    await write(sessions, records)
    await write(sessions, records)
    await write(sessions, records[:3])
    async with sessions() as session:
        counts = [
            await session.scalar(select(func.count()).select_from(model))
            for model in (Call, Card, CallEvent, CallTransfer, Recording)
        ]
    assert counts == [1, 1, len(records), 1, 1]


async def test_an_account_at_another_organizations_phone_is_not_the_calls_operator(
    sessions, settings
) -> None:
    """op102 is a fund phone: an insurer's account bound to it (made before phones were
    checked) is not stored as the operator who answered the fund's call; the fund's own
    operator at that phone is."""
    from journal.users import add_user

    phones = {i.lower(): org.code for org in settings.organizations for i in org.interfaces}
    async with unit_of_work(sessions) as session:
        await add_user(session, login="intruder", password="long-password", full_name="X",
                       role="operator", organization_code="sogaz", level=1,
                       interface="PJSIP/op102")
    async with unit_of_work(sessions) as session:
        await apply_records(session, records_of("operator_answered"), phones=phones)
    call = await only_call(sessions)
    assert call.answered_interface == "PJSIP/op102" and call.answered_by_id is None


async def test_a_recording_reported_again_after_a_takeover_is_one_line(sessions) -> None:
    """The instance that takes the PBX link over finds the call recording and reports its
    file again, at its own time: the call keeps one recording and one «запись начата»."""
    records = records_of("operator_answered")
    started = next(r for r in records if r["event"] == "recording_started")
    again = {**started, "at": datetime(2026, 11, 23, 12, 0, 30, tzinfo=UTC).isoformat()}
    await write(sessions, records)
    await write(sessions, [again])
    call = await only_call(sessions)
    assert [kind for kind, _ in await timeline(sessions, call)].count("recording_started") == 1
    async with sessions() as session:
        assert await session.scalar(select(func.count(Recording.id))) == 1
