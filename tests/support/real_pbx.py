"""The real-PBX tier's stage: the two Asterisk processes (the one under test, and the world of citizens and phones), the service on PostgreSQL beside them, and reading back what it wrote."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from hotline.app import create_app
from hotline.config import Settings
from hotline.keys import CALL_WRITER, MODES, PBX
from hotline.web.keys import SESSIONS
from journal.models import Call, Recording
from tests.asterisk import pbx
from tests.support.paths import REPO

FIXTURES = REPO / "tests" / "fixtures" / "ami"


PROMPTS = REPO / "ivr_scripts" / "prompts" / "ru"
# The project's prompts as hotline/<id>, and the calls' dialect ru_hotline (extensions.conf).
SOUNDS = {"ru/hotline": PROMPTS, "ru_hotline/digits/1n.wav": PROMPTS / "queue-one.wav"}


LINE = "88007758565"  # the fund's line (tfoms): l1-tfoms op101/op102, l2-tfoms op201


PHONES = ("op101", "op102", "op201", "sup100")


PASSWORD = "real-pbx-operator-1"


RECORD = os.environ.get("HOTLINE_RECORD_TRANSCRIPTS") == "1"


@dataclass
class Pbxs:
    hotline: pbx.Asterisk
    world: pbx.Asterisk
    ami_port: int
    agi_port: int
    world_ami: int




def pbx_settings(settings: Settings, ami_port: int, agi_port: int) -> Settings:
    """The region as shipped; only addresses and ports are this machine's."""
    return settings.model_copy(update={
        "ami": settings.ami.model_copy(update={
            "host": "127.0.0.1", "port": ami_port, "ping_interval": 2.0,
            "reconnect_min_delay": 0.2, "reconnect_max_delay": 1.0}),
        "asterisk": settings.asterisk.model_copy(update={
            "trunk_host": pbx.PROVIDER_HOST, "trunk_port": pbx.PROVIDER_PORT,
            "agi_serve": True, "agi_bind": "127.0.0.1", "agi_host": "127.0.0.1",
            "agi_port": agi_port}),
    })


@dataclass
class Stage:
    """A running service against the two PBXs, and the world's AMI to play the people."""

    app: web.Application
    client: TestClient
    world: pbx.AmiClient
    pbxs: Pbxs
    settings: Settings

    async def phone(self, name: str, action: str, talk: int = 8) -> None:
        await self.world.action({"Action": "DBPut", "Family": "phone", "Key": name, "Val": action})
        await self.world.action({"Action": "DBPut", "Family": "phone", "Key": f"{name}-talk",
                                 "Val": str(talk)})

    async def citizen_calls(self, number: str, name: str, talk: int, line: str = LINE) -> str:
        """A citizen dials the 8-800 line through the provider; returns the world channel's
        uniqueid (the hotline's inbound leg is another channel)."""
        uniqueid = f"world-{secrets.token_hex(4)}"
        reply = await self.world.action({
            "Action": "Originate", "Channel": f"PJSIP/{line}@hotline",
            "Context": "citizen", "Exten": "talk", "Priority": "1",
            "CallerID": f'"{name}" <{number}>', "Variable": f"TALK={talk}",
            "ChannelId": uniqueid, "Async": "true", "Timeout": "30000",
        })
        assert reply.get("Response") == "Success", reply
        return uniqueid

    async def press(self, uniqueid: str, digits: str) -> None:
        for digit in digits:
            await self.world.action({"Action": "PlayDTMF", "Channel": uniqueid, "Digit": digit,
                                     "Duration": "200"})
            await asyncio.sleep(0.35)

    async def calls(self) -> dict[str, Call]:
        async with self.app[SESSIONS]() as session:
            return {c.caller_number or c.pbx_call_id: c
                    for c in (await session.scalars(select(Call))).all()}

    async def until(self, what: Callable[[], Awaitable[bool]], timeout: float = 60.0) -> None:
        async with asyncio.timeout(timeout):
            while not await what():
                await asyncio.sleep(0.25)

    async def ended(self, number: str, timeout: float = 90.0) -> Call:
        async def done() -> bool:
            call = (await self.calls()).get(number)
            return call is not None and call.ended_at is not None

        await self.until(done, timeout)
        await self.app[CALL_WRITER].flushed(timeout=20)
        return (await self.calls())[number]

    async def recordings(self, call: Call, settled: bool = True) -> list[Recording]:
        async def processed() -> bool:
            async with self.app[SESSIONS]() as session:
                rows = (await session.scalars(
                    select(Recording).where(Recording.call_id == call.id))).all()
            return bool(rows) and all(r.status != "pending" for r in rows)

        if settled:
            await self.until(processed, 60)
        async with self.app[SESSIONS]() as session:
            return list((await session.scalars(
                select(Recording).where(Recording.call_id == call.id))).all())


@asynccontextmanager
async def stage(pbxs: Pbxs, settings: Settings, pg_url: str, tmp: Path,
                name: str, *, fresh_ledger: bool = True) -> AsyncIterator[Stage]:
    region = pbx_settings(settings, pbxs.ami_port, pbxs.agi_port)
    region = region.model_copy(update={
        "service": region.service.model_copy(update={
            "database_url": pg_url, "spool_dir": tmp / "spool",
            "recordings_dir": tmp / "recordings", "calendar_dir": REPO / "config" / "calendar"}),
        "recordings": region.recordings.model_copy(update={"pbx_dir": pbxs.hotline.monitor}),
    })
    tap = pbx.AmiClient(pbxs.ami_port, region.ami.user, region.ami.secret,
                        record=FIXTURES / f"{name}.jsonl" if RECORD else None)
    # Each scenario's journal starts empty: so does the PBX's ledger (the calls of earlier
    # scenarios would be imported as calls the service never saw, which they are not here).
    if fresh_ledger:
        await asyncio.to_thread(pbxs.hotline.cli, "database deltree hotline/ledger")
    world = pbx.AmiClient(pbxs.world_ami, "world", "world")
    await world.connect()
    for phone in PHONES:
        await world.action({"Action": "DBPut", "Family": "phone", "Key": phone, "Val": "answer"})
    await world.action({"Action": "DBDelTree", "Family": "citizen"})
    app = create_app(region)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        await app[PBX].wait_resynced(1, timeout=30)
        await _registered(pbxs.hotline)
        await app[MODES].scheduler.set_override(
            LINE, "operator", datetime.now(UTC) + timedelta(hours=2), by="test")
        await tap.connect()
        yield Stage(app, client, world, pbxs, region)
    finally:
        await tap.close()
        await client.close()
        await world.close()


async def _registered(hotline: pbx.Asterisk, timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while True:
            shown = await asyncio.to_thread(hotline.cli, "pjsip show contacts")
            if all(f"{p}/sip:{p}@" in shown for p in PHONES):
                return
            await asyncio.sleep(0.5)



