"""A caller's own caller ID never costs the call its card (PostgreSQL, the PBX simulator).

A CallerIDNum past the journal's 32 characters, a CallerIDName past 200, a NUL or other
control characters: the call is still stored with its line, organization, caller and card,
clean and clipped, and the caller ID as sent stays in the call's timeline.
"""

from __future__ import annotations

from sqlalchemy import select

from hotline.pbx import callerid
from hotline.web.keys import SESSIONS
from journal.models import Call, CallEvent, Card
from tests.support import service as service_with_pbx
from tests.support.service import INSURER_LINE, settle

LONG_NUMBER = "7913" + "1" * 40
LONG_NAME = "Иванова " * 40
NUL_NAME = "Петрова\x00Анна\x07"

# The service on a simulated PBX (fixtures shared with other modules).
client, service, sim = service_with_pbx.client, service_with_pbx.service, service_with_pbx.sim


def test_cleaning_keeps_what_the_journal_can_store() -> None:
    assert callerid.clean_number(LONG_NUMBER) == LONG_NUMBER[:32]
    assert callerid.clean_name(NUL_NAME) == "ПетроваАнна"
    assert len(callerid.clean_name(LONG_NAME) or "") <= 200
    assert callerid.clean_name("\x00\x01") is None and callerid.clean_number("  ") is None
    assert callerid.original("79131234567", "Анна") is None
    sent = callerid.original(LONG_NUMBER, NUL_NAME)
    assert sent == {"number": LONG_NUMBER, "name": "Петрова\ufffdАнна\ufffd"}


async def test_hostile_caller_ids_still_get_their_cards(service, sim) -> None:
    """Three hostile calls on an insurer's line: each stored with line, organization,
    caller and a card of that organization; the caller ID as sent is in the timeline."""
    placed = [(LONG_NUMBER, "Сидорова Вера"), ("79130000011", LONG_NAME),
              ("79130000012", NUL_NAME)]
    for number, name in placed:
        sim.place_call(INSURER_LINE, number, name, "answered")
    await settle(sim, service)
    async with service[SESSIONS]() as session:
        calls = (await session.scalars(select(Call).order_by(Call.id))).all()
        cards = {c.id: c for c in (await session.scalars(select(Card))).all()}
        arrivals = {e.call_id: e.data for e in (await session.scalars(
            select(CallEvent).where(CallEvent.kind == "call_arrived"))).all()}
    assert len(calls) == 3, [(c.caller_number, c.card_id) for c in calls]
    by_number = {c.caller_number: c for c in calls}
    assert set(by_number) == {LONG_NUMBER[:32], "79130000011", "79130000012"}
    for call in calls:
        assert call.line_number == INSURER_LINE and call.organization_id is not None
        assert call.card_id is not None
        assert cards[call.card_id].organization_id == call.organization_id
    assert len(by_number["79130000011"].caller_name) <= 200
    assert by_number["79130000012"].caller_name == "ПетроваАнна"
    assert arrivals[by_number[LONG_NUMBER[:32]].id]["caller_id_sent"] == {"number": LONG_NUMBER}
    assert arrivals[by_number["79130000012"].id]["caller_id_sent"]["name"] == "Петрова\ufffdАнна\ufffd"
