"""The live part of the workspace against the PBX simulator on PostgreSQL: screen-pops over
`/api/v1/ws`, the transfer to level 2, the agent API and the administrators' live board."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import delete, select, update
from structlog.testing import capture_logs

from hotline.app import create_app
from hotline.config import Settings
from hotline.keys import CALL_WRITER, LIVE, PBX
from hotline.live import ws as ws_module
from hotline.sim.calls import Timing
from hotline.sim.simulator import PbxSimulator
from hotline.web.keys import SESSIONS
from journal.actors import Actor
from journal.db import unit_of_work
from journal.models import AuditEntry, Call, CallbackTask, User, WebSessionRow
from journal.users import add_user
from tests.support.service import FUND_LINE, INSURER_LINE, running, service_settings, settle
from tests.support.ws_browser import PASSWORD, TALK, Browser, _with_op150

CITIZEN = "79131234567"
# Long enough that the operator is still talking when the test asks for the transfer.
LONG_TALK = Timing(talk=3000.0, level2_talk=3000.0)










@pytest.fixture
async def browsers(client: TestClient) -> AsyncIterator[dict[str, Browser]]:
    """A separate browser (cookie jar) per user of the `client` fixture."""
    opened = {login: Browser(client)
              for login in ("admin", "op101", "op201", "op150", "sogaz-op", "intruder",
                            "fund-sup", "sogaz-sup")}
    try:
        yield opened
    finally:
        for browser in opened.values():
            await browser.close()


async def _live(browsers: dict[str, Browser], *logins: str) -> list[Browser]:
    """Sign these users in, open their live sockets, and let the hub register them."""
    opened = []
    for login in logins:
        browser = await browsers[login].login(login)
        await browser.connect()
        opened.append(browser)
    await asyncio.sleep(0.05)
    return opened


async def _talking(client: TestClient, pbx_call_id: str, interface: str) -> None:
    tracker = client.server.app[PBX].tracker
    async with asyncio.timeout(10):
        while True:
            snap = tracker.snapshot(pbx_call_id)
            if snap is not None and snap.state == "talking" and snap.current_operator == interface:
                return
            await asyncio.sleep(0.02)


async def test_ringing_phone_pops_its_card_to_that_operator_only(client, sim, browsers) -> None:
    """op101's phone rings → op101 gets the call's card within a second; the insurer's
    operator (another organization) gets nothing; transfer to level 2 pops the same card
    to op201."""
    op101, op201, sogaz = await _live(browsers, "op101", "op201", "sogaz-op")

    rang = time.monotonic()
    sim.place_call(FUND_LINE, CITIZEN, "Петрова Анна", "answered", agent="PJSIP/op101",
                   auto_answer=False, timing=LONG_TALK)
    pop = await op101.next_pop(timeout=5)
    # The phone rings after the greeting; the card must follow the ringing within a second.
    assert time.monotonic() - rang < 5
    assert datetime.now(UTC) - datetime.fromisoformat(pop["call"]["ringing_at"]) < timedelta(seconds=1)
    assert pop["card"] is not None and pop["card_pending"] is False
    assert pop["call"]["caller_number"] == CITIZEN
    assert pop["call"]["line"] == FUND_LINE and pop["call"]["organization"] == "tfoms"
    assert pop["call"]["interface"] == "PJSIP/op101"
    async with client.server.app[SESSIONS]() as session:
        call = await session.scalar(select(Call).where(Call.pbx_call_id == pop["call"]["pbx_call_id"]))
    assert pop["call"]["id"] == call.id and pop["card"]["id"] == call.card_id
    assert pop["card"]["number"].startswith("TFOMS") and pop["card"]["status"] == "draft"
    assert pop["card"]["applicant_phone"]
    assert isinstance(pop["earlier_cards"], list) and isinstance(pop["scripts"], list)

    assert sim.answer("PJSIP/op101")
    await _talking(client, call.pbx_call_id, "PJSIP/op101")
    answer = await op101.post(f"/api/v1/calls/{call.id}/transfer", {"to": "level2"}, expect=202)
    assert answer["to_queue"] == "l2-tfoms"

    second = await op201.next_pop(timeout=5)
    assert second["card"]["id"] == call.card_id
    assert second["call"]["pbx_call_id"] == call.pbx_call_id
    assert second["call"]["interface"] == "PJSIP/op201"

    with pytest.raises(TimeoutError):
        await sogaz.next_of("screen_pop", timeout=0.3)


async def test_a_phone_of_another_organization_gets_its_user_nothing(client, sim, browsers) -> None:
    """An insurer's account bound to a fund phone (op102) gets no pop, no call state and no
    agent state of that phone, and cannot pause it; both refusals are audited `denied`."""
    [intruder] = await _live(browsers, "intruder")
    sim.place_call(FUND_LINE, CITIZEN, "Петрова Анна", "answered", agent="PJSIP/op102",
                   auto_answer=False, timing=LONG_TALK)
    with pytest.raises(TimeoutError):
        await intruder.next_of("screen_pop", timeout=1.5)
    refused = await intruder.post("/api/v1/agent/pause", {"reason": "обед"}, expect=403)
    assert refused["error"]["code"] == "forbidden"
    assert not any(m.paused for q in sim.pbx.state.queues.values()
                   for m in [q.member("PJSIP/op102")] if m is not None)
    async with client.server.app[SESSIONS]() as session:
        denied = (await session.scalars(select(AuditEntry).where(
            AuditEntry.action == "denied", AuditEntry.login == "intruder"))).all()
    kinds = {(e.object_type, (e.details or {}).get("code")) for e in denied}
    assert ("phone", "foreign_phone") in kinds and ("api", "forbidden") in kinds


async def test_a_second_call_from_the_same_phone_shows_the_earlier_card(client, sim, browsers) -> None:
    """The screen-pop lists the caller's earlier appeals (with status), not the current one."""
    [op101] = await _live(browsers, "op101")
    sim.place_call(FUND_LINE, CITIZEN, "Петрова Анна", "answered", agent="PJSIP/op101")
    first = await op101.next_pop(timeout=5)
    await sim.wait_idle(timeout=20)
    sim.place_call(FUND_LINE, CITIZEN, "Петрова Анна", "answered", agent="PJSIP/op101")
    second = await op101.next_pop(timeout=5)
    assert second["card"]["id"] != first["card"]["id"]
    earlier = {c["id"]: c["status"] for c in second["earlier_cards"]}
    assert earlier == {first["card"]["id"]: "draft"}


