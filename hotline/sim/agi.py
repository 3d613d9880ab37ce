"""Asterisk's side of FastAGI for one simulated channel: `AGI(agi://host:port/<script>,secret)`.

The simulator connects to the service's FastAGI server as a real Asterisk does, sends the
`agi_*` block, and answers each command the script sends: prompts take their simulated time,
the caller keys in what the scenario says, `EXEC UserEvent` goes out on AMI as the channel's
UserEvent (the real dialplan's order: the UserEvent comes from inside the AGI). Returns the
AGISTATUS the dialplan branches on: SUCCESS, FAILURE (nobody listening) or HANGUP.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from hotline.sim.model import Channel
from hotline.sim.pbx import Pbx

log = structlog.get_logger(__name__)

PROMPT_SECONDS = 1.0  # simulated length of one prompt (a sound file or digits read out)
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class AgiTarget:
    """Where the dialplan's AGI() connects: the service's `[asterisk] agi_host:agi_port`."""

    host: str
    port: int
    secret: str = ""


def _unquote(text: str) -> str:
    match = _QUOTED.search(text)
    if match is None:
        return text
    return re.sub(r"\\(.)", r"\1", match.group(1))


async def run_agi(
    pbx: Pbx, channel: Channel, target: AgiTarget, script: str, keys: list[str],
    pause: Callable[[float], Awaitable[None]], *, timeout: float = 30.0,
) -> str:
    """One AGI() application on `channel`; the AGISTATUS."""
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(target.host, target.port), timeout)
    except (OSError, TimeoutError):
        log.info("sim_agi_unreachable", host=target.host, port=target.port, script=script)
        return "FAILURE"
    env = {
        "agi_network": "yes", "agi_network_script": script,
        "agi_request": f"agi://{target.host}:{target.port}/{script}",
        "agi_channel": channel.name, "agi_language": channel.language,
        "agi_type": channel.name.split("/")[0], "agi_uniqueid": channel.uniqueid,
        "agi_version": "22.0.0", "agi_callerid": channel.caller_num or "unknown",
        "agi_calleridname": channel.caller_name or "unknown", "agi_callingpres": "0",
        "agi_dnid": channel.dnid or "unknown", "agi_context": channel.context,
        "agi_extension": channel.exten, "agi_priority": str(channel.priority),
        "agi_enhanced": "0.0", "agi_accountcode": "", "agi_threadid": "1",
        "agi_arg_1": target.secret,
    }
    writer.write("".join(f"{k}: {v}\n" for k, v in env.items()).encode() + b"\n")
    status = "SUCCESS"
    try:
        await writer.drain()
        while True:
            raw = await asyncio.wait_for(reader.readline(), timeout)
            if not raw:
                break
            command = raw.decode("utf-8", errors="replace").strip()
            reply = await _answer(pbx, channel, command, keys, pause)
            writer.write(reply.encode())
            await writer.drain()
            if "result=-1" in reply:
                status = "HANGUP"
                break
    except (OSError, TimeoutError, asyncio.IncompleteReadError):
        status = "FAILURE"
    finally:
        writer.close()
    return status


async def _answer(
    pbx: Pbx, channel: Channel, command: str, keys: list[str],
    pause: Callable[[float], Awaitable[None]],
) -> str:
    words = command.split(" ")
    verb = " ".join(words[:2]).upper()
    if verb in ("STREAM FILE", "SAY DIGITS", "SAY NUMBER", "CONTROL STREAM"):
        await pause(PROMPT_SECONDS)
        return "200 result=0 endpos=8000\n"
    if verb in ("WAIT FOR", "GET DATA"):
        if verb == "GET DATA":
            await pause(PROMPT_SECONDS)
        if not keys:
            return "HANGUP\n200 result=-1\n"
        key = keys.pop(0)
        if verb == "WAIT FOR":
            return f"200 result={ord(key[0]) if key else 0}\n"
        return f"200 result={key}\n" if key else "200 result= (timeout)\n"
    if verb == "RECORD FILE":
        await pause(PROMPT_SECONDS)
        return "200 result=0 (timeout) endpos=48000\n"
    if verb == "GET VARIABLE":
        value = channel.variables.get(words[2] if len(words) > 2 else "")
        return f"200 result=1 ({value})\n" if value is not None else "200 result=0\n"
    if verb == "GET FULL":
        return "200 result=1 (/var/spool/asterisk)\n"
    if verb == "SET VARIABLE" and len(words) > 2:
        channel.variables[words[2]] = _unquote(" ".join(words[3:]))
        return "200 result=1\n"
    if verb == "EXEC USEREVENT":
        name, *fields = _unquote(" ".join(words[2:])).split(",")
        body = [(k.strip(), v.strip()) for k, _, v in (f.partition(":") for f in fields)]
        pbx.user_event(channel, name, body)
        return "200 result=0\n"
    if verb.startswith(("ANSWER", "VERBOSE", "NOOP", "CHANNEL STATUS")):
        return "200 result=6\n" if verb.startswith("CHANNEL") else "200 result=0\n"
    if verb.startswith("HANGUP"):
        return "200 result=1\n"
    return "510 Invalid or unknown command\n"
