"""`POST /api/v1/register/lookup` over real HTTP: the operator finds the citizen by ЕНП, sees
whose insured they are, and every lookup is in the audit log."""

from __future__ import annotations

from sqlalchemy import select

from hotline.web.keys import SESSIONS
from journal import register
from journal.actors import Actor
from journal.db import unit_of_work
from journal.models import AuditEntry
from journal.register import Insured
from tests.support.api import Api

PERSONS = [
    Insured("2250123456789018", "Иванова Анна Петровна", None, "22007"),
    Insured("2200000000000004", "Петров Пётр Петрович", None, "99999"),
]


async def _load(api: Api) -> None:
    async with unit_of_work(api.app[SESSIONS]) as session:
        await register.replace(session, PERSONS, source="test", loaded_by="test",
                               actor=Actor.system("test"))


async def test_the_fund_operator_finds_a_sogaz_citizen_with_a_warning(api: Api) -> None:
    """On the fund's card the citizen of СОГАЗ-Мед: found, insurer named, transfer offered."""
    await _load(api)
    await api.login("fund-op")
    card = await api.written_card("fund-op")
    out = await api.call("POST", "/api/v1/register/lookup",
                         json={"enp": "2250 1234 5678 9018", "card_id": card.id})
    assert out["found"] is True
    assert out["person"]["full_name"] == "Иванова Анна Петровна"
    assert out["insurer"]["code"] == "sogaz"
    assert out["warning"].startswith("Гражданин застрахован в другой СМО: АО «Страховая")
    assert out["can_transfer"] is True
    missing = await api.call("POST", "/api/v1/register/lookup", json={"enp": "2200000000000012"})
    assert missing == {"found": False, "as_of": missing["as_of"],
                       "message": "ЕНП не найден в регистре застрахованных лиц. Проверьте номер полиса"}
    bad = await api.call("POST", "/api/v1/register/lookup", json={"enp": "2200000000000005"},
                         expect=422)
    assert "контрольная цифра" in bad["error"]["message"]
    async with api.app[SESSIONS]() as session:
        rows = list(await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "register_lookup")))
    assert [r.object_id for r in rows] == ["2250123456789018", "2200000000000012"]
    assert rows[0].login == "fund-op"


async def test_an_insurers_own_citizen_and_an_unknown_insurer(api: Api) -> None:
    """No warning for СОГАЗ-Мед's own insured; an insurer not on the hotline is said so."""
    await _load(api)
    await api.login("sogaz-op")
    own = await api.call("POST", "/api/v1/register/lookup", json={"enp": "2250123456789018"})
    assert "warning" not in own and own["insurer"]["code"] == "sogaz"
    other = await api.call("POST", "/api/v1/register/lookup", json={"enp": "2200000000000004"})
    assert other["insurer"] is None
    assert other["warning"] == ("Гражданин застрахован в СМО с кодом 99999; эта СМО не "
                                "подключена к горячей линии, перевести звонок нельзя")
