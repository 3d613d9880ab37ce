"""Domain events of the hotline's calls, as the call tracker reports them.

These are plain, immutable data: the tracker (hotline/pbx/tracking/calls.py) turns AMI traffic into
them, and everything else (the journal's call records, the operator's screen-pop, metrics)
consumes them without ever looking at AMI. Every event names its call by `call_id`, a key that
stays the same for the whole life of a call (across transfers, Local channels and linkedid
changes), and carries `at`, the moment the tracker's caller saw the AMI event.

Interfaces are Asterisk device names of operator phones, e.g. "PJSIP/op101" (a queue member's
`Interface`); channels are the per-call channel names, e.g. "PJSIP/op101-0000000e".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeAlias

Direction: TypeAlias = Literal["in", "out"]
"""`in`: a citizen called the 8-800 line; `out`: an operator's callback (обратный звонок)."""

TransferKind: TypeAlias = Literal["blind", "attended"]
"""`blind`: sent on without talking to the target; `attended`: after a consultation."""

Outcome: TypeAlias = Literal[
    "answered", "abandoned", "secretary", "callback", "survey", "unanswered", "interrupted",
    "queue_callback",
]
"""How a call ended, for reports.

- `answered`: an operator talked to the citizen;
- `abandoned`: the citizen hung up while waiting in a queue (пропущенный вызов);
- `queue_callback`: the citizen left the queue with key 1 asking to be called back
  (заказан обратный звонок): not lost, a callback task was written at once;
- `secretary`: the citizen left a message to the electronic secretary (автосекретарь);
- `callback`: an operator's callback reached the citizen;
- `survey`: the automatic survey on a card's result reached the citizen;
- `unanswered`: neither: hung up in the IVR before any queue, or a callback nobody answered;
- `interrupted`: the tracker lost the call (Asterisk restarted, or its channels vanished while
  the AMI connection was down), so the real ending is unknown.
"""

CallState: TypeAlias = Literal["ivr", "dialing", "queued", "ringing", "talking", "ended"]
"""Where a live call is now: in the dialplan (greeting, IVR), dialing out (callback),
waiting in a queue, an operator's phone ringing, talking, or over."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEvent:
    """Base of every domain event: which call, and when it was seen."""

    call_id: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class CallArrived(CallEvent):
    """A new call is known: a citizen's inbound call (входящий звонок) or a callback.

    `line` is the 8-800 number (линия) the call is on; `organization` the ТФОМС or СМО code
    owning that line, when the dialplan exported it. For a callback, `caller_number` is the
    citizen being called. `resumed` is true when the call was found already in progress
    (after a reconnect) instead of being seen from its start: do not screen-pop it again.
    """

    direction: Direction
    line: str | None
    organization: str | None
    caller_number: str | None
    caller_name: str | None
    channel: str
    uniqueid: str
    linkedid: str
    resumed: bool = False
    # The caller ID as the calling side sent it, when the clean one above differs (too long,
    # control characters): kept in the call's timeline (`hotline.pbx.callerid`).
    caller_id_sent: dict[str, str] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallQueued(CallEvent):
    """The call joined a queue (очередь операторов), e.g. level 1 "l1-tfoms".

    `consultation` is true when it is not the citizen who waits but an operator's consultation
    leg (the first half of an attended transfer to level 2).
    """

    queue: str
    position: int | None
    consultation: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorRinging(CallEvent):
    """An operator's phone rings for this call: the moment to pop the card (РКК) on screen."""

    interface: str
    member_name: str | None
    queue: str | None
    channel: str | None
    consultation: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RingNoAnswer(CallEvent):
    """An operator's phone rang out without an answer; the queue tries the next one."""

    interface: str
    member_name: str | None
    queue: str | None
    ring_time_ms: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorAnswered(CallEvent):
    """An operator picked up. `hold_time` is the seconds the caller waited in the queue.

    With `consultation` true, a level-2 operator answered the consultation of an attended
    transfer; the citizen is still with the first operator until the transfer completes.
    `hold_time` and `ring_time` are None when the answer was found by a resynchronisation
    (then `queue` is the queue the citizen was in, if known).
    """

    interface: str
    member_name: str | None
    queue: str | None
    hold_time: int | None
    ring_time: int | None
    channel: str | None
    consultation: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CallTransferred(CallEvent):
    """An operator transferred the citizen (перевод звонка), typically to level 2.

    `blind`: sent to a dialplan place (`to_context`/`to_extension`), and `to_queue` is the queue
    the call then joined, if it joined one. `attended`: after a consultation, and `to_interface`
    is the operator who took it over (through `to_queue` if the consultation went through one).
    """

    kind: TransferKind
    from_interface: str | None
    to_queue: str | None
    to_interface: str | None
    to_context: str | None
    to_extension: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallAbandoned(CallEvent):
    """The citizen hung up while waiting in a queue, after `hold_time` seconds."""

    queue: str
    hold_time: int | None
    position: int | None
    original_position: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SecretaryMessage(CallEvent):
    """The citizen left a message to the electronic secretary (after hours, holidays).

    `file` is the recording as the dialplan named it (relative to Asterisk's sound/spool dir);
    `caller_number` is the callback number the dialplan reported; `duration` in seconds when
    the dialplan knew it.
    """

    file: str
    line: str | None
    caller_number: str | None
    duration: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackPlaced(CallEvent):
    """The operator answered their phone and the PBX now dials the citizen back.

    `card_id` is the registration-control card (РКК) the callback belongs to, taken from the
    channel variable the service set on the Originate.
    """

    card_id: str | None
    interface: str | None
    citizen_number: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackAnswered(CallEvent):
    """The citizen answered the callback; the operator and the citizen are talking."""

    card_id: str | None
    interface: str | None
    citizen_number: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingStarted(CallEvent):
    """MixMonitor started recording the call (запись разговора) into `file`.

    `file` is the name the dialplan gave MixMonitor, relative to Asterisk's monitor spool
    (e.g. "hotline/20261123/1795444523.2.wav"); None when the tracker never saw it.
    """

    file: str | None
    channel: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEnded(CallEvent):
    """The call is over. `cause` is the Q.850 cause of the citizen's side (16: normal
    clearing), None when unknown (`interrupted`)."""

    cause: int | None
    cause_text: str | None
    outcome: Outcome


