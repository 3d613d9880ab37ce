"""Who may see and change which card: the one query layer every reader of cards goes through.

- The administrator of the contact center (the fund's) sees, changes and closes every card.
- The telephony integration (`Actor.system()`) sees every card: it creates and links them.
- An organization's staff (operators, and its supervisor, the head of its operators) see and
  change only the cards under consideration in their own organization
  (`Card.organization_id`); a forwarded card changes hands with it. The supervisor also reads
  the evaluation sheets of the organization's operators.
- The system administrator manages accounts and dictionaries and sees no personal data: no
  card contents, no calls (caller numbers and names), no recordings.

Another organization's card is reported as not found, never as forbidden: its existence is
not disclosed. Listing cards shows personal data, so every list is written to the audit log
in the caller's transaction: call these functions inside a unit of work.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from journal import audit
from journal.actors import Actor
from journal.errors import Forbidden, InvalidInput, NotFound
from journal.models import AnswerScript, Call, Card, Evaluation, Role, User

MAX_PER_PAGE = 200
# An organization's own people: they read the cards of their organization only.
ORG_STAFF = frozenset({Role.OPERATOR, Role.SUPERVISOR})
MIN_PHONE_DIGITS = 4


class Purpose(StrEnum):
    VIEW = "view"
    CHANGE = "change"


def reads_cards(actor: Actor) -> bool:
    """Whether the actor's role may see card contents at all."""
    if actor.is_admin or actor.is_system:
        return True
    return actor.role in ORG_STAFF and actor.organization_id is not None


def sees_every_card(actor: Actor) -> bool:
    return actor.is_admin or actor.is_system


def may_see_card_of(actor: Actor, organization_id: int | None) -> bool:
    """`visible_cards` for one card already in memory (the screen-pop's cached cards)."""
    if sees_every_card(actor):
        return True
    return reads_cards(actor) and organization_id == actor.organization_id


def can_close(actor: Actor) -> bool:
    """Only the administrator of the contact center closes cards."""
    return actor.is_admin


def may_correct_cards(actor: Actor) -> bool:
    """Who may correct any field of a card that is not closed (with a reason, in its
    history): the administrator of the contact center, and an organization's supervisor
    (the cards they can see: their own organization's)."""
    return actor.is_admin or (actor.role == Role.SUPERVISOR and actor.organization_id is not None)


def can_evaluate(actor: Actor) -> bool:
    """The administrator of the contact center fills operators' evaluation sheets, and an
    organization's supervisor those of its own calls (the call must be visible to them)."""
    return actor.is_admin or (actor.role == Role.SUPERVISOR and actor.organization_id is not None)


def may_supervise(actor: Actor) -> bool:
    """Who may listen to, whisper into or barge into a live call (контроль разговоров): the
    administrator of the contact center (every call), an organization's supervisor (the
    calls they can see: their own organization's). Operators and the system administrator
    may not."""
    return actor.is_admin or (actor.role == Role.SUPERVISOR and actor.organization_id is not None)


def can_edit_scripts(actor: Actor) -> bool:
    """Answer scripts are approved texts: the administrator writes them, operators read them."""
    return actor.is_admin


def visible_evaluations(actor: Actor) -> Select[Evaluation]:
    """The evaluation sheets the actor may read: the administrator every sheet, a supervisor
    the sheets about their organization's operators, an operator only the sheets about them,
    anyone else none."""
    stmt = select(Evaluation)
    if actor.is_admin:
        return stmt
    if actor.role == Role.SUPERVISOR and actor.organization_id is not None:
        own = select(User.id).where(User.organization_id == actor.organization_id)
        return stmt.where(Evaluation.operator_id.in_(own))
    if actor.role == Role.OPERATOR and actor.user_id is not None:
        return stmt.where(Evaluation.operator_id == actor.user_id)
    return stmt.where(false())