async def test_a_slow_journal_does_not_hold_the_ringing_phones_pop(client, sim, browsers) -> None:
    """While the journal is slow to write the new call's card, the pop goes at once with the
    caller's number and earlier appeals (`card_pending`), and the card follows."""
    [op101] = await _live(browsers, "op101")
    sim.place_call(FUND_LINE, CITIZEN, "Петрова Анна", "answered", agent="PJSIP/op101")
    first = await op101.next_pop(timeout=5)
    await sim.wait_idle(timeout=20)
    writer = client.server.app[CALL_WRITER]
    await writer.flushed()
    apply = writer._apply

    async def slow_apply(session: Any, records: Any) -> Any:
        await asyncio.sleep(0.5)  # a database under a heavy report, say
        return await apply(session, records)

    writer._apply = slow_apply
    sim.place_call(FUND_LINE, CITIZEN, "Петрова Анна", "answered", agent="PJSIP/op101",
                   auto_answer=False, timing=LONG_TALK)
    pending = await op101.next_of("screen_pop", timeout=5)
    assert pending["card"] is None and pending["card_pending"] is True
    assert pending["call"]["caller_number"] == CITIZEN
    assert [c["id"] for c in pending["earlier_cards"]] == [first["card"]["id"]]
    with_card = await op101.next_of("screen_pop", timeout=5)
    assert with_card["call"]["pbx_call_id"] == pending["call"]["pbx_call_id"]
    assert with_card["card_pending"] is False and with_card["card"]["id"] != first["card"]["id"]
    assert [c["id"] for c in with_card["earlier_cards"]] == [first["card"]["id"]]


