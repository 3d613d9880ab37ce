"""Event bodies in Asterisk 22's field names and order (see ../shared/ami-transcripts)."""

from __future__ import annotations

from collections.abc import Sequence

from hotline.sim.model import Bridge, Channel, Member, Queue
from hotline.sim.wire import Headers, c_escape

UNKNOWN = "<unknown>"

PRIVILEGE = {
    "call": "call,all",
    "dialplan": "dialplan,all",
    "agent": "agent,all",
    "user": "user,all",
    "dtmf": "dtmf,all",
    "system": "system,all",
    "security": "security,all",
}


def event(name: str, privilege: str, *parts: Headers) -> Headers:
    """`Event`, `Privilege`, then the parts in order."""
    headers: Headers = [("Event", name), ("Privilege", PRIVILEGE[privilege])]
    for part in parts:
        headers.extend(part)
    return headers


def snapshot(channel: Channel, channelvars: Sequence[str], prefix: str = "") -> Headers:
    """The channel snapshot block (`ast_manager_build_channel_state_string_prefix`)."""
    headers: Headers = [
        (f"{prefix}Channel", channel.name),
        (f"{prefix}ChannelState", str(channel.state)),
        (f"{prefix}ChannelStateDesc", channel.state_desc),
        (f"{prefix}CallerIDNum", channel.caller_num or UNKNOWN),
        (f"{prefix}CallerIDName", c_escape(channel.caller_name) or UNKNOWN),
        (f"{prefix}ConnectedLineNum", channel.connected_num or UNKNOWN),
        (f"{prefix}ConnectedLineName", c_escape(channel.connected_name) or UNKNOWN),
        (f"{prefix}Language", channel.language),
        (f"{prefix}AccountCode", channel.accountcode),
        (f"{prefix}Context", channel.context),
        (f"{prefix}Exten", channel.exten),
        (f"{prefix}Priority", str(channel.priority)),
        (f"{prefix}Uniqueid", channel.uniqueid),
        (f"{prefix}Linkedid", channel.linkedid),
    ]
    for name in channelvars:
        headers.append((f"{prefix}ChanVariable", f"{name}={channel.variables.get(name, '')}"))
    return headers


def bridge_block(bridge: Bridge, prefix: str = "", count: int | None = None) -> Headers:
    """The bridge snapshot block; `count` overrides the live number of channels."""
    channels = len(bridge.channels) if count is None else count
    return [
        (f"{prefix}BridgeUniqueid", bridge.uniqueid),
        (f"{prefix}BridgeType", "basic"),
        (f"{prefix}BridgeTechnology", "simple_bridge"),
        (f"{prefix}BridgeCreator", UNKNOWN),
        (f"{prefix}BridgeName", UNKNOWN),
        (f"{prefix}BridgeNumChannels", str(channels)),
        (f"{prefix}BridgeVideoSourceMode", "none"),
    ]


def _member_state(member: Member) -> Headers:
    """A queue member's state, as both the QueueMember* events and QueueStatus list it."""
    return [
        ("StateInterface", member.interface),
        ("Membership", member.membership),
        ("Penalty", str(member.penalty)),
        ("CallsTaken", str(member.calls_taken)),
        ("LastCall", str(member.last_call)),
        ("LastPause", str(member.last_pause)),
        ("LoginTime", str(member.login_time)),
        ("InCall", "1" if member.in_call else "0"),
        ("Status", str(member.device_status)),
        ("Paused", "1" if member.paused else "0"),
        ("PausedReason", member.paused_reason),
    ]


def member_block(queue: Queue, member: Member) -> Headers:
    """QueueMemberStatus / Added / Removed / Pause body."""
    return [
        ("Queue", queue.name),
        ("MemberName", member.name),
        ("Interface", member.interface),
        *_member_state(member),
        ("Ringinuse", "1" if member.ringinuse else "0"),
        ("Wrapuptime", str(member.wrapuptime)),
    ]


def queue_params(queue: Queue) -> Headers:
    """QueueStatus' QueueParams body (ActionID goes last, added by the caller)."""
    return [
        ("Event", "QueueParams"),
        ("Queue", queue.name),
        ("Max", "0"),
        ("Strategy", queue.strategy),
        ("Calls", str(len(queue.callers))),
        ("Holdtime", str(queue.holdtime)),
        ("TalkTime", str(queue.talktime)),
        ("Completed", str(queue.completed)),
        ("Abandoned", str(queue.abandoned)),
        ("ServiceLevel", "0"),
        ("ServicelevelPerf", "0.0"),
        ("ServicelevelPerf2", "0.0"),
        ("Weight", "0"),
    ]


def queue_member(queue: Queue, member: Member) -> Headers:
    """QueueStatus' QueueMember body."""
    return [
        ("Event", "QueueMember"),
        ("Queue", queue.name),
        ("Name", member.name),
        ("Location", member.interface),
        *_member_state(member),
        ("Wrapuptime", str(member.wrapuptime)),
    ]


def queue_entry(queue: Queue, position: int, channel: Channel, wait: int) -> Headers:
    """QueueStatus' QueueEntry body: one waiting caller."""
    return [
        ("Event", "QueueEntry"),
        ("Queue", queue.name),
        ("Position", str(position)),
        ("Channel", channel.name),
        ("Uniqueid", channel.uniqueid),
        ("CallerIDNum", channel.caller_num or UNKNOWN),
        ("CallerIDName", c_escape(channel.caller_name) or UNKNOWN),
        ("ConnectedLineNum", channel.connected_num or UNKNOWN),
        ("ConnectedLineName", c_escape(channel.connected_name) or UNKNOWN),
        ("Wait", str(wait)),
        ("Priority", "0"),
    ]


def duration(seconds: float) -> str:
    """CoreShowChannel `Duration`: HH:MM:SS."""
    total = max(0, int(seconds))
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"
