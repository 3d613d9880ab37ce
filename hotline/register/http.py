"""`/api/v1/register`: the operator finds the citizen by ЕНП, and on the fund's line sends the
call to the citizen's insurer.

- `POST /api/v1/register/lookup` {"enp", "card_id"?}: the person as the register of insured
  persons knows them (ФИО, дата рождения, ЕНП, СМО), the insurer as an organization of the
  journal, and a warning when that insurer is not the organization of the card's line. POST,
  not GET: the ЕНП is personal data and stays out of URLs and access logs. Audited.
- `POST /api/v1/calls/{id}/transfer-insurer` {"card_id"}: on the fund's line, BlindTransfer of
  the operator's leg to `hotline-l1,<insurer code>` (its level-1 queue, see extensions.conf)
  and the card forwarded to that insurer in the same step, so its operator's screen pops it.
"""

from __future__ import annotations

from typing import Any

import structlog
from aiohttp import web
from sqlalchemy import select

from hotline.agents.http import _actions as pbx_actions
from hotline.agents.http import _operator as operator_of
from hotline.config import Settings
from hotline.web.common import actor_of, int_param, json_body, path_id
from hotline.web.errors import ApiError
from hotline.web.keys import CARD_RULES, SESSIONS, SETTINGS
from journal import audit, cards, register
from journal.calls import get_call_for
from journal.db import unit_of_work
from journal.errors import InvalidInput
from journal.models import Organization

log = structlog.get_logger(__name__)

L1_CONTEXT = "hotline-l1"


def insurer_of(settings: Settings, insurer_code: str) -> str | None:
    """The organization code the register's «СМО» value names (its register_code or code)."""
    for org in settings.organizations:
        if org.kind == "insurer" and insurer_code in (org.register_code, org.code):
            return org.code
    return None


async def lookup(request: web.Request) -> web.Response:
    """Find the citizen by ЕНП; say whose insured they are and whether that is the line's."""
    body = await json_body(request)
    number = body.get("enp")
    if not isinstance(number, str):
        raise InvalidInput("Укажите ЕНП", field="enp")
    card_id = int_param(body.get("card_id"), "card_id")
    settings = request.app[SETTINGS]
    actor = actor_of(request)
    async with unit_of_work(request.app[SESSIONS]) as db:
        card = await cards.read_card(db, actor, card_id) if card_id is not None else None
        person = await register.lookup(db, actor, number, card_id=card_id)
        load = await register.last_load(db)
        orgs = {o.code: o for o in await db.scalars(select(Organization))}
    out: dict[str, Any] = {"found": person is not None, "as_of": _iso(register.as_of(load))}
    if person is None:
        out["message"] = "ЕНП не найден в регистре застрахованных лиц. Проверьте номер полиса"
        return web.json_response(out)
    code = insurer_of(settings, person.insurer_code)
    insurer = orgs.get(code) if code else None
    out["person"] = person.json()
    out["insurer"] = ({"id": insurer.id, "code": insurer.code, "name": insurer.name}
                      if insurer else None)
    home = card.organization_id if card is not None else actor.organization_id
    if insurer is None:
        out["warning"] = (f"Гражданин застрахован в СМО с кодом {person.insurer_code}; "
                          "эта СМО не подключена к горячей линии, перевести звонок нельзя")
    elif home is not None and insurer.id != home:
        out["warning"] = (f"Гражданин застрахован в другой СМО: {insurer.name}. "
                          "Вопросы по его полису решает эта СМО")
        home_org = next((o for o in orgs.values() if o.id == home), None)
        out["can_transfer"] = home_org is not None and home_org.kind == "fund"
    return web.json_response(out)


async def transfer_to_insurer(request: web.Request) -> web.Response:
    """The fund's operator sends the citizen to their insurer's level 1, the card with them."""
    call_row_id = path_id(request)
    body = await json_body(request)
    card_id = int_param(body.get("card_id"), "card_id", required=True)
    operator = await operator_of(request)
    actor = actor_of(request)
    async with unit_of_work(request.app[SESSIONS]) as db:
        view = await get_call_for(db, actor, call_row_id)  # another organization's: 404
        if operator.org.kind != "fund":
            raise ApiError(409, "not_fund_line", "Перевод в СМО делается с линии фонда")
        card = await cards.read_card(db, actor, card_id)
        if not card.applicant_policy:
            raise InvalidInput("Сначала укажите ЕНП гражданина", field="applicant_policy")
        person = await register.lookup(db, actor, card.applicant_policy, card_id=card_id)
    if person is None:
        raise ApiError(409, "not_insured", "ЕНП нет в регистре: СМО гражданина неизвестна")
    target = insurer_of(request.app[SETTINGS], person.insurer_code)
    if target is None:
        raise ApiError(409, "unknown_insurer",
                       f"СМО с кодом {person.insurer_code} не работает на горячей линии")
    actions = pbx_actions(request)
    # The instance holding the PBX link checks the phone is in the call (409 not_on_call)
    # before the card moves; the transfer then goes by the call's id and the phone.
    channel = await actions.operator_channel(call_id=view.call.pbx_call_id,
                                             interface=operator.interface)
    org = request.app[SETTINGS].organization(target)
    async with unit_of_work(request.app[SESSIONS]) as db:
        # The card first: when the insurer's phone rings, the card is already theirs.
        await cards.forward(db, actor, card_id, to_organization=target,
                            reason=f"Звонок переведён в свою СМО гражданина: {org.name}",
                            rules=request.app[CARD_RULES])
        await audit.record(db, actor, "call_transfer", "call", call_row_id,
                           {"to": "insurer", "queue": org.level1_queue, "channel": channel,
                            "card_id": card_id})
    await actions.transfer_call(call_id=view.call.pbx_call_id, interface=operator.interface,
                                context=L1_CONTEXT, extension=target)
    log.info("call transferred to the insurer", call_id=view.call.pbx_call_id, to=target,
             user_id=operator.user_id)
    return web.json_response({"ok": True, "call_id": call_row_id, "to_queue": org.level1_queue,
                              "organization": target}, status=202)


def _iso(value: object) -> str | None:
    return value.isoformat() if value is not None else None  # type: ignore[attr-defined]


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/register/lookup", lookup)
    app.router.add_post("/api/v1/calls/{id}/transfer-insurer", transfer_to_insurer)
