"""The instances' bus on a real PostgreSQL: a burst arrives whole and in order."""

from __future__ import annotations

import asyncio
from typing import Any

from hotline.cluster.bus import Bus, own_channel


async def test_a_burst_of_messages_arrives_whole_and_in_order(pg_url: str) -> None:
    """Hundreds of live messages sent in one go (a busy moment on the holder), one of them
    too big for NOTIFY, reach the other instance all and in the order sent."""
    dsn = pg_url.replace("postgresql+asyncpg://", "postgresql://")
    got: list[dict[str, Any]] = []
    sender = Bus(dsn, "sender", lambda _channel, _body: None)
    receiver = Bus(dsn, "receiver", lambda _channel, body: got.append(body))
    await sender.start()
    await receiver.start()
    try:
        sent = [{"n": n, "text": "Иванов " * (2000 if n == 150 else 1)} for n in range(400)]
        for body in sent:
            sender.send(own_channel("receiver"), body)
        async with asyncio.timeout(30):
            while len(got) < len(sent):
                await asyncio.sleep(0.05)
        assert [body["n"] for body in got] == list(range(400))
        assert got[150] == sent[150]
        assert sender.health()["sent"] == 400 and sender.health()["rows"] == 1
    finally:
        await sender.stop()
        await receiver.stop()
