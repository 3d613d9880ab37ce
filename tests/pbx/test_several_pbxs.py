"""Two PBXs feeding one service: the fund's phones and line on the main PBX («Барнаул»), the
insurer СОГАЗ's on the second («Омск, второй узел»), each a simulator speaking AMI over TCP.
Each call reaches its card with its PBX; a transfer goes to the link of the call's PBX; one
PBX's link down leaves the other's calls alone; equal Asterisk ids on both stay two calls."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from hotline.app import create_app
from hotline.config import PbxSettings, Settings
from hotline.keys import CALL_WRITER, PBXS
from hotline.pbx.callkeys import local_id
from hotline.sim.calls import Timing
from hotline.sim.simulator import PbxSimulator
from hotline.web.keys import SESSIONS, SETTINGS
from journal.db import unit_of_work
from journal.models import Call, Card, CallTransfer
from journal.users import add_user
from tests.support.service import FUND_LINE, INSURER_LINE, SCRAPER, service_settings
from tests.support.service_calls import until
from tests.support.ws_browser import PASSWORD, Browser

SITE_TITLES = {"main": "Барнаул", "omsk-2": "Омск, второй узел"}
SOGAZ_PHONE = "PJSIP/op1100"
LONG_TALK = Timing(talk=3000.0, level2_talk=3000.0)


def two_pbx_settings(base: Settings, main: PbxSimulator, second: PbxSimulator, db_url: str,
                     tmp: Path) -> Settings:
    """The region on two PBXs: СОГАЗ (its phones, queues and line) on "omsk-2"."""
    settings = service_settings(base, main, db_url, tmp)
    ami = settings.ami.model_dump()
    pbxs = []
    for name, sim in (("main", main), ("omsk-2", second)):
        host, port = sim.address
        pbxs.append(PbxSettings(**{**ami, "host": host, "port": port}, name=name,
                                title=SITE_TITLES[name]))
    orgs = tuple(org.model_copy(update={"pbx": "omsk-2"}) if org.code == "sogaz" else org
                 for org in settings.organizations)
    return settings.model_copy(update={"pbx": tuple(pbxs), "organizations": orgs})


@pytest.fixture
async def sims(settings: Settings) -> AsyncIterator[tuple[PbxSimulator, PbxSimulator]]:
    """Two PBXs that hand out the same Asterisk ids: each counts its channels from 1 in the
    same second (two Asterisks started together do)."""
    async with (PbxSimulator(settings, time_scale=0.01, auth_failure_delay=0, seed=7,
                             as_configured=True) as main,
                PbxSimulator(settings, time_scale=0.01, auth_failure_delay=0, seed=7,
                             as_configured=True) as second):
        for sim in (main, second):
            counter = itertools.count(1)
            sim.pbx._uniqueid = lambda counter=counter: f"1790000000.{next(counter)}"  # type: ignore[method-assign]
        yield main, second


@pytest.fixture
async def client(settings, sims, pg_only_engine, pg_url, tmp_path) -> AsyncIterator[TestClient]:
    main, second = sims
    app = create_app(two_pbx_settings(settings, main, second, pg_url, tmp_path))
    client = TestClient(TestServer(app))
    try:
        await client.start_server()
        for pbx in app[PBXS]:
            await pbx.feed.wait_resynced(1)
        main.set_mode(FUND_LINE, "operator")
        async with unit_of_work(app[SESSIONS]) as session:
            for login, org, role, level, interface in (
                ("admin", "tfoms", "admin", None, None),
                ("sogaz-op", "sogaz", "operator", 1, SOGAZ_PHONE),
                ("sogaz-sup", "sogaz", "supervisor", None, "PJSIP/sup1100"),
            ):
                await add_user(session, login=login, password=PASSWORD, full_name=login.title(),
                               role=role, organization_code=org, level=level, interface=interface)
        yield client
    finally:
        await client.close()


async def _calls(app: web.Application) -> dict[str, Call]:
    async with app[SESSIONS]() as session:
        return {c.caller_number: c for c in (await session.scalars(select(Call))).all()}


async def _settled(app: web.Application, *sims: PbxSimulator) -> None:
    for sim in sims:
        await sim.wait_idle(timeout=20)
    await asyncio.sleep(0.2)
    await app[CALL_WRITER].flushed(timeout=20)


async def test_a_call_on_each_pbx_reaches_its_card_with_its_pbx(client, sims) -> None:
    """A citizen calls the fund (main PBX) and another СОГАЗ (second PBX) at the same moment:
    the PBXs give both calls the same Asterisk id, the journal keeps two calls, each with its
    card, and the card (GET /api/v1/cards/{id}) and the call list name the PBX; the
    dictionaries give its title."""
    main, second = sims
    app = client.server.app
    main.place_call(FUND_LINE, "79130000101", "Иванова Анна", "answered", agent="PJSIP/op101")
    second.place_call(INSURER_LINE, "79130000102", "Петрова Вера", "answered",
                      agent=SOGAZ_PHONE)
    await _settled(app, main, second)
    calls = await _calls(app)
    fund, sogaz = calls["79130000101"], calls["79130000102"]
    assert (fund.pbx, sogaz.pbx) == ("main", "omsk-2")
    assert sogaz.pbx_call_id.startswith("omsk-2:")
    # Equal ids on the two PBXs (same clock second, same counter) and still two calls.
    assert local_id(sogaz.pbx_call_id) == fund.pbx_call_id
    assert fund.card_id and sogaz.card_id and fund.card_id != sogaz.card_id
    assert (fund.outcome, sogaz.outcome) == ("answered", "answered")

    admin = await Browser(client).login("admin")
    try:
        card = await admin.get(f"/api/v1/cards/{sogaz.card_id}")
        assert card["pbx"] == "omsk-2" and card["number"].startswith("SOGAZ-")
        assert (await admin.get(f"/api/v1/cards/{fund.card_id}"))["pbx"] == "main"
        listed = await admin.get(f"/api/v1/calls?card_id={sogaz.card_id}")
        assert [(c["pbx"], c["pbx_title"]) for c in listed["items"]] == [
            ("omsk-2", "Омск, второй узел")]
        labels = (await admin.get("/api/v1/dictionaries"))["labels"]
        assert labels["pbxs"] == SITE_TITLES
        # The call statistics: the month's incoming calls by PBX, each by its title.
        month = datetime.now(ZoneInfo(app[SETTINGS].service.timezone)).strftime("%Y-%m")
        report = await admin.get(f"/api/v1/reports/calls?period={month}")
        assert [(r["title"], r["offered"], r["answered"]) for r in report["pbxs"]] == [
            ("Барнаул", 1, 1), ("Омск, второй узел", 1, 1)]
        resp = await admin.http.get(client.make_url(f"/admin/reports?report=calls&period={month}"))
        page = await resp.text()
        assert resp.status == 200 and "По АТС" in page
        table = page.split('data-testid="pbx-calls-table"', 1)[1].split("</table>", 1)[0]
        assert "Омск, второй узел" in table and "omsk-2" not in table
    finally:
        await admin.close()


async def test_a_transfer_on_the_second_pbx_goes_to_its_link(client, sims) -> None:
    """СОГАЗ's operator (a phone of the second PBX) transfers the citizen to level 2 from the
    workspace: the BlindTransfer reaches the second PBX, never the first, and the journal
    records the transfer."""
    main, second = sims
    app = client.server.app
    seen: dict[str, list[str]] = {"main": [], "omsk-2": []}
    main.add_listener(lambda h: seen["main"].append(dict(h).get("Event", "")))
    second.add_listener(lambda h: seen["omsk-2"].append(dict(h).get("Event", "")))
    second.place_call(INSURER_LINE, "79130000103", "Сидорова Нина", "answered",
                      agent=SOGAZ_PHONE, timing=LONG_TALK)
    pbxs = app[PBXS]

    def talking() -> bool:
        return any(c.state == "talking" and c.current_operator == SOGAZ_PHONE
                   for c in pbxs.calls())

    try:
        await until(talking)
    except TimeoutError:
        raise AssertionError(repr([(c.state, c.current_operator, c.call_id) for c in pbxs.calls()])) from None
    await app[CALL_WRITER].flushed()
    call = (await _calls(app))["79130000103"]
    operator = await Browser(client).login("sogaz-op")
    try:
        answer = await operator.post(f"/api/v1/calls/{call.id}/transfer", {"to": "level2"},
                                     expect=202)
    finally:
        await operator.close()
    assert answer["to_queue"] == "l2-sogaz"
    await until(lambda: "BlindTransfer" in seen["omsk-2"])
    assert "BlindTransfer" not in seen["main"]
    # The operator's break goes to the PBX their phone is on, and the workspace shows that
    # PBX's link.
    operator = await Browser(client).login("sogaz-op")
    try:
        await operator.post("/api/v1/agent/pause", {"reason": "обед"})
        await until(lambda: "QueueMemberPause" in seen["omsk-2"])
        assert "QueueMemberPause" not in seen["main"]
        assert (await operator.get("/api/v1/agent"))["pbx"] == "connected"
    finally:
        await operator.close()
    async with app[SESSIONS]() as session:
        for _ in range(200):
            await app[CALL_WRITER].flushed()
            kinds = (await session.scalars(
                select(CallTransfer.kind).where(CallTransfer.call_id == call.id))).all()
            if kinds:
                break
            await asyncio.sleep(0.05)
    assert kinds == ["blind"]


async def test_one_pbx_link_down_leaves_the_other_pbx_calls_alone(client, sims) -> None:
    """The main PBX's link is cut and stays down: /healthz says so for that PBX only, with
    its title, and a call on the second PBX still reaches the journal with its card."""
    main, second = sims
    app = client.server.app
    main.secret = "not-the-secret"
    main.drop_connections()
    pbxs = app[PBXS]
    await until(lambda: pbxs.get("main").feed.link_state != "connected")  # type: ignore[union-attr]
    second.place_call(INSURER_LINE, "79130000104", "Котова Ольга", "answered",
                      agent=SOGAZ_PHONE)
    await _settled(app, second)
    call = (await _calls(app))["79130000104"]
    assert call.pbx == "omsk-2" and call.outcome == "answered" and call.card_id
    async with app[SESSIONS]() as session:
        card = await session.get(Card, call.card_id)
    assert card is not None and card.pbx == "omsk-2"

    resp = await client.get("/healthz", headers=SCRAPER)
    health = (await resp.json())["pbx"]
    links = health["pbxs"]
    assert links["main"]["title"] == "Барнаул" and links["main"]["state"] != "connected"
    assert links["omsk-2"]["state"] == "connected"
    assert health["state"] != "connected"


async def test_a_supervisor_listens_to_a_call_of_the_second_pbx(client, sims) -> None:
    """СОГАЗ's supervisor (a phone of the second PBX) listens to a СОГАЗ call: the listening
    leg is placed on the second PBX, carries the call's key (which names that PBX), and the
    second PBX's tracker shows the supervisor among the call's listeners."""
    main, second = sims
    app = client.server.app
    placed: dict[str, list[str]] = {"main": [], "omsk-2": []}
    for name, sim in (("main", main), ("omsk-2", second)):
        sim.add_listener(lambda h, name=name: placed[name].append(dict(h).get("Channel", ""))
                         if dict(h).get("Event") == "Newchannel" else None)
    second.place_call(INSURER_LINE, "79130000105", "Зайцева Анна", "answered",
                      agent=SOGAZ_PHONE, timing=LONG_TALK)
    pbxs = app[PBXS]
    await until(lambda: any(c.state == "talking" for c in pbxs.calls()))
    await app[CALL_WRITER].flushed()
    call = (await _calls(app))["79130000105"]
    supervisor = await Browser(client).login("sogaz-sup")
    try:
        started = await supervisor.post(f"/api/v1/calls/{call.id}/supervision",
                                        {"mode": "listen"}, expect=202)
    finally:
        await supervisor.close()
    assert started["operator"] == SOGAZ_PHONE and started["mode"] == "listen"
    await until(lambda: any(c.startswith("PJSIP/sup1100") for c in placed["omsk-2"]))
    assert not any(c.startswith("PJSIP/sup1100") for c in placed["main"])
    second.answer("PJSIP/sup1100")

    def listening() -> bool:
        snapshot = pbxs.snapshot(call.pbx_call_id)
        return snapshot is not None and any(
            lst.interface == "PJSIP/sup1100" for lst in snapshot.listeners)

    await until(listening)


async def test_the_pop_and_the_board_name_the_pbx_a_call_came_through(client, sims) -> None:
    """With several PBXs the operator's pop names the site the call came through, and the
    supervisor's board has each call's PBX and the PBXs' titles to show it by."""
    _main, second = sims
    operator = await Browser(client).login("sogaz-op")
    supervisor = await Browser(client).login("sogaz-sup")
    try:
        await operator.connect()
        await supervisor.connect()
        await asyncio.sleep(0.05)
        second.place_call(INSURER_LINE, "79130000106", "Орлова Ирина", "answered",
                          agent=SOGAZ_PHONE, auto_answer=False, timing=LONG_TALK)
        pop = await operator.next_pop(timeout=10)
        assert pop["call"]["pbx_title"] == "Омск, второй узел"
        async with asyncio.timeout(10):
            while True:
                board = await supervisor.next_of("board", timeout=10)
                calls = [c for c in board["calls"] if c["caller_number"] == "79130000106"]
                if calls:
                    break
        assert calls[0]["pbx"] == "omsk-2"
        assert {p["name"]: p["title"] for p in board["pbxs"]} == SITE_TITLES
    finally:
        await operator.close()
        await supervisor.close()


