"""Call flows: the scenarios of ../shared/ami-transcripts as parametrised templates.

Each flow strings `Pbx` operations together in the order the real Asterisk 22 transcripts show
them, with fresh channels and uniqueids, the line's number, organization and queues, and the
caller's number and name. Waits go through the simulated clock, so a scenario plays in real
time for a demo or compressed for tests and load. While a call waits it listens for commands
(an AMI BlindTransfer, Atxfer, Redirect or Hangup, or the control API's answer/hang-up), which
is how the service under test steers it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from collections import deque
from collections.abc import Callable
import random
from dataclasses import dataclass, field, replace
from typing import ClassVar, Literal

import structlog

from hotline.config import Organization
from hotline.pbx.ledger import LEDGER_FAMILY, format_line
from hotline.pbx.spy import SPY_CONTEXT, SPY_MODES, SPY_TARGET_VARIABLE
from hotline.sim.dialplan import (
    CALLBACK_CONTEXT,
    INBOUND_CONTEXT,
    L2_CONTEXT,
    OPERATORS_CONTEXT,
    Dialplan,
    Phone,
)
from hotline.sim.agi import AgiTarget, run_agi
from hotline.sim.model import DOWN, RING, RINGING, UP, Bridge, Channel, Member, Queue
from hotline.sim.pbx import Pbx

log = structlog.get_logger(__name__)

Scenario = Literal[
    "operator_answered",
    "abandoned_in_queue",
    "blind_transfer_to_level2",
    "attended_transfer_to_level2",
    "secretary_message",
    "queue_callback",
    "callback_originate",
    "supervision_originate",
]
SCENARIOS: tuple[Scenario, ...] = (
    "operator_answered",
    "abandoned_in_queue",
    "blind_transfer_to_level2",
    "attended_transfer_to_level2",
    "secretary_message",
    "queue_callback",
    "callback_originate",
)
ALIASES: dict[str, Scenario] = {
    "answered": "operator_answered",
    "abandoned": "abandoned_in_queue",
    "abandon": "abandoned_in_queue",
    "blind": "blind_transfer_to_level2",
    "attended": "attended_transfer_to_level2",
    "secretary": "secretary_message",
    "callback": "callback_originate",
    "queue-callback": "queue_callback",
    "key1": "queue_callback",
}
# Ended calls kept for tests and the load benchmark to check against the journal; a demo that
# runs for weeks keeps no more than these.
MAX_COMPLETED = 10_000
# The inbound call's ledger line in AstDB (config/asterisk/extensions.conf, hotline-ledger).
LEDGER_HANDLER = "hotline-ledger,s,1"
_QUEUE_TIMES = (
    "ANSWEREDTIME", "ANSWEREDTIME_MS", "DIALEDTIME", "DIALEDTIME_MS", "QUEUEWAIT", "QUEUEWAIT_MS",
)
_DIAL_TIMES = (
    "DIALSTATUS", "DIALEDPEERNUMBER", "DIALEDPEERNAME", "ANSWEREDTIME", "ANSWEREDTIME_MS",
    "DIALEDTIME", "DIALEDTIME_MS", "RINGTIME", "RINGTIME_MS", "PROGRESSTIME", "PROGRESSTIME_MS",
)


def scenario_name(name: str) -> Scenario:
    """Accept the transcript names and the short aliases (`answered`, `blind`, ...)."""
    if name in SCENARIOS:
        return name
    if name in ALIASES:
        return ALIASES[name]
    raise ValueError(f"unknown scenario {name!r}; use one of {', '.join(SCENARIOS)}")


@dataclass(frozen=True)
class Timing:
    """Simulated seconds of each phase (the transcripts' values by default)."""

    ring: float = 2.0
    talk: float = 6.0
    level2_talk: float = 13.0
    consult: float = 2.0
    patience: float = 6.0
    prompt: float = 5.6
    # The notice every inbound caller hears first, while MixMonitor already records
    # (Playback(hotline/call-recorded) in the shipped dialplan: 152-ФЗ).
    recorded_notice: float = 4.5
    message: float = 8.4
    citizen_answer: float = 1.0
    queue_timeout: float = 60.0
    dtmf_gap: float = 0.05
    # Key 1 in the queue: seconds after the offer (the line's `callback_after`) the caller
    # presses it (the offer prompt itself lasts about this long).
    offer_reaction: float = 6.0

    # What people decide (how long a phone rings before it is picked up, a talk, a
    # consultation, a caller's patience); prompts and queue timeouts are the PBX's own.
    HUMAN: ClassVar[tuple[str, ...]] = (
        "ring", "talk", "level2_talk", "consult", "patience", "citizen_answer",
    )

    def varied(self, rng: random.Random, spread: float) -> Timing:
        """This timing with each human phase drawn from [1 - spread, 1 + spread] times its
        value (the mean kept). Real calls differ: with identical ones, hundreds of phones
        of a load run ring, answer and hang up in lockstep, every few seconds at once."""
        if spread <= 0:
            return self
        return replace(self, **{
            name: getattr(self, name) * rng.uniform(1 - spread, 1 + spread) for name in self.HUMAN
        })


# -- commands a call listens for -----------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    interface: str


@dataclass(frozen=True)
class HangupChannel:
    channel: Channel
    cause: int = 16


@dataclass(frozen=True)
class BlindTransfer:
    channel: Channel
    context: str
    exten: str
    external: bool = True


@dataclass(frozen=True)
class AttendedTransfer:
    channel: Channel
    context: str
    exten: str


@dataclass(frozen=True)
class Redirect:
    channel: Channel
    context: str
    exten: str


@dataclass(frozen=True)
class SpiedGone:
    """The channel a ChanSpy leg spies on hung up (its `E` option ends the spying)."""

    channel: Channel


Command = Answer | HangupChannel | BlindTransfer | AttendedTransfer | Redirect | SpiedGone


@dataclass
class Leg:
    """A caller (or Local;2) connected to an operator through a queue."""

    queue: Queue
    member: Member
    caller: Channel
    agent: Channel
    joined: float
    answered: float = 0.0
    bridge: Bridge | None = None

    def hold(self) -> int:
        return int(round(self.answered - self.joined))

    def talk(self, now: float) -> int:
        return int(round(now - self.answered))


@dataclass(frozen=True)
class Variant:
    """Orders in which Asterisk's threads happened to interleave events in each transcript."""

    ring: Literal["A", "B", "C", "E"] = "A"
    member_status_at: Literal["before_leave", "after_leave", "after_connect"] = "after_connect"
    teardown: Literal["agent_first", "caller_first"] = "agent_first"


@dataclass
class CallSpec:
    """One scripted call."""

    scenario: Scenario
    line: str = ""
    caller_num: str = ""
    caller_name: str = ""
    agent: str | None = None
    auto_answer: bool = True
    timing: Timing = field(default_factory=Timing)
    # Originate (callback) only:
    originate_exten: str = ""
    originate_callerid: tuple[str, str] = ("", "")
    originate_variables: dict[str, str] = field(default_factory=dict)
    action_id: str | None = None
    # Only an Async Originate reports its end with an OriginateResponse event.
    originate_response: bool = True
    citizen_answers: bool = True
    # Originate's ChannelId: the new channel's Uniqueid (and Linkedid) when given.
    channel_id: str | None = None


class Call:
    """A running call: its channels, its command inbox and how it ended."""

    def __init__(self, engine: CallEngine, spec: CallSpec) -> None:
        self.engine = engine
        self.spec = spec
        self.inbox: asyncio.Queue[Command] = asyncio.Queue()
        self.channels: list[Channel] = []
        self.caller: Channel | None = None
        self.outcome: str | None = None
        self.task: asyncio.Task[None] | None = None
        # What the PBX records for this call: (file in the monitor spool, simulated start).
        self.recordings: list[tuple[str, float]] = []
        # MixMonitor(b) files: written only from the first bridge on (header-only without one).
        self.bridged_files: set[str] = set()
        self.first_bridge: float | None = None
        # The fields of the line the dialplan's hangup handler leaves in AstDB (hotline-ledger).
        self.ledger: dict[str, str] = {}
        self.started = time.monotonic()
        # Resolved when the first party answers (a synchronous Originate waits for it).
        self.picked_up: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        # A phone this call rings that gives no Ringing state (a supervisor's): answer() finds it.
        self.awaiting_answer: str | None = None
        # The channel a ChanSpy leg of this call spies on.
        self.spied: Channel | None = None

    @property
    def linkedid(self) -> str | None:
        return self.caller.linkedid if self.caller else None

    @property
    def uniqueid(self) -> str | None:
        return self.caller.uniqueid if self.caller else None

    def own(self, channel: Channel) -> Channel:
        self.channels.append(channel)
        self.engine.owners[channel.uniqueid] = self
        return channel

    async def wait(self, seconds: float | None) -> Command | None:
        """Wait simulated seconds (None: forever) or until a command arrives."""
        timeout = None if seconds is None else self.engine.pbx.clock.real(seconds)
        try:
            return await asyncio.wait_for(self.inbox.get(), timeout)
        except TimeoutError:
            return None

    async def pause(self, seconds: float) -> None:
        await asyncio.sleep(self.engine.pbx.clock.real(seconds))

    async def finished(self) -> str | None:
        if self.task is not None:
            await asyncio.shield(self.task)
        return self.outcome


@dataclass(eq=False)  # each caller's place in the line is its own, whatever it waits for
class _Waiting:
    """A caller in a queue's line, woken when a member it may take is free."""

    queue: Queue
    agent: str | None  # the one phone it waits for (tests, demo), or None: any member
    woken: asyncio.Event = field(default_factory=asyncio.Event)


# Seconds between a waiting caller's own looks for a free member, besides being woken.
LOOK_AGAIN = 1.0


class CallEngine:
    """Runs call flows against one `Pbx`."""

    def __init__(
        self,
        pbx: Pbx,
        dialplan: Dialplan,
        set_hotline_id: bool = True,
        recorder: Callable[[str, float], object] | None = None,
        ledger: bool = False,
        agi: AgiTarget | None = None,
    ) -> None:
        self.pbx = pbx
        # The service's FastAGI server the dialplan's AGI() reaches (None: AGI() fails at
        # once and the dialplan goes on as with the service down).
        self.agi = agi
        self.recorder = recorder
        self.dialplan = dialplan
        self.set_hotline_id = set_hotline_id
        # The project's dialplan (config/asterisk/): every inbound call leaves its ledger line.
        # Off, the flows are those of ../shared/ami-transcripts/' older dialplan.
        self.ledger = ledger
        self.owners: dict[str, Call] = {}
        self.calls: set[Call] = set()
        # Callers waiting for a queue's member, in the order they joined (a dict: ordered,
        # and a caller leaves it in one step).
        self._waiting: dict[_Waiting, None] = {}
        # The supervisors' ChanSpy legs now running: a hangup is checked against these only.
        self.spies: set[Call] = set()
        self.completed: deque[Call] = deque(maxlen=MAX_COMPLETED)
        pbx.hangup_hooks.append(self._channel_gone)

    # -- lifecycle ---------------------------------------------------------------------

    def start(self, spec: CallSpec) -> Call:
        call = Call(self, spec)
        self.calls.add(call)
        loop = asyncio.get_running_loop()
        call.task = loop.create_task(self._run(call), name=f"sim-call-{spec.scenario}")
        return call

    async def _run(self, call: Call) -> None:
        try:
            if call.spec.scenario == "callback_originate":
                await callback_flow(call)
            elif call.spec.scenario == "supervision_originate":
                await spy_flow(call)
            else:
                await inbound_flow(call)
        except asyncio.CancelledError:
            call.outcome = call.outcome or "cancelled"
            raise
        except Exception:
            log.exception("sim_call_failed", scenario=call.spec.scenario, linkedid=call.linkedid)
            call.outcome = "failed"
        finally:
            if not call.picked_up.done():
                call.picked_up.set_result(False)
            self._forget(call)
            self._write_recordings(call)
            if self.ledger and call.outcome != "cancelled":  # a stopped PBX runs no handler
                self._write_ledger(call)

    def _write_recordings(self, call: Call) -> None:
        """At hangup the PBX closes its files: the whole call, the secretary's message."""
        if self.recorder is None:
            return
        clock = self.pbx.clock
        now = clock.now()
        for file, started in call.recordings:
            if file in call.bridged_files:
                started = call.first_bridge if call.first_bridge is not None else now
            try:
                # The file holds what was really said: simulated seconds times the scale.
                self.recorder(file, clock.real(now - started) if clock.scale > 0 else now - started)
            except (OSError, ValueError) as exc:
                log.warning("sim_recording_not_written", file=file, error=str(exc))

    def _write_ledger(self, call: Call) -> None:
        """The hotline-ledger hangup handler: the inbound call's line in AstDB."""
        caller = call.caller
        hotline_id = caller.variables.get("HOTLINE_ID") if caller is not None else None
        if not hotline_id or not call.ledger or caller is None:
            return
        fields = {
            "v": "1", "line": caller.variables.get("HOTLINE_LINE", ""),
            **call.ledger,
            "end": str(int(self.pbx.clock.now())),
            "num": "".join(ch for ch in caller.caller_num if ch.isdigit() or ch == "+"),
            "name": base64.b64encode(caller.caller_name.encode()).decode(),
            "rec": caller.variables.get("REC", ""), "cause": "16",
        }
        self.pbx.state.astdb[f"{LEDGER_FAMILY}/{hotline_id}"] = format_line(fields)

    def _forget(self, call: Call) -> None:
        for channel in call.channels:
            self.owners.pop(channel.uniqueid, None)
        self.calls.discard(call)
        self.completed.append(call)

    async def cancel_all(self) -> None:
        tasks = [call.task for call in self.calls if call.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def member_freed(self) -> None:
        """A member may be free: wake the callers that can take one now, in the order they
        joined, as Asterisk's queue offers a free member to the caller at its head. Each queue
        wakes as many of its line as it has members free, and a caller waiting for one phone
        is woken when that phone is free. (Waking every caller on every freed phone took most
        of the simulator's time with 2,000 calls at once, over a thousand of them waiting.)"""
        free: dict[str, int] = {}
        for waiting in self._waiting:
            queue = waiting.queue
            if waiting.agent and (member := queue.member(waiting.agent)) is not None:
                if member.available:
                    waiting.woken.set()
                continue
            left = free.get(queue.name)
            if left is None:
                left = sum(1 for member in queue.members if member.available)
            if left > 0:
                waiting.woken.set()
                left -= 1
            free[queue.name] = left

    async def wait_member(self, call: Call, queue: Queue, timeout: float) -> Member | None:
        """The next free member, waiting (simulated) up to `timeout` in the queue's line."""
        deadline = time.monotonic() + self.pbx.clock.real(timeout)
        waiting = _Waiting(queue, call.spec.agent)
        self._waiting[waiting] = None
        try:
            while True:
                member = queue.pick(call.spec.agent)
                if member is not None:
                    return member
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                waiting.woken.clear()
                # Every freed member is told (`member_freed`); the slow look is a safety net.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiting.woken.wait(), min(remaining, LOOK_AGAIN))
        finally:
            del self._waiting[waiting]

    # -- routing commands --------------------------------------------------------------

    def call_of(self, channel: Channel) -> Call | None:
        return self.owners.get(channel.uniqueid)

    def send(self, channel: Channel, command: Command) -> bool:
        call = self.call_of(channel)
        if call is None:
            return False
        call.inbox.put_nowait(command)
        return True

    def _channel_gone(self, channel: Channel) -> None:
        """Tell the ChanSpy legs spying on a channel that it hung up."""
        for call in list(self.spies):
            if call.spied is channel:
                call.inbox.put_nowait(SpiedGone(channel))

    def ringing_call(self, interface: str) -> Call | None:
        for call in self.calls:
            if call.awaiting_answer and call.awaiting_answer.lower() == interface.lower():
                return call
            for channel in call.channels:
                if (
                    not channel.hungup
                    and channel.state == RINGING
                    and f"PJSIP/{channel.endpoint}".lower() == interface.lower()
                ):
                    return call
        return None

    def queue(self, name: str) -> Queue:
        return self.pbx.state.queues[name]

    def phone(self, member: Member) -> Phone:
        return self.dialplan.phone(member.interface) or Phone(member.interface, member.name)


# -- shared pieces -------------------------------------------------------------------------


def _set(pbx: Pbx, channel: Channel, app_var: str, value: str) -> None:
    """`Set(VAR=value)` as one dialplan priority: Newexten then VarSet."""
    pbx.newexten(channel, "Set", f"{app_var}={value}")
    pbx.set_var(channel, app_var, value)


def _rec_path(channel: Channel, now: float) -> str:
    return f"hotline/{time.strftime('%Y%m%d', time.gmtime(now))}/{channel.linkedid}.wav"


def _clear_times(pbx: Pbx, channel: Channel, names: tuple[str, ...]) -> None:
    for name in names:
        pbx.set_var(channel, name, "")


def _bridge_peers(pbx: Pbx, first: Channel, second: Channel | None) -> None:
    """BRIDGEPEER/BRIDGEPVTCALLID both ways (empty on leave)."""
    for one, other in ((first, second), (second, first)):
        if one is None:
            continue
        pbx.set_var(one, "BRIDGEPEER", other.name if other is not None else "")
        pbx.set_var(one, "BRIDGEPVTCALLID", "")


def _mode(engine: CallEngine, line: str, scenario: Scenario) -> str:
    natural = "secretary" if scenario == "secretary_message" else "operator"
    return engine.pbx.state.astdb.get(f"hotline/mode/{line}", natural) or natural


async def inbound_prologue(call: Call, org: Organization) -> tuple[Channel, bool]:
    """From `Newchannel` of the trunk leg to `GotoIf(?secretary)`: every inbound call."""
    pbx, spec = call.engine.pbx, call.spec
    caller = call.own(
        pbx.new_channel(
            "trunk", state=RING, context=INBOUND_CONTEXT, exten=spec.line,
            caller=(spec.caller_num, spec.caller_name),
        )
    )
    caller.dnid = spec.line
    call.caller = caller
    pbx.set_var(caller, "SIPDOMAIN", "127.0.0.1")
    pbx.newexten(caller, "NoOp", "hotline inbound", priority=1)
    if call.engine.set_hotline_id:
        _set(pbx, caller, "__HOTLINE_ID", caller.uniqueid)
    _set(pbx, caller, "__HOTLINE_LINE", spec.line)
    pbx.newexten(caller, "Set", f"__HOTLINE_ORG={org.code}")
    pbx.set_var(caller, "__HOTLINE_ORG", org.code)
    if call.engine.ledger:
        # The ledger's hangup handler (its AstDB line is written by _write_ledger).
        pbx.newexten(caller, "Set", f"CHANNEL(hangup_handler_push)={LEDGER_HANDLER}")
        pbx.push_hangup_handler(caller, LEDGER_HANDLER)
    mode = _mode(call.engine, spec.line, spec.scenario)
    pbx.set_var(caller, "DB_RESULT", mode)
    _set(pbx, caller, "MODE", mode)
    pbx.newexten(caller, "Answer", "")
    pbx.newstate(caller, UP)
    pbx.device_state("PJSIP/trunk", "INUSE")
    await call.pause(0.02)
    rec = _rec_path(caller, pbx.clock.now())
    _set(pbx, caller, "__REC", rec)
    pbx.newexten(caller, "MixMonitor", f"{rec},b")
    pbx.set_var(caller, "MIXMONITOR_FILENAME", f"/var/spool/asterisk/monitor/{rec}")
    pbx.mixmonitor_start(caller)
    call.recordings.append((rec, pbx.clock.now()))
    call.bridged_files.add(rec)
    call.ledger["start"] = str(int(caller.created or pbx.clock.now()))
    pbx.newexten(caller, "Playback", "hotline/call-recorded")
    await call.pause(spec.timing.recorded_notice)
    secretary = mode == "secretary"
    pbx.newexten(caller, "GotoIf", f"{int(secretary)}?secretary")
    return caller, secretary


def nobody_to_ring(queue: Queue) -> bool:
    """Every member paused or unreachable (or none): app_queue does not let the caller join.
    Busy members do not count: a caller waits for them."""
    return all(m.paused or m.unreachable for m in queue.members)


def enter_queue(
    call: Call, queue: Queue, caller: Channel, priority: int | None = None, **where: str
) -> float:
    """`Queue(<queue>,tT,,,60)`: the caller waits; returns the simulated join time."""
    pbx = call.engine.pbx
    pbx.newexten(caller, "Queue", f"{queue.name},tT,,,60", priority=priority, **where)
    _clear_times(pbx, caller, _QUEUE_TIMES)
    pbx.device_state(f"Queue:{queue.name}", "RINGING")
    pbx.queue_caller_join(queue, caller)
    call.ledger["qstart"] = str(int(pbx.clock.now()))
    return pbx.clock.now()


def ring(
    call: Call,
    queue: Queue,
    member: Member,
    caller: Channel,
    joined: float,
    variant: Variant,
    after_newchannel: Callable[[], None] | None = None,
    after_connected: Callable[[], None] | None = None,
) -> Leg:
    """The queue rings one member: the operator's phone channel appears and rings."""
    engine = call.engine
    pbx = engine.pbx
    phone = engine.phone(member)
    agent = call.own(
        pbx.new_channel(
            phone.endpoint, state=DOWN, context=OPERATORS_CONTEXT, exten="s",
            linkedid=caller.linkedid, caller=phone.endpoint_callerid or ("", ""),
        )
    )
    if phone.endpoint_callerid is None:
        # app_queue gives a phone without its own caller id the caller's DNID (or exten).
        pbx.newexten(agent, "AppQueue", "(Outgoing Line)", priority=1)
        pbx.new_callerid(agent, caller.dnid or caller.exten)
    pbx.inherit(caller, agent)
    pbx.set_var(agent, "DIALEDPEERNUMBER", phone.endpoint)
    agent.inheritable = list(caller.inheritable)
    if after_newchannel is not None:
        after_newchannel()
    member.ringing = True
    pbx.agent_called(queue, member, caller, agent)
    pbx.dial_begin(caller, agent, member.interface)
    changed = (caller.connected_num, caller.connected_name) != (agent.caller_num, agent.caller_name)
    if changed:
        pbx.new_connected_line(caller, agent.caller_num, agent.caller_name)
    agent.exten = caller.exten
    agent.connected_num, agent.connected_name = caller.caller_num, caller.caller_name

    def ringing() -> None:
        pbx.newstate(agent, RINGING)
        pbx.set_app(agent, "AppQueue", "(Outgoing Line)")

    def connected() -> None:
        pbx.new_connected_line(agent, caller.caller_num, caller.caller_name)

    def dial_state() -> None:
        pbx.dial_state(caller, agent, "RINGING")

    def status() -> None:
        pbx.member_event("QueueMemberStatus", queue, member)
        pbx.device_state(member.interface, "RINGING")

    steps = {
        "A": (ringing, connected, dial_state, status),
        "B": (dial_state, ringing, connected, status),
        "C": (ringing, connected, status, dial_state),
        "E": (connected, after_connected or (lambda: None), ringing, status, dial_state),
    }[variant.ring]
    for step in steps:
        step()
    return Leg(queue, member, caller, agent, joined)


def connect(
    call: Call, leg: Leg, variant: Variant, before_bridge: Callable[[], None] | None = None
) -> None:
    """The operator picks up: Newstate Up, DialEnd, the caller leaves the queue, a bridge."""
    pbx = call.engine.pbx
    now = pbx.clock.now()
    leg.answered = now
    call.first_bridge = now if call.first_bridge is None else call.first_bridge
    # setinterfacevar/setqueueentryvar: the last queue's member and wait.
    call.ledger.update(member=leg.member.interface, hold=str(leg.hold()))
    leg.member.ringing = False
    leg.member.in_call = True
    if not call.picked_up.done():
        call.picked_up.set_result(True)
    pbx.newstate(leg.agent, UP)
    pbx.dial_end(leg.caller, leg.agent, "ANSWER")

    def status() -> None:
        pbx.member_event("QueueMemberStatus", leg.queue, leg.member)
        pbx.device_state(leg.member.interface, "INUSE")

    if variant.member_status_at == "before_leave":
        status()
    pbx.device_state(f"Queue:{leg.queue.name}", "NOT_INUSE")
    pbx.queue_caller_leave(leg.queue, leg.caller)
    pbx.set_var(leg.caller, "QUEUEPOSITION", "1")
    if variant.member_status_at == "after_leave":
        status()
    pbx.set_var(leg.caller, "QUEUEWAIT", str(leg.hold()))
    pbx.set_var(leg.caller, "QUEUEWAIT_MS", str(leg.hold() * 1000))
    leg.queue.holdtime = leg.hold()
    pbx.agent_connect(leg.queue, leg.member, leg.caller, leg.agent, leg.hold(), leg.hold())
    if variant.member_status_at == "after_connect":
        status()
    if before_bridge is not None:
        before_bridge()
    bridge = pbx.bridge_create()
    pbx.bridge_enter(bridge, leg.agent)
    pbx.bridge_enter(bridge, leg.caller)
    _bridge_peers(pbx, leg.agent, leg.caller)
    leg.bridge = bridge
    pbx.set_app(leg.caller, "Queue", f"{leg.queue.name},tT,,,60")


def free_member(call: Call, queue: Queue, member: Member) -> None:
    """The operator's phone is idle again (QueueMemberStatus with the call counted)."""
    pbx = call.engine.pbx
    if member.in_call:
        member.calls_taken += 1
        member.last_call = int(pbx.clock.now())
    member.in_call = False
    member.ringing = False
    pbx.device_state(member.interface, "NOT_INUSE")
    pbx.member_event("QueueMemberStatus", queue, member)
    call.engine.member_freed()


def _complete(pbx: Pbx, leg: Leg, reason: str, caller: Channel | None = None) -> None:
    """AgentComplete for `leg` (the caller side may be shown as another channel)."""
    talk = leg.talk(pbx.clock.now())
    side = caller or leg.caller
    pbx.agent_complete(leg.queue, leg.member, side, leg.agent, leg.hold(), talk, reason)


def _answered_times(pbx: Pbx, channel: Channel, leg: Leg) -> None:
    now = pbx.clock.now()
    talk, dialed = now - leg.answered, now - leg.joined
    pbx.set_var(channel, "ANSWEREDTIME", str(int(talk)))
    pbx.set_var(channel, "ANSWEREDTIME_MS", str(int(talk * 1000)))
    pbx.set_var(channel, "DIALEDTIME", str(int(dialed)))
    pbx.set_var(channel, "DIALEDTIME_MS", str(int(dialed * 1000)))


def caller_hangs_up(call: Call, leg: Leg, variant: Variant) -> None:
    """The citizen hangs up while talking to an operator."""
    pbx = call.engine.pbx
    bridge = leg.bridge
    assert bridge is not None
    pbx.hangup_request(leg.caller)
    _complete(pbx, leg, "caller")
    _bridge_peers(pbx, leg.caller, None)
    _bridge_peers(pbx, leg.agent, None)
    pbx.bridge_leave(bridge, leg.caller)
    _answered_times(pbx, leg.caller, leg)
    pbx.hangup_request(leg.caller, soft=True)
    pbx.bridge_leave(bridge, leg.agent)
    if variant.teardown == "agent_first":
        pbx.bridge_destroy(bridge)
        pbx.hangup(leg.agent)
        pbx.hangup(leg.caller)
    else:
        pbx.hangup(leg.caller)
        pbx.bridge_destroy(bridge)
        pbx.hangup(leg.agent)
    pbx.device_state("PJSIP/trunk", "NOT_INUSE")
    free_member(call, leg.queue, leg.member)
    call.outcome = call.outcome or "completed"


def agent_hangs_up(call: Call, leg: Leg) -> None:
    """The operator hangs up first; the caller's Queue() returns and the dialplan hangs up."""
    pbx = call.engine.pbx
    bridge = leg.bridge
    assert bridge is not None
    pbx.hangup_request(leg.agent)
    _complete(pbx, leg, "agent")
    _bridge_peers(pbx, leg.agent, None)
    _bridge_peers(pbx, leg.caller, None)
    pbx.bridge_leave(bridge, leg.agent)
    pbx.bridge_leave(bridge, leg.caller)
    pbx.bridge_destroy(bridge)
    pbx.hangup(leg.agent)
    free_member(call, leg.queue, leg.member)
    _answered_times(pbx, leg.caller, leg)
    pbx.newexten(leg.caller, "Hangup", "")
    pbx.hangup_request(leg.caller, soft=True)
    pbx.hangup(leg.caller)
    pbx.device_state("PJSIP/trunk", "NOT_INUSE")
    call.outcome = call.outcome or "completed"


# -- the inbound call ----------------------------------------------------------------------


async def inbound_flow(call: Call) -> None:
    engine, spec = call.engine, call.spec
    org = engine.dialplan.org_of_line(spec.line)
    caller, secretary = await inbound_prologue(call, org)
    if secretary:
        await secretary_branch(call, caller)
        return
    queue = engine.queue(org.level1_queue)
    if nobody_to_ring(queue):
        # queues.conf `joinempty=paused,unavailable,invalid`: Queue() returns at once with
        # JOINEMPTY and the dialplan goes on to the electronic secretary.
        call.engine.pbx.newexten(caller, "Queue", f"{queue.name},t,,,300")
        call.engine.pbx.set_var(caller, "QUEUESTATUS", "JOINEMPTY")
        await secretary_branch(call, caller)
        return
    joined = enter_queue(call, queue, caller)
    if spec.scenario == "queue_callback" and await offered_callback(call, queue):
        await queue_exit(call, queue, caller, joined)
        return
    variants = {
        "blind_transfer_to_level2": Variant(ring="B"),
        "attended_transfer_to_level2": Variant(member_status_at="before_leave"),
    }
    variant = variants.get(spec.scenario, Variant())
    leg = await ring_and_answer(call, queue, caller, joined, variant)
    if leg is None:
        return
    end = {
        "blind_transfer_to_level2": "blind",
        "attended_transfer_to_level2": "attended",
    }.get(spec.scenario, "caller")
    await talk(call, leg, spec.timing.talk, end, org)


async def ring_and_answer(
    call: Call,
    queue: Queue,
    caller: Channel,
    joined: float,
    variant: Variant,
    after_newchannel: Callable[[], None] | None = None,
) -> Leg | None:
    """Wait for a member, ring, wait for the answer; None if the caller gave up."""
    spec, engine = call.spec, call.engine
    abandons = spec.scenario == "abandoned_in_queue"
    patience = spec.timing.patience if abandons else spec.timing.queue_timeout
    started = time.monotonic()
    member = await engine.wait_member(call, queue, patience)
    if member is None:
        if after_newchannel is not None:
            after_newchannel()
        abandon(call, queue, caller, None, joined, timeout=spec.scenario != "abandoned_in_queue")
        return None
    leg = ring(call, queue, member, caller, joined, variant, after_newchannel)
    scale = engine.pbx.clock.scale
    waited = (time.monotonic() - started) / scale if scale else 0.0
    answer_after: float | None = spec.timing.ring if spec.auto_answer else None
    if spec.scenario == "abandoned_in_queue":
        answer_after = None
    while True:
        deadline = max(0.0, patience - waited) if spec.scenario == "abandoned_in_queue" else None
        limit = answer_after if deadline is None else deadline
        command = await call.wait(limit)
        if command is None:
            if spec.scenario == "abandoned_in_queue" or answer_after is None:
                abandon(call, queue, caller, leg, joined)
                return None
            connect(call, leg, variant)
            return leg
        if isinstance(command, Answer) and command.interface.lower() == member.interface.lower():
            connect(call, leg, variant)
            return leg
        if isinstance(command, HangupChannel) and command.channel is caller:
            abandon(call, queue, caller, leg, joined)
            return None


def abandon(
    call: Call, queue: Queue, caller: Channel, leg: Leg | None, joined: float, timeout: bool = False
) -> None:
    """The caller hangs up while queued (or the queue times out)."""
    pbx = call.engine.pbx
    hold = int(round(pbx.clock.now() - joined))
    if not timeout:
        pbx.hangup_request(caller)
    if leg is not None:
        pbx.dial_end(caller, leg.agent, "CANCEL")
        pbx.dial_end(caller, leg.agent, "CANCEL")
    pbx.set_var(caller, "QUEUEWAIT", str(hold))
    pbx.set_var(caller, "QUEUEWAIT_MS", str(hold * 1000))
    if timeout:
        pbx.set_var(caller, "QUEUESTATUS", "TIMEOUT")
    else:
        pbx.set_var(caller, "ABANDONED", "TRUE")
        pbx.queue_caller_abandon(queue, caller, hold)
    pbx.device_state(f"Queue:{queue.name}", "NOT_INUSE")
    pbx.queue_caller_leave(queue, caller)
    pbx.set_var(caller, "QUEUEPOSITION", "1")
    pbx.hangup_request(caller, soft=True)
    if leg is not None:
        pbx.hangup(leg.agent, cause=0)
    pbx.hangup(caller)
    pbx.device_state("PJSIP/trunk", "NOT_INUSE")
    if leg is not None:
        free_member(call, queue, leg.member)
    call.outcome = "timeout" if timeout else "abandoned"


async def talk(call: Call, leg: Leg, seconds: float, end: str, org: Organization) -> None:
    """The conversation; it ends as scripted (`end`) unless a command ends it first."""
    while True:
        command = await call.wait(seconds)
        if command is None:
            if end == "blind":
                await blind_transfer(call, leg, L2_CONTEXT, org.code, external=False)
            elif end == "attended":
                await attended_transfer(call, leg, L2_CONTEXT, org.level2_extension)
            else:
                caller_hangs_up(call, leg, Variant())
            return
        if isinstance(command, BlindTransfer) and command.channel in (leg.agent, leg.caller):
            await blind_transfer(call, leg, command.context, command.exten, command.external)
            return
        if isinstance(command, AttendedTransfer) and command.channel is leg.agent:
            await attended_transfer(call, leg, command.context, command.exten)
            return
        if isinstance(command, Redirect) and command.channel is leg.caller:
            await redirect_caller(call, leg, command.context, command.exten)
            return
        if isinstance(command, HangupChannel):
            if command.channel is leg.agent:
                agent_hangs_up(call, leg)
                return
            if command.channel is leg.caller:
                caller_hangs_up(call, leg, Variant())
                return
        log.info("sim_command_ignored", command=type(command).__name__, linkedid=call.linkedid)


async def blind_transfer(call: Call, leg: Leg, context: str, exten: str, external: bool) -> None:
    """BlindTransfer of the operator's channel: the caller goes to `context,exten` alone."""
    pbx, engine = call.engine.pbx, call.engine
    bridge = leg.bridge
    assert bridge is not None
    caller, agent = leg.caller, leg.agent
    pbx.hold(agent, on=False)
    pbx.set_var(agent, "BLINDTRANSFER", caller.name)
    pbx.set_var(caller, "BLINDTRANSFER", agent.name)
    _bridge_peers(pbx, agent, None)
    pbx.blind_transfer_event(agent, caller, bridge, context, exten, external)
    _complete(pbx, leg, "transfer")
    _bridge_peers(pbx, caller, None)
    # Asterisk shows the old application at the new place for this one Newexten.
    app_data = f"{leg.queue.name},tT,,,60"
    pbx.newexten(caller, "Queue", app_data, context=context, exten=exten, priority=1)
    pbx.bridge_leave(bridge, caller)
    _answered_times(pbx, caller, leg)
    await call.pause(0.003)
    pbx.bridge_leave(bridge, agent)
    pbx.bridge_destroy(bridge)
    released = False

    def release_transferer() -> None:
        nonlocal released
        if not released:
            released = True
            pbx.hangup(agent)
            free_member(call, leg.queue, leg.member)

    org = engine.dialplan.level2_target(context, exten)
    if org is None:
        release_transferer()
        pbx.hangup_request(caller, soft=True)
        pbx.hangup(caller)
        call.outcome = "transferred_nowhere"
        return
    await level2_queue(call, caller, org, release_transferer)


async def redirect_caller(call: Call, leg: Leg, context: str, exten: str) -> None:
    """AMI Redirect of the caller: it leaves the operator for `context,exten` (no transfer
    event, as in Asterisk)."""
    pbx, engine = call.engine.pbx, call.engine
    bridge = leg.bridge
    assert bridge is not None
    _complete(pbx, leg, "transfer")
    _bridge_peers(pbx, leg.caller, None)
    pbx.bridge_leave(bridge, leg.caller)
    pbx.newexten(leg.caller, "NoOp", "redirected", context=context, exten=exten, priority=1)
    pbx.bridge_leave(bridge, leg.agent)
    pbx.bridge_destroy(bridge)
    pbx.hangup(leg.agent)
    free_member(call, leg.queue, leg.member)
    org = engine.dialplan.level2_target(context, exten)
    if org is None:
        pbx.hangup_request(leg.caller, soft=True)
        pbx.hangup(leg.caller)
        call.outcome = "redirected"
        return
    await level2_queue(call, leg.caller, org, lambda: None)


async def level2_queue(
    call: Call, caller: Channel, org: Organization, release: Callable[[], None]
) -> None:
    """`hotline-l2,<org>`: Queue(<level-2 queue>) and a level-2 conversation."""
    engine = call.engine
    await call.pause(0.003)
    queue = engine.queue(org.level2_queue)
    joined = enter_queue(call, queue, caller, priority=2)
    leg = await ring_and_answer(
        call, queue, caller, joined, Variant(ring="C"), after_newchannel=release
    )
    release()
    if leg is None:
        return
    await talk_level2(call, leg, org)


async def talk_level2(call: Call, leg: Leg, org: Organization) -> None:
    command = await call.wait(call.spec.timing.level2_talk)
    if command is None or (isinstance(command, HangupChannel) and command.channel is leg.caller):
        caller_hangs_up(call, leg, Variant(teardown="caller_first"))
        call.outcome = "transferred"
        return
    if isinstance(command, HangupChannel) and command.channel is leg.agent:
        agent_hangs_up(call, leg)
        call.outcome = "transferred"
        return
    call.inbox.put_nowait(command)
    await talk(call, leg, call.spec.timing.level2_talk, "caller", org)
    call.outcome = "transferred"


# -- attended transfer -----------------------------------------------------------------------


async def attended_transfer(call: Call, leg: Leg, context: str, exten: str) -> None:
    """Atxfer: the operator dials level 2 through a Local channel, then hangs up to transfer."""
    engine, pbx, timing = call.engine, call.engine.pbx, call.spec.timing
    caller, agent = leg.caller, leg.agent
    first = leg.bridge
    assert first is not None
    org = engine.dialplan.level2_target(context, exten)
    pbx.set_var(agent, "TRANSFER_CONTEXT", context)
    await _dial_feature_code(call, agent, exten)
    one, two = pbx.new_local_pair(exten, context, caller.linkedid)
    call.own(one)
    call.own(two)
    for local in (one, two):
        pbx.set_var(local, "TRANSFERERNAME", agent.name)
        pbx.set_var(local, "ATTENDEDTRANSFER", agent.name)
        pbx.inherit(agent, local)
        local.inheritable = list(agent.inheritable)
        if local is one:
            second = pbx.bridge_create()
    pbx.new_callerid(two, agent.caller_num, agent.caller_name)
    pbx.local_bridge(one, two)
    if org is None:
        await _consult_nowhere(call, leg, one, two, second)
        return
    pbx.newexten(two, "Goto", f"{org.code},1")
    pbx.newexten(two, "NoOp", "to level 2", exten=org.code, priority=1)
    queue = engine.queue(org.level2_queue)
    pbx.newexten(two, "Queue", f"{queue.name},tT,,,60", priority=2)
    _clear_times(pbx, two, _QUEUE_TIMES)
    pbx.new_connected_line(one, agent.caller_num, agent.caller_name)
    pbx.bridge_enter(second, one)
    pbx.set_var(one, "ATTENDEDTRANSFER", "")
    pbx.bridge_leave(first, agent)
    pbx.bridge_enter(second, agent)
    _bridge_peers(pbx, one, agent)
    pbx.device_state(f"Queue:{queue.name}", "RINGING")
    pbx.queue_caller_join(queue, two)
    joined = pbx.clock.now()
    pbx.new_connected_line(agent, "", "")
    member = await engine.wait_member(call, queue, timing.queue_timeout)
    if member is None:
        await _consult_nowhere(call, leg, one, two, second)
        return
    consult = ring(
        call, queue, member, two, joined, Variant(ring="E"),
        after_connected=lambda: pbx.new_connected_line(agent, two.exten, ""),
    )
    await _wait_answer(call, member)

    def local_answers() -> None:
        pbx.newstate(one, UP)
        pbx.new_callerid(one, two.exten, "")
        pbx.dial_end(None, one, "ANSWER")
        _bridge_peers(pbx, one, agent)
        pbx.newstate(two, UP)

    connect(call, consult, Variant(member_status_at="after_leave"), before_bridge=local_answers)
    await _wait_transferer_hangup(call, agent, timing.consult)
    _complete_attended(call, leg, consult, one, second)
    await talk_after_attended(call, leg, consult, one)


async def _dial_feature_code(call: Call, agent: Channel, exten: str) -> None:
    """Atxfer plays the `atxfer` feature code (*2) and the extension as DTMF."""
    pbx = call.engine.pbx
    pbx.dtmf_end(agent, "*")
    await call.pause(call.spec.timing.dtmf_gap)
    pbx.dtmf_end(agent, "2")
    await call.pause(call.spec.timing.dtmf_gap)
    pbx.hold(agent, on=True)
    pbx.device_state("PJSIP/trunk", "ONHOLD")
    for digit in exten:
        pbx.dtmf_end(agent, digit)
        await call.pause(call.spec.timing.dtmf_gap)


async def _wait_answer(call: Call, member: Member) -> None:
    if call.spec.auto_answer:
        await call.pause(call.spec.timing.ring)
        return
    while True:
        command = await call.wait(None)
        if isinstance(command, Answer) and command.interface.lower() == member.interface.lower():
            return


async def _wait_transferer_hangup(call: Call, agent: Channel, consult: float) -> None:
    """The consultation lasts until the transferer hangs up (AMI Hangup or after `consult`)."""
    while True:
        command = await call.wait(consult)
        if command is None or (isinstance(command, HangupChannel) and command.channel is agent):
            return


async def _consult_nowhere(
    call: Call, leg: Leg, one: Channel, two: Channel, second: Bridge
) -> None:
    """The consultation target does not exist: the Local pair dies, the operator is back."""
    pbx = call.engine.pbx
    for local in (two, one):
        pbx.hangup(local, cause=1)
    if leg.agent.bridge is second:
        pbx.bridge_leave(second, leg.agent)
    pbx.bridge_destroy(second)
    assert leg.bridge is not None
    if leg.agent.bridge is None:
        pbx.bridge_enter(leg.bridge, leg.agent)
    pbx.hold(leg.agent, on=False)
    caller_hangs_up(call, leg, Variant())


def _complete_attended(call: Call, leg: Leg, consult: Leg, one: Channel, second: Bridge) -> None:
    """The transferer hangs up: the two bridges merge and the caller meets level 2."""
    pbx = call.engine.pbx
    first = leg.bridge
    assert first is not None
    caller, agent = leg.caller, leg.agent
    pbx.bridge_merge(first, second)
    pbx.bridge_leave(second, one)
    pbx.bridge_enter(first, one)
    pbx.set_var(agent, "BRIDGEPEER", "")
    pbx.bridge_leave(second, agent)
    _bridge_peers(pbx, caller, one)
    pbx.attended_transfer_event(agent, first, second, caller, one, orig_count=len(first.channels))
    pbx.new_connected_line(caller, one.caller_num, one.caller_name)
    _complete(pbx, leg, "transfer")
    pbx.new_connected_line(one, caller.caller_num, caller.caller_name)
    pbx.new_connected_line(consult.agent, caller.caller_num, caller.caller_name)
    pbx.device_state("PJSIP/trunk", "INUSE")
    pbx.bridge_destroy(second)
    pbx.hangup(agent)
    free_member(call, leg.queue, leg.member)


async def talk_after_attended(call: Call, leg: Leg, consult: Leg, one: Channel) -> None:
    """The caller and the level-2 operator talk; then the caller hangs up (or L2 does)."""
    pbx = call.engine.pbx
    caller, two = leg.caller, consult.caller
    first, third = leg.bridge, consult.bridge
    assert first is not None and third is not None
    command = await call.wait(call.spec.timing.level2_talk)
    agent_first = isinstance(command, HangupChannel) and command.channel is consult.agent
    if agent_first:
        agent_hangs_up(call, consult)
        pbx.bridge_leave(first, one)
        pbx.hangup(one)
        pbx.bridge_leave(first, caller)
        pbx.bridge_destroy(first)
        pbx.hangup_request(caller, soft=True)
        pbx.hangup(caller)
        call.outcome = "transferred"
        return
    pbx.hangup_request(caller)
    _bridge_peers(pbx, caller, None)
    pbx.bridge_leave(first, caller)
    _answered_times(pbx, caller, leg)
    pbx.hangup_request(caller, soft=True)
    pbx.bridge_leave(first, one)
    pbx.bridge_destroy(first)
    pbx.hangup_request(two)
    pbx.hangup(one)
    _bridge_peers(pbx, two, None)
    pbx.new_callerid(two, caller.caller_num, caller.caller_name)
    _complete(pbx, consult, "caller")
    pbx.bridge_leave(third, two)
    pbx.bridge_leave(third, consult.agent)
    pbx.device_state(f"Local/{two.endpoint}", "NOT_INUSE")
    pbx.bridge_destroy(third)
    _answered_times(pbx, two, consult)
    pbx.hangup_request(two, soft=True)
    pbx.hangup(consult.agent)
    pbx.device_state(consult.member.interface, "NOT_INUSE")
    pbx.hangup(two)
    free_member(call, consult.queue, consult.member)
    pbx.hangup(caller)
    pbx.device_state("PJSIP/trunk", "NOT_INUSE")
    call.outcome = "transferred"


# -- key 1 in the queue: the callback asked from the queue (issue #19) --------------------

QUEUE_EXIT_CONTEXT = "hotline-queue-exit"
QUEUE_CALLBACK_SCRIPT = "queue-callback"


async def offered_callback(call: Call, queue: Queue) -> bool:
    """The caller waits for the offer (the line's `callback_after`, then the prompt) and
    presses 1 — unless an operator is free first (then the call is answered as any other)."""
    spec, engine = call.spec, call.engine
    after = engine.dialplan.line(spec.line).queue.callback_after
    if not after:
        return False  # not offered on this line: the caller simply waits
    deadline = time.monotonic() + engine.pbx.clock.real(after + spec.timing.offer_reaction)
    while time.monotonic() < deadline:
        if any(m.available and (spec.agent is None or m.interface == spec.agent)
               for m in queue.members):
            return False
        await asyncio.sleep(min(0.25, max(0.0, deadline - time.monotonic())))
    return True


async def queue_exit(call: Call, queue: Queue, caller: Channel, joined: float) -> None:
    """queues.conf `context=hotline-queue-exit`: key 1 leaves the queue (QueueCallerLeave, no
    abandon) for `exten 1` there: HOTLINE_QLEFT, AGI(queue-callback) — the service's dialog,
    its UserEvent HotlineQueueCallback from inside the AGI — then Hangup() on SUCCESS; when
    the AGI fails (service down, agi_serve off) the plain-dialplan secretary takes a message.
    The order of events is the one a real Asterisk 22 sent (tests/fixtures/ami/
    queue_callback.jsonl)."""
    pbx = call.engine.pbx
    hold = int(round(pbx.clock.now() - joined))
    pbx.dtmf_end(caller, "1")
    pbx.set_var(caller, "QUEUEWAIT", str(hold))
    pbx.set_var(caller, "QUEUEWAIT_MS", str(hold * 1000))
    pbx.set_var(caller, "QUEUESTATUS", "CONTINUE")
    pbx.device_state(f"Queue:{queue.name}", "NOT_INUSE")
    caller.context, caller.exten, caller.priority = QUEUE_EXIT_CONTEXT, "1", 0
    pbx.queue_caller_leave(queue, caller)
    pbx.set_var(caller, "QUEUEPOSITION", "1")
    pbx.newexten(caller, "NoOp", "callback asked from the queue", priority=1)
    _set(pbx, caller, "HOTLINE_QLEFT", str(int(pbx.clock.now())))
    target = call.engine.agi
    host = target.host if target else "127.0.0.1"
    _set(pbx, caller, "AGIHOST", host)
    pbx.newexten(caller, "AGI", f"agi://{host}:{target.port if target else 4573}/"
                 f"{QUEUE_CALLBACK_SCRIPT},")
    status = "FAILURE"
    if target is not None:
        # The caller confirms their own number (key 1), as in the recorded call.
        status = await run_agi(pbx, caller, target, QUEUE_CALLBACK_SCRIPT, ["1"], call.pause)
    pbx.set_var(caller, "AGISTATUS", status)
    if status == "HANGUP":
        pbx.hangup_request(caller, soft=True)
        pbx.hangup(caller)
        pbx.device_state("PJSIP/trunk", "NOT_INUSE")
        call.outcome = "abandoned"
        return
    pbx.newexten(caller, "GotoIf", f"{int(status == 'SUCCESS')}?done")
    if status != "SUCCESS":
        pbx.newexten(caller, "Goto", "hotline-secretary,s,1")
        caller.context, caller.exten, caller.priority = "hotline-secretary", "s", 1
        await secretary_branch(call, caller)
        return
    pbx.newexten(caller, "Hangup", "", priority=7)
    pbx.hangup_request(caller, soft=True)
    pbx.hangup(caller)
    pbx.device_state("PJSIP/trunk", "NOT_INUSE")
    call.outcome = "queue_callback"


# -- electronic secretary ------------------------------------------------------------------


async def secretary_branch(call: Call, caller: Channel) -> None:
    """After hours: a prompt, Record() of a message, the hangup handler's UserEvent."""
    pbx, spec = call.engine.pbx, call.spec
    message = f"hotline/msg-{caller.uniqueid}"
    pbx.newexten(caller, "Set", f"MSG={message}", priority=caller.priority + 3)
    pbx.set_var(caller, "MSG", message)
    handler = "hotline-msg-done,s,1"
    pbx.newexten(caller, "Set", f"CHANNEL(hangup_handler_push)={handler}")
    pbx.hangup_handler(caller, handler, run=False)
    pbx.newexten(caller, "Playback", "vm-intro")
    await call.pause(spec.timing.prompt)
    pbx.set_var(caller, "PLAYBACKSTATUS", "SUCCESS")
    pbx.newexten(caller, "Record", f"{message}.wav,3,20,k")
    pbx.set_var(caller, "RECORDED_FILE", message)
    started = pbx.clock.now()
    call.recordings.append((f"{message}.wav", started))
    call.ledger.update(msg=f"{message}.wav", msgstart=str(int(started)))
    await call.wait(spec.timing.message)
    recorded = int(round(pbx.clock.now() - started))
    pbx.hangup_request(caller)
    pbx.set_var(caller, "RECORD_STATUS", "HANGUP")
    pbx.hangup_request(caller, soft=True)
    pbx.hangup_handler(caller, handler, run=True)
    place = (caller.context, caller.exten, caller.priority)
    pbx.set_var(caller, "LOCAL(ARGC)", "0")
    body = [
        ("File", f"{message}.wav"),
        ("Line", spec.line),
        ("Caller", caller.caller_num),
        ("Duration", str(recorded)),
    ]
    pbx.newexten(
        caller, "UserEvent",
        "HotlineMessage," + ",".join(f"{k}: {v}" for k, v in body),
        context="hotline-msg-done", exten="s", priority=1,
    )
    pbx.user_event(caller, "HotlineMessage", body)
    pbx.newexten(caller, "Return", "")
    pbx.set_var(caller, "ARGC", "")
    pbx.set_var(caller, "GOSUB_RETVAL", "")
    caller.context, caller.exten, caller.priority = place
    pbx.hangup(caller)
    pbx.device_state("PJSIP/trunk", "NOT_INUSE")
    call.outcome = "message"


# -- callback (Originate) ------------------------------------------------------------------


def originate_channel(call: Call, phone: Phone) -> Channel:
    """The operator's phone leg of an Originate (AppDial2), with the action's variables."""
    pbx, spec = call.engine.pbx, call.spec
    agent = call.own(
        pbx.new_channel(phone.endpoint, state=DOWN, context=OPERATORS_CONTEXT, exten="s")
    )
    pbx.newexten(agent, "AppDial2", "(Outgoing Line)", priority=1)
    for name, value in spec.originate_variables.items():
        pbx.set_var(agent, name, value)
    number, name = spec.originate_callerid
    pbx.new_callerid(agent, number, name)
    pbx.new_connected_line(agent, number, name)
    return agent


def _members_of(engine: CallEngine, interface: str) -> list[tuple[Queue, Member]]:
    found = []
    for queue in engine.pbx.state.queues.values():
        member = queue.member(interface)
        if member is not None:
            found.append((queue, member))
    return found


def _phone_status(call: Call, interface: str, *, ringing: bool, in_call: bool) -> None:
    for queue, member in _members_of(call.engine, interface):
        member.ringing, member.in_call = ringing, in_call
        call.engine.pbx.member_event("QueueMemberStatus", queue, member)


async def callback_flow(call: Call) -> None:
    """Originate of an operator's phone into `callback,<number>`: record, dial the citizen."""
    engine, pbx, spec = call.engine, call.engine.pbx, call.spec
    interface = spec.agent or ""
    phone = engine.dialplan.phone(interface) or Phone(interface, interface)
    agent = originate_channel(call, phone)
    call.caller = agent
    pbx.dial_begin(None, agent, phone.endpoint)
    pbx.newstate(agent, RINGING)
    _phone_status(call, interface, ringing=True, in_call=False)
    pbx.device_state(interface, "RINGING")
    pbx.dial_state(None, agent, "RINGING")
    answered = await _operator_picks_up(call, interface)
    if not answered:
        _originate_failed(call, agent, interface)
        return
    pbx.newstate(agent, UP)
    pbx.dial_end(None, agent, "ANSWER")
    call.picked_up.set_result(True)
    number = spec.originate_exten
    pbx.newexten(
        agent, "NoOp", "callback to citizen", context=CALLBACK_CONTEXT, exten=number, priority=1
    )
    rec = f"hotline/cb-{agent.uniqueid}.wav"
    _set(pbx, agent, "__REC", rec)
    pbx.newexten(agent, "MixMonitor", f"{rec},b")
    pbx.set_var(agent, "MIXMONITOR_FILENAME", f"/var/spool/asterisk/monitor/{rec}")
    _phone_status(call, interface, ringing=False, in_call=True)
    pbx.device_state(interface, "INUSE")
    pbx.mixmonitor_start(agent)
    call.recordings.append((rec, pbx.clock.now()))
    call.bridged_files.add(rec)
    pbx.newexten(agent, "Dial", f"PJSIP/{number}@trunk,30")
    _clear_times(pbx, agent, _DIAL_TIMES)
    if spec.originate_response:
        pbx.originate_response(
            spec.action_id, True, agent.name, CALLBACK_CONTEXT, number, 4, agent.uniqueid,
            spec.originate_callerid,
        )
    await dial_citizen(call, agent, interface, number)


async def _operator_picks_up(call: Call, interface: str) -> bool:
    if call.spec.auto_answer:
        command = await call.wait(call.spec.timing.ring)
        return not isinstance(command, HangupChannel)
    command = await call.wait(30.0)
    return isinstance(command, Answer)


def _originate_failed(call: Call, agent: Channel, interface: str) -> None:
    pbx, spec = call.engine.pbx, call.spec
    pbx.dial_end(None, agent, "NOANSWER")
    pbx.hangup(agent, cause=19)
    _phone_status(call, interface, ringing=False, in_call=False)
    if spec.originate_response:
        pbx.originate_response(
            spec.action_id, False, agent.name, CALLBACK_CONTEXT, spec.originate_exten, 3, "<null>",
            spec.originate_callerid,
        )
    call.outcome = "operator_no_answer"
    call.engine.member_freed()


async def dial_citizen(call: Call, agent: Channel, interface: str, number: str) -> None:
    engine, pbx, spec = call.engine, call.engine.pbx, call.spec
    citizen = call.own(
        pbx.new_channel(
            "trunk", state=DOWN, context=INBOUND_CONTEXT, exten="s", linkedid=agent.linkedid
        )
    )
    pbx.set_var(citizen, "DIALEDPEERNUMBER", f"{number}@trunk")
    pbx.inherit(agent, citizen)
    pbx.newexten(citizen, "AppDial", "(Outgoing Line)", exten=number, priority=1)
    cid_num, cid_name = spec.originate_callerid
    pbx.new_callerid(citizen, number, cid_name)
    pbx.new_connected_line(citizen, cid_num, cid_name)
    pbx.dial_begin(agent, citizen, f"{number}@trunk")
    pbx.new_connected_line(agent, number, cid_name)
    pbx.set_var(agent, "RINGTIME", "0")
    pbx.dial_state(agent, citizen, "RINGING")
    pbx.newstate(citizen, RINGING)
    pbx.device_state("PJSIP/trunk", "RINGING")
    command = await call.wait(spec.timing.citizen_answer if spec.citizen_answers else 30.0)
    if not spec.citizen_answers or isinstance(command, HangupChannel):
        _citizen_no_answer(call, agent, citizen, interface)
        return
    answered = pbx.clock.now()
    call.first_bridge = answered
    pbx.newstate(citizen, UP)
    pbx.set_var(agent, "DIALSTATUS", "ANSWER")
    citizen.exten = ""
    pbx.dial_end(agent, citizen, "ANSWER")
    bridge = pbx.bridge_create()
    pbx.bridge_enter(bridge, citizen)
    pbx.device_state("PJSIP/trunk", "INUSE")
    pbx.bridge_enter(bridge, agent)
    _bridge_peers(pbx, citizen, agent)
    command = await call.wait(spec.timing.talk)
    operator_first = isinstance(command, HangupChannel) and command.channel is agent
    first, second = (agent, citizen) if operator_first else (citizen, agent)
    pbx.hangup_request(first)
    _bridge_peers(pbx, first, None)
    _bridge_peers(pbx, second, None)
    pbx.bridge_leave(bridge, first)
    pbx.bridge_leave(bridge, second)
    pbx.bridge_destroy(bridge)
    talk = pbx.clock.now() - answered
    pbx.set_var(agent, "ANSWEREDTIME", str(int(talk)))
    pbx.hangup_request(second, soft=True)
    pbx.hangup(citizen)
    pbx.hangup(agent)
    pbx.device_state("PJSIP/trunk", "NOT_INUSE")
    _phone_status(call, interface, ringing=False, in_call=False)
    pbx.device_state(interface, "NOT_INUSE")
    engine.member_freed()
    call.outcome = "callback_completed"


def _citizen_no_answer(call: Call, agent: Channel, citizen: Channel, interface: str) -> None:
    pbx = call.engine.pbx
    pbx.dial_end(agent, citizen, "NOANSWER")
    pbx.hangup(citizen, cause=19)
    pbx.set_var(agent, "DIALSTATUS", "NOANSWER")
    pbx.hangup_request(agent, soft=True)
    pbx.hangup(agent)
    _phone_status(call, interface, ringing=False, in_call=False)
    call.engine.member_freed()
    call.outcome = "citizen_no_answer"


# -- supervision (ChanSpy) -------------------------------------------------------------------

# Between the leg's arrival in hotline-spy (or a Redirect there) and ChanSpy attaching: the
# recorded Asterisk 22 took about a tenth of a second.
SPY_ATTACH = 0.1


def _spied_channel(call: Call) -> Channel | None:
    """`ChanSpy(${HOTLINE_SPY_TARGET},...)`: the live channel named (a prefix, as ChanSpy
    takes it), or None when there is nothing to spy on."""
    leg = call.caller
    wanted = (leg.variables.get(SPY_TARGET_VARIABLE, "") if leg else "").lower()
    if not wanted:
        return None
    channels = call.engine.pbx.state.channels.values()
    exact = [c for c in channels if c.name.lower() == wanted]
    found = exact or [c for c in channels if c.name.lower().startswith(wanted)]
    return found[0] if found and not found[0].hungup else None


async def _spy_in(call: Call, leg: Channel, mode: str) -> Channel | None:
    """The leg runs `hotline-spy,<mode>`: ExecIf, ChanSpy with the mode's options, and
    ChanSpyStart on the operator's channel; None (and the leg hangs up) when it is gone."""
    pbx = call.engine.pbx
    pbx.newexten(leg, "ExecIf", f'$["{leg.variables.get(SPY_TARGET_VARIABLE, "")}" = ""]?Hangup()',
                 context=SPY_CONTEXT, exten=mode, priority=1)
    await call.pause(SPY_ATTACH)
    target = leg.variables.get(SPY_TARGET_VARIABLE, "")
    pbx.newexten(leg, "ChanSpy", f"{target},{SPY_MODES[mode]}", priority=2)  # type: ignore[index]
    spied = _spied_channel(call)
    call.spied = spied
    if spied is None:
        _spy_leg_ends(call, leg, None)
        return None
    pbx.chanspy(True, leg, spied)
    return spied


def _spy_leg_ends(call: Call, leg: Channel, spied: Channel | None) -> None:
    """ChanSpy returned (nothing left to spy on): `same => n,Hangup()`."""
    pbx = call.engine.pbx
    if spied is not None:
        pbx.chanspy(False, leg, spied)
    pbx.newexten(leg, "Hangup", "", priority=3)
    pbx.hangup_request(leg, soft=True)
    pbx.hangup(leg)
    call.spied = None
    call.outcome = "supervision_ended"


async def spy_flow(call: Call) -> None:
    """A supervisor's ChanSpy leg (`_spy_flow`), known to the engine while it runs."""
    call.engine.spies.add(call)
    try:
        await _spy_flow(call)
    finally:
        call.engine.spies.discard(call)


async def _spy_flow(call: Call) -> None:
    """Originate of a supervisor's phone into `hotline-spy,<mode>`, as Asterisk 22 played it
    (tests/fixtures/ami/supervision.jsonl): the phone's leg (its own Linkedid, never
    bridged) rings and answers, ChanSpy attaches to the operator's channel; a Redirect to
    another mode's extension stops and starts it again; an AMI Hangup, or the spied-on
    channel hanging up, ends it."""
    engine, pbx, spec = call.engine, call.engine.pbx, call.spec
    interface = spec.agent or ""
    phone = engine.dialplan.endpoint(interface) or Phone(interface, interface)
    leg = call.own(pbx.new_channel(
        phone.endpoint, state=DOWN, context=OPERATORS_CONTEXT, exten="s",
        caller=phone.endpoint_callerid or (phone.endpoint, phone.endpoint),
        uniqueid=spec.channel_id, language="en",
    ))
    call.caller = leg
    leg.language = "ru"
    pbx.newexten(leg, "AppDial2", "(Outgoing Line)", priority=1)
    for name, value in spec.originate_variables.items():
        pbx.set_var(leg, name, value)
    number, name = spec.originate_callerid
    pbx.new_callerid(leg, number, name)
    pbx.new_connected_line(leg, number, name)
    pbx.dial_begin(None, leg, phone.endpoint)
    mode = spec.originate_exten
    call.awaiting_answer = interface
    answered = await _operator_picks_up(call, interface)
    call.awaiting_answer = None
    if not answered:
        pbx.dial_end(None, leg, "NOANSWER")
        pbx.hangup(leg, cause=19)
        if spec.originate_response:
            pbx.originate_response(spec.action_id, False, leg.name, SPY_CONTEXT, mode, 3,
                                   "<null>", spec.originate_callerid)
        call.outcome = "supervisor_no_answer"
        return
    pbx.newstate(leg, UP)
    if spec.originate_response:
        pbx.originate_response(spec.action_id, True, leg.name, SPY_CONTEXT, mode, 4,
                               leg.uniqueid, spec.originate_callerid, channel=leg)
    pbx.dial_end(None, leg, "ANSWER")
    call.picked_up.set_result(True)
    spied = await _spy_in(call, leg, mode)
    while spied is not None:
        command = await call.wait(None)
        if isinstance(command, Redirect) and command.channel is leg:
            if command.context != SPY_CONTEXT or command.exten not in SPY_MODES:
                log.info("sim_spy_redirect_ignored", context=command.context, exten=command.exten)
                continue
            pbx.chanspy(False, leg, spied)
            spied = await _spy_in(call, leg, command.exten)
        elif isinstance(command, HangupChannel) and command.channel is leg:
            pbx.chanspy(False, leg, spied)
            pbx.hangup_request(leg, command.cause, soft=True)
            pbx.hangup(leg, command.cause)
            call.spied = None
            call.outcome = "supervision_ended"
            return
        elif isinstance(command, SpiedGone) and command.channel is spied:
            await call.pause(SPY_ATTACH)
            _spy_leg_ends(call, leg, spied)
            return