SupervisionMode: TypeAlias = Literal["listen", "whisper", "barge"]
"""How a supervisor is on a call: `listen` (прослушивание: hears both, heard by nobody),
`whisper` (подсказка: heard by the operator only), `barge` (вмешательство: heard by both)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SupervisionStarted(CallEvent):
    """A supervisor's phone (`interface`, its leg `channel`) joined the call through ChanSpy
    on the operator's channel (`operator`, the operator's phone). Not a transfer, not a new
    call and not an operator of the call: only a listener."""

    interface: str | None
    channel: str
    mode: SupervisionMode
    operator: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SupervisionSwitched(CallEvent):
    """The listening leg changed mode (`previous` -> `mode`)."""

    interface: str | None
    channel: str
    mode: SupervisionMode
    previous: SupervisionMode


@dataclass(frozen=True, slots=True, kw_only=True)
class SupervisionEnded(CallEvent):
    """The listening leg is over: the supervisor hung up, was hung up from the page, or the
    call (the operator's channel) ended. `joined` is false when the supervisor's phone never
    got to listen (not answered, the operator's channel already gone); `seconds` is how long
    it listened, counted from its first ChanSpyStart."""

    interface: str | None
    channel: str
    mode: SupervisionMode | None
    joined: bool
    seconds: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Listener:
    """A supervisor on a live call now: their phone, their leg, the mode, since when."""

    interface: str | None
    channel: str
    mode: SupervisionMode
    since: datetime


DomainEvent: TypeAlias = (
    CallArrived
    | CallQueued
    | OperatorRinging
    | RingNoAnswer
    | OperatorAnswered
    | CallTransferred
    | CallAbandoned
    | SecretaryMessage
    | CallbackPlaced
    | CallbackAnswered
    | RecordingStarted
    | CallEnded
    | SupervisionStarted
    | SupervisionSwitched
    | SupervisionEnded
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallSnapshot:
    """Everything known about one call at one moment, for screens and late joiners.

    `operators` are the interfaces that answered, in order (consultations included);
    `current_operator` is who the citizen is talking to (or last talked to).
    """

    call_id: str
    direction: Direction
    line: str | None
    organization: str | None
    caller_number: str | None
    caller_name: str | None
    state: CallState
    queue: str | None
    operators: tuple[str, ...]
    current_operator: str | None
    transfers: tuple[CallTransferred, ...]
    recording_file: str | None
    message_file: str | None
    card_id: str | None
    channels: tuple[str, ...]
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    outcome: Outcome | None
    resumed: bool
    # Supervisors listening now (ChanSpy legs): never among `operators` or `channels`.
    listeners: tuple[Listener, ...] = ()


# ---------------------------------------------------------------------------- operators

AgentStateName: TypeAlias = Literal["ready", "paused", "out", "unavailable"]
"""An operator's place in their queues: taking calls (готов), on a break (перерыв), in no
queue (не в очереди), or their phone is unreachable (телефон недоступен)."""

DeviceName: TypeAlias = Literal[
    "unknown", "free", "in_use", "busy", "invalid", "unavailable", "ringing",
    "ringing_in_use", "on_hold",
]
"""The operator's phone as Asterisk's device state sees it (QueueMemberStatus `Status`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentSnapshot:
    """An operator's phone (`interface`, e.g. "PJSIP/op101") in its queues, at one moment.

    `queues` are the queues it is a member of; `calls_taken` is summed over them (Asterisk
    counts a call when it completes); `since` is when `state` or `paused_reason` last
    changed, `device_since` when `device` did.
    """

    interface: str
    member_name: str | None
    queues: tuple[str, ...]
    state: AgentStateName
    paused_reason: str
    device: DeviceName
    in_call: bool
    calls_taken: int
    last_call: datetime | None
    since: datetime
    device_since: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentChanged:
    """The PBX reported a change of an operator's queue state or phone (not a call event:
    the journal writer never sees it). `previous` is None on the first sighting."""

    at: datetime
    agent: AgentSnapshot
    previous: AgentSnapshot | None