def visible_scripts(actor: Actor) -> Select[AnswerScript]:
    """Answer scripts the actor reads: the administrator every one (inactive too), an
    organization's staff the active common scripts and those of their own organization."""
    stmt = select(AnswerScript)
    if actor.is_admin or actor.is_system:
        return stmt
    if actor.role not in ORG_STAFF or actor.organization_id is None:
        return stmt.where(false())
    return stmt.where(
        AnswerScript.active.is_(True),
        or_(AnswerScript.organization_id.is_(None),
            AnswerScript.organization_id == actor.organization_id),
    )


def visible_staff(actor: Actor) -> Select[User]:
    """Users whose names and phones the actor may list: everyone for the administrator and
    the system administrator, one's own organization's colleagues otherwise (a supervisor
    manages exactly these)."""
    stmt = select(User)
    if actor.is_admin or actor.is_system or actor.role == Role.SYSADMIN:
        return stmt
    if actor.organization_id is None:
        return stmt.where(false())
    return stmt.where(User.organization_id == actor.organization_id)


def _deny_role(actor: Actor) -> None:
    if not reads_cards(actor):
        raise Forbidden("Вашей роли не доступно содержание карточек обращений")


def report_scope(actor: Actor, organization_id: int | None = None) -> int | None:
    """Whose figures a report may show the actor: an organization id, or None for all.

    The administrator (and the system) get every organization, or the one asked for; an
    organization's staff get their own organization only, whatever they ask for another.
    """
    _deny_role(actor)
    if sees_every_card(actor):
        return organization_id
    if organization_id is not None and organization_id != actor.organization_id:
        raise Forbidden("Отчёт доступен только по своей организации")
    return actor.organization_id


def visible_cards(actor: Actor) -> Select[Card]:
    """A SELECT of the cards the actor may see; add filters, order and paging to it."""
    stmt = select(Card)
    if sees_every_card(actor):
        return stmt
    if not reads_cards(actor):
        return stmt.where(false())
    return stmt.where(Card.organization_id == actor.organization_id)


async def get_card_for(
    session: AsyncSession, actor: Actor, card_id: int, purpose: str = Purpose.VIEW
) -> Card:
    """The card if the actor may see it (and, for "change", change it), else NotFound.

    For a change the row is re-read from the database, so the caller checks the version and
    the status against what is stored now, not against an older copy in the session.
    """
    _deny_role(actor)
    if purpose not in set(Purpose):
        raise ValueError(f"unknown purpose {purpose!r}")
    stmt = visible_cards(actor).where(Card.id == card_id)
    if purpose == Purpose.CHANGE:
        stmt = stmt.execution_options(populate_existing=True)
    card = await session.scalar(stmt)
    if card is None:
        raise NotFound("Карточка обращения не найдена", card_id=card_id)
    return card


