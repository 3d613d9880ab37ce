"""The hostile user's and the roles' fixtures: the service with its telephony on but no PBX answering, and the fund's objects."""

from __future__ import annotations

from tests.support import hostile

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.web.keys import SESSIONS
from journal.db import unit_of_work
from journal.models import Call, Card, Recording, User
from journal.scripts import create_script
from tests.support.api import Api
from tests.support.calls import add_call_with_recording
from tests.support.hostile import FUND_NAME, FUND_PHONE, FUND_SCRIPT, Fund




@pytest.fixture
async def fund(api: Api, tmp_path: Path) -> Fund:
    card = await api.written_card("fund-op", applicant_name=FUND_NAME, applicant_phone=FUND_PHONE)
    call, recording = await add_call_with_recording(api, "tfoms", "88007758565", FUND_PHONE, tmp_path)
    async with unit_of_work(api.app[SESSIONS]) as session:
        (await session.get(Call, call)).card_id = card.id
        (await session.get(Recording, recording)).card_id = card.id
        # Operators with phones: the transfer and dial views go as far as the access check.
        for login, interface in (("fund-op", "PJSIP/op101"), ("sogaz-op", "PJSIP/op1100")):
            user = await session.scalar(select(User).where(User.login == login))
            user.interface = interface
    await api.login("fund-op")
    task = await api.call("POST", "/api/v1/callbacks", expect=201, json={
        "card_id": card.id, "contact_phone": FUND_PHONE, "version": card.version,
        "callback_due_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()})
    async with unit_of_work(api.app[SESSIONS]) as session:
        card = await session.get(Card, card.id)
        script = await create_script(session, await api.user_actor("admin"), {
            "title": "Ответ фонда", "body": FUND_SCRIPT, "organization_id": card.organization_id})
    operator = (await api.user_actor("fund-op")).user_id
    return Fund(card, call, recording, task["id"], script.id, operator)


# The service with its telephony on but no PBX answering (shared with other modules).
client = hostile.client
