"""The card (РКК) lifecycle: the one service API through which cards are created and changed.

    draft ──save──▶ in_work ──complete──▶ done ──close (admin)──▶ closed (read-only forever)
      └──────────────┴── cancel (reason) ──▶ cancelled ──close (admin)──▶ closed

Every operation checks access through `journal.access`, appends a `CardHistory` row with the
exact {field: [old, new]} it made and an audit entry, all in the caller's transaction, so a
change, its history and its audit entry commit or roll back together. Call these functions
inside `journal.db.unit_of_work`. Concurrent edits are caught by the card's version
(optimistic locking) and reported as `Conflict`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from journal import audit, card_fields
from journal.access import (
    Purpose, can_close, get_card_for, may_correct_cards, reads_cards, sees_every_card,
)
from journal.actors import Actor
from journal.audit import AuditAction
from journal.card_fields import EDITABLE, WRITTEN_ONLY, clean_values, parse_date
from journal.db import one_of
from journal.deadlines import DEFAULT_POLICY, DeadlinePolicy, local_date
from journal.errors import Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound
from journal.labels import AUDIT_ACTION_TITLES, CARD_STATUS_TITLES
from journal.models import (
    AppealForm,
    AppealType,
    Call,
    CallbackStatus,
    CallbackTask,
    Card,
    CardComplaintReason,
    CardHistory,
    CardStatus,
    Channel,
    Organization,
)
from journal.numbering import CardNumber, take_card_numbers_of
from journal.organizations import organization_by_code, organization_for_line
from journal.clock import utc_now

ORAL_CHANNELS = frozenset({Channel.HOTLINE, Channel.SECRETARY})
WRITTEN_CHANNELS = frozenset(set(Channel) - ORAL_CHANNELS)
OPEN = frozenset({CardStatus.DRAFT, CardStatus.IN_WORK})
EDITABLE_STATUSES = OPEN | {CardStatus.DONE}
CLOCK_SKEW = timedelta(minutes=5)  # a PBX or a scanner clock slightly ahead of ours
MAX_REASON = 2000

CONFLICT_MESSAGE = (
    "Карточку уже изменил другой пользователь. Откройте её заново и повторите изменения"
)



@dataclass(frozen=True, slots=True)
class CardRules:
    """What the lifecycle takes from the service: deadline settings and the clock."""

    deadlines: DeadlinePolicy = DEFAULT_POLICY
    clock: Callable[[], datetime] = field(default=utc_now)

    def now(self) -> datetime:
        moment = self.clock()
        if moment.tzinfo is None:
            raise ValueError("the clock must return an aware datetime")
        return moment

    def today(self) -> date:
        return local_date(self.now(), self.deadlines.zone)


DEFAULT_RULES = CardRules()


# --- values for history rows ------------------------------------------------------------


def json_value(value: Any) -> Any:
    """A value as the history stores it: dates ISO, decimals as strings, enums as values."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value


