"""The contact center's live figures (показатели): pure, events in, figures out.

Kept incrementally from the PBX's domain events (calls) and `AgentChanged` (operators), for
each line, each organization and the whole center, over today (from local midnight of the
region's time zone) and the last 15 and 60 minutes (exact sliding windows: each finished wait
is a record that leaves the window when it is older than the window). No clock is read and no
I/O is done here: every call takes the moment it is about (`at`, `now`), so the same events
always give the same figures, and tests replay them in microseconds.

What is counted (inbound calls of citizens only; callbacks and consultations are not offered
calls):

- `arrived`: calls that reached a line;
- a call's first wait in a queue ends once: `answered` (within the line's
  `service_level_seconds` or not), `abandoned` (the citizen hung up waiting) or `lost` (left
  the queue otherwise: to the electronic secretary after the queue's time limit, the PBX lost
  it); `offered` is their sum;
- service level = answered within the threshold / offered (percent); average speed of answer
  (ASA) = mean wait of the answered; abandon rate = abandoned / offered;
- `secretary`: messages left to the electronic secretary;
- waiting now and the longest wait now (every call in a queue now, a level-2 queue included);
- operators now by state: ready (free), talking, paused (by reason), unavailable (phone
  unreachable), out (in no queue), from the PBX's own reports of the queue members;
- each operator's calls and talk time today (segments from their answer to their transfer
  away or the call's end; a segment still open counts up to `now`);
- callbacks due today and overdue, set from the journal by the caller (`set_callbacks`).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from hotline.pbx.events import (
    AgentChanged, AgentSnapshot, CallAbandoned, CallArrived, CallbackAnswered, CallEnded,
    CallQueued, CallTransferred, DomainEvent, OperatorAnswered, SecretaryMessage,
)

WINDOWS: tuple[tuple[str, timedelta], ...] = (
    ("m15", timedelta(minutes=15)), ("m60", timedelta(minutes=60)))
RecordKind = Literal["arrived", "answered", "abandoned", "lost", "secretary"]
# The phone is busy with a call whatever its queue state says.
BUSY_DEVICES = frozenset({"in_use", "busy", "on_hold", "ringing_in_use"})
OPERATOR_STATES = ("ready", "talking", "paused", "unavailable", "out")
CENTER = ("center", "")


@dataclass(frozen=True, slots=True)
class LineInfo:
    """What the figures need of a line: its organization and service-level threshold."""

    number: str
    organization: str
    service_level_seconds: int = 20


@dataclass(frozen=True, slots=True)
class Record:
    """One counted fact: a call arrived, a first wait ended (how, after how long), a message."""

    at: datetime
    kind: RecordKind
    wait: float = 0.0
    within: bool = False


@dataclass(slots=True)
class Totals:
    """Sums over a period; the rates are derived when read."""

    arrived: int = 0
    answered: int = 0
    answered_within: int = 0
    abandoned: int = 0
    lost: int = 0
    secretary: int = 0
    wait_sum: float = 0.0

    def add(self, record: Record, sign: int = 1) -> None:
        kind = record.kind
        if kind == "arrived":
            self.arrived += sign
        elif kind == "answered":
            self.answered += sign
            self.answered_within += sign * record.within
            self.wait_sum += sign * record.wait
        elif kind == "abandoned":
            self.abandoned += sign
        elif kind == "lost":
            self.lost += sign
        else:
            self.secretary += sign

    @property
    def offered(self) -> int:
        return self.answered + self.abandoned + self.lost

    def as_json(self) -> dict[str, Any]:
        offered = self.offered
        return {
            "arrived": self.arrived, "offered": offered, "answered": self.answered,
            "answered_within": self.answered_within, "abandoned": self.abandoned,
            "lost": self.lost, "secretary": self.secretary,
            "service_level": _percent(self.answered_within, offered),
            "abandon_rate": _percent(self.abandoned, offered),
            "asa": round(self.wait_sum / self.answered, 1) if self.answered else None,
        }


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


@dataclass(slots=True)
class Window:
    """The records of the last `span`, with their running totals."""

    span: timedelta
    records: deque[Record] = field(default_factory=deque)
    totals: Totals = field(default_factory=Totals)

    def add(self, record: Record) -> None:
        self.records.append(record)
        self.totals.add(record)

    def expire(self, now: datetime) -> None:
        edge = now - self.span
        records, totals = self.records, self.totals
        while records and records[0].at <= edge:
            totals.add(records.popleft(), -1)


@dataclass(slots=True)
class Scope:
    """The figures of one line, one organization or the whole center."""

    kind: str
    code: str
    today: Totals = field(default_factory=Totals)
    windows: dict[str, Window] = field(
        default_factory=lambda: {name: Window(span) for name, span in WINDOWS})
    # Calls in a queue now -> since when; insertion order is arrival order, so the first
    # one is the longest waiting (no scan).
    waiting: dict[str, datetime] = field(default_factory=dict)

    def add(self, record: Record, today: bool) -> None:
        if today:
            self.today.add(record)
        for window in self.windows.values():
            window.add(record)

    def longest_wait(self, now: datetime) -> float:
        for since in self.waiting.values():
            return max(0.0, (now - since).total_seconds())
        return 0.0


@dataclass(slots=True)
class CallFacts:
    """What the figures remember of a call in progress."""

    line: str | None
    organization: str | None
    inbound: bool
    queued_at: datetime | None = None
    wait_done: bool = False
    # Operators on the call now -> since when (their talk segment).
    talking: dict[str, datetime] = field(default_factory=dict)


@dataclass(slots=True)
class OperatorDay:
    """One operator's calls and talk time today (closed segments; open ones live on the call)."""

    calls: int = 0
    talk_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class JournalCall:
    """A call of today as the journal has it (start-up: today's figures so far)."""

    pbx_call_id: str
    line: str | None
    organization: str | None
    inbound: bool
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    outcome: str | None
    queue_wait_seconds: int | None
    talk_seconds: int | None
    answered_interface: str | None


