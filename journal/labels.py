"""The journal's codes as people read them: one Russian title per code, here only.

Cards (statuses, appeal types, channels, forms, oral outcomes, field names), calls (outcomes,
directions, transfers), recordings, callbacks, accounts' roles, reports and the access log
(actions, objects, the names inside an entry's details). The pages take them from
`GET /api/v1/dictionaries` (`labels`, with the service's own: the PBX's states, lines' modes),
the journal's messages, exports and the command line from here; no page keeps a copy.

Titles are lower-case where they stand inside a sentence («статус: в работе»); the access
log's actions and the fields' names as a column or a form shows them («Исполнение», «Телефон»).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from journal.audit import AuditAction
from journal.card_fields import TITLES as EDITABLE_FIELD_TITLES
from journal.models import (
    AppealForm, AppealType, CallbackStatus, CardStatus, Channel, OralOutcome, Role,
)

CARD_STATUS_TITLES: Final[Mapping[str, str]] = {
    CardStatus.DRAFT: "черновик",
    CardStatus.IN_WORK: "в работе",
    CardStatus.DONE: "исполнена",
    CardStatus.CLOSED: "закрыта",
    CardStatus.CANCELLED: "аннулирована",
}
APPEAL_TYPE_TITLES: Final[Mapping[str, str]] = {
    AppealType.COMPLAINT: "жалоба",
    AppealType.STATEMENT: "заявление",
    AppealType.CONSULTATION: "консультация (разъяснение)",
    AppealType.PROPOSAL: "предложение",
}
CHANNEL_TITLES: Final[Mapping[str, str]] = {
    Channel.HOTLINE: "горячая линия",
    Channel.SECRETARY: "электронный секретарь",
    Channel.RECEPTION: "личный приём",
    Channel.POST: "почта",
    Channel.EMAIL: "электронная почта",
    Channel.WEBSITE: "сайт",
    Channel.GOSUSLUGI: "Госуслуги",
    Channel.FORWARDED: "перенаправлено из другого органа",
}
FORM_TITLES: Final[Mapping[str, str]] = {AppealForm.ORAL: "устное", AppealForm.WRITTEN: "письменное"}
ORAL_OUTCOME_TITLES: Final[Mapping[str, str]] = {
    OralOutcome.ON_THE_SPOT: "дан ответ сразу (типовой вопрос)",
    OralOutcome.BY_LEVEL2: "ответ дан на 2-м уровне",
    OralOutcome.BY_CALLBACK: "отложенный ответ обратным звонком",
    OralOutcome.ADVISED_TO_WRITE: "рекомендовано письменное обращение",
    OralOutcome.REDIRECTED: "разъяснено, куда обратиться",
}

# Every name a card's page, history or audit entry shows: the fields an operator fills (their
# titles are the card rules', `journal.card_fields`), the processing marks, and the history's
# keys that are no field (the calls linked to the card).
CARD_FIELD_TITLES: Final[Mapping[str, str]] = {
    "number": "Номер", "received_at": "Поступило", "registered_at": "Зарегистрировано",
    "registered_by_id": "Зарегистрировал", "receiving_organization_id": "Получившая организация",
    "organization_id": "На рассмотрении в", "channel": "Канал поступления", "form": "Форма",
    "status": "Статус", "due_date": "Срок ответа", "extended_at": "Срок продлён",
    "extended_by_id": "Продлил", "extension_old_due": "Прежний срок",
    "extension_reason": "Причина продления", "deferred_contact": "Контакт для отложенного ответа",
    "callback_due_at": "Перезвонить до", "forwarded_at": "Переслано",
    "cancel_reason": "Причина аннулирования", "closed_at": "Закрыта", "closed_by_id": "Закрыл",
    "sequence": "Порядковый номер", "year": "Год", "call": "Звонок АТС",
    "calls": "Привязан звонок АТС",
    **EDITABLE_FIELD_TITLES,
}

CALL_OUTCOME_TITLES: Final[Mapping[str, str]] = {
    "answered": "отвечен",
    "abandoned": "не дождался ответа",
    "queue_callback": "заказал обратный звонок из очереди",
    "secretary": "электронный секретарь",
    "callback": "обратный звонок",
    "survey": "опрос о результате",
    "unanswered": "без ответа",
    "interrupted": "прерван",
    "in_progress": "идёт",
}
CALL_DIRECTION_TITLES: Final[Mapping[str, str]] = {"in": "входящий", "out": "исходящий"}
TRANSFER_KIND_TITLES: Final[Mapping[str, str]] = {
    "blind": "перевод без консультации", "attended": "перевод с консультацией",
}
# A recording's status as the operator reads it; its `problem` says why in words.
RECORDING_STATUS_TITLES: Final[Mapping[str, str]] = {
    "pending": "ожидает обработки",
    "stored": "сохранена",
    "missing": "файл не найден",
    "empty": "пустая запись",
    "silent": "тишина",
    "truncated": "запись оборвана",
    "corrupt": "файл повреждён",
    "failed": "не сохранена, повтор позже",
    "mismatch": "контрольная сумма не совпадает",
    "destroyed": "уничтожена по сроку хранения",
}
RECORDING_KIND_TITLES: Final[Mapping[str, str]] = {
    "call": "разговор", "message": "сообщение секретарю", "callback": "обратный звонок",
}
CALLBACK_STATUS_TITLES: Final[Mapping[str, str]] = {
    CallbackStatus.PENDING: "ожидает",
    CallbackStatus.DIALING: "набирается",
    CallbackStatus.DONE: "выполнен",
    CallbackStatus.FAILED: "не дозвонились",
    CallbackStatus.CANCELLED: "отменён",
}
ROLE_TITLES: Final[Mapping[str, str]] = {
    Role.OPERATOR: "оператор",
    Role.SUPERVISOR: "руководитель операторов",
    Role.ADMIN: "администратор контакт-центра",
    Role.SYSADMIN: "системный администратор",
    Role.WALLBOARD: "табло в зале операторов",
}
# The reports by the names their exports are logged under.
REPORT_TITLES: Final[Mapping[str, str]] = {
    "pg": "форма ПГ", "calls": "статистика звонков", "quality": "качество работы операторов",
    "deadlines": "сроки рассмотрения", "surveys": "опрос заявителей",
    "digest": "утренняя сводка сроков",
}

# The access log: what was done (the journal's actions and those the service logs by name:
# signing in and out, the operators' queue steps, transfers and callbacks)...
AUDIT_ACTION_TITLES: Final[Mapping[str, str]] = {
    AuditAction.VIEW: "Просмотр",
    AuditAction.LIST: "Список / поиск",
    AuditAction.HISTORY: "История карточки",
    AuditAction.CREATE: "Регистрация",
    AuditAction.SAVE: "Сохранение",
    AuditAction.COMPLETE: "Исполнение",
    AuditAction.CLOSE: "Закрытие",
    AuditAction.CANCEL: "Аннулирование",
    AuditAction.FORWARD: "Пересылка",
    AuditAction.EXTEND: "Продление срока",
    AuditAction.SUPERVISE_START: "Подключение к разговору (контроль)",
    AuditAction.SUPERVISE_SWITCH: "Смена режима контроля разговора",
    AuditAction.SUPERVISE_END: "Окончание контроля разговора",
    "register_lookup": "Поиск в регистре застрахованных по ЕНП",
    "register_load": "Загрузка регистра застрахованных",
    AuditAction.DEFER: "Отложенный ответ",
    AuditAction.ATTACH_CALL: "Привязка звонка",
    AuditAction.CORRECT: "Исправление",
    AuditAction.PLAY: "Прослушивание записи",
    AuditAction.DOWNLOAD: "Скачивание записи",
    AuditAction.DESTROY: "Уничтожение записи",
    AuditAction.EXPORT: "Выгрузка отчёта",
    AuditAction.SURVEY: "Опрос заявителя",
    AuditAction.EVALUATE: "Оценка оператора",
    AuditAction.SCRIPT_CREATE: "Новый скрипт",
    AuditAction.SCRIPT_UPDATE: "Изменение скрипта",
    AuditAction.USER_CREATE: "Новая учётная запись",
    AuditAction.USER_CHANGE: "Изменение учётной записи",
    AuditAction.USER_DISABLE: "Отключение учётной записи",
    AuditAction.USER_ENABLE: "Включение учётной записи",
    AuditAction.USER_PASSWORD: "Смена пароля",
    AuditAction.DENIED: "Отказ в доступе",
    "login": "Вход",
    "login_failed": "Неудачный вход",
    "logout": "Выход",
    "call_transfer": "Перевод звонка",
    "callback_take": "Обратный звонок взят",
    "callback_dial": "Набор обратного звонка",
    "callback_done": "Обратный звонок состоялся",
    "agent_join": "Вход в очередь",
    "agent_pause": "Перерыв",
    "agent_unpause": "Конец перерыва",
    "agent_leave": "Выход из очереди",
}
# ...on what...
AUDIT_OBJECT_TITLES: Final[Mapping[str, str]] = {
    "card": "карточка", "call": "звонок", "recording": "запись", "evaluation": "лист оценки",
    "script": "скрипт", "user": "пользователь", "report": "отчёт", "callback": "обратный звонок",
    "survey": "опрос", "phone": "телефон", "register": "регистр застрахованных",
    "insured_person": "застрахованное лицо",
}
# ...and the names inside an entry's details, and inside the filters of a logged search.
AUDIT_DETAIL_TITLES: Final[Mapping[str, str]] = {
    "call_id": "звонок", "card_id": "карточка", "operator_id": "оператор", "total": "итог",
    "filters": "фильтр", "card_ids": "карточки", "call_ids": "звонки", "page": "страница",
    "fields": "поля", "sha256": "контрольная сумма SHA-256", "to": "куда", "title": "название",
    "changes": "изменения", "failed_logins": "неудачных попыток", "locked": "заблокирован",
    "rule": "правило", "report": "отчёт", "period": "период", "sessions_ended": "завершено сеансов",
    "queue": "очередь", "interface": "телефон", "reason": "причина", "login": "учётная запись",
    "screen_pop": "всплывающая карточка звонка", "level": "уровень", "attempt": "попытка",
    "callback_ids": "обратные звонки", "callbacks_cancelled": "отменено обратных звонков",
    "status": "статус", "assigned_user_id": "исполнитель", "organization_id": "организация",
    "action": "действие", "object_type": "объект", "object_id": "номер объекта",
    "within_days": "в пределах дней", "by": "разбивка", "format": "формат", "kind": "вид",
    "path": "путь",
}
AUDIT_FILTER_TITLES: Final[Mapping[str, str]] = {
    "organization_id": "организация", "statuses": "статусы", "received_from": "поступило с",
    "received_to": "поступило до", "appeal_type": "вид", "topic_code": "тематика",
    "channel": "канал", "form": "форма", "operator_id": "оператор", "level": "уровень",
    "phone": "телефон", "text": "поиск",
}

LABELS: Final[Mapping[str, Mapping[str, str]]] = {
    "card_statuses": CARD_STATUS_TITLES,
    "appeal_types": APPEAL_TYPE_TITLES,
    "channels": CHANNEL_TITLES,
    "forms": FORM_TITLES,
    "oral_outcomes": ORAL_OUTCOME_TITLES,
    "card_fields": CARD_FIELD_TITLES,
    "call_outcomes": CALL_OUTCOME_TITLES,
    "call_directions": CALL_DIRECTION_TITLES,
    "transfer_kinds": TRANSFER_KIND_TITLES,
    "recording_statuses": RECORDING_STATUS_TITLES,
    "recording_kinds": RECORDING_KIND_TITLES,
    "callback_statuses": CALLBACK_STATUS_TITLES,
    "roles": ROLE_TITLES,
    "reports": REPORT_TITLES,
    "audit_actions": AUDIT_ACTION_TITLES,
    "audit_objects": AUDIT_OBJECT_TITLES,
    "audit_details": AUDIT_DETAIL_TITLES,
    "audit_filters": AUDIT_FILTER_TITLES,
}
"""Every group above by the name the pages look it up under."""


def labels_json() -> dict[str, dict[str, str]]:
    """The groups as plain JSON: code → title, codes as their string values."""
    return {group: {str(code): title for code, title in titles.items()}
            for group, titles in LABELS.items()}


def title(group: str, code: object, empty: str = "—") -> str:
    """The Russian title of `code` in `group`; `empty` for none (never the bare code)."""
    if code is None or code == "":
        return empty
    return LABELS[group].get(str(code), empty)