@dataclass(frozen=True, slots=True)
class CardFilter:
    """Filters of the journal page; None (or empty) means "any"."""

    organization_id: int | None = None
    statuses: Sequence[str] | None = None
    received_from: datetime | None = None  # inclusive
    received_to: datetime | None = None  # exclusive
    appeal_type: str | None = None
    topic_code: str | None = None  # "4.12" also matches "4.12.1"
    channel: str | None = None
    form: str | None = None
    operator_id: int | None = None  # registered it, is responsible, or answered its call
    level: int | None = None  # responsible level
    phone: str | None = None
    text: str | None = None  # number, applicant, content or phone

    def as_json(self) -> dict[str, Any]:
        """The filters as the audit log stores them."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if value is None or value == [] or value == ():
                continue
            if isinstance(value, datetime | date):
                value = value.isoformat()
            elif isinstance(value, list | tuple):
                value = [str(v) for v in value]
            out[key] = value
        return out


@dataclass(frozen=True, slots=True)
class CardPage:
    """One page of a card list and how many cards match in all."""

    cards: list[Card]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


# A number as the card's header shows it («РКК TFOMS-2026-000005», «№ ...»).
_NUMBER_PREFIX = re.compile(r"^\s*(?:ркк|№)\s*", re.IGNORECASE)


def _text_condition(text: str) -> ColumnElement[bool]:
    number = _NUMBER_PREFIX.sub("", text) or text
    conditions = [
        Card.number.icontains(number, autoescape=True),
        Card.applicant_name.icontains(text, autoescape=True),
        Card.content.icontains(text, autoescape=True),
        Card.applicant_phone.icontains(text, autoescape=True),
    ]
    digits = _digits(text)
    if len(digits) >= MIN_PHONE_DIGITS and digits != text:
        conditions.append(Card.applicant_phone.contains(digits, autoescape=True))
    return or_(*conditions)


def _operator_condition(user_id: int) -> ColumnElement[bool]:
    answered = exists().where(Call.card_id == Card.id, Call.answered_by_id == user_id)
    return or_(Card.registered_by_id == user_id, Card.responsible_user_id == user_id, answered)


def _apply_filters(stmt: Select[Card], flt: CardFilter) -> Select[Card]:
    """AND the filters onto a visibility-restricted SELECT (they can only narrow it)."""
    if flt.organization_id is not None:
        stmt = stmt.where(Card.organization_id == flt.organization_id)
    if flt.statuses:
        stmt = stmt.where(Card.status.in_([str(s) for s in flt.statuses]))
    if flt.received_from is not None:
        stmt = stmt.where(Card.received_at >= flt.received_from)
    if flt.received_to is not None:
        stmt = stmt.where(Card.received_at < flt.received_to)
    if flt.appeal_type:
        stmt = stmt.where(Card.appeal_type == flt.appeal_type)
    if flt.topic_code:
        children = Card.topic_code.startswith(f"{flt.topic_code}.", autoescape=True)
        stmt = stmt.where(or_(Card.topic_code == flt.topic_code, children))
    if flt.channel:
        stmt = stmt.where(Card.channel == flt.channel)
    if flt.form:
        stmt = stmt.where(Card.form == flt.form)
    if flt.operator_id is not None:
        stmt = stmt.where(_operator_condition(flt.operator_id))
    if flt.level is not None:
        stmt = stmt.where(Card.responsible_level == flt.level)
    if flt.phone:
        stmt = stmt.where(Card.applicant_phone == flt.phone)
    if flt.text and flt.text.strip():
        stmt = stmt.where(_text_condition(flt.text.strip()))
    return stmt


async def list_cards(
    session: AsyncSession,
    actor: Actor,
    flt: CardFilter | None = None,
    *,
    page: int = 1,
    per_page: int = 50,
) -> CardPage:
    """The journal: visible cards matching the filters, newest received first.

    The page is written to the audit log (filters and the ids shown) in the caller's
    transaction. Free text is case-insensitive, Cyrillic included, on both backends (SQLite
    gets a Unicode LOWER from `journal.db`).
    """
    _deny_role(actor)
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(f"Страница от 1, размер страницы от 1 до {MAX_PER_PAGE}", field="page")
    flt = flt or CardFilter()
    stmt = _apply_filters(visible_cards(actor), flt)
    total = await session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = await session.scalars(
        stmt.order_by(Card.received_at.desc(), Card.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    cards = list(rows)
    await audit.record(
        session,
        actor,
        audit.AuditAction.LIST,
        "card",
        None,
        {"filters": flt.as_json(), "page": page, "total": total, "card_ids": [c.id for c in cards]},
    )
    return CardPage(cards, int(total or 0), page, per_page)


async def search_cards(
    session: AsyncSession, actor: Actor, text: str, *, page: int = 1, per_page: int = 50
) -> CardPage:
    """Free-text search over number, applicant, content and phone (see `list_cards`)."""
    return await list_cards(session, actor, CardFilter(text=text), page=page, per_page=per_page)
