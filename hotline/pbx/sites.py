"""Several PBXs (АТС: sites, or regions sharing one journal) as one.

Each PBX has its own AMI link, tracker and roster (a `PbxFeed`) and its own commands
(`PbxActions`). `PbxSet` is what the rest of the service takes instead of one feed: the same
narrow API (subscribe to calls and agents, a call's snapshot, the calls followed now, the
link's state), fanned out over every PBX's feed. Its `actions` route each command to the PBX
that owns what it is about: a call (its key names its PBX, `hotline.pbx.callkeys`), an
operator's or supervisor's phone (its organization's PBX), a line (the PBX it comes in on).
With one PBX it is a thin wrapper and nothing routes anywhere else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from hotline.pbx.actions import PbxActions
from hotline.pbx.callkeys import pbx_of
from hotline.pbx.events import CallSnapshot
from hotline.pbx.feed import AgentSubscriber, CallSubscriber, PbxFeed
from hotline.pbx.spy import SpyMode

# A channel's phone: "PJSIP/op101-0000000e" → "PJSIP/op101".
_CHANNEL_PHONE = re.compile(r"^(.+)-[0-9a-fA-F]+(?:;\d)?$")
# How long the supervisors' legs are remembered (by their channel id) for their PBX.
_LEGS_KEPT = 1000


@dataclass(frozen=True, slots=True)
class Pbx:
    """One PBX's parts: its name (in call keys and locks), its title (for people)."""

    name: str
    title: str
    feed: PbxFeed
    actions: PbxActions


class PbxSet:
    """Every PBX's feed as one feed; `actions` routes commands to the right PBX."""

    def __init__(self, pbxs: Sequence[Pbx], *, phone_pbx: Callable[[str | None], str | None],
                 line_pbx: Callable[[str], str | None]) -> None:
        if not pbxs:
            raise ValueError("no PBX")
        self.pbxs = tuple(pbxs)
        self._by_name = {p.name: p for p in self.pbxs}
        self.actions = PbxSetActions(self, phone_pbx=phone_pbx, line_pbx=line_pbx)

    def __iter__(self) -> Iterator[Pbx]:
        return iter(self.pbxs)

    def __len__(self) -> int:
        return len(self.pbxs)

    @property
    def first(self) -> Pbx:
        """The default PBX (the first listed, or the only one)."""
        return self.pbxs[0]

    def get(self, name: str | None) -> Pbx | None:
        return self._by_name.get(name or "")

    def of_call(self, call_id: str) -> Pbx:
        """The PBX whose call this key is (the first for a key of no PBX configured now)."""
        return self._by_name.get(pbx_of(call_id)) or self.first

    def title(self, name: str | None) -> str:
        pbx = self.get(name)
        return pbx.title if pbx is not None else (name or "")

    # ------------------------------------------------------------ subscribers

    def subscribe_calls(self, subscriber: CallSubscriber) -> None:
        for pbx in self.pbxs:
            pbx.feed.subscribe_calls(subscriber)

    def unsubscribe_calls(self, subscriber: CallSubscriber) -> None:
        for pbx in self.pbxs:
            pbx.feed.unsubscribe_calls(subscriber)

    def subscribe_agents(self, subscriber: AgentSubscriber) -> None:
        for pbx in self.pbxs:
            pbx.feed.subscribe_agents(subscriber)

    def unsubscribe_agents(self, subscriber: AgentSubscriber) -> None:
        for pbx in self.pbxs:
            pbx.feed.unsubscribe_agents(subscriber)

    # ------------------------------------------------------------ views

    def calls(self) -> list[CallSnapshot]:
        return [call for pbx in self.pbxs for call in pbx.feed.calls()]

    def snapshot(self, call_id: str) -> CallSnapshot | None:
        return self.of_call(call_id).feed.snapshot(call_id)

    def live_call_ids(self) -> set[str]:
        return set().union(*(pbx.feed.live_call_ids() for pbx in self.pbxs))

    @property
    def roster_complete(self) -> bool:
        return all(pbx.feed.roster_complete for pbx in self.pbxs)

    @property
    def link_state(self) -> str:
        """"connected" when every PBX's link is; else the first link that is not's state."""
        for pbx in self.pbxs:
            if pbx.feed.link_state != "connected":
                return pbx.feed.link_state
        return "connected"

    def links(self) -> list[dict[str, str]]:
        """Each PBX's link for people: name, title, state."""
        return [{"name": p.name, "title": p.title, "state": p.feed.link_state} for p in self.pbxs]

    def health(self) -> dict[str, object]:
        """The first PBX's report as before (one PBX: unchanged), with every PBX's under
        `pbxs` by name when there are several."""
        report = self.first.feed.health()
        if len(self.pbxs) > 1:
            report = {**report, "state": self.link_state, "pbxs": {
                p.name: {"title": p.title, **p.feed.health()} for p in self.pbxs}}
        return report


