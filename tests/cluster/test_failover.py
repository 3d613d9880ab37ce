"""Two `hotline serve` processes on one PostgreSQL and a simulated PBX (issue #20): one holds
the AMI link, the other stands by; SIGKILL of the holder mid-call loses nothing a person
would notice, and a holder cut off from PostgreSQL lets go of the PBX.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import statistics
import time
from datetime import UTC, datetime

import aiohttp
import asyncpg
import pytest
from sqlalchemy import func, select

from hotline.pbx.ledger import SWEEP_INTERVAL
from hotline.sim.calls import Timing
from journal.db import make_engine, make_sessionmaker, unit_of_work
from journal.models import Call, CallTransfer, Card, Organization, Recording, User
from journal.users import hash_password
from tests.support.instances import Instance
from tests.support.private_pg import PG_ADMIN_DSN, migrated_database
from tests.support.service import FUND_LINE, INSURER_LINE
from hotline.sim.simulator import PbxSimulator

PASSWORD = "correct-horse-battery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def add_operator(sessions, login: str, org_code: str, phone: str, level: int) -> None:
    async with unit_of_work(sessions) as db:
        org_id = await db.scalar(select(Organization.id).where(Organization.code == org_code))
        db.add(User(login=login, password_hash=hash_password(PASSWORD), full_name=login,
                    role="operator", level=level, organization_id=org_id, active=True,
                    failed_logins=0, created_at=datetime.now(UTC), interface=f"PJSIP/{phone}"))


class Browser:
    """A signed-in browser of one instance and its live socket's messages."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.messages: list[dict] = []
        self.closed_with: int | None = None
        self.csrf = ""
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task | None = None

    async def open(self, login: str) -> Browser:
        resp = await self.http.post(f"{self.instance.url}/api/v1/login",
                                    json={"login": login, "password": PASSWORD})
        assert resp.status == 200, await resp.text()
        self.csrf = (await resp.json())["csrf_token"]
        ws = self.ws = await self.http.ws_connect(f"{self.instance.url}/api/v1/ws")
        self._reader = asyncio.create_task(self._read(ws))
        return self

    async def _read(self, ws) -> None:
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                self.messages.append(msg.json())
        self.closed_with = ws.close_code

    def pops(self) -> list[dict]:
        return [m for m in self.messages if m["type"] == "screen_pop" and m.get("card")]

    async def post(self, path: str, body: dict | None = None) -> tuple[int, dict]:
        async with self.http.post(f"{self.instance.url}{path}", json=body or {},
                                  headers={"X-CSRF-Token": self.csrf}) as resp:
            return resp.status, await resp.json()

    async def get(self, path: str) -> dict:
        async with self.http.get(f"{self.instance.url}{path}") as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 2.0)
        await self.http.close()


async def until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


@pytest.fixture
async def sim(settings, tmp_path):
    """The simulated PBX writing real WAV files to the spool both instances share."""
    async with PbxSimulator(settings, time_scale=0.01, auth_failure_delay=0, seed=7,
                            as_configured=True, recordings_dir=tmp_path / "shared" / "pbx",
                            recording_max_seconds=3.0) as simulator:
        yield simulator


@pytest.fixture
async def pair(settings, sim, tmp_path):
    """Two `hotline serve` processes on a database of their own: the in-process services of
    other tests (on the session's database) never compete with them for the PBX's lock."""
    async with (migrated_database(PG_ADMIN_DSN, "hotline_pair") as url,
                _running_pair(url, sim, tmp_path) as running):
        yield running


@contextlib.asynccontextmanager
async def _running_pair(url, sim, tmp_path):
    """The first instance the holder, the second standing by, and sessions on their journal."""
    engine = make_engine(url)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    shared = tmp_path / "shared"
    a = b = None
    try:
        a = Instance(free_port(), url, sim.address, tmp_path, "a", shared).start()
        await a.wait_role("holder")
        b = Instance(free_port(), url, sim.address, tmp_path, "b", shared).start()
        await b.wait_role("standby")
        yield a, b, make_sessionmaker(engine)
    finally:
        for instance in (a, b):
            if instance is not None:
                instance.stop()
        await engine.dispose()


