"""An administrator's page opened signed in."""

from __future__ import annotations

from aiohttp.test_utils import TestClient


async def signed_in(open_as, client: TestClient, login: str, path: str = "/admin/cards"):
    """`open_as`, then wait until the sign-in form has really gone (its `next=` alone matches
    the page's address while the form is still on screen)."""
    page = await open_as(client, login, path)
    await page.wait_for_function("() => !location.pathname.startsWith('/login')")
    await page.locator("[data-testid=user-name]").wait_for()
    return page

