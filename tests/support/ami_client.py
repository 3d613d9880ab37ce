"""A plain AMI client over TCP for the simulator's tests: log in, send actions, read events."""

from __future__ import annotations

import asyncio
from typing import Any


from hotline.pbx.ami.message import AmiMessage
from hotline.pbx.ami.wire import AmiFramer
from hotline.sim.simulator import PbxSimulator, Timing

FAST = Timing(ring=2.0, talk=6.0, level2_talk=13.0, consult=2.0, patience=6.0, prompt=5.6, message=8.4)


SCALE = 0.002


class AmiClient:
    """A bare AMI client: raw TCP plus the framer, nothing of panoramisk's Manager."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.framer = AmiFramer()
        self.raw = bytearray()
        self.inbox: asyncio.Queue[AmiMessage] = asyncio.Queue()
        self.messages: list[AmiMessage] = []
        self._task = asyncio.get_running_loop().create_task(self._read())
        self._ids = 0

    @classmethod
    async def connect(cls, sim: PbxSimulator) -> AmiClient:
        reader, writer = await asyncio.open_connection(*sim.address)
        return cls(reader, writer)

    async def _read(self) -> None:
        while chunk := await self.reader.read(65536):
            self.raw += chunk
            for message in self.framer.feed(chunk):
                self.messages.append(message)
                self.inbox.put_nowait(message)

    @property
    def closed(self) -> bool:
        return self._task.done()

    def send(self, action: str, **headers: str | list[str]) -> str:
        self._ids += 1
        action_id = f"cap-{self._ids}"
        lines = [f"Action: {action}", f"ActionID: {action_id}"]
        for key, value in headers.items():
            for item in value if isinstance(value, list) else [value]:
                lines.append(f"{key}: {item}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        return action_id

    async def next(self, predicate: Any, timeout: float = 5.0) -> AmiMessage:
        async with asyncio.timeout(timeout):
            while True:
                message = await self.inbox.get()
                if predicate(message):
                    return message

    async def reply(self, action_id: str, timeout: float = 5.0) -> AmiMessage:
        return await self.next(
            lambda m: "Event" not in m and m.get("Response") and m.get("ActionID") == action_id, timeout
        )

    async def event(self, name: str, timeout: float = 5.0, **match: str) -> AmiMessage:
        def wanted(m: AmiMessage) -> bool:
            return m.get("Event") == name and all(m.get(k) == v for k, v in match.items())

        return await self.next(wanted, timeout)

    async def login(self, secret: str = "hotline") -> AmiMessage:
        action_id = self.send("Login", Username="hotline", Secret=secret, Events="on")
        return await self.reply(action_id)

    async def close(self) -> None:
        self.writer.close()
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        try:
            await self.writer.wait_closed()
        except ConnectionError:
            pass
