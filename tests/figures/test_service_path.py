"""Calls played by the PBX simulator over real AMI reach the figures on the sockets: the
administrator sees every scope and the operators' day, an insurer's supervisor their own
organization only, a wallboard no operator; a restart reads today's figures back from the
journal instead of starting from zero."""

from __future__ import annotations

from typing import Any

from hotline.app import create_app
from hotline.keys import FIGURES
from hotline.web.keys import SESSIONS
from journal.db import unit_of_work
from journal.users import add_user
from tests.support import service as service_with_pbx
from tests.support.service import INSURER_LINE, running, service_settings, settle
from tests.support.api import PASSWORD
from tests.support.ws_browser import Browser

# The whole service on PostgreSQL, its AMI on the simulator (the fixtures of that module).
client, service, sim = service_with_pbx.client, service_with_pbx.service, service_with_pbx.sim


async def _users(app) -> None:
    async with unit_of_work(app[SESSIONS]) as db:
        for login, org, role in (("admin", "tfoms", "admin"), ("sogaz-sup", "sogaz", "supervisor"),
                                 ("kap-sup", "kapital", "supervisor"), ("wall", "tfoms", "wallboard")):
            await add_user(db, login=login, password=PASSWORD, full_name=login, role=role,
                           organization_code=org)


async def _figures_with(browser: Browser, offered: int) -> dict[str, Any]:
    """The first figures message whose calls have all finished waiting (earlier ones were
    sent while they waited)."""
    while True:
        message = await browser.next_of("figures", 20)
        center = [s for s in message["scopes"] if s["kind"] in ("center", "organization")]
        if any(s["today"]["offered"] >= offered for s in center):
            return message


async def test_simulated_calls_reach_the_figures_on_each_audiences_socket(
    client, service, sim, settings, pg_url, tmp_path
) -> None:
    await _users(service)
    people = {login: await Browser(client).login(login) for login in ("admin", "sogaz-sup", "wall")}
    try:
        for browser in people.values():
            await browser.connect()
        for number, scenario in (("79130000001", "answered"), ("79130000002", "abandoned"),
                                 ("79130000003", "answered")):
            sim.place_call(INSURER_LINE, number, "Сидорова Вера", scenario)
        await settle(sim, service)
        admin = await _figures_with(people["admin"], 3)
        line = next(s for s in admin["scopes"] if s["code"] == INSURER_LINE)
        assert (line["today"]["arrived"], line["today"]["answered"], line["today"]["abandoned"]) == (3, 2, 1)
        assert line["today"]["abandon_rate"] == 33.3 and line["m15"]["offered"] == 3
        assert {s["kind"] for s in admin["scopes"]} == {"center", "organization", "line"}
        assert sum(o["calls"] for o in admin["operators"]) >= 2
        sup = await _figures_with(people["sogaz-sup"], 3)
        assert {s["organization"] for s in sup["scopes"]} == {"sogaz"}
        assert all(o["organization"] == "sogaz" for o in sup["operators"])
        wall = await _figures_with(people["wall"], 3)
        assert "operators" not in wall and "79130000001" not in str(wall)
        assert any(s["kind"] == "center" for s in wall["scopes"])  # the fund's wallboard
    finally:
        for browser in people.values():
            await browser.close()
    # A restart: today's figures so far come back from the journal. The first instance stops
    # first (it holds the PBX link: a second one beside it would stand by).
    await client.close()
    config = service_settings(settings, sim, pg_url, tmp_path)
    async with running(create_app(config, migrate=False)) as again:
        figures = again.server.app[FIGURES]
        line = next(s for s in figures.tick()["scopes"] if s["code"] == INSURER_LINE)
        assert (line["today"]["arrived"], line["today"]["answered"], line["today"]["abandoned"]) == (3, 2, 1)
