"""The AMI connection: panoramisk's `Manager` API, on a protocol that survives a real PBX.

panoramisk 1.4 (see shared/AMI_NOTES.md) decodes TCP chunks on their own (P1), loses empty
last values (P2), runs user callbacks inside `data_received` (P3), never times out an action
nor checks Ping (P4, P5), re-sends pending actions after a reconnect (P6), leaves list actions
hanging on disconnect (P7), misdetects some replies (P8, P9) and matches event names
case-sensitively (P13). `AmiConnection` is therefore not a `Manager` and uses none of its
machinery: it offers the same surface (`send_action`, `register_event`, `send_command`) on
its own, and what it reads is the project's immutable `AmiMessage`:

* `AmiProtocol` frames on bytes (`wire.AmiFramer`), matches replies by ActionID and only
  queues events: no user code ever runs inside `data_received`. An event is queued as its
  bytes and parsed when the consumer reaches it, so that a burst the handlers cannot keep
  up with waits as compact bytes rather than as parsed messages (a tenth of the memory, and
  none of the collector's work on them); replies, and every message while an action waits,
  are parsed at once;
* one consumer task delivers events, in wire order, to the handlers; a handler that raises or
  hangs is logged with the call's context and skipped, the connection goes on;
* every action has a timeout (a list action: between two of its messages); a lost connection
  fails every pending action with `AmiDisconnected`, and nothing is ever re-sent: whether an
  `Originate` whose reply was lost should be repeated is the caller's decision;
* a supervisor task logs in, resynchronises (`ResyncResult`), runs the `on_connected` hooks,
  pings (an unanswered Ping declares the connection dead) and reconnects with a jittered
  exponential backoff.
"""

from __future__ import annotations

import asyncio
import fnmatch
import inspect
import itertools
import random
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge

from hotline.config import MAIN_PBX, AmiSettings
from hotline.pbx.ami.message import AmiMessage
from hotline.pbx.ami.resync import BootWatch, ResyncResult
from hotline.pbx.ami.wire import MAX_MESSAGE_BYTES, AmiFramer
from journal.clock import utc_now

State = Literal["disconnected", "connecting", "connected"]
EventCallback = Callable[[AmiMessage, datetime], Awaitable[None] | None]
ConnectedCallback = Callable[[ResyncResult], Awaitable[None] | None]

# Asterisk reads at most 1024 bytes per input line; a longer one is cut and garbles the action.
MAX_ACTION_LINE_BYTES = 1024
# How long to wait for FullyBooted after the login reply before asking CoreStatus instead.
FULLY_BOOTED_WAIT = 1.0
# Channel variables read back on resync: our own tags set by the inbound dialplan.
DEFAULT_STATUS_VARIABLES = ("HOTLINE_ID", "HOTLINE_LINE", "HOTLINE_ORG")
# Event headers worth having in a log line about a failed handler.
_CALL_CONTEXT_KEYS = ("Uniqueid", "Linkedid", "Channel", "Queue", "ActionID")
_CLOSE_WAIT = 1.0
# Longest stretch of event delivery before the consumer lets other tasks run. At 2 ms a
# busy holder (2,000 calls at once) gave the PBX's events a sliver of each loop turn and they
# queued by the thousand, the screen-pops behind them; 20 ms is about one writer batch's turn.
CONSUMER_SLICE = 0.020
MAX_CACHED_EVENT_NAMES = 1000
# Events parsed as they arrive even with no action waiting: what the connection itself awaits.
_EAGER_EVENTS = (b"Event: FullyBooted", b"Event: Shutdown")


class AmiError(Exception):
    """Base of the errors of the AMI connection."""


class AmiNotConnected(AmiError):
    """An action was sent while no logged-in connection exists; nothing was sent."""


class AmiDisconnected(AmiError):
    """The connection was lost while the action waited; it may or may not have run."""


class AmiActionTimeout(AmiError, TimeoutError):
    """No (complete) reply within the action's timeout; it may or may not have run."""


class AmiLoginFailed(AmiError):
    """Asterisk refused the credentials (or answered Login with something else)."""


def backoff_delay(attempt: int, minimum: float, maximum: float, rng: random.Random) -> float:
    """Jittered exponential backoff: `minimum * 2**attempt` capped at `maximum`, then a
    random point in its upper half, so many instances restarting together spread out."""
    ceiling = min(maximum, minimum * (2 ** min(attempt, 32)))
    return rng.uniform(ceiling / 2, ceiling)


