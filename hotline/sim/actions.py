"""AMI actions the simulator executes, answered with Asterisk 22's wording and header order."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from hotline.pbx.spy import SPY_CONTEXT
from hotline.sim import calls, render
from hotline.sim.dialplan import Dialplan, Phone
from hotline.sim.model import UP, Channel, Member
from hotline.sim.pbx import Pbx
from hotline.sim.server import Action, AmiSession, Handler
from hotline.sim.wire import Headers, action_id_tail, encode, list_ack, list_complete


class SimulatorParts(Protocol):
    """What the actions need of the simulator they serve (`PbxSimulator`); a restart
    replaces its PBX and its call engine, so they are read at every action."""

    username: str
    secret: str
    auth_failure_delay: float
    ping_silent: bool
    auto_answer: bool
    timing: calls.Timing
    dialplan: Dialplan
    pbx: Pbx

    @property
    def engine(self) -> calls.CallEngine: ...

    @property
    def address(self) -> tuple[str, int]: ...


_NO_CHANNEL = "Channel specified does not exist"


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on", "y", "t")


def parse_callerid(text: str) -> tuple[str, str]:
    """`"Name" <number>` → (number, name), as Asterisk's ast_callerid_parse does."""
    text = text.strip()
    if "<" in text and text.endswith(">"):
        name, _, number = text[:-1].rpartition("<")
        return number.strip(), name.strip().strip('"').strip()
    return (text, "") if text.replace("+", "").isdigit() else ("", text.strip('"'))


def parse_variables(values: list[str]) -> dict[str, str]:
    """`Variable: A=1` headers (repeatable, or comma-separated) → {A: "1"}."""
    result: dict[str, str] = {}
    for value in values:
        for item in value.split(","):
            name, sep, val = item.partition("=")
            if sep and name.strip():
                result[name.strip()] = val
    return result