async def test_a_call_that_ends_before_its_card_is_written_stops_the_pops_wait(
    client, sim, browsers
) -> None:
    """The citizen hangs up while the phone rings and the journal is slow: the pop went with
    `card_pending`, its wait for the card ends with the call (not 15 s later, no warning that
    the journal has no card), and the card is written all the same."""
    [op101] = await _live(browsers, "op101")
    writer = client.server.app[CALL_WRITER]
    apply = writer._apply

    async def slow_apply(session: Any, records: Any) -> Any:
        await asyncio.sleep(2.0)
        return await apply(session, records)

    writer._apply = slow_apply
    live = client.server.app[LIVE]
    with capture_logs() as logs:
        sim.place_call(FUND_LINE, CITIZEN, "Петрова Анна", "abandoned", agent="PJSIP/op101")
        pending = await op101.next_of("screen_pop", timeout=5)
        assert pending["card"] is None and pending["card_pending"] is True
        await sim.wait_idle(timeout=10)
        async with asyncio.timeout(1.5):  # before the slow batch commits
            while any(t.get_name().startswith("screen-pop-") for t in live._tasks):
                await asyncio.sleep(0.02)
    assert not [e for e in logs if "journal has none" in e["event"]]
    assert [e for e in logs if "call ended before it was written" in e["event"]]
    await writer.flushed(timeout=10)
    async with client.server.app[SESSIONS]() as session:
        call = await session.scalar(
            select(Call).where(Call.pbx_call_id == pending["call"]["pbx_call_id"]))
    assert call is not None and call.card_id is not None and call.ended_at is not None


async def test_each_operator_sees_only_their_organizations_earlier_cards(client, sim, browsers) -> None:
    """A citizen who called the insurer and then the fund: the fund's operator sees no
    insurer's card among the earlier ones, the insurer's operator no fund's card."""
    op101, sogaz = await _live(browsers, "op101", "sogaz-op")
    sim.place_call(INSURER_LINE, CITIZEN, "Петрова Анна", "answered", agent="PJSIP/op1100")
    insurer_first = await sogaz.next_pop(timeout=5)
    await sim.wait_idle(timeout=20)
    sim.place_call(FUND_LINE, CITIZEN, "Петрова Анна", "answered", agent="PJSIP/op101")
    fund_first = await op101.next_pop(timeout=5)
    await sim.wait_idle(timeout=20)
    assert fund_first["card"]["number"].startswith("TFOMS") and fund_first["earlier_cards"] == []

    sim.place_call(INSURER_LINE, CITIZEN, "Петрова Анна", "answered", agent="PJSIP/op1100")
    insurer_second = await sogaz.next_pop(timeout=5)
    assert [c["id"] for c in insurer_second["earlier_cards"]] == [insurer_first["card"]["id"]]
    await sim.wait_idle(timeout=20)
    sim.place_call(FUND_LINE, CITIZEN, "Петрова Анна", "answered", agent="PJSIP/op101")
    fund_second = await op101.next_pop(timeout=5)
    assert [c["id"] for c in fund_second["earlier_cards"]] == [fund_first["card"]["id"]]


async def test_level_two_sees_the_card_as_level_one_left_it_and_the_new_script(
    client, sim, browsers
) -> None:
    """The pop is gathered when the call arrives, but once op101 has answered and written
    the citizen's question, the level-2 pop shows the card as saved; a script the
    administrator added meanwhile is in it too."""
    op101, op201, admin = await _live(browsers, "op101", "op201", "admin")
    sim.place_call(FUND_LINE, CITIZEN, "Петрова Анна", "answered", agent="PJSIP/op101",
                   auto_answer=False, timing=LONG_TALK)
    pop = await op101.next_pop(timeout=5)
    assert "Смена страховой" not in {s["title"] for s in pop["scripts"]}
    assert sim.answer("PJSIP/op101")
    await _talking(client, pop["call"]["pbx_call_id"], "PJSIP/op101")
    card = await op101.get(f"/api/v1/cards/{pop['card']['id']}")
    await op101.patch(f"/api/v1/cards/{card['id']}", {
        "version": card["version"], "changes": {"content": "Как сменить страховую компанию"}})
    await admin.post("/api/v1/scripts", {
        "title": "Смена страховой", "body": "Раз в год до 1 ноября или при переезде."}, expect=201)

    await op101.post(f"/api/v1/calls/{pop['call']['id']}/transfer", {"to": "level2"}, expect=202)
    second = await op201.next_pop(timeout=5)
    assert second["card"]["id"] == card["id"]
    assert second["card"]["content"] == "Как сменить страховую компанию"
    assert second["card"]["status"] == "in_work"
    assert "Смена страховой" in {s["title"] for s in second["scripts"]}

    # Who was shown the citizen's card is in the audit log (personal data, 152-ФЗ).
    app = client.server.app
    await app[CALL_WRITER].flushed()
    async with app[SESSIONS]() as session:
        shown = (await session.execute(
            select(AuditEntry.login, AuditEntry.details)
            .where(AuditEntry.action == "list", AuditEntry.object_type == "card")
            .order_by(AuditEntry.id)
        )).all()
    pops = [(login, d["card_ids"]) for login, d in shown
            if d.get("screen_pop") == pop["call"]["pbx_call_id"]]
    assert pops == [("op101", [card["id"]]), ("op201", [card["id"]])]