def operator_category(agent: AgentSnapshot) -> tuple[str, str]:
    """An operator's place on the board: (state, pause reason)."""
    if agent.state == "unavailable":
        return "unavailable", ""
    if agent.state == "out":
        return "out", ""
    if agent.in_call or agent.device in BUSY_DEVICES:
        return "talking", ""
    if agent.state == "paused":
        return "paused", agent.paused_reason.strip()
    return "ready", ""


class FiguresCore:
    """The figures of every scope, kept from events; `snapshot(now)` reads them."""

    def __init__(self, lines: Sequence[LineInfo], phones: Mapping[str, str], zone: ZoneInfo,
                 now: datetime) -> None:
        """`phones`: operator interface (any case) -> organization code."""
        self.lines = {line.number: line for line in lines}
        self.phones = {interface.lower(): org for interface, org in phones.items()}
        self.zone = zone
        self.day: date = now.astimezone(zone).date()
        self.scopes: dict[tuple[str, str], Scope] = {CENTER: Scope(*CENTER)}
        for line in lines:
            self.scopes[("line", line.number)] = Scope("line", line.number)
            self.scopes.setdefault(("organization", line.organization),
                                   Scope("organization", line.organization))
        for org in set(self.phones.values()):
            self.scopes.setdefault(("organization", org), Scope("organization", org))
        self.calls: dict[str, CallFacts] = {}
        self.seen_today: set[str] = set()  # calls counted as arrived today
        self.waits_done: set[str] = set()  # calls whose first wait is counted
        self.operators: dict[str, OperatorDay] = {}
        self.agents: dict[str, tuple[str | None, str, str]] = {}  # iface -> (org, state, reason)
        self.agent_names: dict[str, str | None] = {}
        self.states: dict[str, Counter[tuple[str, str]]] = {}  # org -> (state, reason) -> n
        self.callbacks: dict[str, tuple[int, int]] = {}  # org -> (due today, overdue)
        self.version = 0  # grows with every change (senders skip unchanged figures)

    # ------------------------------------------------------------ scopes of a call

    def _scopes_of(self, line: str | None, organization: str | None) -> list[Scope]:
        found = [self.scopes[CENTER]]
        info = self.lines.get(line or "")
        if info is not None:
            found.append(self.scopes[("line", info.number)])
            organization = organization or info.organization
        org_scope = self.scopes.get(("organization", organization or ""))
        if org_scope is not None:
            found.append(org_scope)
        return found

    def _record(self, facts: CallFacts, record: Record) -> None:
        today = record.at.astimezone(self.zone).date() == self.day
        for scope in self._scopes_of(facts.line, facts.organization):
            scope.add(record, today)

    def _threshold(self, facts: CallFacts) -> int:
        info = self.lines.get(facts.line or "")
        return info.service_level_seconds if info is not None else 20

    # ------------------------------------------------------------ calls

    def feed(self, events: Iterable[DomainEvent]) -> None:
        """Take the PBX's call events, in order."""
        for event in events:
            handler = _HANDLERS.get(type(event))
            if handler is not None:
                self._roll(event.at)
                handler(self, event)
                self.version += 1

    def _arrived(self, event: CallArrived) -> None:
        inbound = event.direction == "in"
        facts = CallFacts(event.line, event.organization, inbound)
        self.calls[event.call_id] = facts
        if inbound and event.call_id not in self.seen_today:
            self.seen_today.add(event.call_id)
            self._record(facts, Record(event.at, "arrived"))

    def _queued(self, event: CallQueued) -> None:
        facts = self.calls.get(event.call_id)
        if facts is None or event.consultation or not facts.inbound:
            return
        if facts.queued_at is None:
            facts.queued_at = event.at
        for scope in self._scopes_of(facts.line, facts.organization):
            scope.waiting.setdefault(event.call_id, event.at)

    def _unqueue(self, call_id: str, facts: CallFacts) -> None:
        for scope in self._scopes_of(facts.line, facts.organization):
            scope.waiting.pop(call_id, None)

    def _wait_ended(self, call_id: str, facts: CallFacts, record: Record) -> None:
        self._unqueue(call_id, facts)
        if facts.wait_done or facts.queued_at is None or call_id in self.waits_done:
            facts.wait_done = facts.wait_done or facts.queued_at is not None
            return
        facts.wait_done = True
        self.waits_done.add(call_id)
        self._record(facts, record)

    def _answered(self, event: OperatorAnswered) -> None:
        facts = self.calls.get(event.call_id)
        if facts is None:
            return
        self._talk_starts(event.call_id, facts, event.interface, event.at)
        if event.consultation or not facts.inbound:
            return
        wait = event.hold_time
        if wait is None:  # found by a resynchronisation: how long it waited is unknown
            self._unqueue(event.call_id, facts)
            return
        self._wait_ended(event.call_id, facts, Record(
            event.at, "answered", float(wait), wait <= self._threshold(facts)))

    def _callback_answered(self, event: CallbackAnswered) -> None:
        facts = self.calls.get(event.call_id)
        if facts is not None and event.interface:
            self._talk_starts(event.call_id, facts, event.interface, event.at)

    def _abandoned(self, event: CallAbandoned) -> None:
        facts = self.calls.get(event.call_id)
        if facts is not None and facts.inbound:
            wait = float(event.hold_time or 0)
            self._wait_ended(event.call_id, facts, Record(event.at, "abandoned", wait))

    def _secretary(self, event: SecretaryMessage) -> None:
        facts = self.calls.get(event.call_id)
        if facts is None:
            facts = CallFacts(event.line, None, True)
        if facts.queued_at is not None and not facts.wait_done:
            self._wait_ended(event.call_id, facts, Record(event.at, "lost"))
        self._record(facts, Record(event.at, "secretary"))

    def _transferred(self, event: CallTransferred) -> None:
        facts = self.calls.get(event.call_id)
        if facts is not None and event.from_interface:
            self._talk_ends(facts, event.from_interface, event.at)

    def _ended(self, event: CallEnded) -> None:
        facts = self.calls.pop(event.call_id, None)
        if facts is None:
            return
        for interface in list(facts.talking):
            self._talk_ends(facts, interface, event.at)
        if facts.inbound and facts.queued_at is not None and not facts.wait_done:
            kind: RecordKind = "abandoned" if event.outcome == "abandoned" else "lost"
            self._wait_ended(event.call_id, facts, Record(event.at, kind))
        self._unqueue(event.call_id, facts)

    def _talk_starts(self, call_id: str, facts: CallFacts, interface: str, at: datetime) -> None:
        key = interface.lower()
        if key in facts.talking:
            return
        facts.talking[key] = at
        self.operators.setdefault(key, OperatorDay()).calls += 1

    def _talk_ends(self, facts: CallFacts, interface: str, at: datetime) -> None:
        since = facts.talking.pop(interface.lower(), None)
        if since is not None:
            since = max(since, self._midnight())
            self.operators.setdefault(interface.lower(), OperatorDay()).talk_seconds += max(
                0.0, (at - since).total_seconds())

    # ------------------------------------------------------------ operators

    def feed_agents(self, events: Iterable[AgentChanged]) -> None:
        """Take the PBX's reports of the operators' queue states and phones."""
        for event in events:
            agent = event.agent
            key = agent.interface.lower()
            org = self.phones.get(key)
            state, reason = operator_category(agent)
            old = self.agents.get(key)
            if old is not None and old[0] is not None:
                self.states[old[0]][(old[1], old[2])] -= 1
            self.agents[key] = (org, state, reason)
            self.agent_names[key] = agent.member_name
            if org is not None:
                self.states.setdefault(org, Counter())[(state, reason)] += 1
            self.version += 1

    def _operators_json(self, orgs: Iterable[str]) -> dict[str, Any]:
        counts: Counter[tuple[str, str]] = Counter()
        for org in orgs:
            counts.update(self.states.get(org, Counter()))
        body: dict[str, Any] = dict.fromkeys(OPERATOR_STATES, 0)
        reasons: Counter[str] = Counter()
        for (state, reason), n in counts.items():
            if n > 0:
                body[state] += n
                if state == "paused":
                    reasons[reason or "перерыв"] += n
        body["paused_by_reason"] = dict(sorted(reasons.items()))
        return body

    # ------------------------------------------------------------ callbacks

    def set_callbacks(self, by_organization: Mapping[str, tuple[int, int]]) -> None:
        """Callbacks due today (not yet overdue) and overdue, per organization, from the journal."""
        if dict(by_organization) != self.callbacks:
            self.callbacks = dict(by_organization)
            self.version += 1

    # ------------------------------------------------------------ start-up

    def seed(self, calls: Iterable[JournalCall]) -> None:
        """Today's calls so far from the journal (ended ones; live ones come from the PBX's
        resynchronisation), so that a restart does not zero the day. Idempotent per call."""
        for call in sorted(calls, key=lambda c: c.started_at):
            if not call.inbound:
                if call.answered_interface and call.talk_seconds:
                    self._seed_operator(call)
                continue
            facts = CallFacts(call.line, call.organization, True)
            if call.pbx_call_id not in self.seen_today:
                self.seen_today.add(call.pbx_call_id)
                self._record(facts, Record(call.started_at, "arrived"))
            if call.pbx_call_id not in self.waits_done and call.outcome is not None:
                record = _seed_wait(call, self._threshold(facts))
                if record is not None:
                    self.waits_done.add(call.pbx_call_id)
                    self._record(facts, record)
            if call.outcome == "secretary":
                self._record(facts, Record(call.ended_at or call.started_at, "secretary"))
            if call.answered_interface:
                self._seed_operator(call)
        self.version += 1

    def _seed_operator(self, call: JournalCall) -> None:
        if not call.answered_interface:
            return
        day = self.operators.setdefault(call.answered_interface.lower(), OperatorDay())
        day.calls += 1
        day.talk_seconds += float(call.talk_seconds or 0)

    # ------------------------------------------------------------ the day

    def _midnight(self) -> datetime:
        return datetime.combine(self.day, datetime.min.time(), self.zone)

    def _roll(self, now: datetime) -> None:
        """A new local day: today's totals start from zero (the windows slide on)."""
        day = now.astimezone(self.zone).date()
        if day <= self.day:
            return
        self.day = day
        for scope in self.scopes.values():
            scope.today = Totals()
        self.operators = {}
        self.seen_today = set()
        self.waits_done = {cid for cid, facts in self.calls.items() if facts.wait_done}
        midnight = self._midnight()
        for facts in self.calls.values():  # talk before midnight was yesterday's
            for interface, since in list(facts.talking.items()):
                if since < midnight:
                    facts.talking[interface] = midnight
                self.operators.setdefault(interface, OperatorDay()).calls += 1
        self.version += 1

    # ------------------------------------------------------------ reading

    def snapshot(self, now: datetime) -> dict[str, Any]:
        """Every scope's figures now, and every operator's day (JSON-ready)."""
        self._roll(now)
        orgs_of_line = {n: info.organization for n, info in self.lines.items()}
        all_orgs = sorted({s.code for s in self.scopes.values() if s.kind == "organization"})
        scopes = []
        for (kind, code), scope in self.scopes.items():
            for window in scope.windows.values():
                window.expire(now)
            orgs = all_orgs if kind == "center" else [orgs_of_line[code] if kind == "line" else code]
            due = sum(self.callbacks.get(o, (0, 0))[0] for o in orgs)
            overdue = sum(self.callbacks.get(o, (0, 0))[1] for o in orgs)
            scopes.append({
                "kind": kind, "code": code,
                "organization": orgs[0] if kind != "center" else None,
                "waiting": len(scope.waiting),
                "longest_wait": round(scope.longest_wait(now)),
                "today": scope.today.as_json(),
                **{name: window.totals.as_json() for name, window in scope.windows.items()},
                "operators": self._operators_json(orgs),
                "callbacks": {"due": due, "overdue": overdue},
            })
        return {"at": now.isoformat(), "day": self.day.isoformat(), "scopes": scopes,
                "operators": self._operator_days(now)}

    def _operator_days(self, now: datetime) -> list[dict[str, Any]]:
        live: dict[str, float] = {}
        for facts in self.calls.values():
            for interface, since in facts.talking.items():
                live[interface] = live.get(interface, 0.0) + max(0.0, (now - since).total_seconds())
        out = []
        for interface in sorted(set(self.operators) | set(self.agents)):
            day = self.operators.get(interface, OperatorDay())
            org, state, reason = self.agents.get(interface, (self.phones.get(interface), "unknown", ""))
            out.append({"interface": interface, "organization": org, "state": state,
                        "paused_reason": reason, "calls": day.calls,
                        "talk_seconds": round(day.talk_seconds + live.get(interface, 0.0))})
        return out


def _seed_wait(call: JournalCall, threshold: int) -> Record | None:
    """The end of a journal call's first wait, when it had one."""
    if call.outcome == "answered" and call.queue_wait_seconds is not None:
        at = call.answered_at or call.started_at
        wait = float(call.queue_wait_seconds)
        return Record(at, "answered", wait, wait <= threshold)
    if call.outcome == "abandoned":
        return Record(call.ended_at or call.started_at, "abandoned", float(call.queue_wait_seconds or 0))
    return None


_HANDLERS: dict[type[DomainEvent], Callable[[FiguresCore, Any], None]] = {
    CallArrived: FiguresCore._arrived,
    CallQueued: FiguresCore._queued,
    OperatorAnswered: FiguresCore._answered,
    CallbackAnswered: FiguresCore._callback_answered,
    CallAbandoned: FiguresCore._abandoned,
    SecretaryMessage: FiguresCore._secretary,
    CallTransferred: FiguresCore._transferred,
    CallEnded: FiguresCore._ended,
}
