"""The AMI TCP server: banner, Login, per-client sessions, event fan-out.

One `AmiSession` per client, handled like Asterisk's session thread: actions run one at a
time in arrival order and each reply is written whole, so asynchronous events never land in
the middle of a list. Every logged-in client with `Events: on` receives every event.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog

from hotline.sim.wire import BANNER, Headers, encode, response

log = structlog.get_logger(__name__)

MAX_ACTION_BYTES = 64 * 1024


@dataclass
class Action:
    """One client request: case-insensitive headers, repeated keys kept in order."""

    pairs: list[tuple[str, str]]

    @property
    def name(self) -> str:
        return self.get("Action") or ""

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    def get(self, key: str, default: str | None = None) -> str | None:
        lowered = key.lower()
        for name, value in self.pairs:
            if name.lower() == lowered:
                return value
        return default

    def all(self, key: str) -> list[str]:
        lowered = key.lower()
        return [value for name, value in self.pairs if name.lower() == lowered]


def parse_action(raw: bytes) -> Action:
    text = raw.decode("utf-8", "replace")
    pairs = []
    for line in text.replace("\r\n", "\n").split("\n"):
        key, sep, value = line.partition(":")
        if sep and key.strip():
            pairs.append((key.strip(), value[1:] if value.startswith(" ") else value))
    return Action(pairs)


Handler = Callable[["AmiSession", Action], Awaitable[None]]


@dataclass(eq=False)
class AmiSession:
    """One connected AMI client."""

    server: AmiServer
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    number: int
    authenticated: bool = False
    events: bool = True
    username: str = ""
    closing: bool = False
    _buffer: bytearray = field(default_factory=bytearray)

    @property
    def peer(self) -> str:
        peer = self.writer.get_extra_info("peername")
        return f"{peer[0]}:{peer[1]}" if peer else "?"

    def send(self, headers: Headers) -> None:
        self.send_raw(encode(headers))

    def send_raw(self, data: bytes) -> None:
        if not self.closing and not self.writer.is_closing():
            self.writer.write(data)

    def reply(
        self, status: str, action: Action, message: str | None = None, *extra: tuple[str, str]
    ) -> None:
        self.send(response(status, action.action_id, message, *extra))

    def close(self) -> None:
        self.closing = True
        if not self.writer.is_closing():
            self.writer.close()

    def abort(self) -> None:
        self.closing = True
        transport = self.writer.transport
        if not transport.is_closing():
            transport.abort()

    async def run(self) -> None:
        self.writer.write(BANNER)
        while not self.closing:
            chunk = await self.reader.read(65536)
            if not chunk:
                return
            self._buffer += chunk.replace(b"\r\n", b"\n")
            while not self.closing:
                end = self._buffer.find(b"\n\n")
                if end < 0:
                    if len(self._buffer) > MAX_ACTION_BYTES:
                        log.warning("sim_ami_oversized_action", peer=self.peer)
                        return
                    break
                raw = bytes(self._buffer[:end])
                del self._buffer[: end + 2]
                if raw.strip():
                    await self.server.dispatch(self, parse_action(raw))
            if not self.closing:
                await self.writer.drain()


class AmiServer:
    """asyncio TCP server speaking AMI to any number of clients."""

    def __init__(
        self,
        handlers: dict[str, Handler],
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.handlers = {name.lower(): handler for name, handler in handlers.items()}
        self.host = host
        self.port = port
        self.sessions: set[AmiSession] = set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._numbers = itertools.count(1)
        self._stopping = False

    async def start(self) -> None:
        self._stopping = False
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        sockname = self._server.sockets[0].getsockname()
        self.host, self.port = sockname[0], sockname[1]
        log.info("sim_ami_listening", host=self.host, port=self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self._stopping = True
        self.drop_all()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    def drop_all(self) -> None:
        """Fault injection: every client connection is cut (no Goodbye)."""
        for session in list(self.sessions):
            session.abort()

    def broadcast(self, headers: Headers) -> None:
        data = encode(headers)
        for session in self.sessions:
            if session.authenticated and session.events:
                session.send_raw(data)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        session = AmiSession(self, reader, writer, next(self._numbers))
        self.sessions.add(session)
        try:
            await session.run()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Our own stop() ends the session: return normally, since on Python 3.11
            # start_server logs a cancelled connection handler as an error.
            if not self._stopping:
                raise
        finally:
            self.sessions.discard(session)
            session.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, asyncio.CancelledError):
                pass
            self._tasks.discard(task)

    async def dispatch(self, session: AmiSession, action: Action) -> None:
        name = action.name
        if not name:
            session.reply("Error", action, "Missing action in request")
            return
        if not session.authenticated and name.lower() not in ("login", "logoff", "challenge"):
            session.reply("Error", action, "Permission denied")
            return
        handler = self.handlers.get(name.lower())
        if handler is None:
            hint = "Use Action: ListCommands to show available commands."
            session.reply("Error", action, f"Invalid/unknown command: {name}. {hint}")
            return
        started = time.monotonic()
        try:
            await handler(session, action)
        except Exception:
            log.exception("sim_ami_action_failed", action=name, peer=session.peer)
            session.reply("Error", action, "Internal error")
        log.debug("sim_ami_action", action=name, ms=round((time.monotonic() - started) * 1000, 2))
