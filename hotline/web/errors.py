"""Errors of the JSON API: every refusal is `{"error": {"code", "message"}}` with a stable code.

Journal errors keep their own code; aiohttp's HTTP errors (unknown route, wrong method,
oversized body) and unexpected exceptions are translated here, once, at the edge.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import structlog
from aiohttp import web

from journal.errors import Conflict, Forbidden, InvalidInput, InvalidTransition, JournalError, NotFound

log = structlog.get_logger(__name__)

API_PREFIX = "/api/"
JOURNAL_STATUS: dict[type[JournalError], int] = {
    NotFound: 404,
    Forbidden: 403,
    InvalidInput: 422,
    InvalidTransition: 409,
    Conflict: 409,
}
HTTP_CODES = {
    400: ("bad_request", "Некорректный запрос"),
    401: ("unauthenticated", "Войдите в систему"),
    403: ("forbidden", "Доступ запрещён"),
    404: ("not_found", "Не найдено"),
    405: ("method_not_allowed", "Метод не поддерживается для этого адреса"),
    413: ("too_large", "Слишком большой запрос"),
    415: ("unsupported_media_type", "Ожидается JSON"),
}
INTERNAL_MESSAGE = "Внутренняя ошибка сервиса. Повторите позже или обратитесь к администратору"


class ApiError(Exception):
    """A refusal decided by the web layer itself (not by the journal)."""

    def __init__(self, status: int, code: str, message: str, **details: object) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def error_response(status: int, code: str, message: str,
                   details: Mapping[str, object] | None = None) -> web.Response:
    """The error body. `details` is a mapping, never keyword arguments: a refusal's details
    may well be named `status`, `code` or `message` (a card's status, an organization's code)."""
    body: dict[str, object] = {"code": code, "message": message}
    plain = {str(k): v for k, v in (details or {}).items() if _plain(v)}
    if plain:
        body["details"] = plain
    return web.json_response({"error": body}, status=status)


def _plain(value: object) -> bool:
    """A scalar, or a list or a string-keyed mapping of scalars (the fields a step needs)."""
    if isinstance(value, list | tuple):
        return all(_scalar(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _scalar(v) for k, v in value.items())
    return _scalar(value)


def _scalar(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def journal_status(exc: JournalError) -> int:
    for kind, status in JOURNAL_STATUS.items():
        if isinstance(exc, kind):
            return status
    return 400


@dataclass(frozen=True)
class EdgeError:
    """How a feature's own error reads at the HTTP edge: the composition root registers one per
    error type (`ERROR_TRANSLATIONS`), so this shell knows no feature. `message` None takes the
    error's own `message`; `log_as` names the warning or error logged."""

    status: int
    code: str
    message: str | None = None
    log_as: str | None = None
    level: str = "warning"


ERROR_TRANSLATIONS = web.AppKey("error_translations", dict[type[Exception], EdgeError])


def translate(app: web.Application, exc: Exception) -> EdgeError | None:
    for kind, edge in app.get(ERROR_TRANSLATIONS, {}).items():
        if isinstance(exc, kind):
            return edge
    return None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure under /api/ into the JSON error shape; other paths are untouched."""
    if not request.path.startswith(API_PREFIX):
        return await handler(request)
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.code, exc.message, exc.details)
    except JournalError as exc:
        return error_response(journal_status(exc), exc.code, exc.message, exc.details)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code, message = HTTP_CODES.get(exc.status, ("http_error", exc.reason))
        return error_response(exc.status, code, message)
    except Exception as exc:
        edge = translate(request.app, exc)
        if edge is None:
            log.exception("api request failed", method=request.method, path=request.path)
            return error_response(500, "internal", INTERNAL_MESSAGE)
        if edge.log_as:
            getattr(log, edge.level)(edge.log_as, path=request.path, detail=getattr(exc, "detail", None))
        return error_response(edge.status, edge.code, edge.message or str(getattr(exc, "message", exc)))
