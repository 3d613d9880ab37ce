"""Small helpers every API view uses: the body, ids in the path, the actor, values as JSON."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Any, Literal, overload

from aiohttp import web

from hotline.web.errors import ApiError
from hotline.web.schemas import check_body
from journal.actors import Actor
from journal.cards import json_value
from journal.errors import InvalidInput, NotFound
from journal.models import Base

ACTOR = web.RequestKey("actor", Actor)
MAX_ID = 2**63 - 1
_INTEGER = re.compile(r"-?[0-9]+", re.ASCII)
# No endpoint takes more than an object of objects; anything deeper is an attack.
MAX_JSON_DEPTH = 16


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object; 415 for a body not sent as application/json; 400 for
    malformed JSON, anything but an object, or nesting deeper than any endpoint needs; 422
    for a NUL character in any text."""
    raw = await request.read()  # 413 past client_max_size
    if not raw:
        return {}
    if not is_json_type(request.content_type):
        # A foreign page's form can post text/plain (or urlencoded) with no preflight; only
        # a script of this very site can send application/json (login CSRF).
        raise ApiError(415, "unsupported_media_type",
                       "Тело запроса должно быть JSON (Content-Type: application/json)")
    body = _parse(raw)
    check_body(request, body)  # the route's pydantic model (hotline.web.schemas)
    return body


def is_json_type(content_type: str) -> bool:
    """application/json, or a JSON-based type such as application/merge-patch+json."""
    kind = content_type.lower()
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


def _parse(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, "bad_json", "Тело запроса не является корректным JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json", "Тело запроса должно быть JSON-объектом")
    depth, nul, surrogate = _shape(body)
    if depth > MAX_JSON_DEPTH:
        raise ApiError(400, "bad_json", "Слишком глубокая вложенность JSON в теле запроса")
    if nul:
        # No text in the journal may hold one (PostgreSQL refuses it): a clear 422, not a 500.
        raise InvalidInput("Недопустимый символ NUL в данных запроса")
    if surrogate:
        # JSON's "\ud800" alone is no character: it cannot be stored as UTF-8 (asyncpg fails).
        raise InvalidInput("Недопустимый символ в данных запроса: одиночный суррогат UTF-16")
    return body


def _shape(value: Any) -> tuple[int, bool, bool]:
    """How deep a JSON value nests, whether any text in it holds a NUL, and whether any holds
    a lone surrogate (not encodable as UTF-8). Iterative: a hostile body must not exhaust the
    stack of whoever walks it."""
    deepest, nul, surrogate = 0, False, False
    todo: list[tuple[Any, int]] = [(value, 1)]
    while todo:
        item, depth = todo.pop()
        deepest = max(deepest, depth)
        if isinstance(item, str):
            nul = nul or "\x00" in item
            surrogate = surrogate or not _encodable(item)
        elif isinstance(item, dict):
            todo.extend((key, depth) for key in item)
            todo.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            todo.extend((child, depth + 1) for child in item)
    return deepest, nul, surrogate


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def path_id(request: web.Request, name: str = "id") -> int:
    """A numeric id from the path; anything else (or out of range) is simply not found."""
    text = request.match_info.get(name, "")
    if not text.isascii() or not text.isdigit() or int(text) > MAX_ID:
        raise NotFound("Не найдено")
    return int(text)


def actor_of(request: web.Request) -> Actor:
    return request[ACTOR]


@overload
def int_param(
    value: Any, field: str, *, required: bool = False, default: int,
    minimum: int = -MAX_ID, maximum: int = MAX_ID,
) -> int: ...
@overload
def int_param(
    value: Any, field: str, *, required: Literal[True], default: None = None,
    minimum: int = -MAX_ID, maximum: int = MAX_ID,
) -> int: ...
@overload
def int_param(
    value: Any, field: str, *, required: bool = False, default: None = None,
    minimum: int = -MAX_ID, maximum: int = MAX_ID,
) -> int | None: ...


def int_param(
    value: Any, field: str, *, required: bool = False, default: int | None = None,
    minimum: int = -MAX_ID, maximum: int = MAX_ID,
) -> int | None:
    """An integer from a query string or a body (`default` when absent) within
    [minimum, maximum]; 422 otherwise."""
    if value is None or value == "":
        if required:
            raise InvalidInput(f"Укажите «{field}»", field=field)
        return default
    if isinstance(value, bool):
        raise InvalidInput(f"«{field}»: нужно целое число", field=field)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        number = int(value)
    else:
        raise InvalidInput(f"«{field}»: нужно целое число", field=field)
    if not minimum <= number <= maximum:
        raise InvalidInput(f"«{field}»: число вне допустимых пределов ({minimum}…{maximum})",
                           field=field)
    return number


def datetime_param(value: Any, field: str) -> datetime | None:
    """An ISO 8601 moment with its time zone (a date alone means its midnight UTC is wrong);
    a moment outside the years 1-9999 once in UTC is invalid input, not a 500 from the
    database driver."""
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace(" ", "+"))
    except ValueError:
        raise InvalidInput(f"«{field}»: нужны дата и время ISO 8601", field=field) from None
    if moment.tzinfo is None:
        raise InvalidInput(f"«{field}»: укажите часовой пояс", field=field)
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(f"«{field}»: дата вне допустимых пределов", field=field) from None
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
