"""The simulated Asterisk core: every change to the model emits the AMI events it causes.

Methods are named after what Asterisk does (a channel is created, a variable set, a bridge
entered) and each emits exactly the events Asterisk 22 emits for it, in its field order. Call
flows (`calls.py`) string them together in the order the real transcripts show.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hotline.sim import render
from hotline.sim.model import (
    DOWN,
    Bridge,
    Channel,
    Member,
    PbxState,
    Queue,
    SimClock,
)
from hotline.sim.render import event, snapshot
from hotline.sim.wire import Headers

EventSink = Callable[[Headers], None]

CAUSE_TEXT = {
    0: "Unknown",
    1: "Unallocated (unassigned) number",
    16: "Normal Clearing",
    17: "User busy",
    19: "No user responding",
    21: "Call Rejected",
}


class Pbx:
    """Owns the model and emits events to one sink (the AMI server fans them out)."""

    def __init__(
        self, clock: SimClock, sink: EventSink, channelvars: Sequence[str] = ("HOTLINE_ID",)
    ) -> None:
        self.clock = clock
        self.state = PbxState()
        self.channelvars = tuple(channelvars)
        self._sink = sink
        # Called with each channel that hangs up (a ChanSpy leg notices its spied-on channel go).
        self.hangup_hooks: list[Callable[[Channel], None]] = []
        now = clock.now()
        self.state.started = now
        self.state.reloaded = now

    # -- plumbing -----------------------------------------------------------------------

    def emit(self, headers: Headers) -> None:
        self._sink(headers)

    def snap(self, channel: Channel, prefix: str = "") -> Headers:
        return snapshot(channel, self.channelvars, prefix)

    def _channel_event(self, name: str, privilege: str, channel: Channel, *tail: Headers) -> None:
        self.emit(event(name, privilege, self.snap(channel), *tail))

    def _uniqueid(self) -> str:
        return f"{int(self.clock.now())}.{self.state.counters.next_unique()}"

    # -- channels -----------------------------------------------------------------------

    def new_channel(
        self,
        endpoint: str,
        *,
        state: int,
        context: str,
        exten: str,
        linkedid: str | None = None,
        caller: tuple[str, str] = ("", ""),
        uniqueid: str | None = None,
        language: str = "ru",
    ) -> Channel:
        """A PJSIP channel `PJSIP/<endpoint>-<hex counter>`; emits Newchannel. `uniqueid`: an
        Originate's ChannelId (its Linkedid too); `language`: what Newchannel shows (an
        originated channel says "en" until the endpoint's own language is applied)."""
        seq = self.state.counters.next_tech("PJSIP")
        uniqueid = uniqueid or self._uniqueid()
        channel = Channel(
            name=f"PJSIP/{endpoint}-{seq:08x}",
            uniqueid=uniqueid,
            linkedid=linkedid or uniqueid,
            endpoint=endpoint,
            state=state,
            context=context,
            exten=exten,
            caller_num=caller[0],
            caller_name=caller[1],
            created=self.clock.now(),
            language=language,
        )
        self.state.add_channel(channel)
        self._channel_event("Newchannel", "call", channel)
        return channel

    def new_local_pair(self, exten: str, context: str, linkedid: str) -> tuple[Channel, Channel]:
        """`Local/<exten>@<context>-<counter>;1` and `;2`; emits both Newchannel events."""
        seq = self.state.counters.next_tech("Local")
        base = f"Local/{exten}@{context}-{seq:08x}"
        pair = []
        for half, state in ((1, DOWN), (2, 4)):
            channel = Channel(
                name=f"{base};{half}",
                uniqueid=self._uniqueid(),
                linkedid=linkedid,
                endpoint=f"{exten}@{context}",
                state=state,
                context=context,
                exten=exten,
                created=self.clock.now(),
            )
            self.state.add_channel(channel)
            pair.append(channel)
        for channel in pair:
            self._channel_event("Newchannel", "call", channel)
        return pair[0], pair[1]

    def set_var(self, channel: Channel, name: str, value: str) -> None:
        """Set(name=value): `__NAME` is inherited forever, `_NAME` one level; emits VarSet."""
        bare = name.lstrip("_")
        channel.variables[bare] = value
        if name.startswith("_"):
            channel.inheritable = [(n, v) for n, v in channel.inheritable if n.lstrip("_") != bare]
            channel.inheritable.insert(0, (name, value))
        self._channel_event("VarSet", "dialplan", channel, [("Variable", name), ("Value", value)])

    def inherit(self, parent: Channel, child: Channel) -> None:
        """Copy the parent's inheritable variables to a channel it dials (VarSet each)."""
        for name, value in list(parent.inheritable):
            kept = name if name.startswith("__") else name[1:]
            self.set_var(child, kept, value)

    def newexten(
        self,
        channel: Channel,
        application: str,
        data: str,
        *,
        priority: int | None = None,
        exten: str | None = None,
        context: str | None = None,
    ) -> None:
        """The channel runs the next dialplan priority; emits Newexten."""
        if context is not None:
            channel.context = context
        if exten is not None:
            channel.exten = exten
        channel.priority = priority if priority is not None else channel.priority + 1
        channel.application, channel.app_data = application, data
        self._channel_event(
            "Newexten",
            "dialplan",
            channel,
            [("Extension", channel.exten), ("Application", application), ("AppData", data)],
        )

    def set_app(self, channel: Channel, application: str, data: str) -> None:
        """What `CoreShowChannels`/`Status` report as the running application (no event)."""
        channel.application, channel.app_data = application, data

    def newstate(self, channel: Channel, state: int) -> None:
        channel.state = state
        self._channel_event("Newstate", "call", channel)

    def new_callerid(self, channel: Channel, number: str, name: str = "") -> None:
        channel.caller_num, channel.caller_name = number, name
        self._channel_event(
            "NewCallerid",
            "call",
            channel,
            [("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")],
        )

    def new_connected_line(self, channel: Channel, number: str, name: str = "") -> None:
        channel.connected_num, channel.connected_name = number, name
        self._channel_event("NewConnectedLine", "call", channel)

    def device_state(self, device: str, state: str) -> None:
        self.emit(
            [
                ("Event", "DeviceStateChange"),
                ("Privilege", "call,all"),
                ("Device", device),
                ("State", state),
            ]
        )

    def hangup_request(self, channel: Channel, cause: int = 16, soft: bool = False) -> None:
        name = "SoftHangupRequest" if soft else "HangupRequest"
        self._channel_event(name, "call", channel, [("Cause", str(cause))])

    def hangup(self, channel: Channel, cause: int = 16) -> None:
        """The channel is gone; emits Hangup and forgets it."""
        if channel.hungup:
            return
        channel.hungup = True
        # Asterisk runs the pushed handlers (the ledger line, a message's UserEvent) first.
        while channel.hangup_handlers:
            self.hangup_handler(channel, channel.hangup_handlers.pop(0), run=True)
        self.state.remove_channel(channel)
        self._channel_event(
            "Hangup",
            "call",
            channel,
            [("Cause", str(cause)), ("Cause-txt", CAUSE_TEXT.get(cause, "Unknown"))],
        )
        for hook in self.hangup_hooks:
            hook(channel)

    # -- ChanSpy ------------------------------------------------------------------------

    def chanspy(self, started: bool, spyer: Channel, spyee: Channel) -> None:
        """ChanSpyStart / ChanSpyStop: the spying leg's snapshot, then the spied-on one's."""
        name = "ChanSpyStart" if started else "ChanSpyStop"
        self.emit(event(name, "call", self.snap(spyer, "Spyer"), self.snap(spyee, "Spyee")))

    def mixmonitor_start(self, channel: Channel) -> None:
        self._channel_event("MixMonitorStart", "call", channel)

    def hold(self, channel: Channel, on: bool) -> None:
        self._channel_event("Hold" if on else "Unhold", "call", channel)

    def dtmf_end(self, channel: Channel, digit: str) -> None:
        self.emit(
            event(
                "DTMFEnd",
                "dtmf",
                self.snap(channel),
                [("Digit", digit), ("DurationMs", "0"), ("Direction", "Received")],
            )
        )

    def push_hangup_handler(self, channel: Channel, handler: str) -> None:
        """Set(CHANNEL(hangup_handler_push)=...): announced now, run (once) at Hangup."""
        channel.hangup_handlers.insert(0, handler)
        self.hangup_handler(channel, handler, run=False)

    def hangup_handler(self, channel: Channel, handler: str, run: bool) -> None:
        name = "HangupHandlerRun" if run else "HangupHandlerPush"
        self._channel_event(name, "dialplan", channel, [("Handler", handler)])

    def user_event(self, channel: Channel, name: str, body: Headers) -> None:
        self.emit(event("UserEvent", "user", self.snap(channel), [("UserEvent", name)], body))

    # -- dialing ------------------------------------------------------------------------

    def _dial(self, name: str, caller: Channel | None, dest: Channel, tail: Headers) -> None:
        parts = [self.snap(caller)] if caller is not None else []
        self.emit(event(name, "call", *parts, self.snap(dest, "Dest"), tail))

    def dial_begin(self, caller: Channel | None, dest: Channel, dialstring: str) -> None:
        self._dial("DialBegin", caller, dest, [("DialString", dialstring)])

    def dial_state(self, caller: Channel | None, dest: Channel, status: str) -> None:
        self._dial("DialState", caller, dest, [("DialStatus", status)])

    def dial_end(self, caller: Channel | None, dest: Channel, status: str) -> None:
        self._dial("DialEnd", caller, dest, [("DialStatus", status)])

    # -- queues -------------------------------------------------------------------------

    def queue_caller_join(self, queue: Queue, caller: Channel) -> int:
        queue.callers.append(caller)
        position = len(queue.callers)
        self._channel_event(
            "QueueCallerJoin",
            "agent",
            caller,
            [("Queue", queue.name), ("Position", str(position)), ("Count", str(position))],
        )
        return position

    def queue_caller_leave(self, queue: Queue, caller: Channel) -> None:
        position = queue.callers.index(caller) + 1 if caller in queue.callers else 1
        if caller in queue.callers:
            queue.callers.remove(caller)
        self._channel_event(
            "QueueCallerLeave",
            "agent",
            caller,
            [
                ("Queue", queue.name),
                ("Position", str(position)),
                ("Count", str(len(queue.callers))),
            ],
        )

    def queue_caller_abandon(self, queue: Queue, caller: Channel, holdtime: int) -> None:
        position = queue.callers.index(caller) + 1 if caller in queue.callers else 1
        queue.abandoned += 1
        self._channel_event(
            "QueueCallerAbandon",
            "agent",
            caller,
            [
                ("Queue", queue.name),
                ("Position", str(position)),
                ("OriginalPosition", str(position)),
                ("HoldTime", str(holdtime)),
            ],
        )

    def _agent_event(
        self,
        name: str,
        queue: Queue,
        member: Member,
        caller: Channel,
        agent: Channel,
        tail: Headers,
    ) -> None:
        self.emit(
            event(
                name,
                "agent",
                self.snap(caller),
                self.snap(agent, "Dest"),
                [
                    ("Queue", queue.name),
                    ("Interface", member.interface),
                    ("MemberName", member.name),
                ],
                tail,
            )
        )

    def agent_called(self, queue: Queue, member: Member, caller: Channel, agent: Channel) -> None:
        self._agent_event("AgentCalled", queue, member, caller, agent, [])

    def agent_connect(
        self, queue: Queue, member: Member, caller: Channel, agent: Channel, hold: int, ring: int
    ) -> None:
        tail = [("HoldTime", str(hold)), ("RingTime", str(ring))]
        self._agent_event("AgentConnect", queue, member, caller, agent, tail)

    def agent_complete(
        self,
        queue: Queue,
        member: Member,
        caller: Channel,
        agent: Channel,
        hold: int,
        talk: int,
        reason: str,
    ) -> None:
        queue.completed += 1
        queue.talktime = talk
        tail = [("HoldTime", str(hold)), ("TalkTime", str(talk)), ("Reason", reason)]
        self._agent_event("AgentComplete", queue, member, caller, agent, tail)

    def member_event(self, name: str, queue: Queue, member: Member) -> None:
        """QueueMemberStatus, QueueMemberAdded, QueueMemberRemoved, QueueMemberPause."""
        self.emit(event(name, "agent", render.member_block(queue, member)))

    def pause_member(self, queue: Queue, member: Member, paused: bool, reason: str) -> None:
        """app_queue's set_queue_member_pause (QueuePause, PauseQueueMember from a phone key).

        LastPause moves on every pause; an unpause with a reason shows that reason in its
        QueueMemberPause only, then clears it. The member's pause is also a custom device
        `Queue:<queue>_pause_<interface>` (INUSE while paused), changed only on a change.
        """
        changed = member.paused != paused
        member.paused = paused
        if paused:
            member.last_pause = int(self.clock.now())
        member.paused_reason = reason
        self.member_event("QueueMemberPause", queue, member)
        if not paused:
            member.paused_reason = ""
        if changed:
            state = "INUSE" if paused else "NOT_INUSE"
            self.device_state(f"Queue:{queue.name}_pause_{member.interface}", state)

    def set_reachable(self, members: list[tuple[Queue, Member]], interface: str,
                      reachable: bool) -> None:
        """A phone registers again or loses its registration: QueueMemberStatus in each of
        its queues (Status 5 = unavailable, 1 = not in use) and its DeviceStateChange."""
        for queue, member in members:
            member.unreachable = not reachable
            self.member_event("QueueMemberStatus", queue, member)
        self.device_state(interface, "NOT_INUSE" if reachable else "UNAVAILABLE")

    # -- bridges ------------------------------------------------------------------------

    def _bridge_event(self, name: str, bridge: Bridge, channel: Channel | None = None) -> None:
        parts = [render.bridge_block(bridge)]
        if channel is not None:
            parts.append(self.snap(channel))
        self.emit(event(name, "call", *parts))

    def bridge_create(self) -> Bridge:
        bridge = Bridge()
        self._bridge_event("BridgeCreate", bridge)
        return bridge

    def bridge_enter(self, bridge: Bridge, channel: Channel) -> None:
        bridge.channels.append(channel)
        channel.bridge = bridge
        self._bridge_event("BridgeEnter", bridge, channel)

    def bridge_leave(self, bridge: Bridge, channel: Channel) -> None:
        if channel in bridge.channels:
            bridge.channels.remove(channel)
        channel.bridge = None
        self._bridge_event("BridgeLeave", bridge, channel)

    def bridge_destroy(self, bridge: Bridge) -> None:
        self._bridge_event("BridgeDestroy", bridge)

    def bridge_merge(self, into: Bridge, source: Bridge) -> None:
        self.emit(
            event(
                "BridgeMerge",
                "call",
                render.bridge_block(into, "To"),
                render.bridge_block(source, "From"),
            )
        )

    def local_bridge(self, one: Channel, two: Channel) -> None:
        self.emit(
            event(
                "LocalBridge",
                "call",
                self.snap(one, "LocalOne"),
                self.snap(two, "LocalTwo"),
                [("Context", one.context), ("Exten", one.exten), ("LocalOptimization", "Yes")],
            )
        )

    # -- transfers and originate ----------------------------------------------------------

    def blind_transfer_event(
        self, transferer: Channel, transferee: Channel, bridge: Bridge, context: str, exten: str,
        external: bool,
    ) -> None:
        self.emit(
            event(
                "BlindTransfer",
                "call",
                [("Result", "Success")],
                self.snap(transferer, "Transferer"),
                self.snap(transferee, "Transferee"),
                render.bridge_block(bridge),
                [
                    ("IsExternal", "Yes" if external else "No"),
                    ("Context", context),
                    ("Extension", exten),
                ],
            )
        )

    def attended_transfer_event(
        self,
        transferer: Channel,
        orig_bridge: Bridge,
        second_bridge: Bridge,
        transferee: Channel,
        target: Channel,
        orig_count: int,
    ) -> None:
        self.emit(
            event(
                "AttendedTransfer",
                "call",
                [("Result", "Success")],
                self.snap(transferer, "OrigTransferer"),
                render.bridge_block(orig_bridge, "Orig", count=orig_count),
                self.snap(transferer, "SecondTransferer"),
                render.bridge_block(second_bridge, "Second", count=0),
                self.snap(transferee, "Transferee"),
                self.snap(target, "TransferTarget"),
                [
                    ("IsExternal", "No"),
                    ("DestType", "Bridge"),
                    ("DestBridgeUniqueid", orig_bridge.uniqueid),
                ],
            )
        )

    def originate_response(
        self,
        action_id: str | None,
        success: bool,
        channel_name: str,
        context: str,
        exten: str,
        reason: int,
        uniqueid: str,
        caller: tuple[str, str],
        channel: Channel | None = None,
    ) -> None:
        """`channel`: the originated channel, whose channelvars Asterisk 22 appends as
        `ChanVariable(<channel name>): NAME=value`."""
        headers: Headers = [("Event", "OriginateResponse"), ("Privilege", "call,all")]
        if action_id is not None:
            headers.append(("ActionID", action_id))
        headers += [
            ("Response", "Success" if success else "Failure"),
            ("Channel", channel_name),
            ("Context", context),
            ("Exten", exten),
            ("Reason", str(reason)),
            ("Uniqueid", uniqueid),
            ("CallerIDNum", caller[0] or render.UNKNOWN),
            ("CallerIDName", caller[1] or render.UNKNOWN),
        ]
        if channel is not None:
            headers += [(f"ChanVariable({channel.name})", f"{name}={channel.variables.get(name, '')}")
                        for name in self.channelvars]
        self.emit(headers)
