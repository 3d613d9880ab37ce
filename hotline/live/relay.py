"""Live messages across service instances: the hub of the instance holding the PBX link
addresses the sockets of every instance.

Only the holder sees the PBX's events, so only its live feed, figures and alerts produce
messages. Every instance keeps its own sockets here (`Relay` is what the WebSocket view
subscribes to). On the holder they are in its hub as they are with one instance. A standby
announces its sockets (who is signed in, their role, organization and phone: never the
session's token) over the bus; the holder puts a `RemoteSubscriber` for each in its hub, so
the same code addresses them (by phone, by user, administrators and supervisors) and does
the same per-user filtering (the card a user may see, the part of the board), and the
greeting of a new socket (the board, the calls at its phone, their pops) comes from the
holder too. What a `RemoteSubscriber` is sent goes to its instance's channel, batched per
turn of the event loop (one message for several sockets of an instance is sent once).

A standby re-announces its sockets every `ANNOUNCE` seconds (the holder forgets an
instance silent for `FORGET` seconds) and at once when a new holder calls the roll. A
session ended, an account changed or disabled, a card changed: told to every instance.
With one instance (SQLite, or no bus) the relay only passes sockets to the hub.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import structlog

from hotline.live.hub import CLOSE_GOING_AWAY, CLOSE_SESSION_ENDED, Hub, Message, Subscriber

log = structlog.get_logger(__name__)

ANNOUNCE = 3.0
FORGET = 10.0
SHARED = "hotline_live"

Send = Callable[[str, dict[str, Any]], None]


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(eq=False, slots=True)
class RemoteSubscriber(Subscriber):
    """A socket of another instance, as the holder's hub addresses it."""

    instance: str = ""
    remote_id: int = 0
    relay: Relay | None = None

    def put(self, message: Message) -> None:
        if not self.overflowed and self.relay is not None:
            self.relay.deliver(self.instance, self.remote_id, {"m": message})

    def close(self, code: int) -> None:
        if self.overflowed:
            return
        self.overflowed = True
        if code != CLOSE_GOING_AWAY and self.relay is not None:  # the holder's own shutdown
            self.relay.deliver(self.instance, self.remote_id, {"close": code})


