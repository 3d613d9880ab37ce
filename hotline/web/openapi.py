"""`GET /api/v1/openapi.json`: the API described in OpenAPI 3.1, built from the router.

Paths and methods come from the routes actually registered, so the document cannot forget a
route; summaries come from `SUMMARIES` (a route without one still appears, and a test insists
every route has one).
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from hotline.web.auth import CSRF_HEADER, PUBLIC_PATHS

API_PREFIX = "/api/v1/"
SUMMARIES: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/login"): "Вход: логин и пароль → сеанс (cookie) и CSRF-токен",
    ("POST", "/api/v1/logout"): "Выход: сеанс завершается",
    ("GET", "/api/v1/me"): "Текущий пользователь и CSRF-токен",
    ("GET", "/api/v1/dictionaries"): "Справочники карточки: виды, каналы, тематики ПГ, организации",
    ("GET", "/api/v1/cards"): "Журнал обращений (РКК): фильтры и страницы",
    ("POST", "/api/v1/cards"): "Регистрация письменного обращения",
    ("GET", "/api/v1/cards/{id}"): "Карточка обращения (просмотр записывается в журнал доступа)",
    ("PATCH", "/api/v1/cards/{id}"): "Сохранение карточки (version — ожидаемая версия)",
    ("GET", "/api/v1/cards/{id}/history"): "История изменений карточки",
    ("POST", "/api/v1/cards/{id}/close"): "Закрытие карточки администратором",
    ("POST", "/api/v1/cards/{id}/complete"): "Исполнение: принятые меры заполнены",
    ("POST", "/api/v1/cards/{id}/cancel"): "Аннулирование с причиной",
    ("POST", "/api/v1/cards/{id}/forward"): "Пересылка в другую организацию",
    ("POST", "/api/v1/cards/{id}/extend"): "Продление срока рассмотрения",
    ("POST", "/api/v1/cards/{id}/correct"): "Исправление полей карточки администратором (с причиной)",
    ("GET", "/api/v1/calls"): "Звонки: since, until, phone, card_id",
    ("GET", "/api/v1/calls/{id}"): "Звонок с операторами, переводами и записями",
    ("GET", "/api/v1/recordings/{id}/audio"): "Звук записи (Range; каждое прослушивание в журнале)",
    ("POST", "/api/v1/calls/{id}/transfer"): "Перевод звонка оператора на 2 уровень (карточка следует)",
    ("GET", "/api/v1/agent"): "Состояние оператора в очереди",
    ("POST", "/api/v1/agent/join"): "Встать в очередь своего уровня (QueueAdd)",
    ("POST", "/api/v1/agent/pause"): "Перерыв с причиной (QueuePause)",
    ("POST", "/api/v1/agent/unpause"): "Вернуться с перерыва",
    ("POST", "/api/v1/agent/leave"): "Выйти из очереди (QueueRemove)",
    ("GET", "/api/v1/ws"): "WebSocket: всплывающие карточки, табло, состояние оператора",
    ("GET", "/api/v1/audit"): "Журнал доступа (администратор)",
    ("GET", "/api/v1/modes"): "Режим каждой линии, причина и следующее переключение",
    ("GET", "/api/v1/callbacks"): "Обратные звонки",
    ("POST", "/api/v1/callbacks"): "Отложенный ответ: создать обратный звонок",
    ("POST", "/api/v1/callbacks/{id}/dial"): "Набрать обратный звонок через АТС",
    ("POST", "/api/v1/callbacks/{id}/take"): "Взять обратный звонок из очереди организации",
    ("GET", "/api/v1/reports/pg"): "Форма ПГ, таблицы 1.1 и 1.2: period, org, format=json|xlsx|csv",
    ("GET", "/api/v1/reports/calls"): "Статистика звонков по рабочему календарю линий: period, org, format",
    ("GET", "/api/v1/reports/quality"): "Оценки качества операторов: period, org, by=month|week, format",
    ("GET", "/api/v1/reports/deadlines"): "Сроки рассмотрения: within, org, format=json|csv",
    ("GET", "/api/v1/reports/digest"): "Утренняя сводка сроков: просроченные и истекающие обращения, "
                                       "обратные звонки (по своей организации)",
    ("GET", "/api/v1/openapi.json"): "Это описание API",
    ("GET", "/api/v1/scripts"): "Скрипты ответов: поиск по ключевым словам (q)",
    ("POST", "/api/v1/scripts"): "Новый скрипт ответа (администратор)",
    ("PATCH", "/api/v1/scripts/{id}"): "Изменение скрипта ответа (администратор)",
    ("POST", "/api/v1/calls/{id}/evaluations"): "Лист оценки оператора по звонку (администратор)",
    ("GET", "/api/v1/evaluations"): "Листы оценки: operator_id, call_id; критерии оценки",
    ("GET", "/api/v1/staff"): "Сотрудники: имена, роли, уровни, телефоны (в пределах доступа)",
    ("POST", "/api/v1/staff"): "Создать учётную запись {login, password, full_name, role, "
                               "organization, level, interface} в пределах своих прав",
    ("PATCH", "/api/v1/staff/{id}"): "Изменить роль, уровень, телефон или ФИО учётной записи",
    ("POST", "/api/v1/staff/{id}/disable"): "Отключить учётную запись: вход запрещён, все её "
                                            "сеансы завершаются сразу (администратор)",
    ("POST", "/api/v1/staff/{id}/enable"): "Снова разрешить вход учётной записи (администратор)",
    ("POST", "/api/v1/staff/{id}/password"): "Задать новый пароль {password}: прежний и все "
                                             "сеансы перестают действовать (администратор)",
}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                       "details": {"type": "object"}},
    }},
}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def api_routes(app: web.Application) -> list[tuple[str, str]]:
    """(method, path template) of every API route, HEAD left out (it mirrors GET)."""
    found = []
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if path.startswith(API_PREFIX) and route.method != "HEAD":
            found.append((route.method, path))
    return sorted(set(found))


def document(app: web.Application) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for method, path in api_routes(app):
        paths.setdefault(path, {})[method.lower()] = _operation(method, path)
    return {
        "openapi": "3.1.0",
        "info": {"title": "hotline API", "version": "1",
                 "description": "JSON API горячей линии ОМС. Ошибки: {\"error\": {code, message}}."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "hotline_session"},
                "csrf": {"type": "apiKey", "in": "header", "name": CSRF_HEADER},
            },
        },
    }


def _operation(method: str, path: str) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    op: dict[str, Any] = {
        "summary": SUMMARIES.get((method, path), ""),
        "operationId": _operation_id(method, path),
        "responses": {"200": {"description": "OK"}, "default": {"description": "Ошибка", **error}},
    }
    params = re.findall(r"\{(\w+)\}", path)
    if params:
        op["parameters"] = [
            {"name": p, "in": "path", "required": True, "schema": {"type": "integer"}} for p in params
        ]
    if path in PUBLIC_PATHS:
        op["security"] = []
    else:
        op["security"] = [{"session": [], "csrf": []}] if method in UNSAFE else [{"session": []}]
    if method in UNSAFE:
        op["requestBody"] = {"required": False, "content": {"application/json": {"schema": {"type": "object"}}}}
    return op


def _operation_id(method: str, path: str) -> str:
    words = [w.strip("{}") for w in path.removeprefix(API_PREFIX).replace(".", "_").split("/") if w]
    return "_".join([method.lower(), *words])


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(document(request.app))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/openapi.json", openapi)
