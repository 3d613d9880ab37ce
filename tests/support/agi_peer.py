"""Asterisk's side of FastAGI, for tests: connects to the service's server, sends the `agi_*`
block, answers every command with canned `200 result=` lines, plays a caller who presses keys,
stays silent, types numbers or hangs up, and keeps every command it received."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

HANGUP = "hangup"
SILENCE = None


@dataclass
class AgiPeer:
    """`caller`: what the caller does each time the channel waits for input (WAIT FOR DIGIT,
    GET DATA, RECORD FILE): a key, a string of digits, SILENCE or HANGUP. When the list runs
    out the caller hangs up, so a test never hangs."""

    port: int
    caller: Sequence[str | None]
    variables: dict[str, str] = field(default_factory=dict)
    callerid: str = "89131234567"
    uniqueid: str = "1764241200.42"
    script: str = "secretary"
    queue_status: str = "TIMEOUT"
    commands: list[str] = field(default_factory=list)
    closed_by_peer: bool = False
    args: Sequence[str] = ()  # the AGI script's arguments (agi_arg_1...): the shared secret

    async def run(self, timeout: float = 10.0) -> list[str]:
        await asyncio.wait_for(self._run(), timeout)
        return self.commands

    async def _run(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        actions = list(self.caller)
        env = {
            "agi_network": "yes", "agi_network_script": self.script,
            "agi_request": f"agi://127.0.0.1:{self.port}/{self.script}",
            "agi_channel": "PJSIP/trunk-00000001", "agi_language": "ru", "agi_type": "PJSIP",
            "agi_uniqueid": self.uniqueid, "agi_callerid": self.callerid,
            "agi_calleridname": "unknown", "agi_context": "hotline-secretary",
            "agi_extension": "s", "agi_priority": "2", "agi_enhanced": "0.0",
            **{f"agi_arg_{n}": arg for n, arg in enumerate(self.args, 1)},
        }
        writer.write("".join(f"{k}: {v}\n" for k, v in env.items()).encode() + b"\n")
        await writer.drain()
        try:
            while True:
                raw = await reader.readline()
                if not raw:
                    return
                command = raw.decode().strip()
                self.commands.append(command)
                reply = self._answer(command, actions)
                writer.write(reply.encode())
                await writer.drain()
                if "result=-1" in reply:
                    self.closed_by_peer = True
                    return
        finally:
            writer.close()

    def _answer(self, command: str, actions: list[str | None]) -> str:
        verb = " ".join(command.split(" ")[:2])
        if verb in ("WAIT FOR", "GET DATA", "RECORD FILE"):
            action = actions.pop(0) if actions else HANGUP
            if action == HANGUP:
                return "HANGUP\n200 result=-1\n" if verb != "RECORD FILE" \
                    else "HANGUP\n200 result=-1 (hangup) endpos=48000\n"
            if verb == "WAIT FOR":
                return f"200 result={ord(action) if action else 0}\n"
            if verb == "GET DATA":
                return f"200 result={action}\n" if action else "200 result= (timeout)\n"
            if action:
                return f"200 result={ord(action)} (dtmf) endpos=96000\n"
            return "200 result=0 (timeout) endpos=96000\n"
        if verb == "SET VARIABLE":
            match = re.match(r'SET VARIABLE (\S+) "(.*)"$', command)
            assert match, command
            self.variables[match.group(1)] = match.group(2)
            return "200 result=1\n"
        if verb == "GET VARIABLE":
            name = command.split(" ", 2)[2]
            value = self.variables.get(name)
            return f"200 result=1 ({value})\n" if value is not None else "200 result=0\n"
        if verb == "GET FULL":
            return "200 result=1 (/var/spool/asterisk)\n"
        if verb == "EXEC Queue":
            self.variables["QUEUESTATUS"] = self.queue_status
            return "200 result=0\n"
        if verb in ("STREAM FILE", "SAY DIGITS", "EXEC UserEvent"):
            return "200 result=0 endpos=8000\n"
        return "510 Invalid or unknown command\n"


def played(commands: Sequence[str]) -> list[str]:
    """The prompts played, in order (without the hotline/ folder)."""
    out = []
    for command in commands:
        match = re.match(r"(?:STREAM FILE|GET DATA) hotline/(\S+)", command)
        if match:
            out.append(match.group(1))
    return out