async def test_websocket_needs_a_session_and_the_same_origin(client, browsers) -> None:
    """No session → 401 before the upgrade; a foreign Origin → 403 (cross-site hijacking)."""
    anonymous = Browser(client)
    try:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await anonymous.connect()
        assert refused.value.status == 401
    finally:
        await anonymous.close()
    op101 = await browsers["op101"].login("op101")
    with pytest.raises(aiohttp.WSServerHandshakeError) as foreign:
        await op101.connect(origin="https://evil.example")
    assert foreign.value.status == 403
    own = f"http://{client.host}:{client.port}"
    ws = await op101.connect(origin=own)
    await ws.send_json({"type": "ping"})
    assert (await op101.next_of("pong", timeout=2))["type"] == "pong"


async def test_agent_join_pause_leave_drive_the_pbx_queue(client, sim, browsers) -> None:
    """The agent API sends QueueAdd/QueuePause/QueueRemove; the PBX state follows and the
    operator's socket gets each agent_state."""
    op150 = await browsers["op150"].login("op150")
    await op150.connect()
    queue = sim.pbx.state.queues["l1-tfoms"]
    assert (await op150.get("/api/v1/agent"))["agent"]["queue"] == "l1-tfoms"

    # A phone the PBX lists in no queue is out of the queues, also on the socket.
    assert (await op150.get("/api/v1/agent"))["agent"]["state"] == "out"
    assert (await op150.next_of("agent_state", timeout=2))["state"] == "out"
    joined = await op150.post("/api/v1/agent/join")
    assert joined["agent"]["state"] == "ready"
    member = queue.member("PJSIP/op150")
    assert member is not None and not member.paused
    await op150.next_matching("agent_state", timeout=2, state="ready")

    await op150.post("/api/v1/agent/pause", {"reason": "обед"})
    assert member.paused and member.paused_reason == "обед"
    # The action's result and the PBX's own QueueMemberPause agree; either may come first.
    pushed = await op150.next_matching("agent_state", timeout=2, state="paused")
    assert pushed["paused_reason"] == "обед"

    await op150.post("/api/v1/agent/unpause")
    assert not member.paused
    await op150.post("/api/v1/agent/leave")
    assert queue.member("PJSIP/op150") is None
    assert (await op150.get("/api/v1/agent"))["agent"]["state"] == "out"

    again = await op150.post("/api/v1/agent/leave")  # idempotent: already out is out
    assert again["agent"]["state"] == "out"


async def test_agent_api_is_for_operators_with_a_phone(client, browsers) -> None:
    admin = await browsers["admin"].login("admin")
    body = await admin.post("/api/v1/agent/join", expect=403)
    assert body["error"]["code"] == "not_an_operator"


async def test_administrators_get_the_live_board(client, sim, browsers) -> None:
    """On connecting and as calls change: calls in progress and waiting, each line's mode."""
    admin = await browsers["admin"].login("admin")
    await admin.connect()
    board = await admin.next_of("board", timeout=2)
    assert {line["number"] for line in board["lines"]} >= {FUND_LINE}
    assert {line["mode"] for line in board["lines"]} <= {"operator", "secretary"}
    sim.place_call(FUND_LINE, CITIZEN, "Петрова Анна", "answered", agent="PJSIP/op101",
                   auto_answer=False, timing=LONG_TALK)
    async with asyncio.timeout(5):
        while True:
            board = await admin.next_of("board", timeout=5)
            if any(c["caller_number"] == CITIZEN for c in board["calls"]):
                break
    op101 = await browsers["op101"].login("op101")
    await op101.connect()
    with pytest.raises(TimeoutError):
        await op101.next_of("board", timeout=0.7)


