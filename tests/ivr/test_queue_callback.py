"""Key 1 in the queue (issue #19) over a real FastAGI socket into the real journal: the number
dialog, «оператор перезвонит вам в течение часа», and the level-1 callback task at once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from hotline.config import Settings
from hotline.ivr.fastagi import FastAgiServer
from hotline.ivr.loader import load_scripts
from hotline.ivr.service import IvrService
from journal.calendar import load_calendar_dir
from journal.cards import CardRules
from journal.models import CallbackTask, Card, Organization
from tests.support.paths import REPO
from tests.support.agi_peer import AgiPeer, played

SOGAZ = "88002009204"
NOW = datetime(2026, 11, 27, 5, 0, tzinfo=UTC)  # 12:00 in Barnaul, a working Friday
LEFT = int(datetime(2026, 11, 27, 4, 59, 30, tzinfo=UTC).timestamp())


async def test_key_1_in_the_queue_leaves_a_callback_task(
    settings: Settings, sessions, region,
) -> None:
    """The caller confirms their own number; the task is СОГАЗ-Мед's, level 1, from the queue,
    with the moment they left; the workspaces are told."""
    told: list[int] = []
    service = IvrService(settings, load_scripts(REPO / "ivr_scripts", settings),
                         load_calendar_dir(REPO / "config" / "calendar"), sessions,
                         CardRules(clock=lambda: NOW), clock=lambda: NOW)
    service.on_callback = told.append
    server = FastAgiServer(service.handle, "127.0.0.1", 0, timeout=2.0)
    await server.start()
    try:
        peer = AgiPeer(server.port, ["1"], script="queue-callback",
                       variables={"HOTLINE_LINE": SOGAZ, "HOTLINE_ID": "1764219570.7",
                                  "HOTLINE_QLEFT": str(LEFT)})
        await peer.run()
        await server.idle()
    finally:
        await server.stop()
    prompts = played(peer.commands)
    assert prompts[:2] == ["secretary/number-is", "secretary/number-confirm"]
    assert 'SAY DIGITS 89131234567 ""' in peer.commands
    assert prompts[-3:] == ["queue-callback-ok", "queue-callback-hour", "secretary/goodbye"]
    async with sessions() as session:
        task = await session.scalar(select(CallbackTask))
        card = await session.get(Card, task.card_id)
        org = await session.get(Organization, task.organization_id)
    assert (org.code, task.origin, task.contact_phone) == ("sogaz", "queue", "89131234567")
    assert task.asked_at == datetime.fromtimestamp(LEFT, tz=UTC)
    assert (task.due_at - NOW).total_seconds() == 3600
    assert card.responsible_level in (None, 1) and card.deferred_contact == "89131234567"
    assert told == [task.organization_id]
