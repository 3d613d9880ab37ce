"""The call tracker: AMI events in, domain events and call snapshots out.

Pure: no I/O, no clock reads, no logging. The caller passes each AMI message with the time it
arrived and gets back the domain events (hotline/pbx/events.py) that message caused; odd input
is counted in `stats` and described in `problems` for the caller to log, never raised.

How a call is followed
----------------------
Every channel Asterisk announces (`Newchannel`) gets a record. A channel belongs to a call:
the call of its inherited `HOTLINE_ID` variable when the PBX exports it, else the call of its
`Linkedid` (a queue's operator leg, a Local channel pair, the callback's citizen leg all carry
the linkedid of the channel that caused them), else a new candidate call of its own.
A candidate becomes a hotline call, and `CallArrived` is reported, only when it shows it is one:
- inbound (`in`): the inbound dialplan set `HOTLINE_LINE`/`HOTLINE_ID`, the root channel joined
  a queue, or the secretary's `HotlineMessage` user event came;
- callback (`out`): the service's Originate set `HOTLINE_CARD`, or the channel entered the
  callback context (whose extension is the citizen's number);
- survey (`out`, a survey of the citizen on a card's result): the Originate set
  `HOTLINE_SURVEY_CARD`, or the channel entered the survey context (the citizen answered;
  its extension is the citizen's number).
Candidates that never qualify (operators calling each other) vanish silently at hangup.

A supervisor's listening leg (ChanSpy, `hotline.pbx.spy`) carries `HOTLINE_SPY` = the key of
the call it listens to. It stays a candidate of its own that never qualifies (no new call),
and is never a channel, an operator or a transfer of that call: the call only gets a
listener (`CallSnapshot.listeners`) and the Supervision* events, from `ChanSpyStart` (its
`SpyerExten` is the mode), a later `ChanSpyStart` in another mode (switched) and the leg's
`Hangup` or the call's end (ended). `ChanSpyStop` alone ends nothing: a switch of mode is a
Stop and a Start on the same leg.

The call key (`call_id`) is `HOTLINE_ID` when known before the call is reported, else the first
linkedid seen. When Asterisk changes a channel's linkedid (bridging adopts the oldest one, e.g.
in attended transfers), the new linkedid becomes an alias of the same call and a candidate
call that owned it is merged in; the key never changes.

A call's recording is reported at `MixMonitorStart`, with the file the dialplan named in
`REC`. A call whose recording started while the tracker was not listening (first seen in a
resynchronisation snapshot, after a takeover of the link or a reconnect) has it reported from
the snapshot's exported `REC`; either way once per file.

A call ends when its last channel hangs up; `reconcile()` ends calls whose channels vanished
while the AMI connection was down.
"""

from __future__ import annotations

import dataclasses

from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeAlias

from hotline.pbx import callerid
from hotline.pbx.ami.message import AmiMessage
from hotline.pbx.events import (
    CallAbandoned,
    CallArrived,
    CallbackAnswered,
    CallbackPlaced,
    CallEnded,
    CallQueued,
    CallSnapshot,
    CallState,
    CallTransferred,
    Direction,
    DomainEvent,
    OperatorAnswered,
    OperatorRinging,
    Outcome,
    RecordingStarted,
    RingNoAnswer,
    SecretaryMessage,
    Listener,
    SupervisionEnded,
    SupervisionMode,
    SupervisionStarted,
    SupervisionSwitched,
    TransferKind,
)
from hotline.pbx.callkeys import MAIN as MAIN_PBX
from hotline.pbx.callkeys import key_prefix
from hotline.pbx.spy import SPY_MODES, SPY_VARIABLE

# Channel variables set by the hotline's dialplan or by the service (names without the `_`/`__`
# inheritance prefixes).
VAR_ID = "HOTLINE_ID"
VAR_LINE = "HOTLINE_LINE"
VAR_ORG = "HOTLINE_ORG"
CARD_VARIABLES = ("HOTLINE_CARD", "HOTLINE_CARD_ID")
# The card a survey call asks about (set by the service's Originate, like HOTLINE_CARD).
SURVEY_CARD_VARIABLE = "HOTLINE_SURVEY_CARD"
# The dialplan names the MixMonitor file in a variable before starting it; MixMonitorStart
# itself carries no file name.
RECORDING_VARIABLES = ("HOTLINE_REC", "REC")
MESSAGE_USER_EVENT = "HotlineMessage"
# The FastAGI `queue-callback` script: the citizen pressed 1 in the queue and settled the
# number to be called back on (hotline.ivr.queue_callback); the call ends «queue_callback».
QUEUE_CALLBACK_USER_EVENT = "HotlineQueueCallback"
DEFAULT_CALLBACK_CONTEXT = "callback"
DEFAULT_SURVEY_CONTEXT = "hotline-survey"

# Values Asterisk uses for "nothing here".
_NULLS = frozenset({"", "<null>", "<unknown>", "(null)"})
# Events that only move a channel through its dialplan: while a fresh inbound call is in them,
# the tracker waits for HOTLINE_ORG before reporting the call.
_DIALPLAN_STEPS = frozenset({"varset", "newexten"})
# Known events that say nothing the tracker needs (besides refreshing the channel snapshot).
_NOISE = frozenset(
    name.lower()
    for name in (
        "AgentComplete", "AgentDump", "AgentLogin", "AgentLogoff", "AOC-D", "AOC-E", "AOC-S",
        "BridgeCreate", "BridgeDestroy", "BridgeEnter", "BridgeInfoChannel",
        "BridgeInfoComplete", "BridgeLeave", "BridgeMerge", "BridgeVideoSourceUpdate",
        "Cdr", "CEL", "ChallengeResponseFailed", "ChallengeSent", "ContactStatus",
        "CoreShowChannelMapComplete", "CoreShowChannelsComplete", "DBGetComplete",
        "DBGetResponse", "DeviceStateChange", "DialState", "DTMFBegin", "DTMFEnd",
        "ExtensionStatus", "FullyBooted", "HangupHandlerPop", "HangupHandlerPush",
        "HangupHandlerRun", "HangupRequest", "Hold", "InvalidAccountID", "InvalidPassword",
        "LocalBridge", "LocalOptimizationBegin", "LocalOptimizationEnd", "MixMonitorMute",
        "MixMonitorStop", "MusicOnHoldStart", "MusicOnHoldStop", "NewAccountCode",
        "NewCallerid", "NewConnectedLine", "Newstate", "PeerStatus", "QueueCallerLeave",
        "QueueMember", "QueueMemberAdded", "QueueMemberPause", "QueueMemberPenalty",
        "QueueMemberRemoved", "QueueMemberRinginuse", "QueueMemberStatus", "QueueParams",
        "QueueStatusComplete", "Registry", "Reload", "RequestBadFormat",
        "RTCPReceived", "RTCPSent", "Shutdown", "SoftHangupRequest", "StatusComplete",
        "SuccessfulAuth", "Unhold", "VarSet", "Newexten",
    )
)
# Answers to the resynchronisation actions: they describe live channels, so an unknown
# channel in them is created rather than counted as an orphan.
_RESYNC = frozenset({"coreshowchannel", "status", "queueentry"})
_PROBLEMS_KEPT = 1000
_ENDED_KEPT = 1000
_GONE_KEPT = 10000