async def test_a_supervisor_gets_only_their_organizations_board(client, sim, browsers) -> None:
    """The fund's and an insurer's supervisors on the board while each organization has a
    call in conversation: each socket carries its own organization's call, lines and
    operators, and not one byte of the other's calls, numbers or operators."""
    fund_sup, sogaz_sup, admin = await _live(browsers, "fund-sup", "sogaz-sup", "admin")
    first = await sogaz_sup.next_of("board", timeout=2)
    assert {line["organization"] for line in first["lines"]} == {"sogaz"}
    fund = sim.place_call(FUND_LINE, CITIZEN, "Петрова Анна", "answered", agent="PJSIP/op101",
                          timing=LONG_TALK)
    insurer = sim.place_call(INSURER_LINE, "79137654321", "Соколов Пётр", "answered",
                             agent="PJSIP/op1100", timing=LONG_TALK)
    async with asyncio.timeout(10):
        while fund.uniqueid is None or insurer.uniqueid is None:
            await asyncio.sleep(0.02)
    await _talking(client, fund.uniqueid, "PJSIP/op101")
    await _talking(client, insurer.uniqueid, "PJSIP/op1100")
    seen: dict[str, list[dict[str, Any]]] = {"fund-sup": [], "sogaz-sup": [], "admin": []}

    async def read(browser: Browser, login: str) -> None:
        async with asyncio.timeout(10):
            while True:
                message = await browser.ws.receive_json()
                seen[login].append(message)
                if message["type"] == "board" and any(
                        c["state"] == "talking" for c in message["calls"]):
                    # A while more: every board sent while both calls talk is checked.
                    if sum(m["type"] == "board" for m in seen[login]) >= 3:
                        return

    await asyncio.gather(read(fund_sup, "fund-sup"), read(sogaz_sup, "sogaz-sup"),
                         read(admin, "admin"))
    admin_calls = {c["caller_number"] for m in seen["admin"] if m["type"] == "board"
                   for c in m["calls"]}
    assert {CITIZEN, "79137654321"} <= admin_calls
    for login, own, foreign in (
        ("sogaz-sup", ("79137654321", "PJSIP/op1100"), (CITIZEN, FUND_LINE, "tfoms", "op101",
                                                        "op102", "op201", "Петрова")),
        ("fund-sup", (CITIZEN, "PJSIP/op101"), ("79137654321", INSURER_LINE, "sogaz", "op1100",
                                                 "op1101", "op2100", "Соколов")),
    ):
        text = json.dumps(seen[login], ensure_ascii=False)
        assert all(x in text for x in own), (login, text[:2000])
        leaked = [x for x in foreign if x in text]
        assert leaked == [], (login, leaked)
        boards = [m for m in seen[login] if m["type"] == "board"]
        assert boards and all(m["talking"] == 1 for m in boards[-1:])
    sim.hangup(fund.uniqueid)
    sim.hangup(insurer.uniqueid)


async def test_consultation_of_an_attended_transfer_pops_the_same_card(client, sim, browsers) -> None:
    """op101 consults level 2 before transferring: op201's phone rings for the consultation
    leg, and op201 sees the citizen's card, not a card of the operator's internal call."""
    op101, op201 = await _live(browsers, "op101", "op201")
    sim.place_call(FUND_LINE, CITIZEN, "Петрова Анна", "attended", agent="PJSIP/op101")
    first = await op101.next_pop(timeout=5)
    consult = await op201.next_pop(timeout=5)
    assert consult["call"]["consultation"] is True
    assert consult["card"]["id"] == first["card"]["id"]
    assert consult["call"]["pbx_call_id"] == first["call"]["pbx_call_id"]


