"""The in-memory PBX: channels, bridges, queues with members, AstDB, identifier counters.

Only state lives here; `pbx.Pbx` changes it and emits the AMI events that go with each change.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

STATE_DESC = {0: "Down", 4: "Ring", 5: "Ringing", 6: "Up"}
DOWN, RING, RINGING, UP = 0, 4, 5, 6

# Queue member device states as AMI numbers them (QueueMemberStatus `Status`).
DEVICE_NOT_INUSE, DEVICE_INUSE, DEVICE_UNAVAILABLE, DEVICE_RINGING = 1, 2, 5, 6


class SimClock:
    """Simulated wall clock: runs `1/scale` times faster than real time.

    `scale=1.0` plays scenarios in real time (demo, operator training); `scale=0.001` turns a
    10-second call into 10 ms (tests, load). Uniqueids, hold and talk times use this clock.
    """

    def __init__(self, scale: float = 1.0, epoch: float | None = None) -> None:
        if scale < 0:
            raise ValueError("scale must be >= 0")
        self.scale = scale
        self._epoch = time.time() if epoch is None else epoch
        self._t0 = time.monotonic()

    def now(self) -> float:
        elapsed = time.monotonic() - self._t0
        return self._epoch + (elapsed / self.scale if self.scale > 0 else elapsed)

    def real(self, seconds: float) -> float:
        """How long to really wait for `seconds` of simulated time."""
        return max(0.0, seconds * self.scale)


@dataclass(eq=False)
class Channel:
    """One Asterisk channel as its snapshot shows it."""

    name: str
    uniqueid: str
    linkedid: str
    endpoint: str
    state: int
    context: str
    exten: str
    priority: int = 1
    caller_num: str = ""
    caller_name: str = ""
    connected_num: str = ""
    connected_name: str = ""
    language: str = "ru"
    accountcode: str = ""
    application: str = ""
    app_data: str = ""
    dnid: str = ""
    created: float = 0.0
    variables: dict[str, str] = field(default_factory=dict)
    # Names set with `_`/`__`, newest first, as Asterisk copies them to the channels it dials.
    inheritable: list[tuple[str, str]] = field(default_factory=list)
    bridge: Bridge | None = None
    hungup: bool = False
    # Pushed hangup handlers not yet run (CHANNEL(hangup_handler_push)), newest first.
    hangup_handlers: list[str] = field(default_factory=list)

    @property
    def state_desc(self) -> str:
        return STATE_DESC.get(self.state, "Unknown")


@dataclass(eq=False)
class Bridge:
    """A basic two-party bridge."""

    uniqueid: str = field(default_factory=lambda: str(uuid.uuid4()))
    channels: list[Channel] = field(default_factory=list)


@dataclass(eq=False)
class Member:
    """A queue member: an operator's phone in a queue."""

    interface: str
    name: str
    membership: str = "static"
    penalty: int = 0
    paused: bool = False
    paused_reason: str = ""
    calls_taken: int = 0
    last_call: int = 0
    last_pause: int = 0
    login_time: int = 0
    in_call: bool = False
    ringing: bool = False
    ringinuse: bool = False
    wrapuptime: int = 0
    # The phone lost its registration (PJSIP contact gone): app_queue skips it.
    unreachable: bool = False

    @property
    def device_status(self) -> int:
        if self.unreachable:
            return DEVICE_UNAVAILABLE
        if self.ringing:
            return DEVICE_RINGING
        return DEVICE_INUSE if self.in_call else DEVICE_NOT_INUSE

    @property
    def available(self) -> bool:
        return not (self.paused or self.in_call or self.ringing or self.unreachable)


@dataclass(eq=False)
class Queue:
    """An app_queue queue with its members, waiting callers and statistics."""

    name: str
    members: list[Member] = field(default_factory=list)
    strategy: str = "rrmemory"
    callers: list[Channel] = field(default_factory=list)
    completed: int = 0
    abandoned: int = 0
    holdtime: int = 0
    talktime: int = 0
    _next: int = 0

    def member(self, interface: str) -> Member | None:
        for member in self.members:
            if member.interface.lower() == interface.lower():
                return member
        return None

    def pick(self, preferred: str | None = None) -> Member | None:
        """rrmemory: the next available member after the one rung last.

        `preferred` (an interface) wins when it is a member of this queue.
        """
        if preferred and (member := self.member(preferred)) is not None:
            # The caller asked for this phone (tests, demo): wait for it rather than another.
            return member if member.available else None
        count = len(self.members)
        for step in range(count):
            member = self.members[(self._next + step) % count]
            if member.available:
                self._next = (self._next + step + 1) % count
                return member
        return None


@dataclass
class Counters:
    """Asterisk's identifier counters: one for Uniqueids, one per channel technology."""

    unique: int = 0
    per_tech: dict[str, int] = field(default_factory=dict)

    def next_unique(self) -> int:
        value = self.unique
        self.unique += 1
        return value

    def next_tech(self, tech: str) -> int:
        value = self.per_tech.get(tech, 0)
        self.per_tech[tech] = value + 1
        return value


@dataclass
class PbxState:
    """Everything one simulated Asterisk knows."""

    channels: dict[str, Channel] = field(default_factory=dict)
    queues: dict[str, Queue] = field(default_factory=dict)
    astdb: dict[str, str] = field(default_factory=dict)
    globals: dict[str, str] = field(default_factory=dict)
    counters: Counters = field(default_factory=Counters)
    started: float = 0.0
    reloaded: float = 0.0

    def find_channel(self, name_or_id: str) -> Channel | None:
        """By channel name (case-insensitive) or by Uniqueid, as AMI actions accept both."""
        channel = self.channels.get(name_or_id)
        if channel is not None:
            return channel
        lowered = name_or_id.lower()
        for candidate in self.channels.values():
            if candidate.name.lower() == lowered:
                return candidate
        return None

    def add_channel(self, channel: Channel) -> None:
        self.channels[channel.uniqueid] = channel

    def remove_channel(self, channel: Channel) -> None:
        self.channels.pop(channel.uniqueid, None)
