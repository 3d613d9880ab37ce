"""Another organization's objects (the fund's), every route of the API and bodies that name everything: what the hostile-user and role tests try."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hotline.app import create_app
from journal.models import Card
from journal.enp import control_digit
from tests.support.api import web_settings
from tests.support.private_pg import free_port

FUND_PHONE = "79990000001"
# A well-formed ЕНП (its control digit right) that the register does not hold.
FUND_ENP = "220000000000000" + str(control_digit("220000000000000"))


FUND_NAME = "Секретова Анна Ильинична"


FUND_SCRIPT = "Только для операторов фонда: внутренний порядок ответа"


UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


# Which object the `{id}` of a path names, by the collection before it.
OBJECT_OF = {"cards": "card", "calls": "call", "recordings": "recording", "callbacks": "callback",
             "scripts": "script", "staff": "user"}




@dataclass
class Fund:
    """The fund's objects an insurer's operator must never reach."""

    card: Card
    call: int
    recording: int
    callback: int
    script: int
    operator: int  # the fund operator's account

    def id_of(self, kind: str) -> int:
        return {"card": self.card.id, "call": self.call, "recording": self.recording,
                "callback": self.callback, "script": self.script, "user": self.operator}[kind]




def concrete(path: str, object_id: object) -> str:
    return path.replace("{id}", str(object_id))


def kind_of(path: str) -> str:
    """`/api/v1/cards/{id}/close` -> "card"; a new collection must be added to OBJECT_OF."""
    collection = path.removeprefix("/api/v1/").split("/{id}")[0].split("/")[-1]
    assert collection in OBJECT_OF, f"{path}: add its collection to OBJECT_OF"
    return OBJECT_OF[collection]


def everything_body(fund: Fund) -> dict[str, Any]:
    """One body that every change endpoint would accept from the card's own organization."""
    return {
        "version": fund.card.version, "changes": {"content": "чужое", "measures_taken": "чужое"},
        "reason": "чужое", "to_organization": "sogaz", "to": "level2",
        "new_due": (fund.card.due_date + timedelta(days=10)).isoformat(),
        "card_id": fund.card.id, "contact_phone": "79130000000",
        "callback_due_at": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
        "enp": FUND_ENP,
    }


@pytest.fixture
async def client(settings, pg_only_engine, pg_url, tmp_path) -> Any:
    """The service with its telephony on (so the transfer and dial views reach their access
    check) but no PBX answering: the AMI port is closed."""
    base = web_settings(settings, pg_url, tmp_path)
    app = create_app(base.model_copy(update={"ami": base.ami.model_copy(update={
        "host": "127.0.0.1", "port": free_port(), "reconnect_min_delay": 1.0,
        "reconnect_max_delay": 5.0})}), migrate=False)
    client = TestClient(TestServer(app))
    try:
        await client.start_server()
        yield client
    finally:
        await client.close()