async def _scraped(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """GET /metrics as Prometheus reads it: each sample by its name and its labels."""
    resp = await client.get("/metrics", headers=SCRAPER)
    assert resp.status == 200
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(await resp.text())
            for sample in family.samples}


def _of(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str,
        **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def test_metrics_show_each_pbx_link_tracker_and_lock_by_its_name(client, sims) -> None:
    """One /metrics for both PBXs: each one's AMI link, call tracker and lock under
    `pbx="<its name>"`. The main PBX's link is cut: its `hotline_ami_connected` drops to 0 and
    the second's stays 1; a call on the second PBX counts in its events and its tracker's
    domain events only."""
    main, second = sims
    app = client.server.app
    both = await _scraped(client)
    for name in ("main", "omsk-2"):
        assert _of(both, "hotline_ami_connected", pbx=name) == 1
        assert (_of(both, "hotline_ami_events_total", pbx=name) or 0) > 0  # the resync's
        assert _of(both, "hotline_ami_event_queue_depth", pbx=name) is not None
        assert _of(both, "hotline_calls_live", pbx=name) == 0
        assert _of(both, "hotline_tracker_events_skipped_total", pbx=name,
                   reason="unknown") is not None
        assert _of(both, "hotline_lock_held", lock=f"pbx:{name}", pbx=name) == 1
    # No sample without its PBX: every AMI and tracker sample names one, and every PBX
    # link's lock; the recordings' lock guards no PBX's link and names none.
    assert all(dict(labels).get("pbx") in SITE_TITLES for (name, labels) in both
               if name.startswith(("hotline_ami_", "hotline_tracker_", "hotline_calls_live"))
               or (name.startswith("hotline_lock_") and dict(labels)["lock"].startswith("pbx:")))
    assert _of(both, "hotline_lock_held", lock="work:recordings", pbx="") == 1

    main.secret = "not-the-secret"
    main.drop_connections()
    pbxs = app[PBXS]
    await until(lambda: pbxs.get("main").feed.link_state != "connected")  # type: ignore[union-attr]
    before = await _scraped(client)
    second.place_call(INSURER_LINE, "79130000107", "Белова Мария", "answered",
                      agent=SOGAZ_PHONE)
    await _settled(app, second)
    after = await _scraped(client)
    assert (_of(after, "hotline_ami_connected", pbx="main"),
            _of(after, "hotline_ami_connected", pbx="omsk-2")) == (0, 1)
    assert (_of(after, "hotline_ami_reconnects_total", pbx="main") or 0) >= 1
    assert _of(after, "hotline_ami_reconnects_total", pbx="omsk-2") == 0

    def grew(name: str, pbx: str) -> float:
        return (_of(after, name, pbx=pbx) or 0) - (_of(before, name, pbx=pbx) or 0)

    assert grew("hotline_ami_events_total", "main") == 0
    assert grew("hotline_ami_events_total", "omsk-2") >= 5  # the call's channels, queue, hangups
    assert grew("hotline_tracker_domain_events_total", "main") == 0
    assert grew("hotline_tracker_domain_events_total", "omsk-2") > 0