class Relay:
    """This instance's sockets, wherever the holder is."""

    def __init__(self, hub: Hub, instance: str, send: Send, holds: Callable[[], bool],
                 channel_of: Callable[[str], str]) -> None:
        self.hub = hub
        self.instance = instance
        self.send = send
        self.holds = holds
        self.channel_of = channel_of
        self.local: dict[int, Subscriber] = {}
        self.remote: dict[str, dict[int, RemoteSubscriber]] = {}
        self.seen: dict[str, float] = {}
        self.on_card_changed: list[Callable[[int], None]] = []
        self._pending: dict[str, dict[int, tuple[list[int], dict[str, Any]]]] = {}
        self._flush_scheduled = False
        self._announce_scheduled = False
        self._task: asyncio.Task[None] | None = None
        self.delivered = 0

    # ------------------------------------------------------------ sockets (the ws view)

    def subscribe(self, subscriber: Subscriber) -> None:
        self.local[subscriber.id] = subscriber
        if self.holds():
            self.hub.subscribe(subscriber)
        else:
            self.announce_soon()

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.local.pop(subscriber.id, None)
        self.hub.unsubscribe(subscriber)
        if not self.holds():
            self.announce_soon()

    def __iter__(self) -> Iterator[Subscriber]:
        return iter(list(self.local.values()))

    def __len__(self) -> int:
        return len(self.local)

    def close_session(self, token: str, code: int = CLOSE_SESSION_ENDED) -> int:
        """A sign-out: its sockets here at once, and on every other instance."""
        self.send(SHARED, {"k": "end_session", "from": self.instance,
                           "session": token_digest(token), "code": code})
        return self._close_local(lambda s: s.session_token == token, code)

    def close_user(self, user_id: int, code: int = CLOSE_SESSION_ENDED) -> int:
        """An account changed or disabled: its sockets here at once, and everywhere."""
        self.send(SHARED, {"k": "end_user", "from": self.instance, "user": user_id, "code": code})
        return self._close_local(lambda s: s.user_id == user_id, code)

    def card_changed(self, card_id: int) -> None:
        self.send(SHARED, {"k": "card", "from": self.instance, "id": card_id})

    def _close_local(self, which: Callable[[Subscriber], bool], code: int) -> int:
        targets = [s for s in self.local.values() if which(s)]
        for subscriber in targets:
            subscriber.close(code)
        return len(targets)

    # ------------------------------------------------------------ the holder's role

    def became_holder(self) -> None:
        """Take every socket of this instance into the hub and call the others' roll."""
        self._drop_remote()
        for subscriber in list(self.local.values()):
            self.hub.subscribe(subscriber)
        self.send(SHARED, {"k": "rollcall", "from": self.instance})

    def lost_holder(self) -> None:
        """Leave the hub to nobody: this instance's sockets wait for the next holder."""
        self._drop_remote()
        for subscriber in list(self.local.values()):
            self.hub.unsubscribe(subscriber)
        self.announce_soon()

    def _drop_remote(self) -> None:
        for proxies in self.remote.values():
            for proxy in proxies.values():
                self.hub.unsubscribe(proxy)
        self.remote.clear()
        self.seen.clear()

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._task = asyncio.create_task(self._beat(), name="live-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(ANNOUNCE)
            if not self.holds():
                self.announce()
                continue
            now = time.monotonic()
            for instance in [i for i, at in self.seen.items() if now - at > FORGET]:
                log.info("live instance silent, its sockets forgotten", instance=instance)
                self._reconcile(instance, [])
                self.seen.pop(instance, None)

    def health(self) -> dict[str, Any]:
        return {"sockets_here": len(self.local),
                "sockets_elsewhere": sum(len(p) for p in self.remote.values()),
                "instances_seen": sorted(self.seen)}

    # ------------------------------------------------------------ announcing (standby)

    def announce_soon(self) -> None:
        if not self._announce_scheduled:
            self._announce_scheduled = True
            asyncio.get_running_loop().call_soon(self.announce)

    def announce(self) -> None:
        self._announce_scheduled = False
        if self.holds():
            return
        self.send(SHARED, {"k": "subs", "from": self.instance, "subs": [
            {"id": s.id, "user_id": s.user_id, "login": s.login, "role": s.role,
             "organization_id": s.organization_id, "interface": s.interface,
             "organization_code": s.organization_code}
            for s in self.local.values() if not s.overflowed]})

    # ------------------------------------------------------------ delivering (holder)

    def deliver(self, instance: str, remote_id: int, item: dict[str, Any]) -> None:
        """Queue a message (or a close) for a socket of `instance`; sent this loop turn."""
        batch = self._pending.setdefault(instance, {})
        key = id(item["m"]) if "m" in item else -remote_id
        if key in batch:
            batch[key][0].append(remote_id)
        else:
            batch[key] = ([remote_id], item)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        pending, self._pending = self._pending, {}
        for instance, batch in pending.items():
            items = [{"ids": ids, **item} for ids, item in batch.values()]
            self.send(self.channel_of(instance), {"k": "d", "from": self.instance, "items": items})

    # ------------------------------------------------------------ the bus in

    def received(self, _channel: str, body: dict[str, Any]) -> None:
        kind, sender = body.get("k"), body.get("from")
        if sender == self.instance:
            return
        if kind == "d":
            for item in body.get("items", ()):
                for remote_id in item.get("ids", ()):
                    subscriber = self.local.get(remote_id)
                    if subscriber is None:
                        continue
                    if "close" in item:
                        subscriber.close(int(item["close"]))
                    else:
                        subscriber.put(item["m"])
                        self.delivered += 1
        elif kind == "subs":
            if self.holds() and isinstance(sender, str):
                self.seen[sender] = time.monotonic()
                self._reconcile(sender, body.get("subs", []))
        elif kind == "rollcall":
            if not self.holds():
                self.announce()
        elif kind == "end_session":
            self._close_local(lambda s: token_digest(s.session_token) == body.get("session"),
                              int(body.get("code", CLOSE_SESSION_ENDED)))
        elif kind == "end_user":
            self._close_local(lambda s: s.user_id == body.get("user"),
                              int(body.get("code", CLOSE_SESSION_ENDED)))
        elif kind == "card":
            for hook in self.on_card_changed:
                hook(int(body["id"]))

    def _reconcile(self, instance: str, subs: list[dict[str, Any]]) -> None:
        proxies = self.remote.setdefault(instance, {})
        announced = {int(s["id"]): s for s in subs}
        for remote_id in [r for r in proxies if r not in announced]:
            self.hub.unsubscribe(proxies.pop(remote_id))
        for remote_id, sub in announced.items():
            if remote_id in proxies:
                continue
            proxy = RemoteSubscriber(
                user_id=sub["user_id"], login=sub["login"], role=sub["role"],
                organization_id=sub["organization_id"], interface=sub["interface"],
                session_token="", organization_code=sub.get("organization_code"),
                instance=instance, remote_id=remote_id, relay=self)
            proxies[remote_id] = proxy
            self.hub.subscribe(proxy)
        if not proxies:
            self.remote.pop(instance, None)


class LocalSockets:
    """One instance alone (SQLite, no bus): the sockets go straight to the hub."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def subscribe(self, subscriber: Subscriber) -> None:
        self.hub.subscribe(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.hub.unsubscribe(subscriber)

    def __iter__(self) -> Iterator[Subscriber]:
        return iter(self.hub)

    def close_session(self, token: str, code: int = CLOSE_SESSION_ENDED) -> int:
        return self.hub.close_session(token, code)

    def close_user(self, user_id: int, code: int = CLOSE_SESSION_ENDED) -> int:
        return self.hub.close_user(user_id, code)

    def card_changed(self, card_id: int) -> None:
        pass
