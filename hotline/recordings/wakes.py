"""Which instance's recording worker hears that calls ended.

The PBX link's holder follows every call; the recording worker runs on whichever instance
holds the recordings' lock (a standby, when there is one: `hotline.cluster.lock`). Where the
worker runs beside the link, an ended call wakes it at once, as before. Elsewhere the holder
sends the ended calls over the instances' bus once its journal writer has written them (their
recordings' rows are then in the journal for the worker to find), and the worker's instance
wakes it. A message lost on the way (the bus reconnecting, the lock changing hands) costs
only time: the worker's sweep finds every recording still waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from hotline.pbx.events import CallEnded, DomainEvent

KIND = "recordings_ended"
CHUNK = 100  # call ids in one message: well within a NOTIFY's 8000 bytes


class EndedCalls:
    """A call subscriber of the PBX feed and a receiver of the bus."""

    def __init__(
        self,
        worker_here: Callable[[], bool],
        wake: Callable[[Sequence[str]], None],
        *,
        send: Callable[[dict[str, Any]], None] | None = None,
        written: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.worker_here = worker_here
        self.wake = wake
        self.send = send  # None: one instance alone, the worker is always here
        self.written = written
        self.forwarded = 0
        self._waiting: list[str] = []
        self._task: asyncio.Task[None] | None = None

    def on_events(self, events: Sequence[DomainEvent]) -> None:
        ended = [event.call_id for event in events if isinstance(event, CallEnded)]
        if not ended:
            return
        if self.send is None or self.worker_here():
            self.wake(ended)
            return
        self._waiting += ended
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._forward(), name="recordings-ended")

    async def _forward(self) -> None:
        assert self.send is not None
        while self._waiting:
            if self.written is not None:
                # However long the writer takes, the calls go: the sweep catches a miss.
                with contextlib.suppress(TimeoutError):
                    await self.written()
            calls, self._waiting = self._waiting, []
            for start in range(0, len(calls), CHUNK):
                self.send({"k": KIND, "calls": calls[start:start + CHUNK]})
            self.forwarded += len(calls)

    def received(self, _channel: str, body: dict[str, Any]) -> None:
        if body.get("k") != KIND or not self.worker_here():
            return
        calls = body.get("calls")
        if isinstance(calls, list):
            self.wake([str(call) for call in calls])

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