async def _closed_with(sock: aiohttp.ClientWebSocketResponse, timeout: float) -> int:
    """The close code the socket ends with (text messages before it skipped)."""
    async with asyncio.timeout(timeout):
        message = await sock.receive()
        while message.type == aiohttp.WSMsgType.TEXT:  # e.g. the greeting's agent_state
            message = await sock.receive()
    assert message.type == aiohttp.WSMsgType.CLOSE, message
    return message.data


async def test_signing_out_closes_the_live_socket_at_once(client, browsers) -> None:
    """The socket lives no longer than its session: the sign-out closes it, no sweep needed."""
    op101 = await browsers["op101"].login("op101")
    sock = await op101.connect()
    await op101.post("/api/v1/logout")
    assert await _closed_with(sock, timeout=1) == ws_module.CLOSE_SESSION_ENDED


async def test_disabling_an_account_or_a_new_password_closes_its_live_socket_at_once(
    client, browsers
) -> None:
    """The administrator disables an operator (or sets a new password): the operator's live
    socket on this instance closes at once, not at the next sweep."""
    admin = await browsers["admin"].login("admin")
    for change, body in (("disable", None), ("password", {"password": "new-password-1"})):
        op101 = await browsers["op101"].login("op101")
        sock = await op101.connect()
        me = await op101.get("/api/v1/me")
        await admin.post(f"/api/v1/staff/{me['user']['id']}/{change}", body)
        assert await _closed_with(sock, timeout=1) == ws_module.CLOSE_SESSION_ENDED
        if change == "disable":
            await admin.post(f"/api/v1/staff/{me['user']['id']}/enable")


@pytest.fixture
def fast_sweep(monkeypatch) -> None:
    """Sessions of open sockets checked every 50 ms (set before the service starts)."""
    monkeypatch.setattr(ws_module, "SESSION_CHECK", 0.05)


async def test_the_sweep_closes_sockets_of_ended_sessions_and_disabled_accounts(
    fast_sweep, client, browsers
) -> None:
    """A session ended elsewhere (another instance's sign-out: its row is gone) and an account
    disabled by the administrator close their sockets at the next sweep; a live session's
    socket stays open and its idle clock restarts."""
    op101 = await browsers["op101"].login("op101")
    op201 = await browsers["op201"].login("op201")
    op150 = await browsers["op150"].login("op150")
    sockets = {name: await b.connect() for name, b in
               (("op101", op101), ("op201", op201), ("op150", op150))}
    app = client.server.app

    def user_id(login: str) -> Any:
        return select(User.id).where(User.login == login).scalar_subquery()

    async with unit_of_work(app[SESSIONS]) as session:
        await session.execute(delete(WebSessionRow).where(WebSessionRow.user_id == user_id("op101")))
        await session.execute(update(User).where(User.login == "op201").values(active=False))
        await session.execute(update(WebSessionRow).where(WebSessionRow.user_id == user_id("op150"))
                              .values(last_seen=datetime.now(UTC) - timedelta(minutes=5)))
    assert await _closed_with(sockets["op101"], timeout=2) == ws_module.CLOSE_SESSION_ENDED
    assert await _closed_with(sockets["op201"], timeout=2) == ws_module.CLOSE_SESSION_ENDED
    await asyncio.sleep(0.2)
    assert not sockets["op150"].closed
    async with app[SESSIONS]() as session:
        seen = await session.scalar(select(WebSessionRow.last_seen)
                                    .where(WebSessionRow.user_id == user_id("op150")))
    assert datetime.now(UTC) - seen < timedelta(seconds=30)


async def test_joining_when_already_in_the_queue_makes_the_operator_ready(client, sim, browsers) -> None:
    """op101 is a static member of l1-tfoms (queues.conf): QueueAdd says "Already there", so
    joining only unpauses, and the workspace shows the operator ready instead of an error."""
    op101 = await browsers["op101"].login("op101")
    await op101.post("/api/v1/agent/pause", {"reason": "обед"})
    member = sim.pbx.state.queues["l1-tfoms"].member("PJSIP/op101")
    assert member is not None and member.paused
    joined = await op101.post("/api/v1/agent/join")
    assert joined["agent"]["state"] == "ready"
    assert not member.paused
    body = await op101.get("/api/v1/agent")
    assert body["agent"]["state"] == "ready" and body["pbx"] == "connected"


