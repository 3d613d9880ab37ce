"""An operator's shift beyond one call (issue 16): signing in while the phone already rings
or talks gets that call's pop; what a card needs before it moves on is shown beside its
fields before the click; the morning's callbacks are a live queue."""

from __future__ import annotations

import asyncio

from hotline.web.keys import TELEPHONY
from tests.browser.screens import shots
from tests.browser.test_operator import (
    CITIZEN, CITIZEN_SHOWN, LONG_TALK, _add_scripts, _card_of_call, _live, _written_card,
)
from tests.test_service_with_pbx import FUND_LINE


async def _call_at(client, interface: str, state: str) -> str:  # noqa: ANN001
    """The PBX call id of the call whose state at `interface` is `state` (waited for)."""
    tracker = client.server.app[TELEPHONY].tracker
    async with asyncio.timeout(10):
        while True:
            for snap in tracker.calls():
                if snap.state == state and (
                    state != "talking" or snap.current_operator == interface
                ):
                    return snap.call_id
            await asyncio.sleep(0.02)


async def test_signing_in_while_the_phone_rings_or_talks_pops_the_call(
    pbx_service, sim, open_as
) -> None:
    """op101's phone rings before op101 has signed in: the workspace opens with the call's
    card, the caller's earlier card and the scripts, «Звонит…»; op101 answers and opens a
    second browser mid-talk: that one shows the same card, talking, without a ringing flash."""
    earlier = await _written_card(pbx_service, "op101", applicant_name="Петрова Анна",
                                  applicant_phone=CITIZEN, content="Вопрос о полисе")
    await _add_scripts(pbx_service)
    sim.place_call(FUND_LINE, CITIZEN, "Петрова Анна", "answered", agent="PJSIP/op101",
                   auto_answer=False, timing=LONG_TALK)
    await _call_at(pbx_service, "PJSIP/op101", "ringing")

    page = await open_as(pbx_service, "op101", "/operator")
    await _live(page)
    number = page.locator("[data-testid=card-number]")
    await number.wait_for(state="visible")
    card = await _card_of_call(pbx_service, CITIZEN)
    assert await number.inner_text() == f"РКК {card.number}"
    assert await page.inner_text("[data-testid=caller-number]") == CITIZEN_SHOWN
    assert await page.inner_text("[data-testid=call-progress]") == "Звонит…"
    await page.locator("#earlier-list li", has_text=earlier.number).wait_for()
    assert await page.locator("#script-list details").count() == 2
    await shots(page, "operator-signed-in-while-ringing")

    assert sim.answer("PJSIP/op101")
    await page.wait_for_selector("[data-testid=call-progress][data-state=talking]")
    second = await open_as(pbx_service, "op101", "/operator")
    await _live(second)
    await second.locator("[data-testid=card-number]", has_text=card.number).wait_for()
    await second.wait_for_selector("[data-testid=call-progress][data-state=talking]")
    assert (await second.inner_text("[data-testid=call-progress]")).startswith("Разговор 0:")
    assert await second.inner_text("#call-org") == "ТФОМС Алтайского края"
    assert await second.inner_text("#call-queue") != "—"
    assert not await second.evaluate("document.getElementById('call-panel').classList.contains('ringing')")
    assert await second.locator("[data-testid=card-transfer]").is_enabled()
    await second.locator("#earlier-list li", has_text=earlier.number).wait_for()
    await shots(second, "operator-signed-in-while-talking")
