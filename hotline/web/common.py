"""Small helpers every API view uses: the body, ids in the path, the actor, values as JSON."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from aiohttp import web

from hotline.web.errors import ApiError
from journal.actors import Actor
from journal.cards import json_value
from journal.errors import InvalidInput, NotFound
from journal.models import Base

ACTOR = web.RequestKey("actor", Actor)
MAX_ID = 2**63 - 1


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object; 400 for malformed JSON or anything but an object."""
    raw = await request.read()  # 413 past client_max_size
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "bad_json", "Тело запроса не является корректным JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json", "Тело запроса должно быть JSON-объектом")
    if _has_nul(body):
        # No text in the journal may hold one (PostgreSQL refuses it): a clear 422, not a 500.
        raise InvalidInput("Недопустимый символ NUL в данных запроса")
    return body


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def path_id(request: web.Request, name: str = "id") -> int:
    """A numeric id from the path; anything else (or out of range) is simply not found."""
    text = request.match_info.get(name, "")
    if not text.isascii() or not text.isdigit() or int(text) > MAX_ID:
        raise NotFound("Не найдено")
    return int(text)


def actor_of(request: web.Request) -> Actor:
    return request[ACTOR]


def int_param(
    value: Any, field: str, *, required: bool = False, default: int | None = None
) -> int | None:
    """An integer from a query string or a body (`default` when absent); 422 otherwise."""
    if value is None or value == "":
        if required:
            raise InvalidInput(f"Укажите «{field}»", field=field)
        return default
    if isinstance(value, bool):
        raise InvalidInput(f"«{field}»: нужно целое число", field=field)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit() and value.isascii():
        number = int(value)
    else:
        raise InvalidInput(f"«{field}»: нужно целое число", field=field)
    if abs(number) > MAX_ID:
        raise InvalidInput(f"«{field}»: слишком большое число", field=field)
    return number


def datetime_param(value: Any, field: str) -> datetime | None:
    """An ISO 8601 moment with its time zone (a date alone means its midnight UTC is wrong)."""
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace(" ", "+"))
    except ValueError:
        raise InvalidInput(f"«{field}»: нужны дата и время ISO 8601", field=field) from None
    if moment.tzinfo is None:
        raise InvalidInput(f"«{field}»: укажите часовой пояс", field=field)
    return moment


def row_json(row: Base, *, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Every column of an ORM row as JSON-ready values."""
    return {
        column.key: json_value(getattr(row, column.key))
        for column in row.__table__.columns
        if column.key not in skip
    }


def iso(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()