async def test_the_pbx_tells_the_operator_their_queue_state(client, sim, browsers) -> None:
    """Nobody pressed a button: at connect the workspace already knows op101 is ready (from
    the login's QueueStatus); a pause from the phone's own key and a phone that loses its
    registration reach op101's socket as agent_state, and the administrators' board."""
    op101 = await browsers["op101"].login("op101")
    admin = await browsers["admin"].login("admin")
    await op101.connect()
    await admin.connect()
    greeted = await op101.next_of("agent_state", timeout=2)
    assert (greeted["state"], greeted["queue"], greeted["device"]) == ("ready", "l1-tfoms", "free")
    assert greeted["calls_taken"] == 0

    assert sim.pause_from_phone("PJSIP/op101", True, "обед")
    paused = await op101.next_matching("agent_state", timeout=5, state="paused")
    assert paused["paused_reason"] == "обед" and paused["interface"] == "PJSIP/op101"
    assert (await op101.get("/api/v1/agent"))["agent"]["state"] == "paused"
    async with asyncio.timeout(5):
        while True:
            board = await admin.next_of("board", timeout=7)
            agents = {a["interface"]: a for a in board["agents"]}
            if agents.get("PJSIP/op101", {}).get("state") == "paused":
                break
    assert agents["PJSIP/op201"]["state"] == "ready"  # the whole roster, not only op101

    assert sim.pause_from_phone("PJSIP/op101", False)
    await op101.next_matching("agent_state", timeout=5, state="ready")
    assert sim.set_reachable("PJSIP/op101", False)
    lost = await op101.next_matching("agent_state", timeout=5, state="unavailable")
    assert lost["device"] == "unavailable"
    assert sim.set_reachable("PJSIP/op101", True)
    await op101.next_matching("agent_state", timeout=5, state="ready", device="free")


async def test_the_operator_follows_their_call_from_ringing_to_the_end(client, sim, browsers) -> None:
    """call_state to op101 for op101's leg: ringing, talking (answered_at), ended; the
    phone's device state follows in agent_state, with the call counted at the end."""
    op101 = await browsers["op101"].login("op101")
    await op101.connect()
    await op101.next_of("agent_state", timeout=2)
    sim.place_call(FUND_LINE, CITIZEN, "Петрова Анна", "answered", agent="PJSIP/op101",
                   auto_answer=False, timing=LONG_TALK)
    rang = await op101.collect(
        # The pop with the card (a ring that came before the journal had it pops twice).
        5, call={"type": "call_state", "state": "ringing"},
        pop={"type": "screen_pop", "card_pending": False},
        phone={"type": "agent_state", "device": "ringing"},
    )
    assert rang["call"]["interface"] == "PJSIP/op101" and rang["call"]["answered_at"] is None
    assert rang["pop"]["call"]["pbx_call_id"] == rang["call"]["pbx_call_id"]

    assert sim.answer("PJSIP/op101")
    talked = await op101.collect(
        5, call={"type": "call_state", "state": "talking"},
        phone={"type": "agent_state", "device": "in_use"},
    )
    talking = talked["call"]
    assert talking["answered_at"] is not None
    assert talking["id"] == rang["pop"]["call"]["id"]
    assert talking["pbx_call_id"] == rang["call"]["pbx_call_id"]
    # A workspace reloaded mid-call learns the call is still on.
    reloaded = Browser(client)
    try:
        await (await reloaded.login("op101")).connect()
        [leg] = (await reloaded.next_of("call_legs", timeout=2))["legs"]
        assert (leg["pbx_call_id"], leg["state"]) == (talking["pbx_call_id"], "talking")
    finally:
        await reloaded.close()

    assert sim.hangup("PJSIP/op101")
    over = await op101.collect(
        5, call={"type": "call_state", "state": "ended"},
        phone={"type": "agent_state", "device": "free"},
    )
    assert over["call"]["ended_at"] >= over["call"]["answered_at"]
    assert over["phone"]["calls_taken"] == 1
    after = Browser(client)
    try:
        await (await after.login("op101")).connect()
        assert (await after.next_of("call_legs", timeout=2))["legs"] == []
    finally:
        await after.close()


