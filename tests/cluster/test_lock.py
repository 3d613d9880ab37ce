"""The advisory lock's holder on a real PostgreSQL: its start steps never starve the lock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from hotline.cluster import lock
from hotline.cluster.lock import Leadership


async def test_slow_start_steps_keep_the_lock(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The AMI link's connect and resync may take longer than the server's idle timeout of
    the lock connection: the lock is checked meanwhile, so the holder stays the holder and
    its start steps all run once."""
    monkeypatch.setattr(lock, "SERVER_TIMEOUT", "1s")
    holder = Leadership(pg_url, name="pbx:slow-start", check=0.2)
    started, stopped = [], []

    async def slow_link() -> None:
        await asyncio.sleep(2.5)  # well past the 1 s idle timeout
        started.append("link")

    holder.while_holding("link", slow_link, lambda: stopped.append("link"))
    holder.while_holding("jobs", lambda: started.append("jobs"), lambda: stopped.append("jobs"))
    await holder.start()
    try:
        await until(lambda: started == ["link", "jobs"])
        await asyncio.sleep(1.5)
        assert started == ["link", "jobs"]
        assert holder.holds() and stopped == []
        assert holder.health()["last_error"] is None
    finally:
        await holder.stop()
    assert stopped == ["jobs", "link"]


async def test_lost_while_starting_stops_what_began(pg_url: str) -> None:
    """The lock's connection ended while the link still connects, with another instance
    standing by: the start is cancelled and the stop steps run, so nothing of a holder is
    left running on what is now a standby, and the other instance holds."""
    import asyncpg

    holder = Leadership(pg_url, name="pbx:lost-start", check=0.2, retry=0.2)
    standby = Leadership(pg_url, name="pbx:lost-start", check=0.2, retry=0.2)
    began, stopped = [], []

    async def never_done() -> None:
        began.append("link")
        await asyncio.sleep(60)

    holder.while_holding("link", never_done, lambda: stopped.append("link"))
    await holder.start()
    try:
        await until(lambda: bool(began))
        await standby.start()
        await until(lambda: holder.peers >= 1)
        admin = await asyncpg.connect(pg_url.replace("+asyncpg", ""))
        try:
            await admin.fetchval("SELECT pg_terminate_backend($1)", holder.backend_pid)
        finally:
            await admin.close()
        await until(lambda: standby.holds())
        assert not holder.holds() and stopped == ["link"]
    finally:
        await holder.stop()
        await standby.stop()


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)


async def test_a_lock_that_gives_way_is_let_go_and_left_to_the_other_instance(pg_url: str) -> None:
    """The recordings' lock on the PBX link's holder: while it gives way, a held lock is let
    go (its work stopped) and the other instance takes it; it is not tried meanwhile, and
    is taken again when the other lets go and it no longer gives way."""
    busy = {"flag": False}
    first = Leadership(pg_url, name="work:give-way", check=0.2, retry=0.2,
                       give_way=lambda: busy["flag"])
    second = Leadership(pg_url, name="work:give-way", check=0.2, retry=0.2)
    ran: list[str] = []
    first.while_holding("work", lambda: ran.append("first on"), lambda: ran.append("first off"))
    second.while_holding("work", lambda: ran.append("second on"), lambda: ran.append("second off"))
    await first.start()
    try:
        await until(first.holds)
        await second.start()
        await asyncio.sleep(0.6)
        assert first.holds() and not second.holds(), "nothing gives way yet"
        busy["flag"] = True
        await until(second.holds)
        assert not first.holds() and ran == ["first on", "first off", "second on"]
        busy["flag"] = False
        await asyncio.sleep(0.6)
        assert second.holds() and not first.holds(), "a lock held elsewhere is not taken"
        await second.stop()
        await until(first.holds)
        assert ran[-2:] == ["second off", "first on"]
    finally:
        await second.stop()
        await first.stop()