def encode_action(action: Mapping[str, Any]) -> bytes:
    """Serialise an action: `Action` first, lists as repeated keys, CR/LF removed from values.

    A value carrying CR/LF would let caller-controlled text (a caller ID, a note) inject
    headers or a whole second action; Asterisk also cuts input lines at 1024 bytes.
    """
    lines: list[str] = []
    ordered = sorted(action.items(), key=lambda item: item[0].lower() != "action")
    for key, value in ordered:
        if not key or ":" in key or "\r" in key or "\n" in key:
            raise ValueError(f"bad AMI header name {key!r}")
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            text = _as_text(item).replace("\r", "").replace("\n", "")
            line = f"{key}: {text}"
            if len(line.encode("utf-8")) > MAX_ACTION_LINE_BYTES - 2:
                raise ValueError(f"AMI header {key!r} longer than {MAX_ACTION_LINE_BYTES} bytes")
            lines.append(line)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def call_context(message: AmiMessage) -> dict[str, Any]:
    """The identifiers of the call a message is about, for log lines."""
    context: dict[str, Any] = {"ami_event": message.get("Event") or message.get("Response")}
    for key in _CALL_CONTEXT_KEYS:
        if key in message:
            context[key.lower()] = message[key]
    for item in message.getall("ChanVariable"):
        name, _, value = item.partition("=")
        if name == "HOTLINE_ID":
            context["hotline_id"] = value
    return context


class _PendingAction:
    """One sent action waiting for its reply (or, for a list action, its whole list)."""

    def __init__(
        self,
        name: str,
        action_id: str,
        timeout: float,
        loop: asyncio.AbstractEventLoop,
        forget: Callable[[str], None],
    ) -> None:
        self.name = name
        self.action_id = action_id
        self.timeout = timeout
        self.future: asyncio.Future[AmiMessage | list[AmiMessage]] = loop.create_future()
        self.messages: list[AmiMessage] = []
        self.is_list = False
        self._loop = loop
        self._forget = forget
        self._timer = loop.call_later(timeout, self._expire)

    def add(self, message: AmiMessage) -> bool:
        """Take one message with our ActionID; True once the reply is complete."""
        self.messages.append(message)
        if len(self.messages) == 1:
            # Only an explicit `EventList: start` opens a list: panoramisk's guesses from
            # the reply text hang on QueueAdd (P8) and crash on Atxfer (P9).
            self.is_list = str(message.get("EventList", "")).lower() == "start"
        if not self.is_list:
            self._finish(message)
            return True
        if len(self.messages) > 1 and (
            str(message.get("EventList", "")).lower() == "complete"
            or str(message.get("Event", "")).endswith("Complete")
        ):
            self._finish(list(self.messages))
            return True
        # A list that keeps coming is alive: the timeout runs between two of its messages.
        self._timer.cancel()
        self._timer = self._loop.call_later(self.timeout, self._expire)
        return False

    def fail(self, exc: BaseException) -> None:
        self._timer.cancel()
        if not self.future.done():
            self.future.set_exception(exc)

    def cancel(self) -> None:
        self._timer.cancel()

    def _finish(self, result: AmiMessage | list[AmiMessage]) -> None:
        self._timer.cancel()
        if not self.future.done():
            self.future.set_result(result)

    def _expire(self) -> None:
        self._forget(self.action_id)
        got = f" after {len(self.messages)} list messages" if self.messages else ""
        self.fail(
            AmiActionTimeout(
                f"AMI action {self.name} (ActionID {self.action_id}) got no reply"
                f"{got} within {self.timeout:g} s"
            )
        )


