"""The JSON API's input as pydantic models: one place that both validates it and describes it.

`BODIES` and `QUERIES` name, per route, the model of its JSON body and of its query string.
`schema_middleware` checks every request against them before the view runs (a value of the
wrong shape is 422 `invalid_input` naming the field; unknown keys are let through, as the
views ignore them) and `hotline.web.openapi` builds the OpenAPI document from the same models,
so the description cannot drift from what is accepted. The views keep their domain checks
(a date in the future, a status that does not allow a step), which no schema can express.

The query strings' dates stay text here: browsers send `+07:00` unencoded, which arrives as a
space, and `hotline.web.common.datetime_param` knows it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.json_schema import JsonDict

from hotline.web.errors import ApiError

DATE_TIME: JsonDict = {"format": "date-time"}
Id = Field(default=None, ge=-(2**63 - 1), le=2**63 - 1)  # the views refuse wider


class _Input(BaseModel):
    """Every key optional and unknown keys allowed: what is required and what a value means
    is the view's (and the journal's) to say, in Russian; here only the shapes."""

    model_config = ConfigDict(extra="allow")


class Login(_Input):
    login: str | None = Field(default=None, description="Логин")
    password: str | None = Field(default=None, description="Пароль")


class CardCreate(_Input):
    channel: str | None = Field(default=None, description="Канал: post, email, reception, ...")
    received_at: datetime | None = Field(default=None, description="Поступило (с часовым поясом)")
    organization_id: int | None = Id
    fields: dict[str, Any] | None = Field(default=None, description="Поля карточки")


class CardSave(_Input):
    version: int | None = Field(default=None, description="Версия карточки, как её прочли")
    changes: dict[str, Any] | None = Field(default=None, description="Изменённые поля")


class CardStep(_Input):
    version: int | None = None
    reason: str | None = Field(default=None, description="Причина (отмена, пересылка, продление)")


class CardForward(CardStep):
    to_organization: int | str | None = Field(default=None, description="Организация: код или id")


class CardExtend(CardStep):
    new_due: str | None = Field(default=None, description="Новый срок (ГГГГ-ММ-ДД)",
                                json_schema_extra={"format": "date"})


class CardComplete(CardSave):
    pass


class CardCorrect(CardSave):
    reason: str | None = Field(default=None, description="Почему исправлено")


class CallbackCreate(_Input):
    card_id: int | None = Id
    contact_phone: str | None = None
    contact_name: str | None = None
    note: str | None = None
    callback_due_at: datetime | None = None
    version: int | None = None


class AgentPause(_Input):
    reason: str | None = Field(default=None, max_length=10_000, description="Причина перерыва")


class Transfer(_Input):
    to: Literal["level2"] | None = Field(default=None, description="Куда перевести")


class Supervise(_Input):
    mode: Literal["listen", "whisper", "barge"] = Field(
        description="listen — прослушать, whisper — подсказать, barge — вмешаться")


class RegisterLookup(_Input):
    enp: str = Field(min_length=1, max_length=32, description="ЕНП: 16 цифр")
    card_id: int | None = Field(default=None, ge=1, le=2**63 - 1, description="Карточка звонка, если есть")


class TransferToInsurer(_Input):
    card_id: int = Field(ge=1, le=2**63 - 1, description="Карточка звонка: пересылается в СМО вместе со звонком")


class ScriptBody(_Input):
    title: str | None = None
    keywords: str | None = None
    body: str | None = None
    topic_code: str | None = None
    organization_id: int | None = Id
    active: bool | None = None


class EvaluationCreate(_Input):
    scores: dict[str, Any] | None = Field(default=None, description="Баллы по критериям")
    operator_id: int | None = Id
    comment: str | None = None


class StaffCreate(_Input):
    login: str | None = None
    password: str | None = None
    full_name: str | None = None
    role: Literal["operator", "supervisor", "admin", "sysadmin", "wallboard"] | None = None
    organization: str | None = Field(default=None, description="Код организации")
    level: int | None = Field(default=None, ge=1, le=3)
    interface: str | None = Field(default=None, description="Телефон, например PJSIP/op101")


class StaffChange(_Input):
    role: Literal["operator", "supervisor", "admin", "sysadmin", "wallboard"] | None = None
    full_name: str | None = None
    level: int | None = Field(default=None, ge=1, le=3)
    interface: str | None = None


class Password(_Input):
    password: str | None = None


class Empty(_Input):
    """A step that takes no body (an empty object, or none)."""


# --- query strings ---------------------------------------------------------------------


class CardsQuery(_Input):
    organization_id: int | None = Id
    status: str | None = Field(default=None, description="Статусы через запятую")
    received_from: str | None = Field(default=None, json_schema_extra=DATE_TIME)
    received_to: str | None = Field(default=None, json_schema_extra=DATE_TIME)
    operator_id: int | None = Id
    level: int | None = Field(default=None, ge=1, le=3)
    appeal_type: str | None = None
    topic: str | None = None
    channel: str | None = None
    form: str | None = None
    phone: str | None = None
    q: str | None = Field(default=None, description="Поиск по тексту")
    page: int | None = None
    per_page: int | None = None


class CallsQuery(_Input):
    since: str | None = Field(default=None, json_schema_extra=DATE_TIME)
    until: str | None = Field(default=None, json_schema_extra=DATE_TIME)
    phone: str | None = None
    limit: int | None = None
    offset: int | None = None
    card_id: int | None = Id


class AudioQuery(_Input):
    download: str | None = Field(default=None, description="1 или true: скачать (аудит: download)")


class AuditQuery(_Input):
    user_id: int | None = Id
    login: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: str | None = Field(default=None, json_schema_extra=DATE_TIME)
    until: str | None = Field(default=None, json_schema_extra=DATE_TIME)
    offset: int | None = None
    limit: int | None = None


class CallbacksQuery(_Input):
    status: str | None = Field(default=None, description="pending (по умолчанию), all, ...")
    limit: int | None = None
    assigned: Literal["me", "none"] | None = None


class ScriptsQuery(_Input):
    q: str | None = None
    organization_id: int | None = Id
    active: str | None = None
    limit: int | None = None


class EvaluationsQuery(_Input):
    operator_id: int | None = Id
    call_id: int | None = Id
    limit: int | None = None


class ReportQuery(_Input):
    period: str | None = Field(default=None, description="2026-10, 2026Q3 или 2026")
    org: str | None = Field(default=None, description="Код организации")
    format: str | None = Field(default=None, description="json, csv или xlsx")


class QualityQuery(ReportQuery):
    by: Literal["month", "week"] | None = None


class DeadlinesQuery(_Input):
    within: int | None = Field(default=None, ge=0, le=60)
    org: str | None = None
    format: str | None = None


BODIES: dict[tuple[str, str], type[_Input]] = {
    ("POST", "/api/v1/login"): Login,
    ("POST", "/api/v1/cards"): CardCreate,
    ("PATCH", "/api/v1/cards/{id}"): CardSave,
    ("POST", "/api/v1/cards/{id}/complete"): CardComplete,
    ("POST", "/api/v1/cards/{id}/close"): CardStep,
    ("POST", "/api/v1/cards/{id}/cancel"): CardStep,
    ("POST", "/api/v1/cards/{id}/forward"): CardForward,
    ("POST", "/api/v1/cards/{id}/extend"): CardExtend,
    ("POST", "/api/v1/cards/{id}/correct"): CardCorrect,
    ("POST", "/api/v1/callbacks/{id}/take"): Empty,
    ("POST", "/api/v1/callbacks"): CallbackCreate,
    ("POST", "/api/v1/callbacks/{id}/dial"): Empty,
    ("POST", "/api/v1/agent/join"): Empty,
    ("POST", "/api/v1/agent/pause"): AgentPause,
    ("POST", "/api/v1/agent/unpause"): Empty,
    ("POST", "/api/v1/agent/leave"): Empty,
    ("POST", "/api/v1/calls/{id}/transfer"): Transfer,
    ("POST", "/api/v1/calls/{id}/supervision"): Supervise,
    ("POST", "/api/v1/register/lookup"): RegisterLookup,
    ("POST", "/api/v1/calls/{id}/transfer-insurer"): TransferToInsurer,
    ("POST", "/api/v1/scripts"): ScriptBody,
    ("PATCH", "/api/v1/scripts/{id}"): ScriptBody,
    ("POST", "/api/v1/calls/{id}/evaluations"): EvaluationCreate,
    ("POST", "/api/v1/staff"): StaffCreate,
    ("PATCH", "/api/v1/staff/{id}"): StaffChange,
    ("POST", "/api/v1/staff/{id}/disable"): Empty,
    ("POST", "/api/v1/staff/{id}/enable"): Empty,
    ("POST", "/api/v1/staff/{id}/password"): Password,
    ("POST", "/api/v1/logout"): Empty,
}
QUERIES: dict[tuple[str, str], type[_Input]] = {
    ("GET", "/api/v1/cards"): CardsQuery,
    ("GET", "/api/v1/calls"): CallsQuery,
    ("GET", "/api/v1/recordings/{id}/audio"): AudioQuery,
    ("GET", "/api/v1/audit"): AuditQuery,
    ("GET", "/api/v1/callbacks"): CallbacksQuery,
    ("GET", "/api/v1/scripts"): ScriptsQuery,
    ("GET", "/api/v1/evaluations"): EvaluationsQuery,
    ("GET", "/api/v1/reports/pg"): ReportQuery,
    ("GET", "/api/v1/reports/calls"): ReportQuery,
    ("GET", "/api/v1/reports/quality"): QualityQuery,
    ("GET", "/api/v1/reports/deadlines"): DeadlinesQuery,
}
# What a success is, where it is not a plain 200 with JSON.
SUCCESS: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/api/v1/cards"): {"201": "Карточка зарегистрирована"},
    ("POST", "/api/v1/callbacks"): {"201": "Обратный звонок назначен"},
    ("POST", "/api/v1/scripts"): {"201": "Скрипт создан"},
    ("POST", "/api/v1/calls/{id}/evaluations"): {"201": "Лист оценки сохранён"},
    ("POST", "/api/v1/staff"): {"201": "Учётная запись создана"},
    ("POST", "/api/v1/calls/{id}/transfer"): {"202": "Перевод передан АТС"},
    ("POST", "/api/v1/calls/{id}/supervision"): {"202": "Вызов на телефон руководителя передан АТС"},
    ("DELETE", "/api/v1/calls/{id}/supervision"): {"202": "Прослушивание завершается"},
    ("POST", "/api/v1/callbacks/{id}/dial"): {"202": "Вызов передан АТС"},
    ("GET", "/api/v1/recordings/{id}/audio"): {"200": "Запись целиком", "206": "Часть записи (Range)"},
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _route_key(request: web.Request) -> tuple[str, str] | None:
    route = request.match_info.route
    resource = route.resource
    if resource is None:
        return None
    method = "GET" if request.method == "HEAD" else request.method
    return method, resource.canonical


def _refuse(exc: ValidationError) -> ApiError:
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error.get("loc", ())) or "body"
    return ApiError(422, "invalid_input", f"«{field}»: недопустимое значение", field=field)


def check_query(request: web.Request) -> None:
    key = _route_key(request)
    model = QUERIES.get(key) if key else None
    if model is not None:
        try:
            model.model_validate({k: request.query[k] for k in request.query})
        except ValidationError as exc:
            raise _refuse(exc) from None


def check_body(request: web.Request, body: dict[str, Any]) -> None:
    """The body against its route's model (called by `hotline.web.common.json_body`)."""
    key = _route_key(request)
    model = BODIES.get(key) if key else None
    if model is not None:
        try:
            model.model_validate(body)
        except ValidationError as exc:
            raise _refuse(exc) from None


@web.middleware
async def schema_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The query string against its route's model before the view runs (the body is
    checked where the view reads it, `json_body`)."""
    if request.path.startswith("/api/"):
        check_query(request)
    return await handler(request)
