"""Commands to the instance holding the PBX link, from any instance, over the bus.

An instance that does not hold the link sends `{"k": "cmd", "id", "from", "target",
"method", "args"}` on the shared channel; only the holder serves it (the target's handler,
e.g. `PbxActions.serve`, which runs the command and checks it again) and answers on the
asker's own channel with `{"k": "cmd_reply", "id", "reply"}`. No answer within the
caller's timeout (no holder: a takeover is under way, or the bus is away) is a TimeoutError
for the caller, who tells the person to try again. A command is sent once and never
re-sent: one the holder ran but could not answer (it died) is reported as not answered.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

log = structlog.get_logger(__name__)

SHARED = "hotline_live"

Handler = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
Send = Callable[[str, dict[str, Any]], None]


class Commands:
    """This instance's side of the commands: asks the holder, or serves as the holder."""

    def __init__(self, instance: str, send: Send, holds: Callable[[], bool],
                 channel_of: Callable[[str], str]) -> None:
        self.instance = instance
        self.send = send
        self.holds = holds
        self.channel_of = channel_of
        self.handlers: dict[str, Handler] = {}
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self.forwarded = 0
        self.served = 0
        self.unanswered = 0

    def expose(self, target: str, handler: Handler) -> None:
        """What the holder runs for `target` (e.g. "pbx": the PBX's actions)."""
        self.handlers[target] = handler

    # ------------------------------------------------------------ asking (any instance)

    def local(self) -> bool:
        return self.holds()

    async def call(self, target: str, method: str, args: dict[str, Any],
                   timeout: float) -> dict[str, Any]:
        request_id = f"{self.instance}:{next(self._ids)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        started = time.monotonic()
        try:
            # `expires`: a holder that hears it later (it was frozen, the bus was slow) does
            # not run what the asker has already reported as not done.
            self.send(SHARED, {"k": "cmd", "id": request_id, "from": self.instance,
                               "target": target, "method": method, "args": args,
                               "expires": time.time() + timeout})
            self.forwarded += 1
            async with asyncio.timeout(timeout):
                reply = await future
        except TimeoutError:
            self.unanswered += 1
            log.warning("command not answered by the holder", target=target, method=method,
                        seconds=round(time.monotonic() - started, 2))
            raise
        finally:
            self._waiting.pop(request_id, None)
        log.info("command run by the holder", target=target, method=method,
                 ms=round((time.monotonic() - started) * 1000, 1))
        return reply

    # ------------------------------------------------------------ the bus in

    def received(self, _channel: str, body: dict[str, Any]) -> None:
        kind = body.get("k")
        if kind == "cmd_reply":
            future = self._waiting.get(str(body.get("id")))
            if future is not None and not future.done():
                future.set_result(body.get("reply") or {})
        elif kind == "cmd" and self.holds():
            if float(body.get("expires") or 0) < time.time():
                log.warning("command too late, not run", method=body.get("method"))
                return
            handler = self.handlers.get(str(body.get("target")))
            if handler is None:
                return
            task = asyncio.create_task(self._serve(handler, body), name="command-served")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _serve(self, handler: Handler, body: dict[str, Any]) -> None:
        method, args = str(body.get("method")), body.get("args")
        try:
            if not isinstance(args, dict):
                raise TypeError("args")
            reply = await handler(method, args)
        except Exception as exc:
            log.exception("command failed on the holder", method=method)
            reply = {"error": {"kind": "", "message": "Команда не выполнена: ошибка службы",
                               "detail": repr(exc)[:200]}}
        self.served += 1
        self.send(self.channel_of(str(body.get("from"))),
                  {"k": "cmd_reply", "id": body.get("id"), "from": self.instance, "reply": reply})

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def health(self) -> dict[str, Any]:
        return {"commands_forwarded": self.forwarded, "commands_served": self.served,
                "commands_unanswered": self.unanswered}