async def test_kill_9_of_the_holder_mid_call_loses_nothing_on_the_other_instance(
        pair, sim, settings) -> None:
    a, b, sessions = pair
    sogaz = next(o for o in settings.organizations if o.code == "sogaz")
    await add_operator(sessions, "l1a", "sogaz", sogaz.level1_phones[0], 1)
    await add_operator(sessions, "l1b", "sogaz", sogaz.level1_phones[1], 1)
    await add_operator(sessions, "l2", "sogaz", sogaz.level2_phones[0], 2)
    # Every browser is on the standby: what they get comes from the holder through the bus.
    level1 = [await Browser(b).open("l1a"), await Browser(b).open("l1b")]
    level2 = await Browser(b).open("l2")
    try:
        await asyncio.sleep(1.0)  # the standby announced its sockets
        sim.place_call(INSURER_LINE, "79130000777", "Петров Пётр", "blind",
                       timing=Timing(talk=800.0))
        await until(lambda: any(br.pops() for br in level1), 10, "the level-1 pop through B")
        first_pop = next(br.pops()[0] for br in level1 if br.pops())
        card_id = first_pop["card"]["id"]
        killed = time.monotonic()
        a.kill()
        takeover = await b.wait_role("holder", timeout=10) + (time.monotonic() - killed) * 0
        health = await b.health()
        await until(lambda: health is not None, 1, "health")
        assert takeover < 5.0, f"took over in {takeover:.2f} s"
        # The transfer after the takeover pops the same card at level 2, now from B itself.
        await until(lambda: level2.pops(), 20, "the level-2 pop after the takeover")
        assert level2.pops()[-1]["card"]["id"] == card_id
        await sim.wait_idle(timeout=30)
        await asyncio.sleep(1.5)
        async with sessions() as db:
            calls = (await db.scalars(select(Call).where(
                Call.caller_number == "79130000777"))).all()
            assert len(calls) == 1, "the call is written once"
            call = calls[0]
            assert call.card_id == card_id
            assert call.outcome == "answered" and call.ended_at is not None
            cards = await db.scalar(select(func.count(Card.id)).where(
                Card.applicant_phone == "79130000777"))
            assert cards == 1, "one card for the call"
            transfers = await db.scalar(select(func.count(CallTransfer.id)).where(
                CallTransfer.call_id == call.id))
            assert transfers == 1, "the transfer is written once"
        # The recording of the call arrives too: stored by the new holder, linked to the card
        # (also when the old holder was killed before its writer flushed the recording's
        # start: the new holder's snapshot shows the file).
        deadline = time.monotonic() + 30
        while True:
            async with sessions() as db:
                rows = (await db.scalars(select(Recording).where(
                    Recording.call_id == call.id))).all()
            if rows and all(r.status != "pending" for r in rows):
                break
            assert time.monotonic() < deadline, [(r.pbx_file, r.status) for r in rows]
            await asyncio.sleep(0.2)
        assert [r.status for r in rows if r.kind == "call"] == ["stored"], [
            (r.pbx_file, r.status, r.problem) for r in rows]
        assert all(r.card_id == card_id for r in rows)
        print(f"takeover after kill -9: {takeover:.2f} s")
    finally:
        for browser in (*level1, level2):
            await browser.close()


async def test_a_holder_cut_off_from_postgresql_lets_go_of_the_pbx(pair) -> None:
    a, b, _sessions = pair
    pid = (await a.health())["instance"]["lock_backend_pid"]
    # The holder knows the standby is there (else, alone, it would keep the link).
    deadline = time.monotonic() + 10
    while (await a.health())["instance"].get("peers", 0) < 1:
        assert time.monotonic() < deadline, "the holder never saw the standby"
        await asyncio.sleep(0.2)
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()
    await b.wait_role("holder", timeout=5)
    health_a = await a.health()
    assert health_a["pbx"]["link"] != "connected" or health_a["instance"]["role"] == "holder"
    # A took the lock again? Never both: exactly one holds, and the other's link is down.
    roles = {await a.role(), await b.role()}
    assert roles == {"holder", "standby"}
    health_a = await a.health()
    assert health_a["instance"]["role"] == "standby"
    assert health_a["pbx"]["state"] == "standby" and health_a["pbx"]["link"] == "disconnected"