Headers = Mapping[str, Any]
"""An AMI message's headers by lowercased name (a repeated header: a list or a tuple)."""


@dataclass
class TrackerStats:
    """Counters for metrics and logs. `orphans`: events about channels never seen (typically
    after a restart of this service); `late`: events about channels already hung up;
    `internal_errors`: bugs caught by the last-resort guard in `feed` (should stay 0)."""

    messages: int = 0
    events: int = 0
    responses: int = 0
    ignored: int = 0
    unknown: int = 0
    orphans: int = 0
    late: int = 0
    malformed: int = 0
    emitted: int = 0
    internal_errors: int = 0


@dataclass(eq=False)
class _Channel:
    """One Asterisk channel (one leg) as last seen."""

    uniqueid: str
    name: str
    linkedid: str
    call: _Call
    caller_number: str | None = None
    caller_name: str | None = None
    caller_id_original: dict[str, str] | None = None  # as sent, when cleaning changed it
    context: str = ""
    exten: str = ""
    first_exten: str = ""
    dnid: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    interface: str | None = None  # set when a queue dialed this leg for an operator
    member_name: str | None = None
    agent_queue: str | None = None  # the queue that dialed this leg
    waiting_in: str | None = None  # the queue this channel waits in as a caller
    last_queue: str | None = None
    answered_by: str | None = None  # uniqueid of the operator leg that answered it
    mixmonitor_file: str | None = None
    application: str = ""
    bridge_id: str = ""
    resync_generation: int = -1
    # The last event's caller id and ChanVariable headers as sent: the shipped manager.conf
    # puts the channel variables on every event, mostly unchanged, so an unchanged header
    # (its effects already applied) is not parsed and cleaned again.
    seen_number: object = None
    seen_name: object = None
    seen_variables: object = None


@dataclass(eq=False)
class _Spy:
    """A supervisor's listening leg (ChanSpy) and the call it listens to."""

    uniqueid: str
    call_key: str
    channel: str
    interface: str | None
    mode: SupervisionMode | None = None
    joined_at: datetime | None = None
    operator: str | None = None


@dataclass(eq=False)
class _Call:
    """Mutable state of one call; `CallSnapshot` is its frozen view."""

    key: str
    started_at: datetime
    channels: dict[str, _Channel] = field(default_factory=dict)
    linkedids: set[str] = field(default_factory=set)
    hotline_ids: set[str] = field(default_factory=set)
    direction: Direction | None = None
    announced: bool = False
    resumed: bool = False
    primary: str | None = None  # uniqueid of the root channel, fixed when reported
    citizen_leg: str | None = None  # callbacks: the leg that dials the citizen
    line: str | None = None
    organization: str | None = None
    caller_number: str | None = None
    caller_name: str | None = None
    card_id: str | None = None
    state: CallState = "ivr"
    queue: str | None = None
    queued_ever: bool = False
    queue_callback: bool = False  # left the queue asking to be called back (key 1)
    operators: list[str] = field(default_factory=list)
    current_operator: str | None = None
    consult_queue: str | None = None
    consult_operator: str | None = None
    transfers: list[CallTransferred] = field(default_factory=list)
    pending_transfer: CallTransferred | None = None
    recordings: list[str] = field(default_factory=list)
    recording_reported: bool = False
    message_file: str | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    outcome: Outcome | None = None
    callback_answered: bool = False
    survey: bool = False
    citizen_cause: tuple[int | None, str | None] | None = None
    last_cause: tuple[int | None, str | None] | None = None
    spies: dict[str, _Spy] = field(default_factory=dict)  # listening legs by uniqueid


Leg: TypeAlias = _Channel | None
# Events that are about one channel and name it by Uniqueid (transfers name theirs by
# Transferer/Transferee…, an originate's Dial* only its Dest… leg, UserEvent and
# OriginateResponse may stand alone).
_CHANNEL_EVENTS = frozenset({
    "newchannel", "newexten", "varset", "queuecallerjoin", "queuecallerleave",
    "queuecallerabandon", "agentcalled", "agentringnoanswer", "agentconnect",
    "mixmonitorstart", "hangup", "rename", "coreshowchannel", "status", "queueentry",
})
"""The channel an AMI event is about, if it names one the tracker knows."""
Out: TypeAlias = list[DomainEvent]
"""Where handlers append the domain events they cause."""


def _text(headers: Headers, key: str) -> str:
    """A header as text: the first value of a repeated key, '' when absent or not text."""
    value = headers.get(key)
    if isinstance(value, list | tuple):
        value = next((item for item in value if isinstance(item, str)), "")
    return value if isinstance(value, str) else ""


def _value(headers: Headers, key: str) -> str | None:
    """A header as text, None when absent or one of Asterisk's null spellings."""
    value = _text(headers, key).strip()
    return None if value in _NULLS else value


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    text = text.strip()
    digits = text[1:] if text.startswith("-") else text
    if not (digits.isascii() and digits.isdecimal()) or len(digits) > 18:
        return None
    return int(text)


def _values(headers: Headers, key: str) -> list[str]:
    value = headers.get(key)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, str)]
    return []


def _assignments(items: Iterable[str]) -> dict[str, str]:
    """`name=value` lines (ChanVariable, Status' Variable) as a dict of bare names."""
    result: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if sep and name.strip():
            result[_bare(name)] = value
    return result


def _bare(variable: str) -> str:
    """`__HOTLINE_ID` -> `HOTLINE_ID`: the inheritance prefix is not part of the name."""
    return variable.strip().lstrip("_").upper()


def _interface_of_name(name: str) -> str | None:
    """`PJSIP/op101-0000000e` -> `PJSIP/op101`: the device a channel was created on."""
    if not name or name.startswith("Local/") or "/" not in name:
        return None
    device, sep, suffix = name.rpartition("-")
    if sep and device and suffix and all(c in "0123456789abcdefABCDEF" for c in suffix):
        return device
    return name


def _local_partner(name: str) -> str | None:
    """`Local/2000@ctx-00000000;1` <-> `...;2`: the two halves of one Local channel."""
    if name.startswith("Local/") and name[-2:] in (";1", ";2"):
        return name[:-1] + ("2" if name.endswith("1") else "1")
    return None


def _recording_variable(channel: _Channel) -> str | None:
    """The file the dialplan named for MixMonitor (REC), if the channel shows it."""
    for name in RECORDING_VARIABLES:
        value = channel.variables.get(name, "").strip()
        if value:
            return value
    return None


def _first_argument(app_data: str) -> str | None:
    first = app_data.split(",", 1)[0].strip()
    return first or None


