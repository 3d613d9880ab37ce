"""A signed-in browser's WebSocket to the service: its messages by type, waited for."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from hotline.config import Settings
from hotline.sim.calls import Timing

PASSWORD = "correct-horse-battery"


# Two seconds of talk by default: the card is written while the call lasts, however loaded
# the machine (a call over before its card is written pops without one; tests of that say so).
TALK = Timing(talk=200.0)






def _with_op150(settings: Settings) -> Settings:
    """The fund gets a phone that is in no queue of the PBX (a dynamic member to be)."""
    orgs = tuple(
        org.model_copy(update={"level1_phones": (*org.level1_phones, "op150")})
        if org.code == "tfoms" else org
        for org in settings.organizations
    )
    return settings.model_copy(update={"organizations": orgs})


class Browser:
    """One signed-in browser: its own cookies, CSRF token and live socket."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.popped: set[str] = set()

    async def login(self, login: str) -> Browser:
        resp = await self.http.post(self.client.make_url("/api/v1/login"),
                                    json={"login": login, "password": PASSWORD})
        assert resp.status == 200, await resp.text()
        self.csrf = (await resp.json())["csrf_token"]
        return self

    async def connect(self, **kwargs: Any) -> aiohttp.ClientWebSocketResponse:
        self.ws = await self.http.ws_connect(self.client.make_url("/api/v1/ws"), **kwargs)
        return self.ws

    async def post(self, path: str, body: dict[str, Any] | None = None, expect: int = 200) -> Any:
        resp = await self.http.post(self.client.make_url(path), json=body or {},
                                    headers={"X-CSRF-Token": self.csrf})
        text = await resp.text()
        assert resp.status == expect, f"{path}: {resp.status} {text}"
        return await resp.json()

    async def patch(self, path: str, body: dict[str, Any]) -> Any:
        resp = await self.http.patch(self.client.make_url(path), json=body,
                                     headers={"X-CSRF-Token": self.csrf})
        assert resp.status == 200, f"{path}: {resp.status} {await resp.text()}"
        return await resp.json()

    async def get(self, path: str) -> Any:
        resp = await self.http.get(self.client.make_url(path))
        assert resp.status == 200, await resp.text()
        return await resp.json()

    async def next_of(self, kind: str, timeout: float) -> dict[str, Any]:
        """The next message of `kind` on the socket (others skipped), within `timeout` s."""
        assert self.ws is not None
        async with asyncio.timeout(timeout):
            while True:
                message = await self.ws.receive_json()
                if message["type"] == kind:
                    return message

    async def next_pop(self, timeout: float) -> dict[str, Any]:
        """The next call's screen-pop with its card: a pop sent before the journal had the card
        (`card_pending`) is followed by one with it; a call already popped here is skipped
        (a later pop of it may bring the earlier cards the first one went without)."""
        async with asyncio.timeout(timeout):
            while True:
                pop = await self.next_of("screen_pop", timeout)
                call = pop["call"]["pbx_call_id"]
                if pop["card_pending"] or call in self.popped:
                    continue
                self.popped.add(call)
                return pop

    async def next_matching(self, kind: str, timeout: float, **match: Any) -> dict[str, Any]:
        """The next message of `kind` whose fields equal `match` (earlier states skipped)."""
        async with asyncio.timeout(timeout):
            while True:
                message = await self.next_of(kind, timeout)
                if all(message.get(k) == v for k, v in match.items()):
                    return message

    async def collect(self, timeout: float, **wanted: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """Read messages until each of `wanted` (name → fields to match, `type` included) has
        matched one, in whatever order they come; the first match of each, by name."""
        assert self.ws is not None
        found: dict[str, dict[str, Any]] = {}
        async with asyncio.timeout(timeout):
            while len(found) < len(wanted):
                message = await self.ws.receive_json()
                for name, fields in wanted.items():
                    if name not in found and all(message.get(k) == v for k, v in fields.items()):
                        found[name] = message
        return found

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        await self.http.close()

