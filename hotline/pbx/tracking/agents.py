"""Operators' queue states from the PBX's own reports: pure, like the call tracker.

The operators' phones are static members of their queues (config/asterisk/queues.conf), so
what this service last did through the agent API is not the whole story: an operator may pause
with the phone's own keys, a phone may lose its registration, and after a restart of the
service nothing is known at all. Asterisk reports every one of these (read class `agent`):

- `QueueMemberStatus`: the member's phone changed its device state (ringing, in use, free,
  unavailable), or its counters changed (a call completed: `CallsTaken`, `LastCall`);
- `QueueMemberAdded` / `QueueMemberRemoved`: QueueAdd / QueueRemove (dynamic members);
- `QueueMemberPause`: QueuePause, from the service or from the phone (`Paused`,
  `PausedReason`); `QueueMemberPenalty`, `QueueMemberRinginuse`: settings changed;
- the `QueueMember` entries of the `QueueStatus` answer, read on every login (`Name` and
  `Location` there stand for `MemberName` and `Interface`).

Every one of them carries the member's whole picture in one queue, so a message *sets* that
membership (idempotent, order of replays harmless) and only `QueueMemberRemoved` deletes it.
`AgentRoster` keeps the memberships by (queue, interface) and folds them per interface (one
operator's phone, possibly in several queues) into an immutable `AgentSnapshot`; whenever the
snapshot of an interface changes it returns an `AgentChanged` domain event. No I/O, no clock:
`at` is always given by the caller, PBX times (`LastPause`, ...) are epoch seconds converted.

Device states (`Status`), as app_queue numbers them (enum ast_device_state):
0 unknown, 1 not in use, 2 in use, 3 busy, 4 invalid, 5 unavailable, 6 ringing,
7 ringing while in use, 8 on hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hotline.pbx.events import AgentChanged, AgentSnapshot, AgentStateName, DeviceName

MEMBER_EVENTS = frozenset({
    "QueueMemberStatus", "QueueMemberAdded", "QueueMemberRemoved", "QueueMemberPause",
    "QueueMemberPenalty", "QueueMemberRinginuse", "QueueMember",
})
"""AMI messages about queue members (events, and the QueueStatus list entries)."""

DEVICE_STATES: dict[int, DeviceName] = {
    0: "unknown", 1: "free", 2: "in_use", 3: "busy", 4: "invalid", 5: "unavailable",
    6: "ringing", 7: "ringing_in_use", 8: "on_hold",
}
UNREACHABLE: frozenset[DeviceName] = frozenset({"invalid", "unavailable"})


@dataclass(frozen=True, slots=True)
class Membership:
    """One interface's membership of one queue, as the last member message described it."""

    queue: str
    interface: str
    member_name: str
    membership: str
    paused: bool
    paused_reason: str
    device_status: int
    in_call: bool
    calls_taken: int
    last_call: datetime | None
    last_pause: datetime | None
    login_time: datetime | None

    @property
    def device(self) -> DeviceName:
        return DEVICE_STATES.get(self.device_status, "unknown")


def is_member_message(message: Mapping[str, Any]) -> bool:
    """True for the AMI messages `AgentRoster.feed` understands."""
    return message.get("Event") in MEMBER_EVENTS


def parse_member(message: Mapping[str, Any]) -> Membership | None:
    """A member event or QueueStatus entry as a `Membership`; None without queue/interface."""
    queue = _text(message, "Queue")
    interface = _text(message, "Interface") or _text(message, "Location")
    if not queue or not interface:
        return None
    return Membership(
        queue=queue,
        interface=interface,
        member_name=_text(message, "MemberName") or _text(message, "Name") or interface,
        membership=_text(message, "Membership") or "static",
        paused=_text(message, "Paused") == "1",
        paused_reason=_text(message, "PausedReason"),
        device_status=_int(message, "Status"),
        in_call=_text(message, "InCall") == "1",
        calls_taken=_int(message, "CallsTaken"),
        last_call=_epoch(message, "LastCall"),
        last_pause=_epoch(message, "LastPause"),
        login_time=_epoch(message, "LoginTime"),
    )


# A static member (queues.conf) cannot leave its queue: «Выйти из очереди» pauses it with this
# reason instead, and the demo starts every phone so until its operator joins. The operator is
# out of the queue all the same, and is shown so («Встать в очередь», not «Перерыв»).
OUT_OF_QUEUE_REASON = "вне очереди"


def _out_of_queue(reason: str) -> bool:
    return reason.strip().lower() == OUT_OF_QUEUE_REASON