class Actions:
    """Handlers bound to one simulator."""

    def __init__(self, sim: SimulatorParts) -> None:
        self.sim = sim

    @property
    def pbx(self) -> Pbx:
        """The current PBX (a restart replaces it)."""
        return self.sim.pbx

    def table(self) -> dict[str, Handler]:
        return {
            "Login": self.login,
            "Logoff": self.logoff,
            "Ping": self.ping,
            "Events": self.events,
            "DBPut": self.db_put,
            "DBGet": self.db_get,
            "DBGetTree": self.db_get_tree,
            "DBDel": self.db_del,
            "Getvar": self.getvar,
            "Setvar": self.setvar,
            "CoreShowChannels": self.core_show_channels,
            "Status": self.status,
            "QueueStatus": self.queue_status,
            "QueueAdd": self.queue_add,
            "QueueRemove": self.queue_remove,
            "QueuePause": self.queue_pause,
            "BlindTransfer": self.blind_transfer,
            "Atxfer": self.atxfer,
            "Redirect": self.redirect,
            "Originate": self.originate,
            "Hangup": self.hangup,
        }

    # -- session -----------------------------------------------------------------------

    async def login(self, session: AmiSession, action: Action) -> None:
        if session.authenticated:
            session.reply("Success", action, "Already authenticated")
            return
        user = (action.get("Username") or "").lower()
        if user != self.sim.username.lower() or action.get("Secret") != self.sim.secret:
            await asyncio.sleep(self.sim.auth_failure_delay)
            session.reply("Error", action, "Authentication failed")
            session.close()
            return
        session.authenticated = True
        session.username = action.get("Username") or ""
        session.events = (action.get("Events") or "on").lower() not in ("off", "no", "false", "0")
        session.reply("Success", action, "Authentication accepted")
        now = self.pbx.clock.now()
        if session.events:
            session.send(self._fully_booted(now))
            session.send(self._successful_auth(session))

    def _fully_booted(self, now: float) -> Headers:
        state = self.pbx.state
        return [
            ("Event", "FullyBooted"),
            ("Privilege", "system,all"),
            ("Uptime", str(int(now - state.started))),
            ("LastReload", str(int(now - state.reloaded))),
            ("Status", "Fully Booted"),
        ]

    def _successful_auth(self, session: AmiSession) -> Headers:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".000+0000"
        host, port = self.sim.address
        return [
            ("Event", "SuccessfulAuth"),
            ("Privilege", "security,all"),
            ("EventTV", stamp),
            ("Severity", "Informational"),
            ("Service", "AMI"),
            ("EventVersion", "1"),
            ("AccountID", session.username),
            ("SessionID", f"0x{id(session):x}"),
            ("LocalAddress", f"IPV4/TCP/{host}/{port}"),
            ("RemoteAddress", f"IPV4/TCP/{session.peer.replace(':', '/')}"),
            ("UsingPassword", "0"),
            ("SessionTV", stamp),
        ]

    async def logoff(self, session: AmiSession, action: Action) -> None:
        session.reply("Goodbye", action, "Thanks for all the fish.")
        session.close()

    async def ping(self, session: AmiSession, action: Action) -> None:
        if self.sim.ping_silent:
            return
        stamp = f"{time.time():.6f}"
        session.reply("Success", action, None, ("Ping", "Pong"), ("Timestamp", stamp))

    async def events(self, session: AmiSession, action: Action) -> None:
        mask = (action.get("EventMask") or "on").lower()
        session.events = mask not in ("off", "no", "false", "0", "none")
        session.reply("Success", action, None, ("Events", "On" if session.events else "Off"))

    # -- AstDB and variables -------------------------------------------------------------

    def _db_key(self, session: AmiSession, action: Action) -> str | None:
        family, key = action.get("Family"), action.get("Key")
        if not family:
            session.reply("Error", action, "No family specified.")
            return None
        if not key:
            session.reply("Error", action, "No key specified.")
            return None
        return f"{family}/{key}"

    async def db_put(self, session: AmiSession, action: Action) -> None:
        key = self._db_key(session, action)
        if key is not None:
            self.pbx.state.astdb[key] = action.get("Val") or ""
            session.reply("Success", action, "Updated database successfully")

    async def db_get(self, session: AmiSession, action: Action) -> None:
        key = self._db_key(session, action)
        if key is None:
            return
        if key not in self.pbx.state.astdb:
            session.reply("Error", action, "Database entry not found")
            return
        aid = action.action_id
        body = [
            ("Event", "DBGetResponse"),
            ("Family", action.get("Family") or ""),
            ("Key", action.get("Key") or ""),
            ("Val", self.pbx.state.astdb[key]),
            *action_id_tail(aid),
        ]
        ack, complete = list_ack(aid, "Result will follow"), list_complete("DBGetComplete", aid, 1)
        self._send_list(session, ack, [body], complete)

    async def db_get_tree(self, session: AmiSession, action: Action) -> None:
        """Every key under Family[/Key], as Asterisk lists them: `Key: /family/key`."""
        family = (action.get("Family") or "").strip("/")
        key = (action.get("Key") or "").strip("/")
        prefix = "/".join(part for part in (family, key) if part)
        aid = action.action_id
        bodies = [
            [("Event", "DBGetTreeResponse"), ("Key", f"/{name}"), ("Val", value),
             *action_id_tail(aid)]
            for name, value in sorted(self.pbx.state.astdb.items())
            if not prefix or name == prefix or name.startswith(f"{prefix}/")
        ]
        ack = list_ack(aid, "Result will follow")
        self._send_list(session, ack, bodies, list_complete("DBGetTreeComplete", aid, len(bodies)))

    async def db_del(self, session: AmiSession, action: Action) -> None:
        key = self._db_key(session, action)
        if key is None:
            return
        if self.pbx.state.astdb.pop(key, None) is None:
            session.reply("Error", action, "Database entry not found")
        else:
            session.reply("Success", action, "Key deleted successfully")

    def _channel(
        self, session: AmiSession, action: Action, missing: str, unknown: str
    ) -> Channel | None:
        name = action.get("Channel")
        if not name:
            session.reply("Error", action, missing)
            return None
        channel = self.pbx.state.find_channel(name)
        if channel is None:
            session.reply("Error", action, unknown.format(name=name))
        return channel

    async def getvar(self, session: AmiSession, action: Action) -> None:
        variable = action.get("Variable")
        if not variable:
            session.reply("Error", action, "No variable specified")
            return
        if action.get("Channel"):
            channel = self._channel(session, action, "", "No such channel")
            if channel is None:
                return
            value = channel.variables.get(variable, "")
        else:
            value = self.pbx.state.globals.get(variable, "")
        session.reply("Success", action, None, ("Variable", variable), ("Value", value))

    async def setvar(self, session: AmiSession, action: Action) -> None:
        variable = action.get("Variable")
        if not variable:
            session.reply("Error", action, "No variable specified")
            return
        value = action.get("Value") or ""
        if action.get("Channel"):
            channel = self._channel(session, action, "", "No such channel")
            if channel is None:
                return
            session.reply("Success", action, "Variable Set")
            self.pbx.set_var(channel, variable, value)
            return
        self.pbx.state.globals[variable] = value
        session.reply("Success", action, "Variable Set")

    # -- lists -------------------------------------------------------------------------

    @staticmethod
    def _send_list(
        session: AmiSession, ack: Headers, items: list[Headers], complete: Headers
    ) -> None:
        """A whole list in one write: nothing can come between its parts."""
        session.send_raw(b"".join(encode(part) for part in (ack, *items, complete)))

    def _live_channels(self) -> list[Channel]:
        return sorted(self.pbx.state.channels.values(), key=lambda c: c.created)

    async def core_show_channels(self, session: AmiSession, action: Action) -> None:
        aid, now = action.action_id, self.pbx.clock.now()
        items = []
        for channel in self._live_channels():
            head: Headers = [("Event", "CoreShowChannel"), *action_id_tail(aid)]
            items.append(
                head
                + self.pbx.snap(channel)
                + [
                    ("Application", channel.application),
                    ("ApplicationData", channel.app_data),
                    ("Duration", render.duration(now - channel.created)),
                    ("BridgeId", channel.bridge.uniqueid if channel.bridge else ""),
                ]
            )
        ack = list_ack(aid, "Channels will follow")
        complete = list_complete("CoreShowChannelsComplete", aid, len(items))
        self._send_list(session, ack, items, complete)

    async def status(self, session: AmiSession, action: Action) -> None:
        aid, now = action.action_id, self.pbx.clock.now()
        wanted = action.get("Channel")
        channels = self._live_channels()
        if wanted:
            found = self.pbx.state.find_channel(wanted)
            if found is None:
                session.reply("Error", action, "No such channel")
                return
            channels = [found]
        names = [n.strip() for n in (action.get("Variables") or "").split(",") if n.strip()]
        items = [self._status_item(channel, names, now, aid) for channel in channels]
        ack = list_ack(aid, "Channel status will follow")
        complete = list_complete("StatusComplete", aid, len(items), ("Items", str(len(items))))
        self._send_list(session, ack, items, complete)

    def _status_item(
        self, channel: Channel, names: list[str], now: float, aid: str | None
    ) -> Headers:
        bridge = channel.bridge.uniqueid if channel.bridge else ""
        item: Headers = [("Event", "Status"), ("Privilege", "Call"), *self.pbx.snap(channel)]
        item += [
            ("Type", "PJSIP" if channel.name.startswith("PJSIP/") else "Local"),
            ("DNID", channel.dnid),
            ("EffectiveConnectedLineNum", channel.connected_num or render.UNKNOWN),
            ("EffectiveConnectedLineName", channel.connected_name or render.UNKNOWN),
            ("TimeToHangup", "0"),
            ("BridgeID", bridge),
            ("Application", channel.application),
            ("Data", channel.app_data),
            ("Nativeformats", "(alaw)"),
            ("Readformat", "alaw"),
            ("Readtrans", ""),
            ("Writeformat", "alaw"),
            ("Writetrans", ""),
            ("Callgroup", "0"),
            ("Pickupgroup", "0"),
            ("Seconds", str(int(now - channel.created)) if channel.state == UP else "0"),
        ]
        item += [("Variable", f"{name}={channel.variables.get(name, '')}") for name in names]
        return item + action_id_tail(aid)

    async def queue_status(self, session: AmiSession, action: Action) -> None:
        aid, now = action.action_id, self.pbx.clock.now()
        wanted, member_filter = action.get("Queue"), action.get("Member")
        items: list[Headers] = []
        for queue in self.pbx.state.queues.values():
            if wanted and queue.name != wanted:
                continue
            items.append(render.queue_params(queue) + action_id_tail(aid))
            for member in queue.members:
                if member_filter and member.interface.lower() != member_filter.lower():
                    continue
                items.append(render.queue_member(queue, member) + action_id_tail(aid))
            for position, caller in enumerate(queue.callers, start=1):
                wait = int(now - caller.created)
                entry = render.queue_entry(queue, position, caller, wait)
                items.append(entry + action_id_tail(aid))
        ack = list_ack(aid, "Queue status will follow")
        self._send_list(session, ack, items, list_complete("QueueStatusComplete", aid, len(items)))

    # -- queue members -----------------------------------------------------------------

    async def queue_add(self, session: AmiSession, action: Action) -> None:
        name, interface = action.get("Queue"), action.get("Interface")
        if not name:
            session.reply("Error", action, "'Queue' not specified.")
            return
        if not interface:
            session.reply("Error", action, "'Interface' not specified.")
            return
        queue = self.pbx.state.queues.get(name)
        if queue is None:
            session.reply("Error", action, "Unable to add interface to queue: No such queue")
            return
        if queue.member(interface) is not None:
            session.reply("Error", action, "Unable to add interface: Already there")
            return
        member = Member(
            interface=interface,
            name=action.get("MemberName") or interface,
            membership="dynamic",
            penalty=int(action.get("Penalty") or 0),
            paused=_true(action.get("Paused")),
            paused_reason=action.get("Reason") or "",
            login_time=int(self.pbx.clock.now()),
        )
        queue.members.append(member)
        session.reply("Success", action, "Added interface to queue")
        self.pbx.member_event("QueueMemberAdded", queue, member)
        self.sim.engine.member_freed()

    async def queue_remove(self, session: AmiSession, action: Action) -> None:
        name, interface = action.get("Queue"), action.get("Interface")
        if not name or not interface:
            session.reply("Error", action, "Need 'Queue' and 'Interface' parameters.")
            return
        queue = self.pbx.state.queues.get(name)
        if queue is None:
            session.reply("Error", action, "Unable to remove interface from queue: No such queue")
            return
        member = queue.member(interface)
        if member is None:
            session.reply("Error", action, "Unable to remove interface: Not there")
            return
        if member.membership != "dynamic":
            session.reply("Error", action, "Member not dynamic")
            return
        queue.members.remove(member)
        session.reply("Success", action, "Removed interface from queue")
        self.pbx.member_event("QueueMemberRemoved", queue, member)

    async def queue_pause(self, session: AmiSession, action: Action) -> None:
        interface, paused_text = action.get("Interface"), action.get("Paused")
        if not interface or paused_text is None:
            session.reply("Error", action, "Need 'Interface' and 'Paused' parameters.")
            return
        paused, wanted = _true(paused_text), action.get("Queue")
        found = [
            (queue, member)
            for queue in self.pbx.state.queues.values()
            if (not wanted or queue.name == wanted)
            and (member := queue.member(interface)) is not None
        ]
        if not found:
            session.reply("Error", action, "Interface not found")
            return
        done = "Interface paused successfully" if paused else "Interface unpaused successfully"
        session.reply("Success", action, done)
        for queue, member in found:
            self.pbx.pause_member(queue, member, paused, action.get("Reason") or "")
        if not paused:
            self.sim.engine.member_freed()

    # -- call control ------------------------------------------------------------------

    def _owned(
        self, session: AmiSession, action: Action, missing: str, unknown: str
    ) -> Channel | None:
        """The named channel, if it exists and belongs to a call the simulator plays."""
        channel = self._channel(session, action, missing, unknown)
        if channel is not None and self.sim.engine.call_of(channel) is None:
            session.reply("Error", action, unknown.format(name=channel.name))
            return None
        return channel

    async def blind_transfer(self, session: AmiSession, action: Action) -> None:
        if not action.get("Channel"):
            session.reply("Error", action, "No channel specified")
            return
        if not action.get("Exten"):
            session.reply("Error", action, "No extension specified")
            return
        channel = self._owned(session, action, "No channel specified", _NO_CHANNEL)
        if channel is None:
            return
        if channel.bridge is None:
            session.reply("Error", action, "Transfer not permitted")
            return
        context = action.get("Context") or channel.context
        session.reply("Success", action, "Transfer succeeded")
        exten = action.get("Exten") or ""
        self.sim.engine.send(channel, calls.BlindTransfer(channel, context, exten))

    async def atxfer(self, session: AmiSession, action: Action) -> None:
        if not action.get("Channel"):
            session.reply("Error", action, "No channel specified")
            return
        exten = action.get("Exten") or ""
        if not exten:
            session.reply("Error", action, "No extension specified")
            return
        channel = self._owned(session, action, "No channel specified", _NO_CHANNEL)
        if channel is None:
            return
        context = action.get("Context") or channel.context
        session.reply("Success", action, "Atxfer successfully queued")
        self.sim.engine.send(channel, calls.AttendedTransfer(channel, context, exten))

    async def redirect(self, session: AmiSession, action: Action) -> None:
        name = action.get("Channel")
        if not name:
            session.reply("Error", action, "Channel not specified")
            return
        missing, unknown = "Channel not specified", "Channel does not exist: {name}"
        channel = self._owned(session, action, missing, unknown)
        if channel is None:
            return
        context, exten = action.get("Context") or "", action.get("Exten") or ""
        if not self.sim.dialplan.extension_exists(context, exten):
            session.reply("Error", action, "Redirect failed")
            return
        session.reply("Success", action, "Redirect successful")
        self.sim.engine.send(channel, calls.Redirect(channel, context, exten))

    async def hangup(self, session: AmiSession, action: Action) -> None:
        channel = self._owned(session, action, "No channel specified", "No such channel")
        if channel is None:
            return
        cause = int(action.get("Cause") or 16)
        session.reply("Success", action, "Channel Hungup")
        self.sim.engine.send(channel, calls.HangupChannel(channel, cause))

    async def originate(self, session: AmiSession, action: Action) -> None:
        """Originate of an operator's phone into `callback` (calls.callback_flow) or of a
        supervisor's into `hotline-spy,<mode>` (calls.spy_flow); anything else fails."""
        target = action.get("Channel")
        if not target:
            session.reply("Error", action, "Channel not specified")
            return
        context, exten = action.get("Context") or "", action.get("Exten") or ""
        if exten and context and not self.sim.dialplan.extension_exists(context, exten):
            session.reply("Error", action, "Extension does not exist.")
            return
        is_async = _true(action.get("Async"))
        channel_id = (action.get("ChannelId") or None) if context == SPY_CONTEXT else None
        scenario, phone = self._originated(target, context, channel_id)
        if phone is None:
            if not is_async:
                session.reply("Error", action, "Originate failed")
                return
            session.reply("Success", action, "Originate successfully queued")
            self.pbx.originate_response(
                action.action_id, False, target, context, exten, 0, "<null>", ("", "")
            )
            return
        spec = calls.CallSpec(
            scenario=scenario,
            agent=phone.interface,
            timing=self.sim.timing,
            originate_exten=exten,
            originate_callerid=parse_callerid(action.get("CallerID") or ""),
            originate_variables=parse_variables(action.all("Variable")),
            action_id=action.action_id,
            originate_response=is_async,
            auto_answer=self.sim.auto_answer,
            channel_id=channel_id,
        )
        call = self.sim.engine.start(spec)
        if is_async:
            session.reply("Success", action, "Originate successfully queued")
            return
        # A synchronous Originate holds this session until the phone answers (or not).
        if await asyncio.shield(call.picked_up):
            session.reply("Success", action, "Originate successfully queued")
        else:
            session.reply("Error", action, "Originate failed")

    def _originated(
        self, target: str, context: str, channel_id: str | None
    ) -> tuple[calls.Scenario, Phone | None]:
        """The scenario an Originate runs and the phone it rings (None: it fails). A
        supervisor's phone rings into the spy context unless its ChannelId is taken; only an
        operator's phone rings into `callback`."""
        if context == SPY_CONTEXT:
            taken = channel_id is not None and self.pbx.state.find_channel(channel_id) is not None
            return "supervision_originate", None if taken else self.sim.dialplan.endpoint(target)
        phone = self.sim.dialplan.phone(target) if context == "callback" else None
        return "callback_originate", phone
