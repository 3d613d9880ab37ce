"""Browser tests: the real pages in a real headless Chromium (Debian's /usr/bin/chromium, driven
by Playwright for Python), against the whole service on PostgreSQL and, where calls are needed,
the PBX simulator over real AMI.

Each test gets fresh browser contexts (one per signed-in person, so cookies never mix) and can
save screenshots with `shot(page, name)` into `test-output/screenshots/` for review.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hotline.app import create_app
from hotline.config import Settings
from hotline.modes.store import add_override
from hotline.sim.simulator import PbxSimulator
from hotline.web.keys import SESSIONS
from hotline.keys import MODES
from journal.db import unit_of_work
from journal.users import add_user
from tests.support.service import FUND_LINE, running, service_settings
from tests.support.api import web_settings
from tests.support.browser import PASSWORD, base_url, sign_in

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("HOTLINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--lang=ru-RU",
]
# The browser's own language, as on the operators' desks: date and time fields read
# дд.мм.гггг and 24 hours only in a Chromium whose interface is Russian. The contexts' locale
# (ru-RU) and the pages' <html lang="ru"> do not change them; on Linux Chromium takes its
# language from the environment (not from --lang) and needs its Russian resources (Debian:
# chromium-l10n, which .ci/run installs).
CHROMIUM_ENV = {**os.environ, "LANG": "ru_RU.UTF-8", "LANGUAGE": "ru"}
# The people of the story: the fund's administrator, two fund operators (levels 1 and 2) whose
# phones the simulator rings, and an insurer's level-1 operator.
USERS = (
    ("admin", "Администратор Центра", "tfoms", "admin", None, None),
    ("op101", "Иванова Мария", "tfoms", "operator", 1, "PJSIP/op101"),
    ("op201", "Сидорова Елена", "tfoms", "operator", 2, "PJSIP/op201"),
    ("sogaz-op", "Оператор Согаз", "sogaz", "operator", 1, "PJSIP/op1100"),
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[object]:
    """One headless Chromium for the whole session (a new context per test is cheap)."""
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium package")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                           env=CHROMIUM_ENV)
        probe = await browser.new_context()  # no locale of its own: the browser's language
        language = await (await probe.new_page()).evaluate("navigator.language")
        await probe.close()
        if not language.startswith("ru"):
            await browser.close()
            pytest.fail(f"{CHROMIUM} speaks {language!r}, not Russian: its date fields would read "
                        "mm/dd/yyyy (Debian: apt-get install chromium-l10n)")
        yield browser
        await browser.close()


async def _add_users(app) -> None:
    async with unit_of_work(app[SESSIONS]) as session:
        for login, name, org, role, level, interface in USERS:
            await add_user(session, login=login, password=PASSWORD, full_name=name, role=role,
                           organization_code=org, level=level, interface=interface)


@pytest.fixture
async def web_service(settings: Settings, pg_only_engine, pg_url, tmp_path) -> AsyncIterator[TestClient]:
    """The service without a PBX (journal and pages only) on an empty PostgreSQL journal."""
    app = create_app(web_settings(settings, pg_url, tmp_path), migrate=False, telephony=False)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    try:
        await client.start_server()
        await _add_users(app)
        yield client
    finally:
        await client.close()


@pytest.fixture
async def sim(settings: Settings) -> AsyncIterator[PbxSimulator]:
    async with PbxSimulator(settings, time_scale=0.01, auth_failure_delay=0, seed=5) as simulator:
        yield simulator


@pytest.fixture
async def pbx_service(settings, sim, pg_only_engine, pg_url, tmp_path) -> AsyncIterator[TestClient]:
    """The whole service on PostgreSQL against the PBX simulator, the fund's line in operator
    mode whatever the hour, with the story's users."""
    config = service_settings(settings, sim, pg_url, tmp_path)
    config = config.model_copy(update={
        "service": config.service.model_copy(update={"recordings_dir": tmp_path / "recordings"}),
        "recordings": config.recordings.model_copy(update={"pbx_dir": tmp_path / "pbx-spool"}),
    })
    app = create_app(config)
    async with running(app) as client:
        # An ordinary override, as the demo sets it: stored (so the service's periodic
        # re-read keeps it) and applied now (the PBX and the board say "operator" at once).
        now, until = datetime.now(UTC), datetime.now(UTC) + timedelta(hours=2)
        await add_override(app[SESSIONS], line=FUND_LINE, mode="operator", until=until,
                           now=now, set_by="admin", reason="browser tests")
        await app[MODES].scheduler.set_override(FUND_LINE, "operator", until, by="admin",
                                                reason="browser tests")
        await _add_users(app)
        yield client




@pytest.fixture
async def open_as(chromium) -> AsyncIterator[Callable[..., Awaitable[object]]]:
    """`await open_as(client, "op101", "/operator")`: a new browser context, signed in through
    the sign-in form as that user, on that page."""
    contexts = []

    async def open_(client: TestClient, login: str, path: str = "/") -> object:
        context = await chromium.new_context(base_url=base_url(client), locale="ru-RU",
                                             viewport={"width": 1400, "height": 900})
        contexts.append(context)
        page = await context.new_page()
        await page.goto(f"/login?next={path}")
        await sign_in(page, login)
        # The sign-in page's own address holds `next=PATH`: wait until it is left.
        await page.wait_for_url(lambda url: "/login" not in url)
        return page

    yield open_
    for context in contexts:
        await context.close()




