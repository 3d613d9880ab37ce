"""A report page as the browser gets it."""

from __future__ import annotations

from tests.support.api import Api


async def page(api: Api, path: str, expect: int = 200) -> str:
    resp = await api.client.get(path, allow_redirects=False)
    text = await resp.text()
    assert resp.status == expect, f"{path}: {resp.status} {text[:300]}"
    return text

