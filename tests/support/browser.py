"""Pages in headless Chromium: signing in, the service's address, screenshots kept for looking at."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient

from tests.support.paths import REPO

SCREENSHOTS = REPO / "test-output" / "screenshots"


PASSWORD = "correct-horse-battery"


def base_url(client: TestClient) -> str:
    return str(client.make_url("")).rstrip("/")


async def sign_in(page, login: str, password: str = PASSWORD) -> None:
    await page.fill("#login", login)
    await page.fill("#password", password)
    await page.click("button[type=submit]")


async def shot(page, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot for review (test-output/screenshots/NAME.png), of the whole page
    unless `full_page` is false (then of the window)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    return path

