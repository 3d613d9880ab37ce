"""Issue 15's access boundaries and hostile input, each as the attacker tried it."""

from __future__ import annotations

import pytest

from hotline.web.pages import _safe_next
from tests.web.conftest import PASSWORD, Api


@pytest.mark.parametrize("value", [
    "//evil.example", "/%09/evil.example".replace("%09", "\t"), "/\t/evil.example",
    "/\r\n/evil.example", "/\n/evil.example", "/\\evil.example", "\\\\evil.example",
    "/\\/evil.example", "https://evil.example/", "javascript:alert(1)", "/\x7f/evil.example",
    "evil.example", "",
])
def test_next_after_sign_in_is_never_another_site(value: str) -> None:
    """Browsers drop tab, CR and LF and read `\\` as `/`: none of these may leave the site."""
    assert _safe_next(value) is None


@pytest.mark.parametrize("value", ["/admin/cards?status=in_work&page=2", "/operator", "/a//b"])
def test_next_after_sign_in_keeps_own_paths(value: str) -> None:
    assert _safe_next(value) == value


async def test_open_redirect_with_a_tab_is_refused_after_sign_in(api: Api) -> None:
    """`/login?next=/%09/evil.example` signed in: back to one's own start page, not away."""
    await api.login("admin")
    resp = await api.client.get("/login?next=/%09/evil.example", allow_redirects=False)
    assert resp.status == 302
    assert resp.headers["Location"] == "/admin/cards"
    api.client.session.cookie_jar.clear()
    page = await api.client.get("/login?next=/%0D%0A/evil.example")
    assert 'data-next=""' in await page.text()


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None,
])
async def test_login_with_a_form_of_another_site_is_refused(api: Api, content_type: str | None) -> None:
    """A foreign page's `enctype="text/plain"` form cannot sign a browser in: 415, no cookie."""
    body = f'{{"login": "admin", "password": "{PASSWORD}", "x": "="}}'
    headers = {"Content-Type": content_type} if content_type else {}
    resp = await api.client.post("/api/v1/login", data=body.encode(), headers=headers,
                                 skip_auto_headers=["Content-Type"])
    answer = await resp.json()
    assert resp.status == 415, answer
    assert answer["error"]["code"] == "unsupported_media_type"
    assert "hotline_session" not in {c.key for c in api.client.session.cookie_jar}


async def test_json_routes_take_json_only(api: Api) -> None:
    """Every body-reading route refuses what is not application/json with 415."""
    await api.login("fund-op")
    answer = await api.call("POST", "/api/v1/cards", expect=415, data=b'{"channel": "post"}',
                            headers={"Content-Type": "text/plain"})
    assert answer["error"]["code"] == "unsupported_media_type"
    ok = await api.call("POST", "/api/v1/login", expect=200,
                        data=f'{{"login": "admin", "password": "{PASSWORD}"}}'.encode(),
                        headers={"Content-Type": "application/json; charset=utf-8"})
    assert ok["user"]["login"] == "admin"
