"""A message left to the secretary, in the journal: the call's card and a callback task.

The card is the call's own (`create_for_call` is idempotent on the PBX call id, so it is the
one the call tracker created at arrival, or this creates it first with the channel
"electronic secretary"). The recording is not written here: the dialplan's hangup handler
reports it (UserEvent HotlineMessage) and the call tracker links it, as on the plain-dialplan
path. This side adds only what the tracker cannot know: the confirmed callback number and the
callback task due the next working morning.
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.config import Line
from hotline.ivr.engine import MessageTaken
from hotline.callbacks.messages import ensure_callback
from journal.actors import Actor
from journal.calendar import ProductionCalendar
from journal.cards import DEFAULT_RULES, CardRules, create_for_call, save
from journal.db import unit_of_work
from journal import audit
from journal.models import CallbackTask, Card, Channel, Organization, OrgKind
from journal.register import LOOKUP_ACTION, RegisterSource, TableRegister

log = structlog.get_logger(__name__)

IVR = Actor.system("ivr")


async def register_message(
    sessions: async_sessionmaker[AsyncSession],
    line: Line,
    cal: ProductionCalendar,
    *,
    pbx_call_id: str,
    message: MessageTaken,
    within: timedelta,
    rules: CardRules = DEFAULT_RULES,
    insurers: dict[str, str] | None = None,
) -> CallbackTask | None:
    """The call's card marked as a secretary message, with its callback task (None when the
    citizen left no usable number, or the task exists already)."""
    async with unit_of_work(sessions) as session:
        card = await create_for_call(
            session, IVR, pbx_call_id=pbx_call_id, received_at=message.started_at,
            line=line.number, caller_number=message.caller_number, channel=Channel.SECRETARY,
            rules=rules,
        )
        if message.enp is not None:
            card = await identify(session, card, message.enp, rules=rules, insurers=insurers)
        return await ensure_callback(
            session, card, line=line, cal=cal, number=message.callback_number
            or message.caller_number, within=within, rules=rules, actor=IVR,
        )


async def identify(
    session: AsyncSession, card: Card, number: str, *, rules: CardRules = DEFAULT_RULES,
    source: RegisterSource | None = None, insurers: dict[str, str] | None = None,
) -> Card:
    """The applicant of `card` from the register of insured persons by the ЕНП the caller
    typed: ЕНП, ФИО, дата рождения and the insurer concerned (when it works on the hotline).
    The lookup is audited as the operator's is; a person not in the register leaves the ЕНП
    alone on the card. Fields the card already has are kept. `insurers`: the register's
    insurer codes to the organizations' codes (config's `register_code`)."""
    person = await (source or TableRegister()).find(session, number)
    await audit.record(session, IVR, LOOKUP_ACTION, "insured_person", number,
                       {"found": person is not None, "card_id": card.id})
    changes: dict[str, object] = {}
    if not card.applicant_policy:
        changes["applicant_policy"] = number
    if person is not None:
        if not card.applicant_name:
            changes["applicant_name"] = person.full_name
        if not card.applicant_birth_date and person.birth_date is not None:
            changes["applicant_birth_date"] = person.birth_date.isoformat()
        if card.insurer_concerned_id is None:
            code = (insurers or {}).get(person.insurer_code, person.insurer_code)
            insurer = await session.scalar(select(Organization.id).where(
                Organization.kind == OrgKind.INSURER, Organization.code == code))
            if insurer is not None:
                changes["insurer_concerned_id"] = insurer
    if not changes:
        return card
    return await save(session, IVR, card.id, changes, card.version, rules=rules)