class AmiProtocol(asyncio.Protocol):
    """The `protocol_factory` of `AmiConnection`: bytes in, replies matched, events queued.

    Everything in `data_received` is bounded and raises nothing: framing, resolving reply
    futures, putting events on the connection's queue.
    """

    def __init__(self, connection: AmiConnection, session: int) -> None:
        self.connection = connection
        self.session = session
        self.framer = AmiFramer(max_message_bytes=connection.max_message_bytes)
        self.transport: asyncio.Transport | None = None
        self.pending: dict[str, _PendingAction] = {}
        loop = asyncio.get_running_loop()
        self.loop = loop
        self.closed: asyncio.Future[BaseException | None] = loop.create_future()
        self.fully_booted: asyncio.Future[AmiMessage] = loop.create_future()
        self.logged_in = False
        self.log = connection.log.bind(session=session)
        self._rejected_seen: dict[str, int] = {}

    @property
    def version(self) -> str | None:
        """The AMI protocol version from the banner (`11.0.0` on Asterisk 22)."""
        banner = self.framer.banner
        return banner.partition("/")[2].strip() if banner else None

    @property
    def is_open(self) -> bool:
        return (
            self.transport is not None
            and not self.transport.is_closing()
            and not self.closed.done()
        )

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's is not a subclass of asyncio.Transport).
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        received_at = utc_now()
        framer = self.framer
        for raw in framer.split(data):
            if self.pending or not raw.startswith(b"Event: ") or raw.startswith(_EAGER_EVENTS):
                # A reply (or a list action's event) resolves its waiter now, not behind a
                # backlog of events; so does the boot or shutdown news.
                message = framer.parse(raw)
                if message is not None:
                    self._route(message, received_at)
            else:
                self.connection.dispatch_raw(raw, received_at, self)
        self._count_framing_errors()

    def connection_lost(self, exc: Exception | None) -> None:
        self.framer.close()
        self._count_framing_errors()
        pending, self.pending = self.pending, {}
        for action in pending.values():
            got = f" after {len(action.messages)} list messages" if action.messages else ""
            action.fail(
                AmiDisconnected(
                    f"AMI connection lost while {action.name} (ActionID {action.action_id})"
                    f" waited for its reply{got}"
                )
            )
        if not self.closed.done():
            self.closed.set_result(exc)
        if not self.fully_booted.done():
            self.fully_booted.cancel()
        self.connection.connection_lost(exc)

    def send(self, action: Mapping[str, Any], timeout: float) -> _PendingAction:
        """Write one action and register it for its reply. Raises AmiNotConnected."""
        if not self.is_open or self.transport is None:
            raise AmiNotConnected("the AMI connection is closed")
        action_id = str(action["ActionID"])
        if action_id in self.pending:
            raise ValueError(f"ActionID {action_id!r} is already waiting for a reply")
        payload = encode_action(action)
        pending = _PendingAction(
            str(action["Action"]), action_id, timeout, self.loop, self._forget
        )
        self.pending[action_id] = pending
        self.transport.write(payload)
        return pending

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def _forget(self, action_id: str) -> None:
        self.pending.pop(action_id, None)

    def _route(self, message: AmiMessage, received_at: datetime) -> None:
        action_id = message.get("ActionID")
        pending = self.pending.get(action_id) if isinstance(action_id, str) else None
        if pending is not None:
            if pending.add(message):
                del self.pending[pending.action_id]
            return
        if "Event" in message:
            if message["Event"] == "FullyBooted" and not self.fully_booted.done():
                self.fully_booted.set_result(message)
            elif message["Event"] == "Shutdown":
                self.log.warning(
                    "ami asterisk shutting down",
                    shutdown=message.get("Shutdown"),
                    restart=message.get("Restart"),
                )
            self.connection.dispatch(message, received_at)
            return
        # A reply whose waiter timed out or was cancelled: nobody asks for it any more.
        self.log.info("ami unmatched reply", action_id=action_id, response=message.get("Response"))

    def parse_queued(self, raw: bytes) -> AmiMessage | None:
        """Parse an event body queued by `data_received` (malformed: counted, None)."""
        message = self.framer.parse(raw)
        if message is None:
            self._count_framing_errors()
        return message

    def _count_framing_errors(self) -> None:
        for reason, count in self.framer.stats.rejected.items():
            new = count - self._rejected_seen.get(reason, 0)
            if new:
                self.connection.metrics.malformed(reason).inc(new)
                self._rejected_seen[reason] = count
        for error in self.framer.drain_errors():
            self.log.warning("ami message skipped", error=error)


@dataclass(frozen=True)
class _Handler:
    pattern: str
    regexp: re.Pattern[str]
    callback: EventCallback
    name: str


@dataclass(frozen=True)
class _HookCall:
    """Queued after a resync so hooks see the snapshot after the older events, in order."""

    protocol: AmiProtocol
    result: ResyncResult


class AmiMetrics:
    """The AMI links' Prometheus metric families, made once per registry (never the global
    one): each family is labelled `pbx`, and each link counts in its own children
    (`link(name)`), so that several PBXs' links share one `/metrics`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.connected = Gauge(
            "hotline_ami_connected", "1 while the AMI connection is logged in", ["pbx"],
            registry=registry,
        )
        self.events = Counter(
            "hotline_ami_events", "AMI events received", ["pbx"], registry=registry
        )
        self.malformed = Counter(
            "hotline_ami_malformed",
            "AMI messages skipped, by reason: not_utf8, no_event, repeated_key, oversized, "
            "truncated (the connection ended inside a message)",
            ["pbx", "reason"],
            registry=registry,
        )
        self.reconnects = Counter(
            "hotline_ami_reconnects", "AMI reconnection attempts", ["pbx"], registry=registry
        )
        self.handler_errors = Counter(
            "hotline_ami_handler_errors",
            "AMI event handlers or hooks that raised or timed out",
            ["pbx"],
            registry=registry,
        )
        self.action_timeouts = Counter(
            "hotline_ami_action_timeouts", "AMI actions that got no reply in time", ["pbx"],
            registry=registry,
        )
        self.queue_depth = Gauge(
            "hotline_ami_event_queue_depth",
            "AMI events received and not yet delivered to handlers",
            ["pbx"],
            registry=registry,
        )

    def link(self, pbx: str) -> AmiLinkMetrics:
        """One PBX's link's metrics: the families' children labelled `pbx=<its name>`."""
        return AmiLinkMetrics(self, pbx)


