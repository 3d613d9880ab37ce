"""Reading calls back: the list the administrator and the CLI see, with what belongs to each.

Visibility follows the cards' rule: the administrator sees every call, an organization's staff
the calls on their organization's lines.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from journal.access import MIN_PHONE_DIGITS, reads_cards, visible_cards
from journal.actors import Actor
from journal.errors import Forbidden, NotFound
from journal.models import Call, CallEvent, CallTransfer, Card, Recording


@dataclass(frozen=True, slots=True)
class CallView:
    """One call as shown in lists: the row plus its operators, transfers, card, recordings."""

    call: Call
    card_number: str | None
    operators: tuple[str, ...] = ()
    transfers: tuple[CallTransfer, ...] = ()
    recordings: tuple[Recording, ...] = field(default_factory=tuple)


def visible_calls(actor: Actor) -> Select[Call]:
    """Calls carry the caller's number and name (personal data): the roles that read cards
    see the calls of the same organizations, the system administrator none."""
    stmt = select(Call)
    if actor.is_admin or actor.is_system:
        return stmt
    if not reads_cards(actor):
        return stmt.where(false())
    return stmt.where(Call.organization_id == actor.organization_id)


def _deny_role(actor: Actor) -> None:
    if not reads_cards(actor):
        raise Forbidden("Вашей роли не доступны звонки: в них персональные данные граждан")


async def list_calls(
    session: AsyncSession,
    actor: Actor,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    phone: str | None = None,
    limit: int = 200,
    offset: int = 0,
    card_id: int | None = None,
) -> list[CallView]:
    """Calls newest first, filtered by start time, the citizen's number (digits match) and
    the card they belong to. A role that reads no personal data is refused (403)."""
    _deny_role(actor)
    stmt = visible_calls(actor)
    if card_id is not None:
        stmt = stmt.where(Call.card_id == card_id)
    if since is not None:
        stmt = stmt.where(Call.started_at >= since)
    if until is not None:
        stmt = stmt.where(Call.started_at < until)
    if phone:
        # A number is matched by its digits (at least MIN_PHONE_DIGITS of them, as for
        # cards); anything else only as literal text: `%` and `_` are no LIKE wildcards,
        # and "1; DROP ..." does not become "any number with a 1".
        digits = "".join(ch for ch in phone if ch.isdigit())
        needle = digits[-10:] if len(digits) >= MIN_PHONE_DIGITS else phone
        stmt = stmt.where(Call.caller_number.contains(needle, autoescape=True))
    stmt = stmt.order_by(Call.started_at.desc(), Call.id.desc()).limit(limit).offset(offset)
    calls = list((await session.scalars(stmt)).all())
    return await _views(session, calls)


async def _views(session: AsyncSession, calls: list[Call]) -> list[CallView]:
    ids = [c.id for c in calls]
    if not ids:
        return []
    operators: dict[int, list[str]] = defaultdict(list)
    answered = await session.execute(
        select(CallEvent.call_id, CallEvent.interface)
        .where(CallEvent.call_id.in_(ids), CallEvent.kind.in_(("operator_answered", "callback_answered")))
        .order_by(CallEvent.at, CallEvent.id)
    )
    for call_id, interface in answered:
        if interface and interface not in operators[call_id]:
            operators[call_id].append(interface)
    transfers: dict[int, list[CallTransfer]] = defaultdict(list)
    for row in await session.scalars(
        select(CallTransfer).where(CallTransfer.call_id.in_(ids)).order_by(CallTransfer.at)
    ):
        transfers[row.call_id].append(row)
    recordings: dict[int, list[Recording]] = defaultdict(list)
    for recording in await session.scalars(
        select(Recording).where(Recording.call_id.in_(ids)).order_by(Recording.id)
    ):
        if recording.call_id is not None:  # selected by call_id: never None here
            recordings[recording.call_id].append(recording)
    card_ids = {c.card_id for c in calls if c.card_id}
    numbers = dict(
        (await session.execute(select(Card.id, Card.number).where(Card.id.in_(card_ids)))).all()
    ) if card_ids else {}
    return [
        CallView(
            call=c,
            card_number=numbers.get(c.card_id) if c.card_id else None,
            operators=tuple(operators[c.id]),
            transfers=tuple(transfers[c.id]),
            recordings=tuple(recordings[c.id]),
        )
        for c in calls
    ]


async def get_call_for(session: AsyncSession, actor: Actor, call_id: int) -> CallView:
    """One visible call with what belongs to it; another organization's call is not found."""
    _deny_role(actor)
    call = await session.scalar(visible_calls(actor).where(Call.id == call_id))
    if call is None:
        raise NotFound("Звонок не найден", call_id=call_id)
    return (await _views(session, [call]))[0]


async def get_recording_for(session: AsyncSession, actor: Actor, recording_id: int) -> Recording:
    """A recording the actor may hear: of a visible call, or (a message with no call) of a
    visible card. Only roles that read card contents hear recordings; anything else is not
    found, so another organization's recordings are not disclosed."""
    if not reads_cards(actor):
        raise NotFound("Запись не найдена", recording_id=recording_id)
    calls = visible_calls(actor).with_only_columns(Call.id)
    cards = visible_cards(actor).with_only_columns(Card.id)
    stmt = select(Recording).where(
        Recording.id == recording_id,
        or_(
            Recording.call_id.in_(calls),
            and_(Recording.call_id.is_(None), Recording.card_id.in_(cards)),
        ),
    )
    recording = await session.scalar(stmt)
    if recording is None:
        raise NotFound("Запись не найдена", recording_id=recording_id)
    return recording
