"""Who hears that calls ended: the recording worker beside the PBX link at once, or, when it
runs on another instance, that instance once the holder's journal writer has written them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from hotline.pbx.events import CallEnded
from hotline.recordings.wakes import CHUNK, KIND, EndedCalls


def ended(*call_ids: str) -> list[CallEnded]:
    return [CallEnded(call_id=c, at=datetime.now(UTC), cause=16, cause_text="Normal Clearing",
                      outcome="answered") for c in call_ids]


async def test_the_worker_beside_the_link_is_woken_at_once() -> None:
    woken: list[list[str]] = []
    sent: list[dict] = []
    calls = EndedCalls(lambda: True, lambda ids: woken.append(list(ids)), send=sent.append)
    calls.on_events(ended("a", "b"))
    assert woken == [["a", "b"]] and sent == []


async def test_the_ends_go_to_the_other_instance_after_the_writer_has_written_them() -> None:
    written = asyncio.Event()
    sent: list[dict] = []

    async def writer_flushed() -> None:
        await written.wait()

    calls = EndedCalls(lambda: False, lambda ids: None, send=sent.append, written=writer_flushed)
    calls.on_events(ended("a"))
    calls.on_events(ended("b"))
    await asyncio.sleep(0.05)
    assert sent == [], "not before the journal has the calls' recordings"
    written.set()
    await asyncio.sleep(0.05)
    assert sent == [{"k": KIND, "calls": ["a", "b"]}] and calls.forwarded == 2
    calls.on_events(ended(*(f"c{n}" for n in range(CHUNK + 1))))
    await asyncio.sleep(0.05)
    assert [len(m["calls"]) for m in sent[1:]] == [CHUNK, 1], "each message within NOTIFY's limit"
    await calls.stop()


async def test_only_the_instance_running_the_worker_wakes_it() -> None:
    here = {"worker": False}
    woken: list[list[str]] = []
    calls = EndedCalls(lambda: here["worker"], lambda ids: woken.append(list(ids)),
                       send=lambda body: None)
    calls.received("hotline_live", {"k": KIND, "calls": ["a"]})
    assert woken == []
    here["worker"] = True
    calls.received("hotline_live", {"k": "card", "id": 1})
    calls.received("hotline_live", {"k": KIND, "calls": ["a", 7]})
    assert woken == [["a", "7"]]