def fold(interface: str, memberships: Iterable[Membership], previous: AgentSnapshot | None,
         at: datetime, latest: Membership | None = None) -> AgentSnapshot:
    """One interface's memberships as the operator's state.

    `out`: in no queue, or paused «вне очереди» in every one; `unavailable`: the phone is unreachable (not registered, invalid);
    `paused`: paused in every queue it is in; `ready` otherwise. Calls taken are summed over
    the queues. The phone's device state is the one of `latest` (the last member message
    about it), since one device change is reported queue by queue. `since` is when the state (or the pause reason) last changed, `device_since`
    when the phone's device state did; a first sighting of a pause takes the PBX's LastPause.
    """
    members = sorted(memberships, key=lambda m: m.queue)
    if not members:
        state: AgentStateName = "out"
        device: DeviceName = previous.device if previous else "unknown"
    else:
        device = (latest if latest in members else members[0]).device
        if device in UNREACHABLE:
            state = "unavailable"
        elif all(m.paused and _out_of_queue(m.paused_reason) for m in members):
            state = "out"
        elif all(m.paused for m in members):
            state = "paused"
        else:
            state = "ready"
    reason = members[0].paused_reason if members and state == "paused" else ""
    if previous is None:
        pause_time = members[0].last_pause if members and state == "paused" else None
        since = pause_time or at
        device_since = at
    else:
        changed = (state, reason) != (previous.state, previous.paused_reason)
        since = at if changed else previous.since
        device_since = at if device != previous.device else previous.device_since
    return AgentSnapshot(
        interface=interface,
        member_name=members[0].member_name if members else (previous.member_name if previous else None),
        queues=tuple(m.queue for m in members),
        state=state,
        paused_reason=reason,
        device=device,
        in_call=any(m.in_call for m in members),
        calls_taken=sum(m.calls_taken for m in members),
        last_call=max((m.last_call for m in members if m.last_call), default=None),
        since=since,
        device_since=device_since,
    )


class AgentRoster:
    """Queue memberships in, operators' snapshots and `AgentChanged` events out (pure)."""

    def __init__(self) -> None:
        self._members: dict[str, dict[str, Membership]] = {}  # interface -> queue -> membership
        self._agents: dict[str, AgentSnapshot] = {}
        self._latest: dict[str, Membership] = {}

    # ------------------------------------------------------------ input

    def feed(self, message: Mapping[str, Any], at: datetime) -> list[AgentChanged]:
        """One AMI message; anything that is not about a queue member is ignored."""
        if not is_member_message(message):
            return []
        member = parse_member(message)
        if member is None:
            return []
        key = _key(member.interface)
        queues = self._members.setdefault(key, {})
        if message.get("Event") == "QueueMemberRemoved":
            queues.pop(member.queue, None)
        else:
            queues[member.queue] = member
            self._latest[key] = member
        return self._refresh({key: member.interface}, at)

    def resync(self, entries: Iterable[Mapping[str, Any]], at: datetime) -> list[AgentChanged]:
        """The `QueueMember` entries of a complete QueueStatus answer: the whole picture.

        Memberships missing from it are gone (removed while we were away, or Asterisk
        restarted without them); their interfaces become `out`.
        """
        fresh: dict[str, dict[str, Membership]] = {}
        touched = {key: agent.interface for key, agent in self._agents.items()}
        for entry in entries:
            member = parse_member(entry)
            if member is not None:
                fresh.setdefault(_key(member.interface), {})[member.queue] = member
                touched[_key(member.interface)] = member.interface
        self._members = fresh
        self._latest = {}
        return self._refresh(touched, at)

    # ------------------------------------------------------------ output

    def snapshot(self, interface: str) -> AgentSnapshot | None:
        return self._agents.get(_key(interface))

    def snapshots(self) -> list[AgentSnapshot]:
        return sorted(self._agents.values(), key=lambda a: a.interface)

    # ------------------------------------------------------------ inside

    def _refresh(self, interfaces: Mapping[str, str], at: datetime) -> list[AgentChanged]:
        out: list[AgentChanged] = []
        for key, interface in sorted(interfaces.items()):
            previous = self._agents.get(key)
            members = list(self._members.get(key, {}).values())
            if not members and previous is None:
                continue
            name = previous.interface if previous else interface
            snapshot = fold(name, members, previous, at, self._latest.get(key))
            if snapshot == previous:
                continue
            self._agents[key] = snapshot
            out.append(AgentChanged(at=at, agent=snapshot, previous=previous))
        return out


def _key(interface: str) -> str:
    """Asterisk compares interfaces without regard to case."""
    return interface.lower()


def _text(message: Mapping[str, Any], key: str) -> str:
    value = message.get(key)
    if isinstance(value, list):  # a repeated header: the last one wins, as in Asterisk
        value = value[-1] if value else ""
    return str(value).strip() if value is not None else ""


def _int(message: Mapping[str, Any], key: str) -> int:
    try:
        return int(_text(message, key) or 0)
    except ValueError:
        return 0


def _epoch(message: Mapping[str, Any], key: str) -> datetime | None:
    seconds = _int(message, key)
    return datetime.fromtimestamp(seconds, UTC) if seconds > 0 else None