class PbxSetActions:
    """`PbxActions`' commands, each sent to the PBX that owns its call, phone or line."""

    def __init__(self, pbxs: PbxSet, *, phone_pbx: Callable[[str | None], str | None],
                 line_pbx: Callable[[str], str | None]) -> None:
        self.pbxs = pbxs
        self._phone_pbx = phone_pbx
        self._line_pbx = line_pbx
        # A supervisor's leg (its channel id) → its PBX, for switching and hanging it up.
        self._legs: dict[str, str] = {}

    @property
    def action_timeout(self) -> float:
        return self.pbxs.first.actions.action_timeout

    def _pbx(self, name: str | None) -> PbxActions:
        pbx = self.pbxs.get(name)
        return (pbx or self.pbxs.first).actions

    def by_phone(self, interface: str | None) -> PbxActions:
        """The PBX an operator's or supervisor's phone is registered on."""
        try:
            return self._pbx(self._phone_pbx(interface))
        except KeyError:
            return self.pbxs.first.actions

    def by_line(self, line: str | None) -> PbxActions:
        try:
            return self._pbx(self._line_pbx(line) if line else None)
        except KeyError:
            return self.pbxs.first.actions

    def by_call(self, call_id: str) -> PbxActions:
        return self.pbxs.of_call(call_id).actions

    def _by_channel(self, channel: str) -> PbxActions:
        if channel in self._legs:
            return self._pbx(self._legs[channel])
        match = _CHANNEL_PHONE.match(channel)
        return self.by_phone(match.group(1) if match else channel)

    # ------------------------------------------------------------ the commands

    async def link_state(self, interface: str | None = None) -> str:
        """The link of the PBX the phone is on (the first PBX's for none)."""
        return str(await self.by_phone(interface).link_state())

    async def write_mode(self, line: str, mode: str) -> None:
        await self.by_line(line).write_mode(line, mode)

    async def place_callback(self, *, card_id: int, interface: str, number: str, line: str) -> None:
        await self.by_phone(interface).place_callback(
            card_id=card_id, interface=interface, number=number, line=line)

    async def place_survey(self, *, survey_id: int, card_id: int, number: str, line: str) -> None:
        await self.by_line(line).place_survey(
            survey_id=survey_id, card_id=card_id, number=number, line=line)

    async def queue_add(self, queue: str, interface: str, member_name: str) -> None:
        await self.by_phone(interface).queue_add(queue, interface, member_name)

    async def queue_remove(self, queue: str, interface: str) -> None:
        await self.by_phone(interface).queue_remove(queue, interface)

    async def queue_pause(self, interface: str, paused: bool, reason: str = "") -> None:
        await self.by_phone(interface).queue_pause(interface, paused, reason)

    async def blind_transfer(self, channel: str, context: str, extension: str) -> None:
        await self._by_channel(channel).blind_transfer(channel, context, extension)

    async def operator_channel(self, *, call_id: str, interface: str) -> str | None:
        result = await self.by_call(call_id).operator_channel(call_id=call_id, interface=interface)
        return None if result is None else str(result)

    async def transfer_call(self, *, call_id: str, interface: str, context: str,
                            extension: str) -> str | None:
        result = await self.by_call(call_id).transfer_call(
            call_id=call_id, interface=interface, context=context, extension=extension)
        return None if result is None else str(result)

    async def spy_originate(
        self, *, interface: str, mode: SpyMode, target: str, call_key: str, channel_id: str,
        caller_name: str, caller_number: str,
    ) -> None:
        pbx = self.pbxs.of_call(call_key)
        if len(self._legs) >= _LEGS_KEPT:
            self._legs.pop(next(iter(self._legs)))
        self._legs[channel_id] = pbx.name
        await pbx.actions.spy_originate(
            interface=interface, mode=mode, target=target, call_key=call_key,
            channel_id=channel_id, caller_name=caller_name, caller_number=caller_number)

    async def spy_switch(self, channel_id: str, mode: SpyMode) -> None:
        await self._by_channel(channel_id).spy_switch(channel_id, mode)

    async def hangup(self, channel: str) -> None:
        await self._by_channel(channel).hangup(channel)