def _apply(card: Card, values: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Set the values that differ; return {field: [old, new]} of what changed."""
    diff: dict[str, list[Any]] = {}
    for name, new in values.items():
        old = getattr(card, name)
        if old != new:
            setattr(card, name, new)
            diff[name] = [json_value(old), json_value(new)]
    return diff


def _reason_codes(card: Card) -> list[str]:
    return sorted(r.code for r in card.complaint_reasons)


def _apply_reasons(card: Card, codes: list[str]) -> dict[str, list[Any]]:
    """Add and remove complaint reasons one by one (rows are keyed by card and code)."""
    old = _reason_codes(card)
    if old == codes:
        return {}
    for reason in [r for r in card.complaint_reasons if r.code not in codes]:
        card.complaint_reasons.remove(reason)
    for code in codes:
        if code not in old:
            card.complaint_reasons.append(CardComplaintReason(code=code))
    return {"complaint_reasons": [old, codes]}


def _apply_values(card: Card, values: Mapping[str, Any]) -> dict[str, list[Any]]:
    plain = {k: v for k, v in values.items() if k != "complaint_reasons"}
    diff = _apply(card, plain)
    if "complaint_reasons" in values:
        diff |= _apply_reasons(card, values["complaint_reasons"])
    return diff


# --- checks -----------------------------------------------------------------------------


def _check_status(card: Card, action: AuditAction, allowed: frozenset[CardStatus]) -> None:
    if card.status in allowed:
        return
    if card.status == CardStatus.CLOSED:
        raise InvalidTransition(
            "Карточка закрыта администратором и больше не изменяется", card_id=card.id
        )
    if card.status == CardStatus.CANCELLED:
        raise InvalidTransition("Карточка аннулирована и не изменяется", card_id=card.id)
    title = CARD_STATUS_TITLES.get(card.status, card.status)
    raise InvalidTransition(
        f"{AUDIT_ACTION_TITLES[action]}: невозможно для карточки в статусе «{title}»",
        card_id=card.id,
        status=card.status,
    )


def _check_version(card: Card, expected_version: int | None) -> None:
    if expected_version is not None and card.version != expected_version:
        raise Conflict(CONFLICT_MESSAGE, card_id=card.id, version=card.version)


async def _load_for_change(
    session: AsyncSession,
    actor: Actor,
    card_id: int,
    action: AuditAction,
    allowed: frozenset[CardStatus],
    expected_version: int | None,
) -> Card:
    """The card as stored now, if the actor may change it and its status allows `action`."""
    card = await get_card_for(session, actor, card_id, Purpose.CHANGE)
    _check_status(card, action, allowed)
    _check_version(card, expected_version)
    return card


def _required_text(name: str, value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"Укажите {what}", field=name)
    text = value.strip()
    if len(text) > MAX_REASON:
        raise InvalidInput(f"Слишком длинный текст: не более {MAX_REASON} символов", field=name)
    return text


def _state(card: Card | None, values: Mapping[str, Any]) -> dict[str, Any]:
    """The editable fields as they will be after `values` are applied."""
    if card is None:
        current = {name: None for name in EDITABLE} | {"anonymous": False, "complaint_reasons": []}
    else:
        current = {name: getattr(card, name) for name in EDITABLE if name != "complaint_reasons"}
        current["complaint_reasons"] = _reason_codes(card)
    return current | dict(values)


async def _validate(
    session: AsyncSession,
    state: Mapping[str, Any],
    changed: set[str],
    *,
    organization_id: int,
    registered_on: date,
    channel: str,
) -> None:
    """Checks across fields and against the dictionaries; only changed fields hit the DB."""
    appeal_type = state["appeal_type"]
    if state["topic_code"] and changed & {"topic_code", "appeal_type"}:
        await card_fields.check_topic(session, state["topic_code"], appeal_type, registered_on)
    if state["complaint_reasons"] and appeal_type != AppealType.COMPLAINT:
        raise InvalidInput(
            "Причины жалобы указываются только для жалобы", field="complaint_reasons"
        )
    if "complaint_reasons" in changed:
        await card_fields.check_complaint_reasons(
            session, state["complaint_reasons"], registered_on
        )
    if "insurer_concerned_id" in changed and state["insurer_concerned_id"] is not None:
        await card_fields.check_insurer(session, state["insurer_concerned_id"])
    if "responsible_user_id" in changed and state["responsible_user_id"] is not None:
        await card_fields.check_responsible(session, state["responsible_user_id"], organization_id)
    if channel != Channel.FORWARDED and any(state[name] for name in WRITTEN_ONLY & changed):
        raise InvalidInput(
            "Реквизиты сопроводительного письма указываются только для пересланных обращений",
            field=sorted(WRITTEN_ONLY & changed)[0],
        )


def _check_completion(state: Mapping[str, Any]) -> None:
    """What a card needs before it is done (`card_fields.REQUIREMENTS`): type, topic,
    content, the applicant unless anonymous, measures taken; for a complaint, the verdict."""
    card_fields.require(card_fields.COMPLETE, state)


# --- writing a change -------------------------------------------------------------------


async def _flush(session: AsyncSession) -> None:
    """Flush; a concurrent save of the same card (version moved under us) is a Conflict."""
    try:
        await session.flush()
    except StaleDataError as exc:
        raise Conflict(CONFLICT_MESSAGE) from exc


async def _add_change(
    session: AsyncSession,
    actor: Actor,
    card: Card,
    action: AuditAction,
    diff: dict[str, list[Any]],
    *,
    now: datetime,
    comment: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Add the history row and the audit entry of one operation (written by the next flush)."""
    session.add(
        CardHistory(
            card_id=card.id, at=now, user_id=actor.user_id, action=str(action),
            changes=diff, comment=comment,
        )
    )
    await audit.record(
        session, actor, action, "card", card.id,
        {"number": card.number, "fields": sorted(diff), **(details or {})}, at=now,
    )


async def _record_change(
    session: AsyncSession,
    actor: Actor,
    card: Card,
    action: AuditAction,
    diff: dict[str, list[Any]],
    *,
    now: datetime,
    comment: str | None = None,
    details: Mapping[str, Any] | None = None,
    touch: bool = True,
) -> None:
    """Write the history row and the audit entry of one operation, then flush."""
    if touch:
        card.updated_at = now  # also moves the version: a save cannot overwrite this
    await _add_change(
        session, actor, card, action, diff, now=now, comment=comment, details=details
    )
    await _flush(session)


# --- registration -----------------------------------------------------------------------


def _require_creator(actor: Actor, organization_id: int) -> None:
    if not reads_cards(actor):
        raise Forbidden("Вашей роли не доступна регистрация обращений")
    if not sees_every_card(actor) and actor.organization_id != organization_id:
        raise Forbidden("Регистрировать обращения можно только в своей организации")


def _check_received_at(received_at: datetime, now: datetime) -> None:
    if not isinstance(received_at, datetime) or received_at.tzinfo is None:
        raise InvalidInput(
            "Дата поступления: нужны дата и время с часовым поясом", field="received_at"
        )
    if received_at > now + CLOCK_SKEW:
        raise InvalidInput("Дата поступления не может быть в будущем", field="received_at")


@dataclass(frozen=True, slots=True)
class _Draft:
    """One card to register: where and how the appeal came, and the fields known at once."""

    organization_id: int
    channel: str
    form: str
    received_at: datetime
    values: Mapping[str, Any]
    extra_history: Mapping[str, list[Any]] | None = None
    status: str = CardStatus.DRAFT.value
    pbx: str | None = None


async def _register(
    session: AsyncSession, actor: Actor, drafts: Sequence[_Draft], rules: CardRules
) -> list[Card]:
    """Number and insert draft cards, in order, with their "create" history and audit entry.

    The statements do not grow with the cards: one counter upsert per organization and one
    INSERT of all the cards. The history rows and audit entries are only added: the caller's
    next flush writes them, together with whatever it links to the new cards.
    """
    now = rules.now()
    registered_on = local_date(now, rules.deadlines.zone)
    for draft in drafts:
        _check_received_at(draft.received_at, now)
        await _validate(
            session, _state(None, draft.values), set(draft.values),
            organization_id=draft.organization_id, registered_on=registered_on,
            channel=draft.channel,
        )
    # Taken last: the counters stay locked until this transaction ends.
    numbers = await _take_numbers(
        session, [draft.organization_id for draft in drafts], registered_on.year
    )
    made = [
        _draft_card(actor, draft, number, now=now, rules=rules, registered_on=registered_on)
        for draft, number in zip(drafts, numbers, strict=True)
    ]
    session.add_all(card for card, _diff in made)
    await session.flush()  # one INSERT for all of them: the history rows need their ids
    for card, diff in made:
        await _add_change(session, actor, card, AuditAction.CREATE, diff, now=now)
    return [card for card, _diff in made]


async def _take_numbers(
    session: AsyncSession, organization_ids: Sequence[int], year: int
) -> list[CardNumber]:
    """A number for each card of these organizations, in the order given.

    One upsert for all of them (`take_card_numbers_of`: the counters locked in id order).
    """
    taken = await take_card_numbers_of(session, year, Counter(organization_ids))
    numbers = {org_id: iter(listed) for org_id, listed in taken.items()}
    return [next(numbers[org_id]) for org_id in organization_ids]


def _draft_card(
    actor: Actor, draft: _Draft, number: CardNumber, *, now: datetime, rules: CardRules,
    registered_on: date,
) -> tuple[Card, dict[str, list[Any]]]:
    """A new draft card (not yet in the session) and the diff of its "create" history row."""
    card = Card(
        number=number.number, year=number.year, sequence=number.sequence,
        receiving_organization_id=draft.organization_id, organization_id=draft.organization_id,
        received_at=draft.received_at, registered_at=now, registered_by_id=actor.user_id,
        channel=str(draft.channel), form=str(draft.form), status=draft.status, pbx=draft.pbx,
        anonymous=False, due_date=rules.deadlines.answer_due(registered_on), created_at=now,
        updated_at=now, complaint_reasons=[],
    )
    diff = {name: [None, json_value(getattr(card, name))] for name in _REGISTRATION_FIELDS}
    filled = _apply_values(card, draft.values)
    diff |= {k: [None, new] for k, (_old, new) in filled.items() if new not in (None, [])}
    diff |= dict(draft.extra_history or {})
    return card, diff


_REGISTRATION_FIELDS = (
    "number", "organization_id", "received_at", "registered_at", "channel", "form", "status",
    "due_date",
)


async def _organization_id(
    session: AsyncSession, organization_id: int | None, organization_code: str | None,
    line: str | None,
) -> int:
    """The organization of a call: given directly, by code, or by the dialed line."""
    if organization_id is not None:
        if await session.get(Organization, organization_id) is None:
            raise NotFound("Организация не найдена", organization_id=organization_id)
        return organization_id
    if organization_code:
        return (await organization_by_code(session, organization_code)).id
    if line:
        org = await organization_for_line(session, line)
        if org is None:
            raise NotFound(f"Линия {line} не найдена", line=line)
        return org.id
    raise InvalidInput("Не указана организация или линия звонка", field="organization_id")


@dataclass(frozen=True, slots=True)
class ArrivedCall:
    """One call (or secretary message) whose card `create_for_calls` registers.

    The organization is given by id, by code or by the dialed line. `locked_call` is the
    call row when the caller's own transaction has just inserted it: it holds the row until
    commit, so nobody else can have given it a card, and the row is not read again.
    """

    pbx_call_id: str
    received_at: datetime
    organization_id: int | None = None
    organization_code: str | None = None
    line: str | None = None
    caller_number: str | None = None
    caller_name: str | None = None
    channel: str = Channel.HOTLINE
    locked_call: Call | None = None
    # The PBX that took the call (the service's `[[pbx]] name`).
    pbx: str = "main"


async def create_for_call(
    session: AsyncSession,
    actor: Actor,
    *,
    pbx_call_id: str,
    received_at: datetime,
    organization_id: int | None = None,
    organization_code: str | None = None,
    line: str | None = None,
    caller_number: str | None = None,
    caller_name: str | None = None,
    channel: str = Channel.HOTLINE,
    rules: CardRules = DEFAULT_RULES,
    locked_call: Call | None = None,
) -> Card:
    """The draft card of a call (or a secretary message), created once per PBX call id.

    Idempotent: if the call already has a card, that card is returned, also when another
    task is creating it at the same moment. The call row is inserted if the call tracker
    has not written it yet. The caller's number is copied to the applicant's phone; the
    caller-id name stays on the call (it names a line, not a person). `locked_call`: see
    `ArrivedCall`. One call of `create_for_calls`.
    """
    call = ArrivedCall(
        pbx_call_id=pbx_call_id, received_at=received_at, organization_id=organization_id,
        organization_code=organization_code, line=line, caller_number=caller_number,
        caller_name=caller_name, channel=channel, locked_call=locked_call,
    )
    [card] = await create_for_calls(session, actor, [call], rules=rules)
    return card


async def create_for_calls(
    session: AsyncSession,
    actor: Actor,
    calls: Sequence[ArrivedCall],
    *,
    rules: CardRules = DEFAULT_RULES,
) -> list[Card]:
    """The draft card of each call, in the order given; see `create_for_call`.

    The journal writer registers the cards of a whole batch of arrivals with this, in a
    number of statements that does not grow with the calls: the call rows it did not insert
    itself upserted and locked in two, one number upsert per organization, one INSERT of the
    cards, then one flush of their history rows, audit entries and the calls' links. A call
    that has a card already keeps it (one read each). Any refused call refuses them all.
    """
    now = rules.now()
    org_ids = await _checked_organizations(session, actor, calls, now)
    rows = await _call_rows(session, calls, org_ids)
    cards = {
        key: await get_card_for(session, actor, row.card_id)
        for key, row in rows.items() if row.card_id is not None
    }
    new = {
        call.pbx_call_id: _Draft(
            organization_id=org_id, channel=call.channel, form=AppealForm.ORAL,
            received_at=call.received_at, values=_phone_values(call.caller_number, rules),
            extra_history={"call": [None, call.pbx_call_id]}, pbx=call.pbx,
        )
        for call, org_id in zip(calls, org_ids, strict=True) if call.pbx_call_id not in cards
    }
    if new:
        made = await _register(session, actor, list(new.values()), rules)
        for (key, draft), card in zip(new.items(), made, strict=True):
            _link(rows[key], card, draft.organization_id)
            cards[key] = card
        await session.flush()
    return [cards[call.pbx_call_id] for call in calls]


def _check_call(call: ArrivedCall) -> None:
    if not isinstance(call.pbx_call_id, str) or not 0 < len(call.pbx_call_id) <= 64:
        raise InvalidInput("Неверный идентификатор звонка", field="pbx_call_id")
    if call.channel not in ORAL_CHANNELS:
        raise InvalidInput(f"Канал «{call.channel}» не телефонный", field="channel")


async def _checked_organizations(
    session: AsyncSession, actor: Actor, calls: Sequence[ArrivedCall], now: datetime
) -> list[int]:
    """Each call's organization, once every call has passed the checks of a new card."""
    found: dict[tuple[int | None, str | None, str | None], int] = {}
    org_ids = []
    for call in calls:
        _check_call(call)
        where = (call.organization_id, call.organization_code, call.line)
        if where not in found:  # a batch has few distinct lines: resolve each once
            found[where] = await _organization_id(session, *where)
        _require_creator(actor, found[where])
        _check_received_at(call.received_at, now)
        org_ids.append(found[where])
    return org_ids


async def _call_rows(
    session: AsyncSession, calls: Sequence[ArrivedCall], org_ids: Sequence[int]
) -> dict[str, Call]:
    """The call row of each PBX call id: the caller's own when given, else locked here."""
    rows = {
        call.pbx_call_id: call.locked_call for call in calls
        if call.locked_call is not None and call.locked_call.pbx_call_id == call.pbx_call_id
    }
    missing = {
        call.pbx_call_id: {
            "direction": "in", "line_number": call.line, "organization_id": org_id,
            "caller_number": call.caller_number, "caller_name": call.caller_name,
            "started_at": call.received_at, "outcome": "in_progress", "pbx": call.pbx,
        }
        for call, org_id in zip(calls, org_ids, strict=True) if call.pbx_call_id not in rows
    }
    if missing:
        rows |= await _lock_calls(session, missing)
    return rows


async def _lock_calls(
    session: AsyncSession, defaults: Mapping[str, Mapping[str, Any]]
) -> dict[str, Call]:
    """The call rows, inserted if missing, locked until the transaction ends.

    The insert-if-missing waits on a concurrent insert of the same call, and the row lock
    makes a second creator wait until the first has committed its card, then see it. Rows
    are taken in key order, so two creators of the same calls cannot deadlock.
    """
    keys = sorted(defaults)
    table = Call.__table__
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    await session.execute(
        insert(Call)
        .values([{"pbx_call_id": key, **defaults[key]} for key in keys])
        .on_conflict_do_nothing(index_elements=[table.c.pbx_call_id])
    )
    found = await session.scalars(
        select(Call)
        .where(one_of(session, Call.pbx_call_id, keys))
        .order_by(Call.pbx_call_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    rows = {call.pbx_call_id: call for call in found}
    if len(rows) != len(keys):  # inserted above or already there, and calls are never deleted
        raise RuntimeError(f"calls {sorted(set(keys) - set(rows))!r} vanished while locked")
    return rows


def _link(call: Call, card: Card, organization_id: int) -> None:
    call.card_id = card.id
    if call.organization_id is None:
        call.organization_id = organization_id


def _phone_values(caller_number: str | None, rules: CardRules) -> dict[str, Any]:
    phone = _caller_phone(caller_number, rules)
    return {"applicant_phone": phone} if phone else {}


def _caller_phone(caller_number: str | None, rules: CardRules) -> str | None:
    return caller_phone(caller_number, rules.today())


def caller_phone(caller_number: str | None, today: date) -> str | None:
    """The caller's number as the applicant's phone of the call's card, unless the PBX sent
    no usable number ("anonymous", "unknown"): a call always gets its card."""
    try:
        return card_fields.clean_phone("applicant_phone", caller_number, today)
    except InvalidInput:
        return None


def _check_forwarded_letter(values: Mapping[str, Any]) -> None:
    missing = [name for name in sorted(WRITTEN_ONLY) if not values.get(name)]
    if missing:
        raise InvalidInput(
            f"Для пересланного обращения заполните «{card_fields.title(missing[0])}»",
            field=missing[0],
        )


async def register_written(
    session: AsyncSession,
    actor: Actor,
    *,
    channel: str,
    received_at: datetime,
    organization_id: int | None = None,
    fields: Mapping[str, Any] | None = None,
    rules: CardRules = DEFAULT_RULES,
) -> Card:
    """Register a written appeal as the registrar does (the console's «Зарегистрировать»):
    refused, naming the fields, unless what a registration needs is filled
    (`card_fields.REQUIREMENTS[REGISTER]`: type, topic, content, applicant unless
    anonymous). A registered appeal is under consideration (`in_work`) from that moment,
    so form ПГ counts it (drafts are not appeals yet). Otherwise as `create_written`."""
    return await create_written(
        session, actor, channel=channel, received_at=received_at,
        organization_id=organization_id, fields=fields, rules=rules,
        step=card_fields.REGISTER,
    )


async def create_written(
    session: AsyncSession,
    actor: Actor,
    *,
    channel: str,
    received_at: datetime,
    organization_id: int | None = None,
    fields: Mapping[str, Any] | None = None,
    rules: CardRules = DEFAULT_RULES,
    step: str | None = None,
) -> Card:
    """Register a written appeal by hand as a draft card.

    `channel`: post, email, reception, website, gosuslugi or forwarded (the latter needs the
    sending body, its letter number and date in `fields`). `fields` take the same names and
    checks as `save`. The organization defaults to the actor's own. With `step`, the
    fields that step needs are required (see `register_written`).
    """
    if channel not in WRITTEN_CHANNELS:
        raise InvalidInput(f"Канал «{channel}» не для письменных обращений", field="channel")
    org_id = organization_id if organization_id is not None else actor.organization_id
    if org_id is None:
        raise InvalidInput("Укажите организацию, получившую обращение", field="organization_id")
    _require_creator(actor, org_id)
    values = clean_values(fields or {}, rules.today())
    if step is not None:
        card_fields.require(step, _state(None, values))
    if channel == Channel.FORWARDED:
        _check_forwarded_letter(values)
    if await session.get(Organization, org_id) is None:
        raise NotFound("Организация не найдена", organization_id=org_id)
    draft = _Draft(
        organization_id=org_id, channel=channel, form=AppealForm.WRITTEN,
        received_at=received_at, values=values,
        status=CardStatus.DRAFT.value if step is None else CardStatus.IN_WORK.value,
    )
    [card] = await _register(session, actor, [draft], rules)
    await session.flush()
    return card


# --- reading ----------------------------------------------------------------------------


async def read_card(session: AsyncSession, actor: Actor, card_id: int) -> Card:
    """Open a card: its personal data is shown, so the view is audited in this transaction."""
    card = await get_card_for(session, actor, card_id, Purpose.VIEW)
    await audit.record(session, actor, AuditAction.VIEW, "card", card.id, {"number": card.number})
    await session.flush()
    return card


async def card_history(session: AsyncSession, actor: Actor, card_id: int) -> list[CardHistory]:
    """The card's change history, oldest first (audited: it holds old personal data)."""
    card = await get_card_for(session, actor, card_id, Purpose.VIEW)
    rows = await session.scalars(
        select(CardHistory).where(CardHistory.card_id == card.id).order_by(CardHistory.id)
    )
    await audit.record(
        session, actor, AuditAction.HISTORY, "card", card.id, {"number": card.number}
    )
    await session.flush()
    return list(rows)


# --- the lifecycle ----------------------------------------------------------------------


def _registered_on(card: Card, rules: CardRules) -> date:
    return local_date(card.registered_at, rules.deadlines.zone)


async def _validate_for(
    session: AsyncSession, card: Card, state: Mapping[str, Any], changed: set[str],
    rules: CardRules,
) -> None:
    await _validate(
        session, state, changed, organization_id=card.organization_id,
        registered_on=_registered_on(card, rules), channel=card.channel,
    )


async def save(
    session: AsyncSession,
    actor: Actor,
    card_id: int,
    changes: Mapping[str, Any],
    expected_version: int,
    *,
    rules: CardRules = DEFAULT_RULES,
) -> Card:
    """Save an operator's edits; a draft goes to work (in_work).

    Only the fields of `card_fields.EDITABLE` may be given. A done card may still be
    corrected but must stay complete. Nothing changed: nothing written.
    """
    card = await _load_for_change(
        session, actor, card_id, AuditAction.SAVE, EDITABLE_STATUSES, expected_version
    )
    values = clean_values(changes, rules.today())
    state = _state(card, values)
    await _validate_for(session, card, state, set(values), rules)
    if card.status == CardStatus.DONE:
        _check_completion(state)
    diff = _apply_values(card, values)
    if card.status == CardStatus.DRAFT:
        diff |= _apply(card, {"status": CardStatus.IN_WORK.value})
    if diff:
        await _record_change(session, actor, card, AuditAction.SAVE, diff, now=rules.now())
    return card


async def complete(
    session: AsyncSession,
    actor: Actor,
    card_id: int,
    *,
    expected_version: int,
    changes: Mapping[str, Any] | None = None,
    rules: CardRules = DEFAULT_RULES,
) -> Card:
    """Mark the card done: "measures taken" filled, and for a complaint "justified" set.

    `changes` (optional) are saved in the same step; the answer date defaults to today.
    """
    card = await _load_for_change(
        session, actor, card_id, AuditAction.COMPLETE, OPEN, expected_version
    )
    values = clean_values(changes or {}, rules.today())
    if _state(card, values)["answered_on"] is None:
        values["answered_on"] = rules.today()
    state = _state(card, values)
    _check_completion(state)
    await _validate_for(session, card, state, set(values), rules)
    settled = await settle_callbacks(session, card.id)
    diff = _apply_values(card, values) | _apply(card, {"status": CardStatus.DONE.value})
    await _record_change(session, actor, card, AuditAction.COMPLETE, diff, now=rules.now(),
                         comment=_settled_comment(settled),
                         details={"callbacks_cancelled": settled} if settled else None)
    return card


SETTLED_STATUSES = (CallbackStatus.PENDING.value, CallbackStatus.DIALING.value)


async def open_callbacks(session: AsyncSession, card_id: int) -> int:
    """How many callbacks of the card still wait to be made (pending or being dialled)."""
    return len(list(await session.scalars(select(CallbackTask.id).where(
        CallbackTask.card_id == card_id, CallbackTask.status.in_(SETTLED_STATUSES)))))


async def settle_callbacks(session: AsyncSession, card_id: int) -> int:
    """A card that is done or closed needs no callback any more: its waiting callbacks are
    cancelled (no one dials a citizen about a finished appeal, and a callback call could
    not be attached to a closed card). How many were."""
    result = await session.execute(
        update(CallbackTask)
        .where(CallbackTask.card_id == card_id, CallbackTask.status.in_(SETTLED_STATUSES))
        .values(status=CallbackStatus.CANCELLED.value)
        .execution_options(synchronize_session="fetch")
    )
    return cast("CursorResult[Any]", result).rowcount or 0


def _settled_comment(settled: int) -> str | None:
    if not settled:
        return None
    return "Ожидавший обратный звонок отменён" if settled == 1 else (
        f"Ожидавшие обратные звонки отменены ({settled})")


async def close(
    session: AsyncSession,
    actor: Actor,
    card_id: int,
    *,
    expected_version: int | None = None,
    rules: CardRules = DEFAULT_RULES,
) -> Card:
    """The administrator closes a done (or cancelled) card: from now on it is read-only."""
    card = await get_card_for(session, actor, card_id, Purpose.CHANGE)
    closable = frozenset({CardStatus.DONE, CardStatus.CANCELLED})
    if card.status == CardStatus.CLOSED:  # read-only for everyone, whoever asks
        _check_status(card, AuditAction.CLOSE, closable)
    if not can_close(actor):
        raise Forbidden("Закрывать карточки может только администратор контакт-центра")
    _check_status(card, AuditAction.CLOSE, closable)
    _check_version(card, expected_version)
    now = rules.now()
    # Before the card changes: the callbacks' UPDATE flushes what is pending, and a closed
    # card is written once (the database refuses any later UPDATE of it).
    settled = await settle_callbacks(session, card.id)
    card.updated_at = now
    diff = _apply(card, {
        "status": CardStatus.CLOSED.value, "closed_at": now, "closed_by_id": actor.user_id,
    })
    await _record_change(session, actor, card, AuditAction.CLOSE, diff, now=now,
                         comment=_settled_comment(settled),
                         details={"callbacks_cancelled": settled} if settled else None,
                         touch=False)
    return card


async def cancel(
    session: AsyncSession,
    actor: Actor,
    card_id: int,
    *,
    reason: str,
    expected_version: int | None = None,
    rules: CardRules = DEFAULT_RULES,
) -> Card:
    """Cancel a card created by mistake (never deleted); its pending callbacks are cancelled."""
    card = await _load_for_change(
        session, actor, card_id, AuditAction.CANCEL, EDITABLE_STATUSES, expected_version
    )
    text = _required_text("reason", reason, "причину аннулирования")
    diff = _apply(card, {"status": CardStatus.CANCELLED.value, "cancel_reason": text})
    await session.execute(
        update(CallbackTask)
        .where(CallbackTask.card_id == card.id, CallbackTask.status == CallbackStatus.PENDING)
        .values(status=CallbackStatus.CANCELLED.value)
    )
    await _record_change(
        session, actor, card, AuditAction.CANCEL, diff, now=rules.now(), comment=text
    )
    return card


# What the administrator may correct besides the operator's fields: how the appeal came.
CORRECTABLE_REGISTRATION = frozenset({"received_at", "channel"})
CORRECTABLE_STATUSES = EDITABLE_STATUSES | {CardStatus.CANCELLED}


def _registration_values(
    card: Card, changes: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """The corrected receipt moment and channel (the form follows the channel)."""
    out: dict[str, Any] = {}
    if "received_at" in changes:
        value = changes["received_at"]
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip())
            except ValueError:
                raise InvalidInput("Дата поступления: неверная дата и время",
                                   field="received_at") from None
        _check_received_at(value, now)
        if value > card.registered_at:
            raise InvalidInput("Дата поступления не может быть позже регистрации",
                               field="received_at")
        out["received_at"] = value
    if "channel" in changes:
        channel = changes["channel"]
        if channel not in {c.value for c in Channel}:
            raise InvalidInput(f"Канал поступления: недопустимое значение «{channel}»",
                               field="channel")
        oral = channel in ORAL_CHANNELS
        if oral != (card.form == AppealForm.ORAL):
            raise InvalidInput(
                "Канал поступления: устное обращение остаётся устным, письменное письменным",
                field="channel")
        out["channel"] = channel
    return out


async def correct(
    session: AsyncSession,
    actor: Actor,
    card_id: int,
    changes: Mapping[str, Any],
    expected_version: int,
    *,
    reason: str,
    rules: CardRules = DEFAULT_RULES,
) -> Card:
    """The administrator corrects fields of a card that is not closed, with a reason.

    Any field an operator fills (`card_fields.EDITABLE`), and how the appeal came (receipt
    moment, channel). The status stays as it is (a done card must stay complete); the
    history keeps old → new, who, when and why. Who may: `access.may_correct_cards`.
    """
    card = await get_card_for(session, actor, card_id, Purpose.CHANGE)
    if card.status == CardStatus.CLOSED:
        _check_status(card, AuditAction.CORRECT, CORRECTABLE_STATUSES)
    if not may_correct_cards(actor):
        raise Forbidden("Исправлять карточки может только администратор контакт-центра")
    _check_status(card, AuditAction.CORRECT, CORRECTABLE_STATUSES)
    _check_version(card, expected_version)
    text = _required_text("reason", reason, "причину исправления")
    if not changes:
        raise InvalidInput("Укажите, что исправить", field="changes")
    now = rules.now()
    registration = {k: v for k, v in changes.items() if k in CORRECTABLE_REGISTRATION}
    values = clean_values(
        {k: v for k, v in changes.items() if k not in CORRECTABLE_REGISTRATION}, rules.today())
    fixed = _registration_values(card, registration, now)
    state = _state(card, values)
    await _validate(
        session, state, set(values), organization_id=card.organization_id,
        registered_on=_registered_on(card, rules), channel=fixed.get("channel", card.channel),
    )
    if card.status == CardStatus.DONE:
        _check_completion(state)
    diff = _apply(card, fixed) | _apply_values(card, values)
    if diff:
        await _record_change(session, actor, card, AuditAction.CORRECT, diff, now=now,
                             comment=text)
    return card


async def _target_organization(session: AsyncSession, to: int | str) -> Organization:
    if isinstance(to, str):
        return await organization_by_code(session, to)
    org = await session.get(Organization, to)
    if org is None:
        raise NotFound("Организация не найдена", organization_id=to)
    return org


async def forward(
    session: AsyncSession,
    actor: Actor,
    card_id: int,
    *,
    to_organization: int | str,
    reason: str,
    expected_version: int | None = None,
    rules: CardRules = DEFAULT_RULES,
) -> Card:
    """Hand the card to another organization (by id or code); visibility moves with it.

    The history keeps who had it. The responsible person is cleared (the new organization
    assigns its own) and pending callbacks move too.
    """
    card = await _load_for_change(
        session, actor, card_id, AuditAction.FORWARD, OPEN, expected_version
    )
    text = _required_text("reason", reason, "причину пересылки")
    target = await _target_organization(session, to_organization)
    if target.id == card.organization_id:
        raise InvalidInput("Карточка уже находится в этой организации", field="to_organization")
    if not target.active:
        raise InvalidInput("Организация больше не работает в системе", field="to_organization")
    now = rules.now()
    diff = _apply(card, {
        "organization_id": target.id, "forwarded_at": now,
        "responsible_user_id": None, "responsible_level": None,
    })
    await session.execute(
        update(CallbackTask)
        .where(CallbackTask.card_id == card.id, CallbackTask.status == CallbackStatus.PENDING)
        .values(organization_id=target.id, assigned_user_id=None)
    )
    await _record_change(
        session, actor, card, AuditAction.FORWARD, diff, now=now, comment=text,
        details={"to": target.code},
    )
    return card


async def extend(
    session: AsyncSession,
    actor: Actor,
    card_id: int,
    *,
    new_due: date | str,
    reason: str,
    expected_version: int | None = None,
    rules: CardRules = DEFAULT_RULES,
) -> Card:
    """Extend the due date once, by up to 30 days, with a reason (59-ФЗ)."""
    card = await _load_for_change(
        session, actor, card_id, AuditAction.EXTEND, OPEN, expected_version
    )
    if card.extended_at is not None:
        raise InvalidTransition(
            "Срок рассмотрения уже продлевался; повторное продление не допускается",
            card_id=card.id,
        )
    due = parse_date("new_due", new_due)
    if due is None:
        raise InvalidInput("Укажите новый срок", field="new_due")
    text = _required_text("reason", reason, "причину продления срока")
    current = card.due_date or rules.deadlines.answer_due(_registered_on(card, rules))
    rules.deadlines.check_extension(current, due)
    now = rules.now()
    diff = _apply(card, {
        "due_date": due, "extension_old_due": current, "extended_at": now,
        "extended_by_id": actor.user_id, "extension_reason": text,
    })
    await _record_change(session, actor, card, AuditAction.EXTEND, diff, now=now, comment=text)
    return card


async def defer(
    session: AsyncSession,
    actor: Actor,
    card_id: int,
    *,
    contact_phone: str,
    callback_due_at: datetime,
    contact_name: str | None = None,
    note: str | None = None,
    expected_version: int | None = None,
    rules: CardRules = DEFAULT_RULES,
) -> CallbackTask:
    """Defer the answer: record how to reach the citizen and create a callback task.

    A card has at most one pending callback (a unique index says so): deferring it again
    moves that callback (contact, time, note) instead of adding a second call to make."""
    card = await _load_for_change(
        session, actor, card_id, AuditAction.DEFER, OPEN, expected_version
    )
    today, now = rules.today(), rules.now()
    phone = card_fields.clean_phone("applicant_phone", contact_phone, today)
    if phone is None:
        raise InvalidInput("Укажите телефон для обратного звонка", field="contact_phone")
    name = card_fields.clean_text(200)("applicant_name", contact_name, today)
    note_text = card_fields.clean_text(2000)("content", note, today)
    if not isinstance(callback_due_at, datetime) or callback_due_at.tzinfo is None:
        raise InvalidInput("Срок обратного звонка: нужны дата и время", field="callback_due_at")
    if callback_due_at <= now:
        raise InvalidInput("Срок обратного звонка уже прошёл", field="callback_due_at")
    contact = f"{name}, {phone}" if name else phone
    values: dict[str, Any] = {"deferred_contact": contact, "callback_due_at": callback_due_at}
    if card.status == CardStatus.DRAFT:
        values["status"] = CardStatus.IN_WORK.value
    diff = _apply(card, values)
    task = await session.scalar(select(CallbackTask).where(
        CallbackTask.card_id == card.id, CallbackTask.status == CallbackStatus.PENDING.value))
    if task is None:
        task = CallbackTask(
            card_id=card.id, organization_id=card.organization_id, status=CallbackStatus.PENDING.value,
            attempts=0, created_at=now,
        )
        session.add(task)
    task.assigned_user_id = actor.user_id
    task.contact_phone, task.contact_name, task.note = phone, name, note_text
    task.due_at = callback_due_at
    await _record_change(session, actor, card, AuditAction.DEFER, diff, now=now, comment=note_text)
    return task


async def attach_call(
    session: AsyncSession,
    actor: Actor,
    card_id: int,
    *,
    pbx_call_id: str,
    rules: CardRules = DEFAULT_RULES,
) -> Call:
    """Link another call (a callback, a repeated call) to the card.

    The card row itself is not touched, so an operator editing it meanwhile is not put in
    conflict; the link is in the card's history. A call already linked to another card is
    refused; the actor must be allowed to see the call's organization.
    """
    card = await _load_for_change(
        session, actor, card_id, AuditAction.ATTACH_CALL, EDITABLE_STATUSES, None
    )
    call = await session.scalar(
        select(Call)
        .where(Call.pbx_call_id == pbx_call_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    foreign = (
        call is not None and not sees_every_card(actor)
        and call.organization_id not in (None, actor.organization_id)
    )
    if call is None or foreign:
        raise NotFound("Звонок не найден", pbx_call_id=pbx_call_id)
    if call.card_id == card.id:
        return call
    if call.card_id is not None:
        raise Conflict("Звонок уже привязан к другой карточке", pbx_call_id=pbx_call_id)
    call.card_id = card.id
    await _record_change(
        session, actor, card, AuditAction.ATTACH_CALL, {"calls": [None, pbx_call_id]},
        now=rules.now(), touch=False,
    )
    return call
