"""The append-only access log of personal data (152-ФЗ): who did what, when, from where.

`record` adds an entry in the caller's transaction, so a view or a change and its log entry
commit (or roll back) together. Only the administrator reads the log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, event, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from journal.actors import Actor
from journal.errors import Forbidden, InvalidInput
from journal.models import AuditEntry, CardHistory
from journal.clock import utc_now

MAX_PAGE = 500


class AppendOnlyError(RuntimeError):
    """A programming error: an audit or card-history row was about to be changed or deleted."""


def _refuse_rewrite(_mapper: object, _connection: object, target: object) -> None:
    raise AppendOnlyError(f"{type(target).__name__} rows are append-only")


# The access log and the card history are evidence: the ORM refuses to rewrite them.
for _model in (AuditEntry, CardHistory):
    event.listen(_model, "before_update", _refuse_rewrite)
    event.listen(_model, "before_delete", _refuse_rewrite)


class AuditAction(StrEnum):
    """What was done; stable values, reports and filters rely on them."""

    VIEW = "view"  # one card opened
    LIST = "list"  # a list or search of cards shown
    HISTORY = "history"  # a card's change history shown
    CREATE = "create"
    SAVE = "save"
    COMPLETE = "complete"
    CLOSE = "close"
    CANCEL = "cancel"
    FORWARD = "forward"
    EXTEND = "extend"
    DEFER = "defer"
    ATTACH_CALL = "attach_call"
    CORRECT = "correct"  # the administrator corrected fields of a card, with a reason
    PLAY = "play"  # a call recording listened to
    DOWNLOAD = "download"  # a call recording downloaded
    DESTROY = "destroy"  # a call recording destroyed by a retention rule
    EXPORT = "export"  # a report built or exported (form ПГ, call statistics, deadlines)
    SURVEY = "survey"  # a citizen's rating of the result stored on the card (issue #6)
    EVALUATE = "evaluate"  # an operator's evaluation sheet on a call stored
    SCRIPT_CREATE = "script_create"  # an answer script added
    SCRIPT_UPDATE = "script_update"  # an answer script changed (or withdrawn)
    USER_CREATE = "user_create"  # an account created (on the web or the command line)
    USER_CHANGE = "user_change"  # an account's role, level, phone or name changed
    USER_DISABLE = "user_disable"  # an account disabled, its sessions ended
    USER_ENABLE = "user_enable"  # a disabled account allowed to sign in again
    USER_PASSWORD = "user_password"  # a password set by the administrator, sessions ended
    SUPERVISE_START = "supervise_start"  # a supervisor's phone called to listen to a live call
    SUPERVISE_SWITCH = "supervise_switch"  # listening switched to whispering or barging, or back
    SUPERVISE_END = "supervise_end"  # listening over (with the mode and how long it lasted)
    DENIED = "denied"  # an object or an action refused: another organization's, or the role's


async def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: object | None,
    details: Mapping[str, Any] | None = None,
    *,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (it is flushed with the next flush)."""
    entry = AuditEntry(
        at=at or utc_now(),
        user_id=actor.user_id,
        login=actor.login,
        action=str(action),
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        remote_addr=actor.remote_addr,
        details=dict(details or {}),
    )
    session.add(entry)
    return entry


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Filters of the administrator's audit page; None means "any"."""

    user_id: int | None = None
    login: str | None = None
    actions: Sequence[str] | None = None
    object_type: str | None = None
    object_id: object | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: list[AuditEntry]
    total: int
    offset: int
    limit: int


def _filtered(flt: AuditFilter) -> Select[AuditEntry]:
    stmt = select(AuditEntry)
    if flt.user_id is not None:
        stmt = stmt.where(AuditEntry.user_id == flt.user_id)
    if flt.login is not None:
        stmt = stmt.where(AuditEntry.login == flt.login)
    if flt.actions:
        stmt = stmt.where(AuditEntry.action.in_([str(a) for a in flt.actions]))
    if flt.object_type is not None:
        stmt = stmt.where(AuditEntry.object_type == flt.object_type)
    if flt.object_id is not None:
        stmt = stmt.where(AuditEntry.object_id == str(flt.object_id))
    if flt.since is not None:
        stmt = stmt.where(AuditEntry.at >= flt.since)
    if flt.until is not None:
        stmt = stmt.where(AuditEntry.at < flt.until)
    return stmt


async def query_audit(
    session: AsyncSession,
    actor: Actor,
    flt: AuditFilter | None = None,
    *,
    offset: int = 0,
    limit: int = 100,
) -> AuditPage:
    """The administrator's view of the log, newest first."""
    if not actor.is_admin:
        raise Forbidden("Журнал доступа доступен только администратору")
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInput(f"Размер страницы: от 1 до {MAX_PAGE}", field="limit")
    stmt = _filtered(flt or AuditFilter())
    total = await session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = await session.scalars(
        stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).offset(offset).limit(limit)
    )
    return AuditPage(list(rows), int(total or 0), offset, limit)
