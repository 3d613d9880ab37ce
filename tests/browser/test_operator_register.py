"""Identification by ЕНП on the operator's card, in a real headless Chromium: the fund's
operator, on a call, types a citizen's 16-digit policy number; the card fills the name, the
birth date and the insurer from the register of insured persons, says that the citizen is
insured elsewhere and offers the transfer to that insurer. Screenshots at 1366×768 and
1920×1080 (test-output/screenshots/operator-enp-*)."""

from __future__ import annotations

from datetime import date

from hotline.web.keys import SESSIONS
from journal.db import unit_of_work
from journal.enp import control_digit
from journal.register import Insured, replace
from tests.support.browser import shot
from tests.support.screens import SIZES
from tests.support.service import FUND_LINE
from tests.support.workspace import CITIZEN, CITIZEN_SHOWN, LONG_TALK, _live

FIRST15 = "220418000123456"
ENP = FIRST15 + str(control_digit(FIRST15))
TYPED = f"{ENP[:4]} {ENP[4:8]} {ENP[8:12]} {ENP[12:]}"  # as it stands on the policy
KAPITAL = "ООО «Капитал МС», филиал в Алтайском крае"
# The select's options whose text is wider than the select leaves for it (its padding and
# the arrow's 24 px taken off): what the operator would see cut off.
CUT_OPTIONS = """(select) => {
  const style = getComputedStyle(select);
  const pen = document.createElement("canvas").getContext("2d");
  pen.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 24;
  return [...select.options].map((o) => o.text).filter((text) => pen.measureText(text).width > room);
}"""


async def test_the_enp_fills_the_card_and_offers_the_citizens_insurer(pbx_service, sim, open_as) -> None:
    async with unit_of_work(pbx_service.server.app[SESSIONS]) as session:
        await replace(session, [Insured(ENP, "Громова Алла Петровна", date(1961, 4, 18), "22010")],
                      source="тест", loaded_by="admin")
    op101 = await open_as(pbx_service, "op101", "/operator")
    await _live(op101)
    sim.place_call(FUND_LINE, CITIZEN, "Громова Алла", "answered", agent="PJSIP/op101",
                   timing=LONG_TALK)
    await op101.locator("[data-testid=caller-number]", has_text=CITIZEN_SHOWN).wait_for()
    await op101.locator("[data-testid=card-number]").wait_for(state="visible")
    await op101.wait_for_selector("[data-testid=call-progress][data-state=talking]")

    # The 16th digit typed: the register answers without a click.
    await op101.fill("[data-testid=f-applicant_policy]", TYPED)
    note = op101.locator("[data-testid=enp-note]")
    await note.wait_for(state="visible")
    assert await op101.input_value("[data-testid=f-applicant_name]") == "Громова Алла Петровна"
    assert await op101.input_value("[data-testid=f-applicant_birth_date]") == "18.04.1961"
    insurer = op101.locator("[data-testid=f-insurer_concerned_id] option:checked")
    assert await insurer.inner_text() == KAPITAL
    assert KAPITAL in await note.inner_text() and "другой СМО" in await note.inner_text()
    transfer = op101.locator("[data-testid=enp-transfer]")
    assert await transfer.is_visible() and await transfer.inner_text() == f"Перевести в {KAPITAL}"
    # The caller's number as people write it, not the PBX's digits.
    assert await op101.input_value("[data-testid=f-applicant_phone]") == CITIZEN_SHOWN
    for width, height in SIZES:  # the applicant's part of the card, where the operator looks
        await op101.set_viewport_size({"width": width, "height": height})
        await op101.locator("[data-testid=f-applicant_name]").scroll_into_view_if_needed()
        # Every insurer's name is read whole in the select, not cut off.
        cut = await op101.eval_on_selector("[data-testid=f-insurer_concerned_id]", CUT_OPTIONS)
        assert cut == [], f"cut off at {width} px: {cut}"
        await shot(op101, f"operator-enp-{width}", full_page=False)

    # A number the register does not hold: said so, nothing filled, no transfer.
    other = "220418000654321"
    await op101.fill("[data-testid=f-applicant_policy]", other + str(control_digit(other)))
    await op101.locator("[data-testid=enp-note]", has_text="не найден").wait_for()
    assert await transfer.is_hidden()
