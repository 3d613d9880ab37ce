"""A minimal FastAGI server: Asterisk's `AGI(agi://host:4573/<script>)` over asyncio streams.

The protocol, as Asterisk speaks it: on connect it sends the `agi_*` variables one per line
(`agi_network_script: secretary`, `agi_uniqueid: ...`, `agi_callerid: ...`), then an empty line.
Then we send one command per line and read one reply per command: `200 result=<n> [(data)]
[endpos=..]`; `510` an unknown command, `520-` a usage text ending in `520 End of proper
usage.`, `511` the channel is dead. When the caller hangs up Asterisk may send a bare `HANGUP`
line, and a command that was running returns `result=-1`; after that, or when the socket
closes, the session raises `Hangup`. Every read has a time limit. (panoramisk's FastAGI is
not used: it reads without time limits and has no notion of the hang-up line.)

Only the PBX may drive a script (a forged `HOTLINE_ID` would plant a callback on any card):
the server binds the PBX's network only (`[asterisk] agi_bind`, loopback by default), and
the dialplan passes a shared secret as the script's first argument (`agi_arg_1`), compared
in constant time. Without a configured secret only loopback peers are served. A refused peer
gets no command at all; it is counted (`refused`) and logged with its address.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import structlog

log = structlog.get_logger(__name__)

_REPLY = re.compile(r"^200 result=(-?[^\s(]*)\s*(?:\((.*?)\))?\s*(.*)$")
ENV_LINES_MAX = 200
LINE_MAX = 8192


class Hangup(Exception):
    """The caller hung up (or Asterisk closed the session): stop talking to the channel."""


class AgiError(Exception):
    """Asterisk refused a command (unknown command, wrong usage)."""


@dataclass(frozen=True, slots=True)
class Reply:
    """One `200 result=...` reply: `result` as text, `data` the part in parentheses."""

    result: str
    data: str = ""
    rest: str = ""

    @property
    def number(self) -> int:
        try:
            return int(self.result)
        except ValueError:
            return 0


def quote(text: str) -> str:
    """An argument in AGI quotes (Asterisk splits commands on spaces outside quotes)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class AgiSession:
    """One channel's AGI conversation. Commands are sent one at a time."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        env: Mapping[str, str],
        *,
        timeout: float = 10.0,
    ) -> None:
        self.env = dict(env)
        self.timeout = timeout
        self.hung_up = False
        self._reader = reader
        self._writer = writer

    @property
    def script(self) -> str:
        """The script part of the AGI URL (`secretary` of agi://host:4573/secretary)."""
        return self.env.get("agi_network_script", "").strip("/").split("?")[0]

    async def command(self, text: str, *, timeout: float | None = None) -> Reply:
        """Send one command and read its reply within `timeout` (+ the session's own)."""
        if self.hung_up:
            raise Hangup(text)
        limit = self.timeout + (timeout or 0.0)
        self._writer.write(text.encode("utf-8") + b"\n")
        try:
            await asyncio.wait_for(self._writer.drain(), self.timeout)
            return await asyncio.wait_for(self._reply(text), limit)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            self.hung_up = True
            raise Hangup(text) from exc
        except TimeoutError as exc:
            # A peer that stops answering is as good as gone: end the script the same way.
            log.warning("agi command unanswered", command=text.split(" ", 2)[:2], limit=limit)
            self.hung_up = True
            raise Hangup(text) from exc

    async def _reply(self, text: str) -> Reply:
        while True:
            line = await self._readline()
            if line == "HANGUP":
                # The caller is gone; the running command still answers (result=-1).
                self.hung_up = True
                continue
            if line.startswith("200"):
                match = _REPLY.match(line)
                if match is None:
                    raise AgiError(f"{text}: unreadable reply {line!r}")
                reply = Reply(match.group(1), match.group(2) or "", match.group(3))
                if reply.result == "-1":
                    self.hung_up = True
                    raise Hangup(text)
                return reply
            if line.startswith("511"):
                self.hung_up = True
                raise Hangup(text)
            if line.startswith("520-"):
                while not (await self._readline()).startswith("520"):
                    pass
                raise AgiError(f"{text}: wrong usage")
            if line.startswith(("510", "520")):
                raise AgiError(f"{text}: {line}")
            if line:
                log.warning("agi line ignored", line=line[:200])

    async def _readline(self) -> str:
        raw = await self._reader.readline()
        if not raw:
            self.hung_up = True
            raise Hangup("connection closed")
        return raw.decode("utf-8", errors="replace").strip()

    # --- the commands the scripts use -----------------------------------------------------

    async def stream(self, prompt: str, escape: str = "", *, timeout: float = 120.0) -> str | None:
        """Play a sound file; the key that interrupted it, or None."""
        reply = await self.command(f"STREAM FILE {prompt} {quote(escape)}", timeout=timeout)
        return chr(reply.number) if reply.number > 0 else None

    async def wait_digit(self, timeout_ms: int) -> str | None:
        """A key within `timeout_ms`, or None."""
        reply = await self.command(f"WAIT FOR DIGIT {timeout_ms}", timeout=timeout_ms / 1000)
        return chr(reply.number) if reply.number > 0 else None

    async def get_data(self, prompt: str, timeout_ms: int, max_digits: int) -> str:
        """Play `prompt` and collect up to `max_digits` keys ('#' ends); '' if none."""
        reply = await self.command(
            f"GET DATA {prompt} {timeout_ms} {max_digits}",
            timeout=120.0 + max_digits * timeout_ms / 1000,
        )
        return "" if reply.data == "timeout" and not reply.result else reply.result

    async def say_digits(self, digits: str, escape: str = "") -> str | None:
        reply = await self.command(f"SAY DIGITS {digits} {quote(escape)}", timeout=60.0)
        return chr(reply.number) if reply.number > 0 else None

    async def record(
        self, path: str, fmt: str, escape: str, max_ms: int, silence_s: int
    ) -> Reply:
        """Record to `path`.`fmt` with a beep; ends on a key, silence or `max_ms`."""
        return await self.command(
            f"RECORD FILE {path} {fmt} {quote(escape)} {max_ms} BEEP s={silence_s}",
            timeout=max_ms / 1000 + 10.0,
        )

    async def exec(self, app: str, args: str = "", *, timeout: float = 60.0) -> int:
        reply = await self.command(f"EXEC {app} {quote(args)}", timeout=timeout)
        return reply.number

    async def set_variable(self, name: str, value: str) -> None:
        await self.command(f"SET VARIABLE {name} {quote(value)}")

    async def get_variable(self, name: str) -> str | None:
        reply = await self.command(f"GET VARIABLE {name}")
        return reply.data if reply.result == "1" else None

    async def get_full_variable(self, expression: str) -> str | None:
        reply = await self.command(f"GET FULL VARIABLE {quote(expression)}")
        return reply.data if reply.result == "1" else None


Handler = Callable[[AgiSession], Awaitable[None]]


class FastAgiServer:
    """Accepts Asterisk's FastAGI connections and runs `handler` for each, one task each.

    A handler's exception is logged and ends only that call's session; `stop()` closes the
    listener and cancels and awaits the sessions still running.
    """

    def __init__(
        self, handler: Handler, host: str, port: int, *, timeout: float = 10.0,
        secret: str = "",
    ) -> None:
        self.handler = handler
        self.host = host
        self.port = port
        self.timeout = timeout
        self.secret = secret
        self.refused = 0  # peers refused: no secret, a wrong one, or not loopback without one
        self.on_refused: Callable[[], None] | None = None  # e.g. a Prometheus counter's inc
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self.host, self.port, limit=LINE_MAX
        )
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("fastagi listening", host=self.host, port=self.port)

    async def idle(self, timeout: float = 5.0) -> None:
        """Wait until the sessions running now have ended (tests, graceful shutdown)."""
        if self._sessions:
            await asyncio.wait(set(self._sessions), timeout=timeout)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._sessions):
            task.cancel()
        if self._sessions:
            await asyncio.gather(*self._sessions, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), self.timeout)

    def _refusal(self, env: dict[str, str], host: str) -> str | None:
        """Why this peer may not run a script, or None. The secret leaves `env` here: no
        script and no log line ever sees it."""
        sent = env.pop("agi_arg_1", "")
        if self.secret:
            if not sent:
                return "no secret"
            if not hmac.compare_digest(sent.encode("utf-8", "surrogateescape"),
                                       self.secret.encode("utf-8")):
                return "wrong secret"
            return None
        try:
            loopback = ipaddress.ip_address(host.split("%")[0]).is_loopback
        except ValueError:
            loopback = False
        return None if loopback else "not loopback and no [asterisk] agi_secret configured"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # noqa: S101 - always inside a task here
        self._sessions.add(task)
        try:
            env = await asyncio.wait_for(read_env(reader), self.timeout)
            peer = writer.get_extra_info("peername")
            reason = self._refusal(env, peer[0] if peer else "")
            if reason is not None:
                self.refused += 1
                if self.on_refused is not None:
                    self.on_refused()
                log.warning("agi peer refused", peer=peer[0] if peer else None, reason=reason,
                            script=env.get("agi_network_script", "")[:64], refused=self.refused)
                return
            session = AgiSession(reader, writer, env, timeout=self.timeout)
            log.info("agi session", script=session.script, uniqueid=env.get("agi_uniqueid"))
            await self.handler(session)
        except (Hangup, asyncio.IncompleteReadError, ConnectionError):
            pass
        except TimeoutError:
            log.warning("agi peer silent before its variables: session dropped")
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("agi session failed")
        finally:
            self._sessions.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)


async def read_env(reader: asyncio.StreamReader) -> dict[str, str]:
    """The `agi_name: value` block that opens the session, up to its empty line."""
    env: dict[str, str] = {}
    for _ in range(ENV_LINES_MAX):
        raw = await reader.readline()
        if not raw:
            raise Hangup("connection closed before the AGI variables")
        line = raw.decode("utf-8", errors="replace").strip()
        if not line:
            return env
        name, _, value = line.partition(":")
        env[name.strip()] = value.strip()
    raise AgiError("too many AGI variables")
