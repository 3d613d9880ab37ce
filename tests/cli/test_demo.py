"""`hotline demo`: its help, and the wiring it runs (simulator, SQLite journal, users, web)
started and stopped in-process without the blocking wait."""

from __future__ import annotations

import aiohttp

from hotline.cli.demo import Demo
from tests.support.cli import hotline


def test_demo_help_describes_the_command() -> None:
    done = hotline("demo", "--help")
    assert done.returncode == 0, done.stderr
    assert "--calls-per-minute" in done.stdout and "SQLite" in done.stdout


async def test_demo_starts_the_service_on_sqlite_with_its_users(settings, tmp_path) -> None:
    """The printed users can sign in at the printed URL; the fund's line is opened."""
    demo = Demo(settings, var=tmp_path, port=0, calls_per_minute=0, time_scale=0.01, seed=3)
    try:
        await demo.start()
        assert (tmp_path / "demo.sqlite3").exists()
        logins = {u.login: u for u in demo.users}
        assert {"admin", "op101", "op102", "op201", "sogaz-op"} <= set(logins)
        assert logins["op201"].level == 2 and logins["op201"].interface == "PJSIP/op201"
        banner = demo.banner()
        assert demo.url in banner and all(u.password in banner for u in demo.users)
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            async with http.post(f"{demo.url}api/v1/login", json={
                "login": "op101", "password": logins["op101"].password,
            }) as resp:
                assert resp.status == 200, await resp.text()
                me = (await resp.json())["user"]
        assert me["interface"] == "PJSIP/op101" and me["organization"]["code"] == "tfoms"
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            async with http.get(f"{demo.url}api/v1/scripts?q=СМО") as resp:
                titles = [s["title"] for s in (await resp.json())["items"]]
        assert "Замена страховой медицинской организации" in titles
        fund_lines = [line for line in settings.lines if not line.around_the_clock]
        sim = demo._sim
        for line in fund_lines:
            assert sim.pbx.state.astdb[f"hotline/mode/{line.number}"] == "operator"
    finally:
        await demo.stop()


async def test_demo_phones_answer_only_once_their_operator_joined(settings, tmp_path) -> None:
    """No ghost at the phones: before op101 signs in and presses «Встать в очередь», the
    workspace shows op101 out of the queue and a citizen calling the fund gets the electronic
    secretary (nobody to ring); afterwards op101's phone takes the call."""
    from hotline.sim.calls import Timing

    demo = Demo(settings, var=tmp_path, port=0, calls_per_minute=0, time_scale=0.01, seed=4)
    fund_line = next(line.number for line in settings.lines if not line.around_the_clock)
    quick = Timing(ring=0.5, talk=1.0, prompt=0.5, message=1.0)
    try:
        await demo.start()
        sim = demo._sim
        op101 = next(u for u in demo.users if u.login == "op101")
        before = sim.place_call(fund_line, scenario="answered", timing=quick)
        await sim.wait_idle(timeout=20)
        assert before.outcome == "message"  # the secretary took it: no phone was in the queue
        member = sim.pbx.state.queues["l1-tfoms"].member("PJSIP/op101")
        assert member is not None and member.calls_taken == 0
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.post(f"{demo.url}api/v1/login", json={
                    "login": "op101", "password": op101.password}) as resp:
                csrf = (await resp.json())["csrf_token"]
            async with http.get(f"{demo.url}api/v1/agent") as resp:
                assert (await resp.json())["agent"]["state"] == "out"
            async with http.post(f"{demo.url}api/v1/agent/join",
                                 headers={"X-CSRF-Token": csrf}) as resp:
                assert resp.status == 200, await resp.text()
                assert (await resp.json())["agent"]["state"] == "ready"
        after = sim.place_call(fund_line, scenario="answered", timing=quick)
        await sim.wait_idle(timeout=20)
        assert after.outcome == "completed" and member.calls_taken == 1
        others = [m for m in sim.pbx.state.queues["l1-tfoms"].members if m is not member]
        assert others and all(m.paused and m.calls_taken == 0 for m in others)
    finally:
        await demo.stop()