class CallTracker:
    """Follows the hotline's calls through AMI events. See the module docstring.

    `feed()` is total: any mapping in, never an exception out.
    """

    def __init__(
        self,
        *,
        callback_context: str = DEFAULT_CALLBACK_CONTEXT,
        survey_context: str = DEFAULT_SURVEY_CONTEXT,
        pbx: str = MAIN_PBX,
    ) -> None:
        # Several PBXs: every call key this tracker makes names its PBX (hotline.pbx.callkeys).
        self.key_prefix = key_prefix(pbx)
        self.callback_context = callback_context
        self.survey_context = survey_context
        self.stats = TrackerStats()
        self.problems: deque[str] = deque(maxlen=_PROBLEMS_KEPT)
        self._channels: dict[str, _Channel] = {}
        self._by_name: dict[str, str] = {}
        self._by_linkedid: dict[str, _Call] = {}
        self._by_hotline_id: dict[str, _Call] = {}
        self._calls: dict[str, _Call] = {}  # announced live calls by call_id
        self._ended: OrderedDict[str, CallSnapshot] = OrderedDict()
        self._gone: OrderedDict[str, None] = OrderedDict()
        self._unknown_names: set[str] = set()
        self._spies: dict[str, _Spy] = {}  # listening legs by their uniqueid
        self._generation = 0
        self._handlers: dict[str, Callable[[Headers, Leg, datetime, Out], None]] = {
            "newexten": self._on_newexten,
            "varset": self._on_varset,
            "queuecallerjoin": self._on_queue_join,
            "queuecallerleave": self._on_queue_leave,
            "queuecallerabandon": self._on_queue_abandon,
            "agentcalled": self._on_agent_called,
            "agentringnoanswer": self._on_ring_no_answer,
            "agentconnect": self._on_agent_connect,
            "dialbegin": self._on_dial_begin,
            "dialend": self._on_dial_end,
            "blindtransfer": self._on_blind_transfer,
            "attendedtransfer": self._on_attended_transfer,
            "mixmonitorstart": self._on_mixmonitor_start,
            "userevent": self._on_user_event,
            "hangup": self._on_hangup,
            "rename": self._on_rename,
            "coreshowchannel": self._on_resync_channel,
            "status": self._on_resync_channel,
            "queueentry": self._on_queue_entry,
            "newchannel": self._nothing,
            "originateresponse": self._nothing,
            "chanspystart": self._on_chanspy_start,
            "chanspystop": self._on_chanspy_stop,
        }

    # ----------------------------------------------------------------- public API

    def feed(self, message: Mapping[str, Any], at: datetime) -> list[DomainEvent]:
        """Apply one AMI message (event or response) seen at `at`; return what it caused."""
        self.stats.messages += 1
        out: Out = []
        try:
            self._dispatch(message, at, out)
        except Exception as exc:  # noqa: BLE001 - last resort: a tracker bug must not kill AMI
            self.stats.internal_errors += 1
            self._problem(f"tracker error {type(exc).__name__}: {exc!r:.200}")
        self.stats.emitted += len(out)
        return out

    def calls(self) -> list[CallSnapshot]:
        """Snapshots of the live calls, oldest first."""
        return [self._snapshot(call) for call in self._calls.values()]

    def live_call_ids(self) -> set[str]:
        """The keys of the live calls (no snapshot built)."""
        return set(self._calls)

    def snapshot(self, call_id: str) -> CallSnapshot | None:
        """One call by its key: live, or among the recently ended; None if unknown."""
        call = self._calls.get(call_id)
        if call is not None:
            return self._snapshot(call)
        return self._ended.get(call_id)

    def drain_problems(self) -> list[str]:
        """Take the accumulated problem descriptions (for the caller to log)."""
        problems = list(self.problems)
        self.problems.clear()
        return problems

    def reconcile(
        self, live_uniqueids: set[str], at: datetime, restarted: bool
    ) -> list[DomainEvent]:
        """After an AMI reconnect: forget channels that are gone, end calls left without any.

        Feed the resynchronisation answers (CoreShowChannel, Status, QueueEntry) first, then
        call this with the Uniqueids CoreShowChannels listed. `restarted` (Asterisk's uptime
        is shorter than the outage) means every channel tracked before is gone, even one whose
        Uniqueid is listed again, unless a resync answer since the last reconcile showed it.
        Calls that lost all their channels end with outcome `interrupted`.
        """
        out: Out = []
        for channel in list(self._channels.values()):
            confirmed = channel.resync_generation == self._generation
            alive = channel.uniqueid in live_uniqueids and (confirmed or not restarted)
            if not alive:
                self._drop_channel(channel, at, out, cause=None, interrupted=True)
        self._generation += 1
        self.stats.emitted += len(out)
        return out

    # ----------------------------------------------------------------- dispatch

    def _dispatch(self, message: Mapping[str, Any], at: datetime, out: Out) -> None:
        if isinstance(message, AmiMessage):
            # Its headers by lowercased name already: no copy, no slow item view.
            headers: Headers = message.folded
        else:
            headers = {str(key).lower(): value for key, value in message.items()}
        name = _text(headers, "event").strip()
        if not name:
            if _text(headers, "response"):
                self.stats.responses += 1
            else:
                self._malformed("message with neither Event nor Response", headers)
            return
        self.stats.events += 1
        kind = name.lower()
        handler = self._handlers.get(kind)
        if handler is None and kind not in _NOISE:
            self.stats.unknown += 1
            if kind not in self._unknown_names and len(self._unknown_names) < 1000:
                self._unknown_names.add(kind)
                self._problem(f"unknown AMI event {name!r:.80}")
            return
        channel = None
        uniqueid = _value(headers, "uniqueid")
        if uniqueid is None and kind in _CHANNEL_EVENTS:
            # About a channel but naming none: nothing to apply it to. Counted, not silent.
            self._malformed(f"{name:.40} without Uniqueid", headers)
            return
        if uniqueid is not None:
            channel = self._observe(headers, uniqueid, at, kind)
            if channel is None:
                return
        if handler is None:
            self.stats.ignored += 1
        else:
            handler(headers, channel, at, out)
        if channel is not None:
            if channel.call.survey and channel.context == self.survey_context:
                self._survey_answered(channel, at, out)
            self._maybe_announce(channel.call, at, out, waiting=kind in _DIALPLAN_STEPS)

    def _observe(self, headers: Headers, uniqueid: str, at: datetime, kind: str) -> _Channel | None:
        """Find or create the channel an event is about, and refresh what it shows."""
        channel = self._channels.get(uniqueid)
        sent = headers.get("chanvariable")
        if kind == "status":
            variables = _assignments(_values(headers, "chanvariable"))
            variables.update(_assignments(_values(headers, "variable")))
            sent = None
        elif channel is not None and sent is not None and sent == channel.seen_variables:
            variables = {}  # the same as the channel's last event: applied then
        else:
            variables = _assignments(_values(headers, "chanvariable"))
        if channel is None:
            if uniqueid in self._gone:
                self.stats.late += 1
                return None
            channel = self._create_channel(headers, uniqueid, at, kind, variables)
            if channel is None:
                self.stats.orphans += 1
                self._problem(f"{kind} for unknown channel {uniqueid!r:.60}")
                return None
        self._refresh(channel, headers, variables, at)
        channel.seen_variables = sent
        if kind in _RESYNC:
            channel.resync_generation = self._generation
        return channel

    def _create_channel(
        self, headers: Headers, uniqueid: str, at: datetime, kind: str, variables: dict[str, str]
    ) -> _Channel | None:
        """A record for a new channel, in the call it belongs to.

        Only `Newchannel` and resync answers may start a new call; any other event about an
        unknown channel is an orphan unless its linkedid or HOTLINE_ID names a known call.
        """
        name = _text(headers, "channel").strip() or uniqueid
        linkedid = _value(headers, "linkedid") or uniqueid
        call = self._known_call(variables.get(VAR_ID), linkedid, name)
        if call is None:
            if kind != "newchannel" and kind not in _RESYNC:
                return None
            call = _Call(key=self.key_prefix + (variables.get(VAR_ID) or linkedid), started_at=at)
            call.resumed = kind in _RESYNC
            self._alias_linkedid(call, linkedid)
        exten = _text(headers, "exten")
        channel = _Channel(uniqueid=uniqueid, name=name, linkedid=linkedid, call=call)
        channel.first_exten = exten
        call.channels[uniqueid] = channel
        self._channels[uniqueid] = channel
        self._by_name[name] = uniqueid
        return channel

    def _known_call(self, hotline_id: str | None, linkedid: str, name: str) -> _Call | None:
        if hotline_id and hotline_id in self._by_hotline_id:
            return self._by_hotline_id[hotline_id]
        if linkedid in self._by_linkedid:
            return self._by_linkedid[linkedid]
        partner = _local_partner(name)
        if partner and partner in self._by_name:
            return self._channels[self._by_name[partner]].call
        return None

    def _refresh(
        self, channel: _Channel, headers: Headers, variables: dict[str, str], at: datetime
    ) -> None:
        """Apply the channel snapshot an event carries: caller id, dialplan place, linkedid."""
        sent_number = headers.get("calleridnum")
        number = _value(headers, "calleridnum") if sent_number != channel.seen_number else None
        if number is not None:
            channel.caller_number = callerid.clean_number(number)
            channel.caller_id_original = callerid.original(number, None) or channel.caller_id_original
        channel.seen_number = sent_number
        sent_name = headers.get("calleridname")
        if sent_name is not None and sent_name != channel.seen_name:
            channel.seen_name = sent_name
            name = _value(headers, "calleridname")
            channel.caller_name = callerid.clean_name(name)
            sent = callerid.original(None, name)
            if sent:
                channel.caller_id_original = {**(channel.caller_id_original or {}), **sent}
        if "context" in headers:
            channel.context = _text(headers, "context")
            channel.exten = _text(headers, "exten")
        if _value(headers, "dnid"):
            channel.dnid = _text(headers, "dnid")
        linkedid = _value(headers, "linkedid")
        if linkedid is not None and linkedid != channel.linkedid:
            channel.linkedid = linkedid
            self._linkedid_changed(channel, linkedid)
        for name, value in variables.items():
            self._apply_variable(channel, name, value)
        if channel.context and channel.context == self.callback_context:
            self._entered_callback(channel)
        elif channel.context and channel.context == self.survey_context:
            self._entered_survey(channel)

    # ----------------------------------------------------------------- identity

    def _alias_linkedid(self, call: _Call, linkedid: str) -> None:
        call.linkedids.add(linkedid)
        self._by_linkedid[linkedid] = call

    def _linkedid_changed(self, channel: _Channel, linkedid: str) -> None:
        """Bridging made the channel adopt another (older) linkedid: same call, new alias."""
        other = self._by_linkedid.get(linkedid)
        if other is None:
            self._alias_linkedid(channel.call, linkedid)
        elif other is not channel.call:
            self._join(channel.call, other)

    def _join(self, first: _Call, second: _Call) -> None:
        """Two records turned out to be one call: keep the reported one, absorb the other."""
        if first.announced and second.announced:
            self._problem(f"calls {first.key!r} and {second.key!r} were bridged; kept apart")
            return
        keep, gone = (first, second) if first.announced else (second, first)
        for channel in gone.channels.values():
            channel.call = keep
            keep.channels[channel.uniqueid] = channel
        for linkedid in gone.linkedids:
            self._alias_linkedid(keep, linkedid)
        for hotline_id in gone.hotline_ids:
            keep.hotline_ids.add(hotline_id)
            self._by_hotline_id[hotline_id] = keep
        keep.direction = keep.direction or gone.direction
        keep.line = keep.line or gone.line
        keep.organization = keep.organization or gone.organization
        keep.card_id = keep.card_id or gone.card_id
        keep.consult_queue = keep.consult_queue or gone.consult_queue
        keep.consult_operator = keep.consult_operator or gone.consult_operator
        gone.channels = {}

    def _apply_variable(self, channel: _Channel, name: str, value: str) -> None:
        """A channel variable the hotline cares about changed (VarSet or ChanVariable)."""
        channel.variables[name] = value
        call = channel.call
        value = value.strip()
        if not value:
            return
        if name == VAR_ID:
            self._attach_hotline_id(channel, value)
            self._classify(call, "in")
        elif name == VAR_LINE:
            call.line = call.line or value
            self._classify(call, "in")
        elif name == VAR_ORG:
            call.organization = call.organization or value
        elif name in CARD_VARIABLES:
            call.card_id = call.card_id or value
            self._classify(call, "out")
        elif name == SURVEY_CARD_VARIABLE:
            call.card_id = call.card_id or value
            call.survey = True
            self._classify(call, "out")
        elif name == SPY_VARIABLE and channel.uniqueid not in self._spies:
            self._spies[channel.uniqueid] = _Spy(
                uniqueid=channel.uniqueid, call_key=value, channel=channel.name,
                interface=_interface_of_name(channel.name),
            )

    def _attach_hotline_id(self, channel: _Channel, hotline_id: str) -> None:
        call = channel.call
        other = self._by_hotline_id.get(hotline_id)
        if other is not None and other is not call:
            self._join(call, other)
            return
        if not call.announced and not call.hotline_ids:
            call.key = self.key_prefix + hotline_id
        call.hotline_ids.add(hotline_id)
        self._by_hotline_id[hotline_id] = call

    def _classify(self, call: _Call, direction: Direction) -> None:
        if call.direction is None:
            call.direction = direction

    def _entered_callback(self, channel: _Channel) -> None:
        """The operator answered the callback Originate; its extension is the citizen."""
        call = channel.call
        self._classify(call, "out")
        if call.direction == "out" and call.caller_number is None and channel.exten:
            call.caller_number = channel.exten
            call.primary = call.primary or channel.uniqueid

    def _entered_survey(self, channel: _Channel) -> None:
        """The citizen answered a survey call: the channel runs the survey's dialplan, whose
        extension is the citizen's number. The channel is the citizen's own leg."""
        call = channel.call
        call.survey = True
        self._classify(call, "out")
        if call.caller_number is None and channel.exten and channel.exten.isdigit():
            call.caller_number = channel.exten
        call.primary = call.primary or channel.uniqueid
        call.citizen_leg = call.citizen_leg or channel.uniqueid

    def _survey_answered(self, channel: _Channel, at: datetime, out: Out) -> None:
        call = channel.call
        if call.callback_answered or call.direction != "out":
            return
        call.callback_answered = True
        call.answered_at = call.answered_at or at
        call.state = "talking"
        self._emit(call, CallbackAnswered(
            call_id=call.key, at=at, card_id=call.card_id, interface=None,
            citizen_number=call.caller_number,
        ), out)

    # ----------------------------------------------------------------- reporting

    def _maybe_announce(
        self, call: _Call, at: datetime, out: Out, *, waiting: bool = False, force: bool = False
    ) -> None:
        """Report `CallArrived` once the call is known well enough.

        An inbound call waits (while only dialplan steps happen) for its organization; a
        callback waits for the citizen's number. `force` reports with whatever is known, for
        when another event of the call must go out.
        """
        if call.announced or call.direction is None or not call.channels:
            return
        if not force:
            if call.direction == "in" and call.organization is None and waiting:
                return
            if call.direction == "out" and call.caller_number is None:
                return
        primary = self._pick_primary(call)
        call.announced = True
        if call.direction == "out" and call.state == "ivr":
            call.state = "dialing"
        if call.direction == "in":
            call.caller_number = primary.caller_number
            call.caller_name = primary.caller_name
            call.line = call.line or primary.dnid or primary.first_exten or None
        else:
            call.line = call.line or self._presented_number(primary)
        self._calls[call.key] = call
        out.append(
            CallArrived(
                call_id=call.key,
                at=at,
                direction=call.direction,
                line=call.line,
                organization=call.organization,
                caller_number=call.caller_number,
                caller_name=call.caller_name,
                channel=primary.name,
                uniqueid=primary.uniqueid,
                linkedid=primary.linkedid,
                resumed=call.resumed,
                caller_id_sent=primary.caller_id_original if call.direction == "in" else None,
            )
        )

    @staticmethod
    def _presented_number(channel: _Channel) -> str | None:
        """A callback shows the citizen the 8-800 line as caller id: that is its line."""
        number = channel.caller_number
        return number if number and number.isdigit() else None

    def _pick_primary(self, call: _Call) -> _Channel:
        """The root channel: the citizen's inbound leg, or the callback's operator leg."""
        if call.primary in call.channels:
            return call.channels[call.primary]
        channels = list(call.channels.values())
        root = next((ch for ch in channels if ch.uniqueid in call.linkedids), channels[0])
        call.primary = root.uniqueid
        return root

    def _emit(self, call: _Call, event: DomainEvent, out: Out) -> None:
        """Report an event of a hotline call (reporting the call itself first if needed)."""
        if call.direction is None:
            return
        self._maybe_announce(call, event.at, out, force=True)
        out.append(event)

    def _citizen_channel_id(self, call: _Call) -> str | None:
        """The citizen's own leg: the inbound channel, or the leg a callback dialed."""
        if call.direction == "out" and call.citizen_leg is not None:
            return call.citizen_leg
        return self._pick_primary(call).uniqueid if call.channels else call.primary

    def _is_citizen(self, channel: _Channel) -> bool:
        call = channel.call
        if call.primary is None:
            self._pick_primary(call)
        return channel.uniqueid in (call.primary, call.citizen_leg)

    # ----------------------------------------------------------------- dialplan

    def _nothing(self, headers: Headers, channel: Leg, at: datetime, out: Out) -> None:
        """Newchannel, OriginateResponse: all they say is in the channel snapshot."""

    def _on_varset(self, headers: Headers, channel: Leg, at: datetime, out: Out) -> None:
        if channel is None:
            return
        name = _bare(_text(headers, "variable"))
        if name:
            self._apply_variable(channel, name, _text(headers, "value"))
            channel.seen_variables = None  # the next snapshot is applied whatever it says

    def _on_newexten(self, headers: Headers, channel: Leg, at: datetime, out: Out) -> None:
        if channel is not None and _text(headers, "application").lower() == "mixmonitor":
            channel.mixmonitor_file = _first_argument(_text(headers, "appdata"))

    def _on_mixmonitor_start(
        self, headers: Headers, channel: Leg, at: datetime, out: Out
    ) -> None:
        if channel is None:
            return
        call = channel.call
        file = self._recording_file(channel)
        if file is None and call.recording_reported:
            return
        if file is not None and file in call.recordings:
            return
        if file is not None:
            call.recordings.append(file)
        call.recording_reported = True
        event = RecordingStarted(call_id=call.key, at=at, file=file, channel=channel.name)
        self._emit(call, event, out)

    @staticmethod
    def _recording_file(channel: _Channel) -> str | None:
        return _recording_variable(channel) or channel.mixmonitor_file

    def _on_user_event(self, headers: Headers, channel: Leg, at: datetime, out: Out) -> None:
        """The secretary's hangup handler reports the recorded message; the queue-callback
        script says the citizen asked to be called back instead of waiting."""
        name = _text(headers, "userevent")
        if channel is not None and name == QUEUE_CALLBACK_USER_EVENT:
            self._classify(channel.call, "in")
            channel.call.queue_callback = True
            return
        if channel is None or name != MESSAGE_USER_EVENT:
            if channel is not None:
                self.stats.ignored += 1
            return
        file = _value(headers, "file")
        if file is None:
            self._malformed("HotlineMessage without File", headers)
            return
        call = channel.call
        self._classify(call, "in")
        call.message_file = file
        event = SecretaryMessage(
            call_id=call.key,
            at=at,
            file=file,
            line=_value(headers, "line") or call.line,
            caller_number=callerid.clean_number(_value(headers, "caller")),
            duration=_int(_value(headers, "duration")),
        )
        self._emit(call, event, out)

    def _on_rename(self, headers: Headers, channel: Leg, at: datetime, out: Out) -> None:
        new_name = _value(headers, "newname")
        if channel is not None and new_name:
            self._by_name.pop(channel.name, None)
            channel.name = new_name
            self._by_name[new_name] = channel.uniqueid

    # ----------------------------------------------------------------- queues

    def _queue_of(self, headers: Headers) -> str | None:
        queue = _value(headers, "queue")
        if queue is None:
            self._malformed(f"{_text(headers, 'event')} without Queue", headers)
        return queue

    def _on_queue_join(self, headers: Headers, channel: Leg, at: datetime, out: Out) -> None:
        queue = self._queue_of(headers)
        if channel is None or queue is None:
            return
        call = channel.call
        if channel.uniqueid in call.linkedids or channel.uniqueid == call.primary:
            self._classify(call, "in")
        self._join_queue(channel, queue, _int(_value(headers, "position")), at, out)

    def _join_queue(
        self, channel: _Channel, queue: str, position: int | None, at: datetime, out: Out
    ) -> None:
        call = channel.call
        channel.waiting_in = queue
        channel.last_queue = queue
        consultation = not self._is_citizen(channel)
        if consultation:
            call.consult_queue = queue
        else:
            self._flush_transfer(call, out, to_queue=queue)
            call.queue = queue
            call.queued_ever = True
            call.state = "queued"
        event = CallQueued(
            call_id=call.key, at=at, queue=queue, position=position, consultation=consultation
        )
        self._emit(call, event, out)

    def _on_queue_leave(self, headers: Headers, channel: Leg, at: datetime, out: Out) -> None:
        if channel is not None:
            channel.waiting_in = None

    def _on_queue_abandon(
        self, headers: Headers, channel: Leg, at: datetime, out: Out
    ) -> None:
        """The caller hung up in the queue. A consultation leg giving up is no abandon."""
        queue = self._queue_of(headers)
        if channel is None or queue is None or not self._is_citizen(channel):
            return
        call = channel.call
        call.state = "ivr"
        event = CallAbandoned(
            call_id=call.key,
            at=at,
            queue=queue,
            hold_time=_int(_value(headers, "holdtime")),
            position=_int(_value(headers, "position")),
            original_position=_int(_value(headers, "originalposition")),
        )
        self._emit(call, event, out)

    def _agent_leg(self, headers: Headers, channel: _Channel, at: datetime) -> _Channel | None:
        """The operator's leg named by an Agent*/Dial* event's `Dest…` snapshot."""
        uniqueid = _value(headers, "destuniqueid")
        if uniqueid is None:
            return None
        leg = self._channels.get(uniqueid)
        if leg is None and uniqueid not in self._gone:
            name = _text(headers, "destchannel").strip() or uniqueid
            leg = _Channel(
                uniqueid=uniqueid, name=name, linkedid=channel.linkedid, call=channel.call
            )
            channel.call.channels[uniqueid] = leg
            self._channels[uniqueid] = leg
            self._by_name[name] = uniqueid
        return leg

    def _agent_fields(self, headers: Headers) -> tuple[str | None, str | None, str | None]:
        return _value(headers, "interface"), _value(headers, "membername"), _value(headers, "queue")

    def _on_agent_called(self, headers: Headers, channel: Leg, at: datetime, out: Out) -> None:
        interface, member, queue = self._agent_fields(headers)
        if channel is None or interface is None:
            if channel is not None:
                self._malformed("AgentCalled without Interface", headers)
            return
        leg = self._agent_leg(headers, channel, at)
        if leg is not None:
            leg.interface, leg.member_name, leg.agent_queue = interface, member, queue
        call = channel.call
        consultation = not self._is_citizen(channel)
        if not consultation:
            call.state = "ringing"
        event = OperatorRinging(
            call_id=call.key,
            at=at,
            interface=interface,
            member_name=member,
            queue=queue,
            channel=leg.name if leg else _value(headers, "destchannel"),
            consultation=consultation,
        )
        self._emit(call, event, out)

    def _on_ring_no_answer(
        self, headers: Headers, channel: Leg, at: datetime, out: Out
    ) -> None:
        interface, member, queue = self._agent_fields(headers)
        if channel is None or interface is None:
            return
        call = channel.call
        if self._is_citizen(channel) and call.state == "ringing":
            call.state = "queued"
        event = RingNoAnswer(
            call_id=call.key,
            at=at,
            interface=interface,
            member_name=member,
            queue=queue,
            ring_time_ms=_int(_value(headers, "ringtime")),
        )
        self._emit(call, event, out)

    def _on_agent_connect(self, headers: Headers, channel: Leg, at: datetime, out: Out) -> None:
        interface, member, queue = self._agent_fields(headers)
        if channel is None or interface is None:
            if channel is not None:
                self._malformed("AgentConnect without Interface", headers)
            return
        leg = self._agent_leg(headers, channel, at)
        channel.answered_by = leg.uniqueid if leg else None
        channel.waiting_in = None
        consultation = not self._is_citizen(channel)
        self._operator_answered(channel.call, interface, consultation, at)
        event = OperatorAnswered(
            call_id=channel.call.key,
            at=at,
            interface=interface,
            member_name=member,
            queue=queue,
            hold_time=_int(_value(headers, "holdtime")),
            ring_time=_int(_value(headers, "ringtime")),
            channel=leg.name if leg else _value(headers, "destchannel"),
            consultation=consultation,
        )
        self._emit(channel.call, event, out)

    @staticmethod
    def _operator_answered(call: _Call, interface: str, consultation: bool, at: datetime) -> None:
        if interface not in call.operators:
            call.operators.append(interface)
        if consultation:
            call.consult_operator = interface
            return
        call.current_operator = interface
        call.answered_at = call.answered_at or at
        call.queue = None
        call.state = "talking"

    # ----------------------------------------------------------------- callbacks

    def _on_dial_begin(self, headers: Headers, channel: Leg, at: datetime, out: Out) -> None:
        """In a callback, the operator's leg dialing out is the PBX calling the citizen."""
        if channel is None:
            return  # an Originate dialing the operator's phone: nothing to report yet
        call = channel.call
        if call.direction != "out" or channel.uniqueid != self._pick_primary(call).uniqueid:
            return
        leg = self._agent_leg(headers, channel, at)
        if leg is None or call.citizen_leg == leg.uniqueid:
            return
        call.citizen_leg = leg.uniqueid
        call.caller_number = call.caller_number or _value(headers, "destexten")
        call.state = "ringing"
        event = CallbackPlaced(
            call_id=call.key,
            at=at,
            card_id=call.card_id,
            interface=_interface_of_name(channel.name),
            citizen_number=call.caller_number,
        )
        self._emit(call, event, out)

    def _on_dial_end(self, headers: Headers, channel: Leg, at: datetime, out: Out) -> None:
        """`DialStatus: ANSWER` on the citizen's leg of a callback: the citizen picked up.

        (The Originate's own DialEnd, with no `Channel`, is the operator's phone answering.)
        """
        if channel is None or _text(headers, "dialstatus") != "ANSWER":
            return
        call = channel.call
        if call.direction != "out" or call.citizen_leg != _value(headers, "destuniqueid"):
            return
        if call.callback_answered:
            return
        call.callback_answered = True
        call.answered_at = call.answered_at or at
        call.state = "talking"
        interface = _interface_of_name(channel.name)
        if interface and interface not in call.operators:
            call.operators.append(interface)
        call.current_operator = interface
        event = CallbackAnswered(
            call_id=call.key,
            at=at,
            card_id=call.card_id,
            interface=interface,
            citizen_number=call.caller_number,
        )
        self._emit(call, event, out)

    # ----------------------------------------------------------------- transfers

    def _party(self, headers: Headers, prefix: str) -> _Channel | None:
        uniqueid = _value(headers, prefix + "uniqueid")
        return self._channels.get(uniqueid) if uniqueid else None

    def _interface(self, channel: _Channel | None) -> str | None:
        if channel is None:
            return None
        return channel.interface or _interface_of_name(channel.name)

    def _on_blind_transfer(
        self, headers: Headers, channel: Leg, at: datetime, out: Out
    ) -> None:
        """An operator sent the citizen to a dialplan place (level 2's queue, usually).

        Reported when the call reaches the next queue (so the event can name it), or at the
        latest when the call ends. Asterisk publishes the transfer from the operator's thread
        and the queue join from the citizen's, so on a busy PBX the join can come first: a
        citizen already waiting in a queue here has reached it.
        """
        parties = self._transfer_parties(headers, "transferer")
        if parties is None:
            return
        anchor, transferer = parties
        call = anchor.call
        self._flush_transfer(call, out)
        call.pending_transfer = self._transfer_event(
            call, at, "blind", transferer, headers, ("context", "extension")
        )
        if self._is_citizen(anchor) and anchor.waiting_in is not None:
            self._flush_transfer(call, out, to_queue=anchor.waiting_in)
            return
        call.state = "ivr"

    def _transfer_parties(
        self, headers: Headers, transferer_prefix: str
    ) -> tuple[_Channel, _Channel | None] | None:
        """A successful transfer's citizen side (the transferee, else the transferer's leg)
        and the transferring operator's leg; None, an orphan counted, when neither is known."""
        if _text(headers, "result") != "Success":
            return None
        transferer = self._party(headers, transferer_prefix)
        anchor = self._party(headers, "transferee") or transferer
        if anchor is None:
            self._orphan_transfer(headers)
            return None
        return anchor, transferer

    def _transfer_event(
        self,
        call: _Call,
        at: datetime,
        kind: TransferKind,
        transferer: _Channel | None,
        headers: Headers,
        place: tuple[str, str],
        to: tuple[str | None, str | None] = (None, None),
    ) -> CallTransferred:
        """The transfer as reported: by whom, to which dialplan place (the headers naming
        its context and extension), and to which queue and operator when known."""
        return CallTransferred(
            call_id=call.key,
            at=at,
            kind=kind,
            from_interface=self._interface(transferer),
            to_queue=to[0],
            to_interface=to[1],
            to_context=_value(headers, place[0]),
            to_extension=_value(headers, place[1]),
        )

    def _flush_transfer(self, call: _Call, out: Out, to_queue: str | None = None) -> None:
        pending = call.pending_transfer
        if pending is None:
            return
        call.pending_transfer = None
        # A blind transfer is reported once its call joins the next queue, which it names.
        event = dataclasses.replace(pending, to_queue=to_queue)
        call.transfers.append(event)
        self._emit(call, event, out)

    def _on_attended_transfer(
        self, headers: Headers, channel: Leg, at: datetime, out: Out
    ) -> None:
        """The first operator completed a consultation transfer: the citizen now talks to the
        consultation's target. The consultation legs (often a Local channel pair) become part
        of the citizen's call if they were not already."""
        parties = self._transfer_parties(headers, "origtransferer")
        if parties is None:
            return
        anchor, transferer = parties
        target = self._party(headers, "transfertarget")
        call = anchor.call
        for other in (target, self._party(headers, "secondtransferer")):
            if other is not None and other.call is not call:
                self._join(call, other.call)
        call = anchor.call
        to_queue, to_interface = self._transfer_target(call, target)
        self._flush_transfer(call, out)
        event = self._transfer_event(
            call, at, "attended", transferer, headers,
            ("transfertargetcontext", "transfertargetexten"), (to_queue, to_interface),
        )
        call.transfers.append(event)
        if to_interface is not None:
            call.current_operator = to_interface
            call.state = "talking"
        self._emit(call, event, out)

    def _transfer_target(
        self, call: _Call, target: _Channel | None
    ) -> tuple[str | None, str | None]:
        """Who took the call: the operator who answered the consultation.

        The target is either the operator's own leg, or half of a Local channel whose other
        half waited in a queue and was answered by the operator.
        """
        if target is None:
            return call.consult_queue, call.consult_operator
        if target.name.startswith("Local/"):
            partner_id = self._by_name.get(_local_partner(target.name) or "")
            partner = self._channels.get(partner_id) if partner_id else None
            if partner is not None and partner.answered_by in self._channels:
                operator = self._channels[partner.answered_by]
                return partner.last_queue, self._interface(operator)
            return call.consult_queue, call.consult_operator
        return target.agent_queue, self._interface(target)

    def _orphan_transfer(self, headers: Headers) -> None:
        self.stats.orphans += 1
        self._problem(f"{_text(headers, 'event')} between channels never seen")

    # ----------------------------------------------------------------- supervision

    def _spy_of(self, headers: Headers, at: datetime) -> tuple[_Spy, _Call] | None:
        """The listening leg a ChanSpyStart/Stop is about and the call it listens to.

        A leg the service did not place (no HOTLINE_SPY: ChanSpy from some other dialplan)
        is taken as listening to the spied-on channel's call."""
        spyer_id = _value(headers, "spyeruniqueid")
        spyee_id = _value(headers, "spyeeuniqueid")
        if spyer_id is None:
            self._malformed(f"{_text(headers, 'event')} without SpyerUniqueid", headers)
            return None
        spyer = self._channels.get(spyer_id)
        spyee = self._channels.get(spyee_id) if spyee_id else None
        if spyer is None:
            if spyer_id in self._gone or (spyee_id in self._gone):
                self.stats.late += 1
            else:
                self.stats.orphans += 1
                self._problem(f"ChanSpy of unknown channel {spyer_id!r:.60}")
            return None
        variables = _assignments(_values(headers, "spyerchanvariable"))
        for name, value in variables.items():
            self._apply_variable(spyer, name, value)
        spy = self._spies.get(spyer_id)
        if spy is None:
            if spyee is None or spyee.call.direction is None:
                self.stats.ignored += 1
                return None
            spy = _Spy(uniqueid=spyer_id, call_key=spyee.call.key, channel=spyer.name,
                       interface=_interface_of_name(spyer.name))
            self._spies[spyer_id] = spy
        call = self._calls.get(spy.call_key)
        if call is None and spyee is not None and spyee.call.announced:
            call = spyee.call
        if call is None:
            self.stats.late += 1
            return None
        if spyee is not None:
            spy.operator = self._interface(spyee)
        spy.channel = spyer.name
        return spy, call

    def _on_chanspy_start(self, headers: Headers, channel: Leg, at: datetime, out: Out) -> None:
        """The supervisor's leg listens (again) to the operator's channel; its extension in
        the spy context is the mode."""
        found = self._spy_of(headers, at)
        if found is None:
            return
        spy, call = found
        exten = _text(headers, "spyerexten")
        mode: SupervisionMode = exten if exten in SPY_MODES else (spy.mode or "listen")
        call.spies[spy.uniqueid] = spy
        if spy.joined_at is None:
            spy.joined_at, spy.mode = at, mode
            self._emit(call, SupervisionStarted(
                call_id=call.key, at=at, interface=spy.interface, channel=spy.channel,
                mode=mode, operator=spy.operator,
            ), out)
        elif mode != spy.mode:
            previous, spy.mode = spy.mode or "listen", mode
            self._emit(call, SupervisionSwitched(
                call_id=call.key, at=at, interface=spy.interface, channel=spy.channel,
                mode=mode, previous=previous,
            ), out)

    def _on_chanspy_stop(self, headers: Headers, channel: Leg, at: datetime, out: Out) -> None:
        """Ends nothing by itself: a switch of mode is a Stop then a Start on the same leg;
        the leg's Hangup (or the call's end) ends the listening."""
        self._spy_of(headers, at)

    def _end_spy(self, spy_id: str, at: datetime, out: Out) -> None:
        spy = self._spies.pop(spy_id, None)
        if spy is None:
            return
        call = self._calls.get(spy.call_key)
        if call is None:
            return
        call.spies.pop(spy_id, None)
        seconds = None
        if spy.joined_at is not None:
            seconds = max(0, int((at - spy.joined_at).total_seconds()))
        self._emit(call, SupervisionEnded(
            call_id=call.key, at=at, interface=spy.interface, channel=spy.channel,
            mode=spy.mode, joined=spy.joined_at is not None, seconds=seconds,
        ), out)

    # ----------------------------------------------------------------- resync

    def _on_resync_channel(
        self, headers: Headers, channel: Leg, at: datetime, out: Out
    ) -> None:
        """CoreShowChannel / Status: a live channel as it is now.

        A root channel waiting in `Queue()` is an inbound call; an operator's leg bridged with
        the citizen means that operator answered while the tracker was not listening.
        """
        if channel is None:
            return
        channel.application = _text(headers, "application")
        channel.bridge_id = _value(headers, "bridgeid") or ""
        call = channel.call
        if channel.application.lower() == "queue" and channel.uniqueid in call.linkedids:
            self._classify(call, "in")
            channel.last_queue = _first_argument(
                _text(headers, "applicationdata") or _text(headers, "data")
            )
        self._resync_recording(channel, at, out)
        self._resync_operators(call, at, out)

    def _resync_recording(self, channel: _Channel, at: datetime, out: Out) -> None:
        """The snapshot shows the call's recording file (REC, exported with the channel's
        variables) that no MixMonitorStart reported: the recording started while the tracker
        was not listening (a call first seen after a takeover or a reconnect). Reported now,
        once per file: the call's other legs inherit REC, and a MixMonitorStart that follows
        names the same file."""
        call = channel.call
        file = _recording_variable(channel)
        if file is None or file in call.recordings or call.direction is None:
            return  # an unclassified call: a later answer of the snapshot tries again
        call.recordings.append(file)
        call.recording_reported = True
        event = RecordingStarted(call_id=call.key, at=at, file=file, channel=channel.name)
        self._emit(call, event, out)

    def _on_queue_entry(self, headers: Headers, channel: Leg, at: datetime, out: Out) -> None:
        """QueueStatus' QueueEntry: a caller waiting in a queue now."""
        queue = self._queue_of(headers)
        if channel is None or queue is None:
            return
        self._classify(channel.call, "in")
        if channel.waiting_in != queue:
            self._join_queue(channel, queue, _int(_value(headers, "position")), at, out)

    def _resync_operators(self, call: _Call, at: datetime, out: Out) -> None:
        """What the snapshot shows of an inbound call the events did not: the citizen bridged
        with an operator who answered while the AMI link was down (the call may be one the
        tracker followed before the outage, so not only resumed calls), or, for a call first
        seen in the snapshot, still waiting in its queue."""
        if call.direction != "in":
            return
        citizen = self._pick_primary(call)
        if not citizen.bridge_id:
            if (call.resumed and citizen.last_queue and citizen.waiting_in is None
                    and call.current_operator is None):
                self._join_queue(citizen, citizen.last_queue, None, at, out)
            return
        for leg in list(call.channels.values()):
            interface = self._interface(leg)
            if leg is citizen or leg.bridge_id != citizen.bridge_id or interface is None:
                continue
            if interface in call.operators or leg.name.startswith("Local/"):
                continue
            citizen.waiting_in = None
            self._operator_answered(call, interface, False, at)
            event = OperatorAnswered(
                call_id=call.key,
                at=at,
                interface=interface,
                member_name=leg.member_name,
                queue=citizen.last_queue,
                hold_time=None,
                ring_time=None,
                channel=leg.name,
            )
            self._emit(call, event, out)

    # ----------------------------------------------------------------- hangup

    def _on_hangup(self, headers: Headers, channel: Leg, at: datetime, out: Out) -> None:
        if channel is None:
            return
        cause = (_int(_value(headers, "cause")), _value(headers, "cause-txt"))
        self._drop_channel(channel, at, out, cause=cause, interrupted=False)

    def _drop_channel(
        self,
        channel: _Channel,
        at: datetime,
        out: Out,
        *,
        cause: tuple[int | None, str | None] | None,
        interrupted: bool,
    ) -> None:
        """A channel is gone; the call ends with its last channel."""
        self._end_spy(channel.uniqueid, at, out)
        call = channel.call
        if set(call.channels) == {channel.uniqueid}:
            # Its last channel goes: a hotline call still waiting to be reported (its
            # organization never seen) is reported now, so every call that ends has arrived.
            self._maybe_announce(call, at, out, force=True)
        if cause is not None:
            call.last_cause = cause
            if channel.uniqueid == self._citizen_channel_id(call):
                call.citizen_cause = cause
        call.channels.pop(channel.uniqueid, None)
        self._channels.pop(channel.uniqueid, None)
        if self._by_name.get(channel.name) == channel.uniqueid:
            del self._by_name[channel.name]
        self._gone[channel.uniqueid] = None
        while len(self._gone) > _GONE_KEPT:
            self._gone.popitem(last=False)
        if not call.channels:
            self._end_call(call, at, out, interrupted)

    def _end_call(self, call: _Call, at: datetime, out: Out, interrupted: bool) -> None:
        for linkedid in call.linkedids:
            if self._by_linkedid.get(linkedid) is call:
                del self._by_linkedid[linkedid]
        for hotline_id in call.hotline_ids:
            if self._by_hotline_id.get(hotline_id) is call:
                del self._by_hotline_id[hotline_id]
        if call.direction is None:
            return  # never a hotline call (an internal call between operators)
        for spy_id in list(call.spies):
            self._end_spy(spy_id, at, out)
        self._flush_transfer(call, out)
        call.outcome = "interrupted" if interrupted else self._outcome(call)
        cause_code, cause_text = (
            (None, None) if interrupted else (call.citizen_cause or call.last_cause or (None, None))
        )
        call.state = "ended"
        call.ended_at = at
        event = CallEnded(
            call_id=call.key, at=at, cause=cause_code, cause_text=cause_text, outcome=call.outcome
        )
        self._emit(call, event, out)
        self._calls.pop(call.key, None)
        self._ended[call.key] = self._snapshot(call)
        while len(self._ended) > _ENDED_KEPT:
            self._ended.popitem(last=False)

    @staticmethod
    def _outcome(call: _Call) -> Outcome:
        if call.message_file is not None:
            return "secretary"
        if call.direction == "out":
            if call.survey:
                return "survey" if call.callback_answered else "unanswered"
            return "callback" if call.callback_answered else "unanswered"
        if call.answered_at is not None:
            return "answered"
        if call.queue_callback:
            return "queue_callback"
        return "abandoned" if call.queued_ever else "unanswered"

    # ----------------------------------------------------------------- views & problems

    def _snapshot(self, call: _Call) -> CallSnapshot:
        return CallSnapshot(
            call_id=call.key,
            direction=call.direction or "in",
            line=call.line,
            organization=call.organization,
            caller_number=call.caller_number,
            caller_name=call.caller_name,
            state=call.state,
            queue=call.queue,
            operators=tuple(call.operators),
            current_operator=call.current_operator,
            transfers=tuple(call.transfers),
            recording_file=call.recordings[0] if call.recordings else None,
            message_file=call.message_file,
            card_id=call.card_id,
            channels=tuple(channel.name for channel in call.channels.values()),
            started_at=call.started_at,
            answered_at=call.answered_at,
            ended_at=call.ended_at,
            outcome=call.outcome,
            resumed=call.resumed,
            listeners=tuple(
                Listener(interface=spy.interface, channel=spy.channel, mode=spy.mode,
                         since=spy.joined_at)
                for spy in call.spies.values()
                if spy.mode is not None and spy.joined_at is not None
            ),
        )

    def _problem(self, text: str) -> None:
        self.problems.append(text)

    def _malformed(self, what: str, headers: Headers) -> None:
        self.stats.malformed += 1
        self._problem(f"malformed: {what}: {sorted(headers)[:12]}")