async def test_a_callback_that_reaches_the_citizen_fulfils_the_deferred_answer(
    client, sim, browsers
) -> None:
    """«Позвонить» counts an attempt; when the PBX has connected the operator and the citizen,
    the task is done with that call as its result and leaves the pending list."""
    from journal.cards import create_written

    app = client.server.app
    async with unit_of_work(app[SESSIONS]) as session:
        card = await create_written(
            session, Actor.system("test"), channel="post", organization_id=1,
            received_at=datetime.now(UTC) - timedelta(days=1),
            fields={"applicant_name": "Белова Нина Петровна", "applicant_phone": "79140000007"},
        )
    op201 = await browsers["op201"].login("op201")
    task = await op201.post("/api/v1/callbacks", {
        "card_id": card.id, "contact_phone": "+7 914 000-00-07",
        "callback_due_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
    }, expect=201)
    await op201.post(f"/api/v1/callbacks/{task['id']}/dial", expect=202)
    twice = await op201.post(f"/api/v1/callbacks/{task['id']}/dial", expect=409)
    assert twice["error"]["message"].startswith("Обратный звонок уже набирается")
    await settle(sim, app)
    async with app[SESSIONS]() as session:
        done = await session.get(CallbackTask, task["id"])
        call = await session.get(Call, done.result_call_id) if done.result_call_id else None
    assert (done.status, done.attempts) == ("done", 1)
    assert call is not None and (call.direction, call.card_id) == ("out", card.id)
    assert [t["id"] for t in (await op201.get("/api/v1/callbacks"))["items"]] == []


async def test_leaving_a_static_queue_membership_pauses_the_phone(client, sim, browsers) -> None:
    """op101's phone is a static member of its queue (it answers while the service is down):
    «Выйти из очереди» cannot remove it, so the phone is paused «вне очереди» and the queue
    stops ringing it; the operator is shown out of the queue (not on a break), and «Встать в
    очередь» makes it ready again."""
    op101 = await browsers["op101"].login("op101")
    member = sim.pbx.state.queues["l1-tfoms"].member("PJSIP/op101")
    assert member is not None and not member.paused
    left = await op101.post("/api/v1/agent/leave")
    assert (left["agent"]["state"], left["agent"]["paused_reason"]) == ("out", "")
    assert sim.pbx.state.queues["l1-tfoms"].member("PJSIP/op101") is member
    assert member.paused and member.paused_reason == "вне очереди"
    await op101.post("/api/v1/agent/join")
    assert not member.paused


@pytest.fixture
async def sim(settings: Settings) -> AsyncIterator[PbxSimulator]:
    async with PbxSimulator(settings, time_scale=0.01, auth_failure_delay=0, seed=11,
                            timing=TALK) as simulator:
        yield simulator


@pytest.fixture
async def client(settings, sim, pg_only_engine, pg_url, tmp_path) -> AsyncIterator[TestClient]:
    """The whole service on PostgreSQL with the fund's line in operator mode, and its users."""
    app = create_app(_with_op150(service_settings(settings, sim, pg_url, tmp_path)))
    async with running(app) as client:
        sim.set_mode(FUND_LINE, "operator")  # whatever the hour: an operator answers
        async with unit_of_work(app[SESSIONS]) as session:
            for login, org, role, level, interface in (
                ("admin", "tfoms", "admin", None, None),
                ("op101", "tfoms", "operator", 1, "PJSIP/op101"),
                ("op201", "tfoms", "operator", 2, "PJSIP/op201"),
                ("op150", "tfoms", "operator", 1, "PJSIP/op150"),
                ("sogaz-op", "sogaz", "operator", 1, "PJSIP/op1100"),
                # An account made before phones were checked: a fund phone, an insurer's user.
                ("intruder", "sogaz", "operator", 1, "PJSIP/op102"),
                # Organizations' supervisors, each at their own supervisor phone.
                ("fund-sup", "tfoms", "supervisor", None, "PJSIP/sup100"),
                ("sogaz-sup", "sogaz", "supervisor", None, "PJSIP/sup1100"),
            ):
                await add_user(session, login=login, password=PASSWORD, full_name=login.title(),
                               role=role, organization_code=org, level=level,
                               interface=interface)
        yield client