async def test_an_account_disabled_on_one_instance_closes_its_sockets_on_the_other(
        pair, settings) -> None:
    a, b, sessions = pair
    await add_operator(sessions, "l1a", "sogaz", "op1100", 1)
    await add_operator(sessions, "boss", "tfoms", "sup100", 1)
    async with unit_of_work(sessions) as db:
        boss = await db.scalar(select(User).where(User.login == "boss"))
        boss.role, boss.level, boss.interface = "admin", None, None
        operator_id = await db.scalar(select(User.id).where(User.login == "l1a"))
    browser = await Browser(b).open("l1a")
    admin = Browser(a)
    try:
        resp = await admin.http.post(f"{a.url}/api/v1/login",
                                     json={"login": "boss", "password": PASSWORD})
        csrf = (await resp.json())["csrf_token"]
        resp = await admin.http.post(f"{a.url}/api/v1/staff/{operator_id}/disable",
                                     headers={"X-CSRF-Token": csrf})
        assert resp.status == 200, await resp.text()
        # At once through the bus, not at the next session sweep (15 s).
        await until(lambda: browser.closed_with is not None, 3, "B's socket closed")
        assert browser.closed_with == 4401
    finally:
        await browser.close()
        await admin.close()


async def test_pbx_commands_from_the_standby_are_run_by_the_holder(pair, sim, settings) -> None:
    """The operator's browser on the standby: pause, transfer and the workspace's PBX state
    work as on the holder (the holder runs them, checked on both); the holder frozen, the
    standby's command answers 503 «АТС сейчас переключается...» instead of hanging."""
    a, b, sessions = pair
    sogaz = next(o for o in settings.organizations if o.code == "sogaz")
    phone = sogaz.level1_phones[0]
    await add_operator(sessions, "l1a", "sogaz", phone, 1)
    await add_operator(sessions, "l2", "sogaz", sogaz.level2_phones[0], 2)
    await add_operator(sessions, "boss", "sogaz", sogaz.supervisor_phones[0], 1)
    async with unit_of_work(sessions) as db:
        boss = await db.scalar(select(User).where(User.login == "boss"))
        boss.role, boss.level = "supervisor", None
    level1, level2 = await Browser(b).open("l1a"), await Browser(b).open("l2")
    supervisor = await Browser(b).open("boss")
    try:
        await asyncio.sleep(1.0)
        assert (await level1.get("/api/v1/agent"))["pbx"] == "connected"  # the holder's link
        status, body = await level1.post("/api/v1/agent/pause", {"reason": "обед"})
        assert status == 200, body
        assert body["agent"]["state"] == "paused"
        status, body = await level1.post("/api/v1/agent/unpause")
        assert status == 200, body
        # Checked on the standby first: a refused input never reaches the holder.
        served = (await a.health())["live_bus"]["commands_served"]
        status, body = await level1.post("/api/v1/calls/999999/transfer", {"to": "level3"})
        assert status == 422
        sim.place_call(INSURER_LINE, "79130000888", "Сидоров Иван", "answered",
                       agent=f"PJSIP/{phone}", auto_answer=False, timing=Timing(talk=800.0))
        await until(level1.pops, 10, "the level-1 pop through B")
        pop = level1.pops()[0]
        assert sim.answer(f"PJSIP/{phone}")
        # Supervision from the standby: the holder's service finds the operator's channel.
        path = f"/api/v1/calls/{pop['call']['id']}/supervision"
        deadline = time.monotonic() + 10
        while True:
            status, body = await supervisor.post(path, {"mode": "listen"})
            if status != 409 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        assert status == 202, body
        assert body["operator"] == f"PJSIP/{phone}" and body["mode"] == "listen"
        async with supervisor.http.delete(f"{b.url}{path}",
                                          headers={"X-CSRF-Token": supervisor.csrf}) as resp:
            assert resp.status == 202, await resp.text()
        status, body = await supervisor.post(path, {"mode": "spy"})
        assert status == 422  # checked on the standby
        deadline = time.monotonic() + 10
        while True:  # talking once the holder's tracker saw the answer
            started = time.monotonic()
            status, body = await level1.post(f"/api/v1/calls/{pop['call']['id']}/transfer",
                                             {"to": "level2"})
            took = time.monotonic() - started
            if status != 409 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        assert status == 202, body
        print(f"forwarded transfer: {took * 1000:.1f} ms")
        await until(level2.pops, 10, "the level-2 pop of the transferred call")
        assert level2.pops()[-1]["card"]["id"] == pop["card"]["id"]
        # The operator's leg is gone: the holder's tracker says so (409 with its reason).
        await asyncio.sleep(0.5)
        status, body = await level1.post(f"/api/v1/calls/{pop['call']['id']}/transfer",
                                         {"to": "level2"})
        assert status == 409 and body["error"]["code"] == "not_on_call", body
        health = (await a.health())["live_bus"]
        assert health["commands_served"] >= served + 2  # the transfers, not the 422
        await asyncio.sleep(1.0)
        async with sessions() as db:
            transfers = await db.scalar(select(func.count(CallTransfer.id)).join(
                Call, Call.id == CallTransfer.call_id).where(Call.caller_number == "79130000888"))
        assert transfers == 1, "transferred once"
        # The holder frozen (no answer, the lock still its own for a few seconds): 503.
        os.kill(a.proc.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            status, body = await level1.post("/api/v1/agent/pause", {"reason": "обед"})
            assert status == 503, body
            assert body["error"]["code"] == "pbx_switching"
            assert "переключается на другой экземпляр" in body["error"]["message"]
            assert time.monotonic() - started < 8.0
        finally:
            a.kill()
        await b.wait_role("holder", timeout=10)
        deadline = time.monotonic() + 10
        while (await level1.get("/api/v1/agent"))["pbx"] != "connected":
            assert time.monotonic() < deadline, "B's link to the PBX"
            await asyncio.sleep(0.1)
        status, body = await level1.post("/api/v1/agent/unpause")
        assert status == 200, body
    finally:
        await level1.close()
        await level2.close()
        await supervisor.close()


def center_today(browser: Browser) -> dict | None:
    figures = [m for m in browser.messages if m["type"] == "figures"]
    if not figures:
        return None
    return next(s["today"] for s in figures[-1]["scopes"] if s["kind"] == "center")


async def test_the_new_holder_shows_the_days_figures_counted_by_the_old_one(
        pair, sim, settings) -> None:
    """B started before the calls (its figures seeded empty); A took them; A killed, B holds
    and seeds today's figures from the journal again: the board on B shows the day."""
    a, b, sessions = pair
    await add_operator(sessions, "boss", "tfoms", "sup100", 1)
    async with unit_of_work(sessions) as db:
        boss = await db.scalar(select(User).where(User.login == "boss"))
        boss.role, boss.level, boss.interface = "admin", None, None
    for n in range(3):
        sim.place_call(INSURER_LINE, f"7913000010{n}", "Гражданин", "answered",
                       timing=Timing(talk=0.2))
    await sim.wait_idle(timeout=30)
    await asyncio.sleep(1.5)  # written by A's journal writer
    async with sessions() as db:
        written = await db.scalar(select(func.count(Call.id)))
    assert written >= 3
    a.kill()
    await b.wait_role("holder", timeout=10)
    admin = await Browser(b).open("boss")
    try:
        await until(lambda: (center_today(admin) or {}).get("arrived", 0) >= written, 10,
                    "the day's calls on the new holder's board")
        assert center_today(admin)["answered"] >= 3
    finally:
        await admin.close()


class ReconnectingBrowser(Browser):
    """A browser whose socket comes back when its instance restarts (the page reconnects)."""

    async def open(self, login: str) -> ReconnectingBrowser:
        resp = await self.http.post(f"{self.instance.url}/api/v1/login",
                                    json={"login": login, "password": PASSWORD})
        assert resp.status == 200, await resp.text()
        self.csrf = (await resp.json())["csrf_token"]
        self.reconnects = 0
        self._reader = asyncio.create_task(self._keep())
        return self

    async def _keep(self) -> None:
        while True:
            try:
                async with self.http.ws_connect(f"{self.instance.url}/api/v1/ws") as ws:
                    self.ws = ws
                    async for msg in ws:
                        if msg.type == aiohttp.WSMsgType.TEXT:
                            self.messages.append({**msg.json(), "_at": time.monotonic()})
            except (aiohttp.ClientError, OSError):
                pass
            self.reconnects += 1
            await asyncio.sleep(0.3)

    def pops_since(self, moment: float) -> list[dict]:
        return [m for m in self.pops() if m["_at"] >= moment]


async def restart(instance: Instance, role: str) -> None:
    # SIGTERM: the holder lets go of the link and the lock as it stops; its operators'
    # sockets are closed first, so it does not wait for them.
    assert instance.stop(), f"{instance.name} ignored SIGTERM"
    instance.start()
    await instance.wait_role(role, timeout=30)


async def test_both_instances_restarted_in_turn_under_load_lose_nothing(
        pair, sim, settings) -> None:
    """A steady stream of calls; B (standby) restarted, then A (holder: B takes over and A
    comes back as the standby). Every call in the journal once with its card; the pops keep
    reaching the operators' sockets on both instances (sockets reconnect after a restart)."""
    a, b, sessions = pair
    phones = {"sogaz": next(o for o in settings.organizations if o.code == "sogaz").level1_phones,
              "tfoms": next(o for o in settings.organizations if o.code == "tfoms").level1_phones}
    browsers: list[ReconnectingBrowser] = []
    for org, org_phones in phones.items():
        for n, phone in enumerate(org_phones[:2]):
            login = f"{org}-{phone}"
            await add_operator(sessions, login, org, phone, 1)
            browsers.append(await ReconnectingBrowser((a, b)[n % 2]).open(login))
    placed: list[str] = []
    stop = asyncio.Event()

    async def load() -> None:
        n = 0
        while not stop.is_set():
            number = f"7913{n:07d}"
            line = (INSURER_LINE, FUND_LINE)[n % 2]
            sim.place_call(line, number, "Гражданин", "answered",
                           timing=Timing(ring=20.0, talk=120.0, patience=400.0))
            placed.append(number)
            n += 1
            await asyncio.sleep(0.4)

    try:
        await asyncio.sleep(1.0)
        loader = asyncio.create_task(load())
        await asyncio.sleep(4.0)
        await restart(b, "standby")
        after_b = time.monotonic()
        await asyncio.sleep(4.0)
        await restart(a, "standby")  # B holds now
        assert await b.role() == "holder"
        after_a = time.monotonic()
        await asyncio.sleep(6.0)
        stop.set()
        await loader
        await sim.wait_idle(timeout=60)
        for moment, what in ((after_b, "B restarted"), (after_a, "A restarted")):
            for instance in (a, b):
                on_it = [br for br in browsers if br.instance is instance]
                assert any(br.pops_since(moment) for br in on_it), \
                    f"pops on {instance.name}'s sockets after {what}"
        # The journal: every call once, each with its card (the writer's, or the ledger's: a
        # call that began and ended while the link changed hands is seen by neither instance
        # and comes from the PBX's ledger, at the new holder's next sweep).
        deadline = time.monotonic() + SWEEP_INTERVAL + 20
        while True:
            async with sessions() as db:
                rows = (await db.execute(select(Call.caller_number, Call.card_id).where(
                    Call.caller_number.in_(placed)))).all()
            numbers = [r.caller_number for r in rows]
            if set(numbers) == set(placed) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        missing = sorted(set(placed) - set(numbers))
        twice = sorted({n for n in numbers if numbers.count(n) > 1})
        assert not missing, f"{len(missing)} of {len(placed)} calls not in the journal: {missing[:10]}"
        assert not twice, f"written twice: {twice[:10]}"
        assert all(r.card_id is not None for r in rows), "every call has its card"
        pops = sum(len(br.pops()) for br in browsers)
        print(f"restarts under load: {len(placed)} calls, {pops} pops, "
              f"reconnects {[br.reconnects for br in browsers]}")
    finally:
        stop.set()
        for browser in browsers:
            await browser.close()


async def test_forwarded_transfer_latency(pair, sim, settings) -> None:
    """The transfer from the holder's web and from the standby's (forwarded over the bus):
    five of each, min/median/max printed with the load average (README, «Running several
    instances»)."""
    a, b, sessions = pair
    sogaz = next(o for o in settings.organizations if o.code == "sogaz")
    phones = sogaz.level1_phones[:2]
    await add_operator(sessions, "on-a", "sogaz", phones[0], 1)
    await add_operator(sessions, "on-b", "sogaz", phones[1], 1)
    operators = {"holder": (await Browser(a).open("on-a"), phones[0]),
                 "standby": (await Browser(b).open("on-b"), phones[1])}
    took: dict[str, list[float]] = {"holder": [], "standby": []}
    load_before = os.getloadavg()
    try:
        await asyncio.sleep(1.0)
        for n in range(10):
            where = ("holder", "standby")[n % 2]
            browser, phone = operators[where]
            seen = len(browser.pops())
            sim.place_call(INSURER_LINE, f"7913555{n:04d}", "Гражданин", "answered",
                           agent=f"PJSIP/{phone}", auto_answer=False, timing=Timing(talk=800.0))
            await until(lambda b=browser, s=seen: len(b.pops()) > s, 10, "the pop")
            pop = browser.pops()[-1]
            assert sim.answer(f"PJSIP/{phone}")
            deadline = time.monotonic() + 10
            while True:
                started = time.monotonic()
                status, body = await browser.post(f"/api/v1/calls/{pop['call']['id']}/transfer",
                                                  {"to": "level2"})
                elapsed = time.monotonic() - started
                if status != 409 or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)
            assert status == 202, body
            took[where].append(elapsed * 1000)
            await asyncio.sleep(0.3)
    finally:
        for browser, _ in operators.values():
            await browser.close()
    report = {w: (min(v), statistics.median(v), max(v)) for w, v in took.items()}
    print(f"transfer ms (min/median/max): {report}; load {load_before} -> {os.getloadavg()}")
    assert report["standby"][1] < 1000


