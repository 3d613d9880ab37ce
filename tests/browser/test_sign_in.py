"""Signing in and out in the browser: the form, wrong passwords, the redirect back to the page
asked for, the session's end, and the security headers of every page."""

from __future__ import annotations

from tests.support.browser import PASSWORD, base_url, shot, sign_in


async def test_sign_in_page_refuses_a_wrong_password_in_russian(chromium, web_service) -> None:
    """A wrong password shows the Russian refusal and stays on the sign-in page."""
    context = await chromium.new_context(base_url=base_url(web_service), locale="ru-RU")
    page = await context.new_page()
    await page.goto("/login")
    await shot(page, "login")
    await sign_in(page, "op101", "wrong-password")
    error = page.locator("#login-error")
    await error.wait_for(state="visible")
    assert await error.inner_text() == "Неверный логин или пароль"
    assert page.url.endswith("/login")
    await context.close()


async def test_a_page_asked_for_without_a_session_comes_back_after_sign_in(
    chromium, web_service
) -> None:
    """An anonymous visit to a page goes to the sign-in form and returns to it afterwards."""
    context = await chromium.new_context(base_url=base_url(web_service), locale="ru-RU")
    page = await context.new_page()
    await page.goto("/nonexistent-page")
    assert "Страница не найдена" in await page.content()
    await page.goto("/")
    assert "/login" in page.url
    await sign_in(page, "admin", PASSWORD)
    await page.wait_for_function("() => !location.pathname.startsWith('/login')")
    assert await page.locator("[data-testid=user-name]").inner_text() == "Администратор Центра"
    await page.click("[data-testid=logout]")
    await page.wait_for_url("**/login")
    await page.goto("/")
    assert "/login" in page.url
    await context.close()


async def test_pages_carry_security_headers_and_are_never_cached(web_service) -> None:
    """Every page forbids framing, caching and foreign scripts (it holds personal data)."""
    resp = await web_service.get("/login")
    assert resp.status == 200
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert "<html lang=\"ru\">" in await resp.text()


async def test_sign_in_never_redirects_off_site(web_service) -> None:
    """`next` pointing elsewhere is ignored (no open redirect through the sign-in page)."""
    resp = await web_service.get("/login?next=//evil.example/")
    assert 'data-next=""' in await resp.text()
