"""`GET /api/v1/openapi.json`: the API described in OpenAPI 3.1, built from the router.

Paths and methods come from the routes actually registered, so the document cannot forget a
route; summaries come from `SUMMARIES` (a route without one still appears, and a test insists
every route has one). Query parameters and bodies come from the pydantic models that validate
them (`hotline.web.schemas`), success codes (201, 202, 206) and media types from the same
place, every refusal is the `Error` object.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from hotline.web.auth import CSRF_HEADER, PUBLIC_PATHS
from hotline.web.schemas import BODIES, QUERIES, SUCCESS

API_PREFIX = "/api/v1/"
SUMMARIES: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/login"): "Вход: логин и пароль → сеанс (cookie) и CSRF-токен",
    ("POST", "/api/v1/logout"): "Выход: сеанс завершается",
    ("GET", "/api/v1/me"): "Текущий пользователь и CSRF-токен",
    ("GET", "/api/v1/dictionaries"): "Справочники карточки: виды, каналы, тематики ПГ, организации; "
                                      "labels — русские названия всех кодов (статусы, состояния АТС...)",
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
    ("GET", "/api/v1/calls/{id}/supervision"): "Кто слушает звонок сейчас и история контроля разговора",
    ("POST", "/api/v1/calls/{id}/supervision"): "Прослушать, подсказать или вмешаться: звонок на свой телефон или смена режима",
    ("DELETE", "/api/v1/calls/{id}/supervision"): "Завершить прослушивание",
    ("POST", "/api/v1/register/lookup"): "Найти гражданина в регистре застрахованных по ЕНП",
    ("POST", "/api/v1/calls/{id}/transfer-insurer"): "Перевести звонок в СМО гражданина вместе с карточкой",
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
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for method, path in api_routes(app):
        paths.setdefault(path, {})[method.lower()] = _operation(method, path, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "hotline API", "version": "1",
                 "description": "JSON API горячей линии ОМС. Ошибки: {\"error\": {code, message}}."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "hotline_session"},
                "csrf": {"type": "apiKey", "in": "header", "name": CSRF_HEADER},
            },
        },
    }


REF = "#/components/schemas/{model}"
ERROR_CODES = {"400": "Некорректный запрос или JSON", "401": "Не выполнен вход",
               "403": "Запрещено (роль, CSRF)", "404": "Не найдено (или чужое)",
               "409": "Конфликт версии или статуса", "413": "Слишком большой запрос",
               "415": "Тело не application/json", "422": "Неверные данные",
               "429": "Слишком много попыток входа", "502": "АТС отказала",
               "503": "Служба запущена без АТС"}
MEDIA = {
    "/api/v1/recordings/{id}/audio": ("audio/ogg", "audio/mpeg"),
    "/api/v1/reports/pg": ("application/json", "text/csv", XLSX := (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")),
    "/api/v1/reports/calls": ("application/json", "text/csv", XLSX),
    "/api/v1/reports/quality": ("application/json", "text/csv", XLSX),
    "/api/v1/reports/deadlines": ("application/json", "text/csv"),
}


def _model_schema(model: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    """The model's JSON schema into the components (with its own definitions); a $ref."""
    schema = model.model_json_schema(ref_template=REF)
    schemas.update(schema.pop("$defs", {}))
    schemas[model.__name__] = schema
    return {"$ref": REF.format(model=model.__name__)}


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or text, never JSON null: `X | None` becomes `X`."""
    options = [o for o in schema.get("anyOf", []) if o.get("type") != "null"]
    if len(options) != 1:
        return schema
    rest = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
    return {**options[0], **rest}


def _operation(method: str, path: str, schemas: dict[str, Any]) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    media = MEDIA.get(path, ("application/json",))
    success = SUCCESS.get((method, path), {"200": "OK"})
    responses: dict[str, Any] = {
        code: {"description": text,
               "content": {m: {"schema": {"type": "object"} if m.endswith("json") else
                               {"type": "string", "format": "binary"}} for m in media}}
        for code, text in success.items()
    }
    responses.update({code: {"description": text, **error} for code, text in ERROR_CODES.items()})
    responses["default"] = {"description": "Ошибка", **error}
    op: dict[str, Any] = {
        "summary": SUMMARIES.get((method, path), ""),
        "operationId": _operation_id(method, path),
        "responses": responses,
    }
    params = [
        {"name": p, "in": "path", "required": True,
         "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}}
        for p in re.findall(r"\{(\w+)\}", path)
    ]
    query = QUERIES.get((method, path))
    if query is not None:
        props = query.model_json_schema(ref_template=REF).get("properties", {})
        params += [{"name": name, "in": "query", "required": False, "schema": _not_null(schema)}
                   for name, schema in props.items()]
    if params:
        op["parameters"] = params
    if path in PUBLIC_PATHS:
        op["security"] = []
    else:
        op["security"] = [{"session": [], "csrf": []}] if method in UNSAFE else [{"session": []}]
    body = BODIES.get((method, path))
    if method in UNSAFE:
        schema = _model_schema(body, schemas) if body is not None else {"type": "object"}
        op["requestBody"] = {"required": False, "content": {"application/json": {"schema": schema}}}
    return op


def _operation_id(method: str, path: str) -> str:
    words = [w.strip("{}") for w in path.removeprefix(API_PREFIX).replace(".", "_").split("/") if w]
    return "_".join([method.lower(), *words])


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(document(request.app))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/openapi.json", openapi)
