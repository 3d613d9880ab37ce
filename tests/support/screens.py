"""Screenshots of a page at the two window sizes the contact center's desks have: a
1366×768 laptop and a 1920×1080 monitor, saved as NAME-1366.png and NAME-1920.png."""

from __future__ import annotations

from tests.support.browser import shot

SIZES = ((1366, 768), (1920, 1080))


async def shots(page, name: str) -> None:
    """The window as the operator sees it (not the whole page: what is below the fold stays
    below it) at each size; the page's own size is restored afterwards."""
    size = page.viewport_size
    for width, height in SIZES:
        await page.set_viewport_size({"width": width, "height": height})
        await page.evaluate("window.scrollTo(0, 0)")
        await page.wait_for_timeout(100)  # layout settles (sticky bars, wrapped lines)
        path = await shot(page, f"{name}-{width}", full_page=False)
        assert path.exists()
    await page.set_viewport_size(size)
