"""Answer scripts (скрипты ответов): approved answers to typical questions that level-1
operators read out, searchable by keyword in the workspace and popped with each call.

The administrator adds and edits them (`journal.access.can_edit_scripts`); a script belongs
to one organization or to all (`organization_id` None). A script is never deleted: it is
withdrawn (`active` false) and operators stop seeing it. Every change is audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from journal import audit
from journal.access import can_edit_scripts, visible_scripts
from journal.actors import Actor
from journal.audit import AuditAction
from journal.cards import json_value
from journal.errors import Forbidden, InvalidInput, NotFound
from journal.models import AnswerScript, Organization, Topic, TopicKind
from journal.clock import utc_now

MAX_TITLE = 300
MAX_KEYWORDS = 2000
MAX_BODY = 20_000
MAX_QUERY = 200
MAX_LIST = 500
FIELDS = ("title", "keywords", "body", "topic_code", "organization_id", "active")
TITLES = {
    "title": "Название", "keywords": "Ключевые слова", "body": "Текст ответа",
    "topic_code": "Тематика", "organization_id": "Организация", "active": "Действует",
}


def _text(name: str, value: Any, limit: int, *, required: bool = False) -> str | None:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{TITLES[name]}: ожидается текст", field=name)
    text = value.strip()
    if required and not text:
        raise InvalidInput(f"Заполните «{TITLES[name]}»", field=name)
    if len(text) > limit:
        raise InvalidInput(f"{TITLES[name]}: не длиннее {limit} символов", field=name)
    return text or None


async def _clean(session: AsyncSession, values: Mapping[str, Any], partial: bool) -> dict[str, Any]:
    """The script's fields from raw input, checked; `partial` allows leaving fields out."""
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise InvalidInput(f"Поле «{unknown[0]}» нельзя изменить", field=unknown[0])
    out: dict[str, Any] = {}
    for name in FIELDS:
        if partial and name not in values:
            continue
        value = values.get(name)
        if name == "title":
            out[name] = _text(name, value, MAX_TITLE, required=True)
        elif name == "body":
            out[name] = _text(name, value, MAX_BODY, required=True)
        elif name == "keywords":
            out[name] = _text(name, value, MAX_KEYWORDS) or ""
        elif name == "topic_code":
            out[name] = await _topic(session, _text(name, value, 16))
        elif name == "organization_id":
            out[name] = await _organization(session, value)
        elif name == "active":
            if value is None and not partial:
                value = True
            if not isinstance(value, bool):
                raise InvalidInput("Действует: ожидается «да» или «нет»", field=name)
            out[name] = value
    return out


async def _topic(session: AsyncSession, code: str | None) -> str | None:
    if code is None:
        return None
    found = await session.scalar(
        select(func.count()).select_from(Topic)
        .where(Topic.kind == TopicKind.TOPIC, Topic.code == code)
    )
    if not found:
        raise InvalidInput(f"Тематика: нет кода «{code}» в справочнике", field="topic_code")
    return code


async def _organization(session: AsyncSession, value: Any) -> int | None:
    """None (or "") is every organization; else an existing organization's id."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("Организация: неверный идентификатор", field="organization_id")
    if await session.get(Organization, value) is None:
        raise NotFound("Организация не найдена", organization_id=value)
    return value


def _deny_writer(actor: Actor) -> None:
    if not can_edit_scripts(actor):
        raise Forbidden("Изменять скрипты ответов может только администратор контакт-центра")


async def create_script(
    session: AsyncSession, actor: Actor, values: Mapping[str, Any], *, now: datetime | None = None
) -> AnswerScript:
    """Add a script (active unless said otherwise)."""
    _deny_writer(actor)
    clean = await _clean(session, values, partial=False)
    script = AnswerScript(**clean, updated_at=now or utc_now())
    session.add(script)
    await session.flush()
    await audit.record(session, actor, AuditAction.SCRIPT_CREATE, "script", script.id,
                       {"title": script.title})
    await session.flush()
    return script


async def update_script(
    session: AsyncSession, actor: Actor, script_id: int, values: Mapping[str, Any],
    *, now: datetime | None = None,
) -> AnswerScript:
    """Change some fields of a script; the audit entry keeps {field: [old, new]}."""
    _deny_writer(actor)
    script = await get_script_for(session, actor, script_id)
    clean = await _clean(session, values, partial=True)
    diff = {}
    for name, value in clean.items():
        old = getattr(script, name)
        if old != value:
            setattr(script, name, value)
            diff[name] = [json_value(old), json_value(value)]
    if diff:
        script.updated_at = now or utc_now()
        await audit.record(session, actor, AuditAction.SCRIPT_UPDATE, "script", script.id,
                           {"changes": diff})
        await session.flush()
    return script


async def get_script_for(session: AsyncSession, actor: Actor, script_id: int) -> AnswerScript:
    script = await session.scalar(visible_scripts(actor).where(AnswerScript.id == script_id))
    if script is None:
        raise NotFound("Скрипт ответа не найден", script_id=script_id)
    return script


def _keyword_condition(word: str) -> Any:
    return or_(
        AnswerScript.title.icontains(word, autoescape=True),
        AnswerScript.keywords.icontains(word, autoescape=True),
        AnswerScript.body.icontains(word, autoescape=True),
    )


async def list_scripts(
    session: AsyncSession,
    actor: Actor,
    *,
    q: str | None = None,
    organization_id: int | None = None,
    active: bool | None = None,
    limit: int = 200,
) -> list[AnswerScript]:
    """Visible scripts by title; `q`: every word must occur in the title, keywords or text
    (case-insensitive, Cyrillic included)."""
    if not 1 <= limit <= MAX_LIST:
        raise InvalidInput(f"Размер страницы от 1 до {MAX_LIST}", field="limit")
    stmt = visible_scripts(actor)
    if q:
        if len(q) > MAX_QUERY:
            raise InvalidInput("Слишком длинный запрос", field="q")
        for word in q.split():
            stmt = stmt.where(_keyword_condition(word))
    if organization_id is not None:
        stmt = stmt.where(or_(AnswerScript.organization_id.is_(None),
                              AnswerScript.organization_id == organization_id))
    if active is not None:
        stmt = stmt.where(AnswerScript.active.is_(active))
    rows = await session.scalars(stmt.order_by(AnswerScript.title, AnswerScript.id).limit(limit))
    return list(rows)