class AmiLinkMetrics:
    """One AMI link's metrics (`AmiMetrics.link`): the children labelled with its PBX."""

    def __init__(self, families: AmiMetrics, pbx: str) -> None:
        self.registry = families.registry
        self.pbx = pbx
        self.connected = families.connected.labels(pbx=pbx)
        self.events = families.events.labels(pbx=pbx)
        self.reconnects = families.reconnects.labels(pbx=pbx)
        self.handler_errors = families.handler_errors.labels(pbx=pbx)
        self.action_timeouts = families.action_timeouts.labels(pbx=pbx)
        self.queue_depth = families.queue_depth.labels(pbx=pbx)
        self._malformed = families.malformed

    def malformed(self, reason: str) -> Counter:
        """The counter of this link's messages skipped for `reason`."""
        return self._malformed.labels(pbx=self.pbx, reason=reason)


class AmiConnection:
    """A supervised AMI connection with panoramisk's Manager API.

    Start it with `await start()`, stop it with `await stop()`. Subscribe with
    `on_event(callback, pattern)` (callback(message, received_at)) or panoramisk's
    `register_event(pattern, callback)` (callback(manager, message)); patterns are fnmatch
    patterns matched case-insensitively. `on_connected(hook)` is awaited with a
    `ResyncResult` after every login. `send_action()` returns the reply `AmiMessage`, or the
    list `[reply, *events, complete]` of a list action.
    """

    def __init__(
        self,
        settings: AmiSettings,
        *,
        metrics: AmiLinkMetrics | None = None,
        status_variables: Iterable[str] = DEFAULT_STATUS_VARIABLES,
        handler_timeout: float = 30.0,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        rng: random.Random | None = None,
    ) -> None:
        self._handlers: list[_Handler] = []
        # Event name -> its handlers, so that an event costs one lookup, not one regexp match
        # per handler (bounded: a hostile peer may invent names).
        self._handlers_by_event: dict[str, tuple[_Handler, ...]] = {}
        self.settings = settings
        # Its counts, labelled with its PBX; alone (a test, a tool): on a registry of its own.
        self.metrics = metrics or AmiMetrics(CollectorRegistry()).link(MAIN_PBX)
        self.status_variables = tuple(status_variables)
        self.handler_timeout = handler_timeout
        self.max_message_bytes = max_message_bytes
        # A fresh logger per connection reads the structlog configuration of today (tests
        # capture logs by reconfiguring it), not the one of the first import.
        self.log = structlog.get_logger(__name__).bind(ami=f"{settings.host}:{settings.port}")
        self.protocol: AmiProtocol | None = None
        self._rng = rng or random.Random()
        self._action_ids = itertools.count(1)
        self._action_prefix = f"hotline-{uuid.uuid4().hex[:8]}"
        self._connected_callbacks: list[ConnectedCallback] = []
        # Events in wire order: parsed ones, bodies still to parse with their protocol's
        # framer (see `AmiProtocol.data_received`), and resync hooks.
        self._queue: asyncio.Queue[
            tuple[AmiMessage, datetime] | tuple[bytes, datetime, AmiProtocol] | _HookCall
        ] = asyncio.Queue()
        self.metrics.queue_depth.set_function(self._queue.qsize)
        self._state: State = "disconnected"
        self._connected_event = asyncio.Event()
        self._state_since = utc_now()
        self._last_error: str | None = None
        self._sessions = 0
        self._boot = BootWatch()
        self._lost_at: float | None = None
        self._last_result: ResyncResult | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._consumer: asyncio.Task[None] | None = None
        self._stopping = False

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def state(self) -> State:
        """'disconnected', 'connecting' (TCP, login, snapshot) or 'connected' (logged in,
        snapshot read; the on_connected hooks run from then on)."""
        return self._state

    @property
    def last_resync(self) -> ResyncResult | None:
        return self._last_result

    async def start(self) -> None:
        """Start the supervisor and the event consumer; returns at once (connecting goes on
        in the background, use `wait_connected()` to wait for it)."""
        if self._supervisor is not None:
            raise RuntimeError("AmiConnection already started")
        self._spawn()

    def _spawn(self) -> asyncio.Task[None]:
        self._stopping = False
        self._consumer = asyncio.create_task(self._consume(), name="ami-events")
        self._supervisor = asyncio.create_task(self._supervise(), name="ami-supervisor")
        return self._supervisor

    async def wait_connected(self, timeout: float) -> None:
        """Wait until the state is 'connected'. Raises TimeoutError."""
        async with asyncio.timeout(timeout):
            await self._connected_event.wait()

    async def stop(self) -> None:
        """Log off if logged in, close the socket, cancel and await both tasks."""
        self._stopping = True
        protocol = self.protocol
        if protocol is not None and protocol.is_open and self._state == "connected":
            try:
                await self.send_action({"Action": "Logoff"}, timeout=min(1.0, self._timeout()))
            except (AmiError, ValueError):
                pass
        for task in (self._supervisor, self._consumer):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._supervisor = self._consumer = None
        self._set_state("disconnected", reason="stopped")

    def health(self) -> dict[str, Any]:
        """The `/healthz` probe: state and the facts an operator of the service needs."""
        result = self._last_result
        return {
            "state": self._state,
            "since": self._state_since.isoformat(),
            "host": self.settings.host,
            "port": self.settings.port,
            "session": self._sessions,
            "banner": self.protocol.framer.banner if self.protocol else None,
            # Bytes of a frame begun and not yet ended (a link cut mid-frame loses them).
            "partial_frame_bytes": self.protocol.framer.buffered if self.protocol else 0,
            "asterisk_uptime": result.uptime if result else None,
            "last_error": self._last_error,
        }

    # -- subscriptions ---------------------------------------------------------------------

    def on_event(self, callback: EventCallback, pattern: str = "*") -> EventCallback:
        """Deliver events whose name matches `pattern` (fnmatch, any case) to
        callback(message, received_at); a coroutine callback is awaited, in wire order."""
        regexp = re.compile(fnmatch.translate(pattern), re.IGNORECASE)
        name = getattr(callback, "__qualname__", repr(callback))
        self._handlers.append(_Handler(pattern, regexp, callback, name))
        self._handlers_by_event.clear()
        return callback

    def register_event(self, pattern: str, callback: Any = None) -> Any:
        """panoramisk's API: callback(manager, event); usable as a decorator."""

        def _register(cb: Callable[[Any, AmiMessage], Any]) -> Callable[[Any, AmiMessage], Any]:
            def adapter(message: AmiMessage, received_at: datetime) -> Any:  # noqa: ARG001
                return cb(self, message)

            adapter.__qualname__ = getattr(cb, "__qualname__", repr(cb))
            self.on_event(adapter, pattern)
            return cb

        return _register(callback) if callback is not None else _register

    def on_connected(self, callback: ConnectedCallback) -> ConnectedCallback:
        """Await callback(result) after every login and resync, before later events."""
        self._connected_callbacks.append(callback)
        return callback

    # -- actions ---------------------------------------------------------------------------

    async def send_action(
        self,
        action: Mapping[str, Any],
        timeout: float | None = None,
        as_list: bool | None = None,
        **kwargs: Any,
    ) -> AmiMessage | list[AmiMessage]:
        """Send one action and return its reply.

        A list action (`EventList: start`) returns `[reply, *events, complete]`; with
        `as_list=True` a single reply comes as a one-element list too. A `Response: Error`
        is returned, not raised (check `.success`). Raises AmiNotConnected (nothing sent),
        AmiActionTimeout or AmiDisconnected (sent; it may have run: never re-send blindly).
        """
        protocol = self.protocol
        if protocol is None or not protocol.is_open or not protocol.logged_in:
            raise AmiNotConnected("AMI is not connected")
        return await self._send(protocol, action, timeout, as_list=as_list, **kwargs)

    def send_command(self, command: str, as_list: bool = False) -> Any:
        """panoramisk's API: run a CLI command (awaitable)."""
        return self.send_action({"Action": "Command", "Command": command}, as_list=as_list)

    def send_agi_command(self, channel: str, command: str, as_list: bool = False) -> Any:
        """panoramisk's API: an AGI command on a channel in AsyncAGI (awaitable)."""
        return self.send_action(
            {"Action": "AGI", "Channel": channel, "Command": command}, as_list=as_list
        )

    async def _send(
        self,
        protocol: AmiProtocol,
        action: Mapping[str, Any],
        timeout: float | None,
        as_list: bool | None = None,
        **kwargs: Any,
    ) -> AmiMessage | list[AmiMessage]:
        fields = self._prepare(action, kwargs)
        pending = protocol.send(fields, timeout if timeout is not None else self._timeout())
        try:
            result = await pending.future
        except AmiActionTimeout:
            self.metrics.action_timeouts.inc()
            self.log.warning("ami action timed out", action=pending.name, action_id=pending.action_id)
            raise
        finally:
            if not pending.future.done():
                # Our caller was cancelled: stop waiting, a late reply is logged and dropped.
                pending.cancel()
                protocol.pending.pop(pending.action_id, None)
        if as_list and not isinstance(result, list):
            return [result]
        return result

    def _prepare(self, action: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for key, value in itertools.chain(action.items(), extra.items()):
            fields[key] = value
        lowered = {key.lower(): key for key in fields}
        if "action" not in lowered:
            raise ValueError("an AMI action needs an 'Action' key")
        if "actionid" in lowered:
            fields["ActionID"] = fields.pop(lowered["actionid"])
        else:
            fields["ActionID"] = f"{self._action_prefix}-{next(self._action_ids)}"
        name = str(fields[lowered["action"]]).lower()
        if name == "originate" and "async" not in lowered:
            # A synchronous Originate blocks this AMI session until the phone is answered
            # (pings go unanswered, the watchdog would reconnect); the reply would also
            # crash panoramisk (P9).
            fields["Async"] = "true"
        return fields

    def _timeout(self) -> float:
        return self.settings.action_timeout

    # -- events ----------------------------------------------------------------------------

    def dispatch(self, event: AmiMessage, received_at: datetime | None = None) -> list[str]:
        """Queue one event for the handlers (never runs them here); returns matched patterns."""
        self.metrics.events.inc()
        self._queue.put_nowait((event, received_at or utc_now()))
        name = str(event.get("Event", ""))
        return [h.pattern for h in self._handlers if h.regexp.match(name)]

    def dispatch_raw(self, raw: bytes, received_at: datetime, protocol: AmiProtocol) -> None:
        """Queue one event body, parsed by the consumer when its turn comes."""
        self._queue.put_nowait((raw, received_at, protocol))

    async def _consume(self) -> None:
        # `Queue.get()` does not suspend while items are queued, so a backlog of thousands
        # of events would be delivered in one go, and the journal writer and the screen-pops
        # (each database round trip resumes on a later turn of the loop) would wait for all of
        # it. Give the loop a turn every `CONSUMER_SLICE` seconds of delivering instead.
        queue = self._queue
        while True:
            item = await queue.get()
            slice_end = time.monotonic() + CONSUMER_SLICE
            events = 0
            while True:
                try:
                    if isinstance(item, _HookCall):
                        await self._run_hooks(item)
                    elif len(item) == 2:
                        await self._deliver(*item)
                    else:
                        raw, received_at, protocol = item
                        message = protocol.parse_queued(raw)
                        if message is not None:
                            events += 1
                            await self._deliver(message, received_at)
                except Exception:  # noqa: BLE001 - the consumer must outlive any bug
                    self.log.exception("ami event delivery failed")
                if queue.empty():
                    break
                if time.monotonic() > slice_end:
                    await asyncio.sleep(0)
                    slice_end = time.monotonic() + CONSUMER_SLICE
                item = queue.get_nowait()
            if events:
                self.metrics.events.inc(events)

    async def _deliver(self, message: AmiMessage, received_at: datetime) -> None:
        name = str(message.get("Event", ""))
        handlers = self._handlers_by_event.get(name)
        if handlers is None:
            handlers = tuple(h for h in self._handlers if h.regexp.match(name))
            if len(self._handlers_by_event) < MAX_CACHED_EVENT_NAMES:
                self._handlers_by_event[name] = handlers
        for handler in handlers:
            try:
                outcome = handler.callback(message, received_at)
                if outcome is not None and inspect.isawaitable(outcome):
                    async with asyncio.timeout(self.handler_timeout):
                        await outcome
            except Exception as exc:  # noqa: BLE001 - a handler's bug is logged, not fatal
                self.metrics.handler_errors.inc()
                self.log.error(
                    "ami event handler failed",
                    handler=handler.name,
                    timed_out=type(exc) is TimeoutError,  # ours, not an action's
                    exc_info=True,
                    **call_context(message),
                )

    async def _run_hooks(self, call: _HookCall) -> None:
        if not call.protocol.is_open:
            # A newer session will bring its own snapshot; this one is stale.
            self.log.info("ami resync hooks skipped: session already lost")
            return
        hooks: list[Callable[[Any], Any]] = [*self._connected_callbacks]
        for hook in hooks:
            try:
                outcome = hook(call.result)
                if isinstance(outcome, Awaitable):
                    async with asyncio.timeout(self.handler_timeout):
                        await outcome
            except Exception as exc:  # noqa: BLE001 - logged, the connection goes on
                self.metrics.handler_errors.inc()
                self.log.error(
                    "ami on_connected hook failed",
                    hook=getattr(hook, "__qualname__", repr(hook)),
                    timed_out=type(exc) is TimeoutError,  # ours, not an action's
                    exc_info=True,
                )

    # -- supervision -----------------------------------------------------------------------

    def connection_lost(self, exc: Exception | None) -> None:
        """Called by the protocol when its socket is gone (the supervisor reconnects)."""
        self._lost_at = time.monotonic()
        self.metrics.connected.set(0)

    async def _supervise(self) -> None:
        attempt = 0
        while not self._stopping:
            if self._sessions:
                self.metrics.reconnects.inc()
            self._set_state("connecting")
            self.protocol = None
            try:
                protocol = await self._open()
                result = await self._resync(protocol)
            except asyncio.CancelledError:
                if self.protocol is not None:
                    await self._close(self.protocol)
                raise
            except Exception as exc:  # noqa: BLE001 - any failure means: try again later
                self._last_error = _describe(exc)
                if self.protocol is not None:
                    await self._close(self.protocol)
                self._set_state("disconnected", reason=self._last_error)
                delay = self._backoff(attempt)
                attempt += 1
                self.log.warning("ami connect failed", error=self._last_error, retry_in=round(delay, 3))
                await asyncio.sleep(delay)
                continue
            up_since = time.monotonic()
            try:
                self._schedule_hooks(protocol, result)
                reason = await self._watch(protocol)
            except Exception as exc:  # noqa: BLE001 - a bug here must not end supervision
                self.log.exception("ami session supervision failed")
                reason = _describe(exc)
            finally:
                await self._close(protocol)
            if self._stopping:
                break
            self._last_error = reason
            self._set_state("disconnected", reason=reason)
            if time.monotonic() - up_since >= self.settings.reconnect_max_delay:
                attempt = 0  # it was a stable session, not a flapping one
            delay = self._backoff(attempt)
            attempt += 1
            self.log.warning("ami reconnecting", retry_in=round(delay, 3))
            await asyncio.sleep(delay)

    async def _open(self) -> AmiProtocol:
        loop = asyncio.get_running_loop()
        self._sessions += 1
        session = self._sessions
        async with asyncio.timeout(self._timeout()):
            _, protocol = await loop.create_connection(
                lambda: AmiProtocol(self, session), self.settings.host, self.settings.port
            )
        self.protocol = protocol
        reply = await self._send(
            protocol,
            {
                "Action": "Login",
                "Username": self.settings.user,
                "Secret": self.settings.secret,
                "Events": "on",
            },
            None,
        )
        assert isinstance(reply, AmiMessage)
        if not reply.success:
            raise AmiLoginFailed(f"login refused: {reply.get('Message', reply.get('Response'))}")
        protocol.logged_in = True
        self.log.info("ami logged in", session=session, banner=protocol.framer.banner)
        return protocol

    async def _resync(self, protocol: AmiProtocol) -> ResyncResult:
        """Read the snapshot; a timeout or a lost connection fails the session."""
        errors: list[str] = []
        uptime, last_reload, marker = await self._boot_facts(protocol, errors)
        outage = time.monotonic() - self._lost_at if self._lost_at is not None else None
        first = self._boot.sessions == 0
        restarted = self._boot.observe(
            now=time.time(), uptime=uptime, startup_marker=marker, outage=outage
        )
        channels = await self._collect(protocol, {"Action": "CoreShowChannels"}, errors)
        queues = await self._collect(protocol, {"Action": "QueueStatus"}, errors)
        status_action: dict[str, Any] = {"Action": "Status"}
        if self.status_variables:
            status_action["Variables"] = ",".join(self.status_variables)
        statuses = await self._collect(protocol, status_action, errors)
        result = ResyncResult(
            session=protocol.session,
            connected_at=utc_now(),
            first=first,
            restarted=restarted,
            uptime=uptime,
            last_reload=last_reload,
            outage=outage,
            channels=_only(channels, "CoreShowChannel"),
            queue_params=_only(queues, "QueueParams"),
            queue_members=_only(queues, "QueueMember"),
            queue_entries=_only(queues, "QueueEntry"),
            statuses=_only(statuses, "Status"),
            errors=tuple(errors),
        )
        self._last_result = result
        self.log.info(
            "ami resynchronised",
            session=result.session,
            uptime=uptime,
            restarted=restarted,
            outage=round(outage, 3) if outage is not None else None,
            channels=len(result.channels),
            queue_callers=len(result.queue_entries),
            queue_members=len(result.queue_members),
            errors=list(errors) or None,
        )
        if restarted:
            self.log.warning("ami asterisk restarted while we were away", uptime=uptime)
        return result

    async def _boot_facts(
        self, protocol: AmiProtocol, errors: list[str]
    ) -> tuple[float | None, float | None, str | None]:
        """Uptime from FullyBooted, else the startup date from CoreStatus."""
        done, _ = await asyncio.wait(
            {protocol.fully_booted}, timeout=min(FULLY_BOOTED_WAIT, self._timeout())
        )
        if done and not protocol.fully_booted.cancelled():
            booted = protocol.fully_booted.result()
            return _seconds(booted.get("Uptime")), _seconds(booted.get("LastReload")), None
        reply = await self._send(protocol, {"Action": "CoreStatus"}, None)
        assert isinstance(reply, AmiMessage)
        if not reply.success:
            errors.append(f"CoreStatus: {reply.get('Message', '')}")
            return None, None, None
        marker = f"{reply.get('CoreStartupDate', '')} {reply.get('CoreStartupTime', '')}"
        return None, None, marker

    async def _collect(
        self, protocol: AmiProtocol, action: dict[str, Any], errors: list[str]
    ) -> list[AmiMessage]:
        reply = await self._send(protocol, action, None)
        if isinstance(reply, list):
            return reply[1:]
        if not reply.success:
            text = f"{action['Action']}: {reply.get('Message', reply.get('Response'))}"
            errors.append(text)
            self.log.error("ami resync action refused", error=text)
        return []

    def _schedule_hooks(self, protocol: AmiProtocol, result: ResyncResult) -> None:
        """Connected: logged in with a fresh snapshot. The hooks (which may send actions,
        e.g. write the modes) run in the consumer, after the events read before them."""
        self._last_error = None
        self._set_state("connected", session=protocol.session)
        self.metrics.connected.set(1)
        self._queue.put_nowait(_HookCall(protocol, result))

    async def _watch(self, protocol: AmiProtocol) -> str:
        """Ping every `ping_interval`; return why the session ended."""
        interval = self.settings.ping_interval
        while True:
            done, _ = await asyncio.wait({protocol.closed}, timeout=interval)
            if done:
                exc = protocol.closed.result()
                return f"connection lost: {exc}" if exc else "connection closed by the PBX"
            try:
                reply = await self._send(protocol, {"Action": "Ping"}, None)
            except AmiActionTimeout:
                self.log.warning("ami ping unanswered: connection declared dead")
                protocol.abort()
                return "ping unanswered"
            except (AmiDisconnected, AmiNotConnected):
                # The socket is closing; `closed` is set now or on the next loop turn.
                await asyncio.wait({protocol.closed}, timeout=_CLOSE_WAIT)
                return "connection lost during ping"
            if not isinstance(reply, AmiMessage) or reply.get("Response") != "Success":
                self.log.warning("ami ping answered wrongly", reply=repr(reply)[:200])
                protocol.abort()
                return "bad ping reply"

    async def _close(self, protocol: AmiProtocol) -> None:
        """Close the socket and wait until it is really closed (no ResourceWarning)."""
        protocol.close()
        done, _ = await asyncio.wait({protocol.closed}, timeout=_CLOSE_WAIT)
        if not done:
            protocol.abort()
            await asyncio.wait({protocol.closed}, timeout=_CLOSE_WAIT)

    def _backoff(self, attempt: int) -> float:
        return backoff_delay(
            attempt, self.settings.reconnect_min_delay, self.settings.reconnect_max_delay, self._rng
        )

    def _set_state(self, state: State, **context: Any) -> None:
        if state != "connected":
            self.metrics.connected.set(0)
        if state == self._state:
            return
        previous, self._state = self._state, state
        if state == "connected":
            self._connected_event.set()
        else:
            self._connected_event.clear()
        self._state_since = utc_now()
        self.log.info("ami state changed", state=state, previous=previous, **context)


def _only(messages: list[AmiMessage], event: str) -> tuple[AmiMessage, ...]:
    return tuple(m for m in messages if m.get("Event") == event)


def _seconds(value: object) -> float | None:
    """A header's number of seconds (`Uptime: 294`); None when absent, repeated or not one."""
    if not isinstance(value, str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
