"""A small Asterisk-22-shaped AMI server for tests, on a real TCP socket.

It sends the banner, answers Login (then FullyBooted with the uptime chosen per connection),
Ping, CoreShowChannels, QueueStatus and Status with lists cut from the real
`resync_snapshot` transcript, and replays recorded AMI streams cut into random-sized writes.
It can drop the connection, stay silent to Ping or to any action, and records every action
it received.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

TRANSCRIPTS = Path(__file__).resolve().parents[3] / "shared" / "ami-transcripts"
BANNER = b"Asterisk Call Manager/11.0.0\r\n"
EOM = b"\r\n\r\n"


def load_transcript(name: str, direction: str = "in") -> list[str]:
    """The records of one direction of a transcript, as text, in order."""
    path = TRANSCRIPTS / f"{name}.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [r["data"] for r in records if r["dir"] == direction]


def transcript_names() -> list[str]:
    return sorted(p.stem for p in TRANSCRIPTS.glob("*.jsonl"))


def _canned_lists() -> dict[str, list[str]]:
    """Action name (lower case) -> the records Asterisk sent for it in resync_snapshot."""
    outgoing = load_transcript("resync_snapshot", "out")
    incoming = load_transcript("resync_snapshot", "in")
    lists: dict[str, list[str]] = {}
    for action in outgoing:
        fields = dict(line.split(": ", 1) for line in action.strip().split("\r\n"))
        action_id = fields["ActionID"]
        marker = f"ActionID: {action_id}\r\n"
        lists[fields["Action"].lower()] = [r for r in incoming if marker in r]
    return lists


CANNED = _canned_lists()


def parse_action(raw: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in raw.decode("utf-8").split("\r\n"):
        key, _, value = line.partition(": ")
        fields[key] = value
    return fields


@dataclass
class PeerConnection:
    number: int
    writer: asyncio.StreamWriter
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def write(self, data: bytes) -> None:
        async with self.lock:
            self.writer.write(data)
            await self.writer.drain()


@dataclass
class AmiPeer:
    """The fake PBX. `uptimes[n]` is the FullyBooted uptime of connection n (the last one
    repeats); `silent` names actions never answered; `answer_ping=False` ignores Ping."""

    uptimes: list[int] = field(default_factory=lambda: [294])
    answer_ping: bool = True
    send_fully_booted: bool = True
    login_ok: bool = True
    silent: set[str] = field(default_factory=set)
    extra_answers: dict[str, Callable[[dict[str, str]], str]] = field(default_factory=dict)
    host: str = "127.0.0.1"
    port: int = 0
    actions: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    connections: list[PeerConnection] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> AmiPeer:
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in self.connections:
            conn.writer.transport.abort()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=2)
        if self._server is not None:
            await self._server.wait_closed()

    @property
    def current(self) -> PeerConnection:
        return self.connections[-1]

    def drop(self) -> None:
        """Cut the current connection as a crashing PBX would (RST, no goodbye)."""
        self.current.writer.transport.abort()

    async def send_raw(self, data: bytes) -> None:
        await self.current.write(data)

    async def replay(self, data: bytes, seed: int, max_cut: int) -> int:
        """Send `data` cut into random writes of 1..max_cut bytes, yielding between writes
        so the client reads them one by one. Returns the number of writes."""
        rng = random.Random(seed)
        conn = self.current
        writes = 0
        async with conn.lock:
            position = 0
            while position < len(data):
                size = rng.randint(1, max_cut)
                conn.writer.write(data[position : position + size])
                position += size
                writes += 1
                await conn.writer.drain()
                await asyncio.sleep(0)
        return writes

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

    def received(self, action: str) -> list[tuple[int, dict[str, str]]]:
        return [(n, a) for n, a in self.actions if a.get("Action", "").lower() == action.lower()]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        conn = PeerConnection(len(self.connections), writer)
        self.connections.append(conn)
        self._changed.set()
        buffer = b""
        try:
            await conn.write(BANNER)
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                buffer += data
                while EOM in buffer:
                    raw, buffer = buffer.split(EOM, 1)
                    action = parse_action(raw)
                    self.actions.append((conn.number, action))
                    self._changed.set()
                    if not await self._answer(conn, action):
                        return
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()
            self._tasks.discard(task)
            self._changed.set()

    async def _answer(self, conn: PeerConnection, action: dict[str, str]) -> bool:
        name = action.get("Action", "").lower()
        action_id = action.get("ActionID", "")
        if name in self.silent or (name == "ping" and not self.answer_ping):
            return True
        if name in self.extra_answers:
            await conn.write(self.extra_answers[name](action).encode("utf-8"))
        elif name == "login":
            if not self.login_ok:
                await conn.write(_reply(action_id, "Error", Message="Authentication failed"))
                return False
            uptime = self.uptimes[min(conn.number, len(self.uptimes) - 1)]
            await conn.write(
                _reply(action_id, "Success", Message="Authentication accepted")
                + (
                    "Event: FullyBooted\r\nPrivilege: system,all\r\n"
                    f"Uptime: {uptime}\r\nLastReload: {uptime}\r\nStatus: Fully Booted\r\n\r\n"
                ).encode()
                * self.send_fully_booted
            )
        elif name == "ping":
            await conn.write(_reply(action_id, "Success", Ping="Pong", Timestamp="1795444732.847187"))
        elif name == "logoff":
            await conn.write(_reply(action_id, "Goodbye", Message="Thanks for all the fish."))
            return False
        elif name in ("coreshowchannels", "queuestatus", "status"):
            await conn.write(self._canned(name, action).encode("utf-8"))
        elif name == "originate":
            await conn.write(_reply(action_id, "Success", Message="Originate successfully queued"))
        elif name == "atxfer":
            await conn.write(_reply(action_id, "Success", Message="Atxfer successfully queued"))
        else:
            await conn.write(_reply(action_id, "Error", Message="Invalid/unknown command"))
        return True

    def _canned(self, name: str, action: dict[str, str]) -> str:
        action_id = action.get("ActionID", "")
        variables = [v for v in action.get("Variables", "").split(",") if v]
        records = []
        for record in CANNED[name]:
            record = re.sub(r"ActionID: [^\r]*\r\n", f"ActionID: {action_id}\r\n", record)
            if variables and record.startswith("Event: Status\r\n"):
                # As Asterisk does for `Variables:`: one `Variable: NAME=value` each, before
                # the trailing ActionID; our tag is HOTLINE_ID=hl-<uniqueid>, others unset.
                found = re.search(r"Uniqueid: ([^\r]*)", record)
                uniqueid = found.group(1) if found else ""
                tags = "".join(
                    f"Variable: {v}={'hl-' + uniqueid if v == 'HOTLINE_ID' else ''}\r\n"
                    for v in variables
                )
                closing = f"ActionID: {action_id}\r\n"
                record = record.replace(closing, tags + closing)
            records.append(record)
        return "".join(records)


def _reply(action_id: str, response: str, **fields: str) -> bytes:
    lines = [f"Response: {response}", f"ActionID: {action_id}"]
    lines += [f"{key}: {value}" for key, value in fields.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