async def test_the_recordings_are_stored_by_the_standby_not_beside_the_pbx_link(
        pair, sim, settings) -> None:
    """With a standby there, the audio work runs on it: the holder follows the calls and
    sends their ends over the bus, the standby's worker stores the recordings at once (not at
    its next minute's sweep), and the holder's worker stays idle. The holder killed, the
    survivor, alone, takes the worker over and stores the next call's recording."""
    a, b, sessions = pair
    sogaz = next(o for o in settings.organizations if o.code == "sogaz")
    await add_operator(sessions, "l1a", "sogaz", sogaz.level1_phones[0], 1)

    async def stored(number: str, timeout: float) -> Recording:
        deadline = time.monotonic() + timeout
        while True:
            async with sessions() as db:
                found = (await db.scalars(select(Recording).join(Call).where(
                    Call.caller_number == number, Recording.kind == "call"))).all()
            if found and found[0].status == "stored":
                return found[0]
            assert time.monotonic() < deadline, [(r.pbx_file, r.status) for r in found]
            await asyncio.sleep(0.2)

    deadline = time.monotonic() + 10
    while ((await b.health()) or {}).get("recordings", {}).get("worker") != "here":
        assert time.monotonic() < deadline, "the standby took the recordings' lock"
        await asyncio.sleep(0.1)
    sim.place_call(INSURER_LINE, "79130000555", "Гражданин", "answered", timing=Timing(talk=0.5))
    await sim.wait_idle(timeout=30)
    recording = await stored("79130000555", timeout=20)  # the sweep would take a minute
    assert recording.stored_path and recording.card_id is not None
    holder, standby = (await a.health())["recordings"], (await b.health())["recordings"]
    assert holder["worker"] == "elsewhere" and holder["processed"] == 0, holder
    assert holder["forwarded"] >= 1, holder
    assert standby["worker"] == "here" and standby["processed"] >= 1, standby

    a.kill()
    await b.wait_role("holder", timeout=10)
    deadline = time.monotonic() + 10  # a call before B's link is up comes by the ledger later
    while ((await b.health()) or {}).get("pbx", {}).get("state") != "connected":
        assert time.monotonic() < deadline, "B connected to the PBX"
        await asyncio.sleep(0.1)
    sim.place_call(INSURER_LINE, "79130000556", "Гражданин", "answered", timing=Timing(talk=0.5))
    await sim.wait_idle(timeout=30)
    await stored("79130000556", timeout=20)
    alone = (await b.health())["recordings"]
    assert alone["worker"] == "here" and alone["processed"] >= 2, alone
