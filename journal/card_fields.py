"""The card's editable fields: which ones an operator may set and how each is checked.

Everything here turns raw input (from a form or the JSON API) into the value stored on the
card, or refuses it with a Russian message naming the field. Checks that need the database
(topic codes, organizations, users) are async; the rest are plain functions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from journal import enp
from journal.errors import InvalidInput
from journal.models import (
    AppealType,
    OralOutcome,
    Organization,
    OrgKind,
    Role,
    Topic,
    TopicKind,
    User,
)

ENP_RE = re.compile(r"^\d{16}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^\+?[\d ()\-]{3,32}$")
EARLIEST_BIRTH = date(1900, 1, 1)
MAX_SUM = Decimal("9999999999.99")
LONG_TEXT = 20_000

# Russian names of the fields, for messages shown to operators.
TITLES = {
    "applicant_name": "ФИО заявителя",
    "applicant_birth_date": "Дата рождения",
    "applicant_policy": "ЕНП",
    "applicant_address": "Адрес",
    "applicant_phone": "Телефон",
    "applicant_email": "Электронная почта",
    "anonymous": "Анонимное обращение",
    "representative": "Представитель",
    "insurer_concerned_id": "СМО, которой касается обращение",
    "medical_org_concerned": "Медицинская организация",
    "appeal_type": "Вид обращения",
    "topic_code": "Тематика",
    "complaint_reasons": "Причины жалобы",
    "content": "Содержание обращения",
    "responsible_user_id": "Ответственный",
    "responsible_level": "Уровень",
    "measures_taken": "Принятые меры",
    "justified": "Обоснованность",
    "satisfied": "Удовлетворённость",
    "compensation_source": "Источник возмещения",
    "compensation_sum": "Сумма возмещения",
    "answered_on": "Дата ответа",
    "oral_outcome": "Результат устного обращения",
    "forwarded_from_body": "Орган, направивший обращение",
    "forwarded_letter_number": "Номер сопроводительного письма",
    "forwarded_letter_date": "Дата сопроводительного письма",
}


def title(field: str) -> str:
    return TITLES.get(field, field)


def _bad(field: str, why: str) -> InvalidInput:
    return InvalidInput(f"{title(field)}: {why}", field=field)


def clean_text(max_len: int) -> Callable[[str, Any, date], str | None]:
    """A text field: stripped; empty means "not filled"."""

    def check(field: str, value: Any, _today: date) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise _bad(field, "ожидается текст")
        value = value.strip()
        if len(value) > max_len:
            raise _bad(field, f"не длиннее {max_len} символов")
        return value or None

    return check


def clean_policy(field: str, value: Any, today: date) -> str | None:
    """ЕНП: 16 digits; spaces typed for readability are dropped."""
    text = clean_text(40)(field, value, today)
    if text is None:
        return None
    text = text.replace(" ", "")
    if not ENP_RE.match(text):
        raise _bad(field, "должен состоять из 16 цифр")
    if not enp.is_valid(text):
        raise _bad(field, "набран с ошибкой: не сходится контрольная цифра")
    return text


def clean_email(field: str, value: Any, today: date) -> str | None:
    text = clean_text(254)(field, value, today)
    if text is not None and not EMAIL_RE.match(text):
        raise _bad(field, "неверный адрес")
    return text


def clean_phone(field: str, value: Any, today: date) -> str | None:
    text = clean_text(32)(field, value, today)
    if text is not None and not PHONE_RE.match(text):
        raise _bad(field, "допустимы цифры, пробел, скобки, дефис и «+» в начале")
    return text


def parse_date(field: str, value: Any) -> date | None:
    """A date, or an ISO "YYYY-MM-DD" string; a datetime is refused as ambiguous."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        raise _bad(field, "ожидается дата без времени")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise _bad(field, "неверная дата (ожидается ГГГГ-ММ-ДД)") from None
    raise _bad(field, "ожидается дата")


def clean_past_date(field: str, value: Any, today: date) -> date | None:
    """A date that has already come (a birth, a letter, an answer)."""
    day = parse_date(field, value)
    if day is not None and day > today:
        raise _bad(field, "дата не может быть в будущем")
    return day


def clean_birth_date(field: str, value: Any, today: date) -> date | None:
    day = clean_past_date(field, value, today)
    if day is not None and day < EARLIEST_BIRTH:
        raise _bad(field, "слишком ранняя дата")
    return day


def clean_bool(field: str, value: Any, _today: date) -> bool:
    if not isinstance(value, bool):
        raise _bad(field, "ожидается «да» или «нет»")
    return value


def clean_optional_bool(field: str, value: Any, today: date) -> bool | None:
    return None if value is None else clean_bool(field, value, today)


def clean_choice(enum: type[StrEnum]) -> Callable[[str, Any, date], str | None]:
    """A value of a StrEnum (stored as its string)."""

    def check(field: str, value: Any, _today: date) -> str | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str) or value not in {e.value for e in enum}:
            raise _bad(field, f"недопустимое значение «{value}»")
        return str(value)

    return check


def clean_sum(field: str, value: Any, _today: date) -> Decimal | None:
    """Money: non-negative, kopecks at most."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise _bad(field, "ожидается сумма")
    try:
        amount = Decimal(str(value).replace(",", ".").strip())
    except InvalidOperation:
        raise _bad(field, "ожидается сумма") from None
    if not amount.is_finite() or amount < 0 or amount > MAX_SUM:
        raise _bad(field, "недопустимая сумма")
    if amount != amount.quantize(Decimal("0.01")):
        raise _bad(field, "не больше двух знаков после запятой")
    return amount.quantize(Decimal("0.01"))


def clean_level(field: str, value: Any, _today: date) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or value not in (1, 2, 3):
        raise _bad(field, "уровень 1, 2 или 3")
    return int(value)


def clean_id(field: str, value: Any, _today: date) -> int | None:
    """A row id (checked against the database later)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _bad(field, "неверный идентификатор")
    return value


def clean_codes(field: str, value: Any, _today: date) -> list[str]:
    """A list of dictionary codes, deduplicated and sorted."""
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise _bad(field, "ожидается список кодов")
    codes = set()
    for code in value:
        if not isinstance(code, str) or not code.strip():
            raise _bad(field, "ожидается список кодов")
        codes.add(code.strip())
    return sorted(codes)


Cleaner = Callable[[str, Any, date], Any]

# The fields a save may change, and how each value is checked. Registration data (number,
# dates, organization, channel), status fields and processing steps with their own operation
# (forwarding, extension, deferral) are not here.
EDITABLE: dict[str, Cleaner] = {
    "applicant_name": clean_text(300),
    "applicant_birth_date": clean_birth_date,
    "applicant_policy": clean_policy,
    "applicant_address": clean_text(2000),
    "applicant_phone": clean_phone,
    "applicant_email": clean_email,
    "anonymous": clean_bool,
    "representative": clean_text(300),
    "insurer_concerned_id": clean_id,
    "medical_org_concerned": clean_text(300),
    "appeal_type": clean_choice(AppealType),
    "topic_code": clean_text(16),
    "complaint_reasons": clean_codes,
    "content": clean_text(LONG_TEXT),
    "responsible_user_id": clean_id,
    "responsible_level": clean_level,
    "measures_taken": clean_text(LONG_TEXT),
    "justified": clean_optional_bool,
    "satisfied": clean_optional_bool,
    "compensation_source": clean_text(200),
    "compensation_sum": clean_sum,
    "answered_on": clean_past_date,
    "oral_outcome": clean_choice(OralOutcome),
    "forwarded_from_body": clean_text(300),
    "forwarded_letter_number": clean_text(64),
    "forwarded_letter_date": clean_past_date,
}
# The covering letter of an appeal forwarded by another body.
WRITTEN_ONLY = frozenset(
    {"forwarded_from_body", "forwarded_letter_number", "forwarded_letter_date"}
)


def clean_values(changes: Mapping[str, Any], today: date) -> dict[str, Any]:
    """Check each given field on its own; unknown or protected fields are refused."""
    out: dict[str, Any] = {}
    for field, value in changes.items():
        cleaner = EDITABLE.get(field)
        if cleaner is None:
            raise InvalidInput(f"Поле «{field}» нельзя изменить", field=field)
        out[field] = cleaner(field, value, today)
    return out


async def check_topic(
    session: AsyncSession, code: str, appeal_type: str | None, on: date
) -> None:
    """The topic code exists in the dictionary edition valid on `on` and fits the type."""
    topic = await session.scalar(
        select(Topic).where(
            Topic.kind == TopicKind.TOPIC,
            Topic.code == code,
            Topic.valid_from <= on,
            or_(Topic.valid_to.is_(None), Topic.valid_to >= on),
        )
    )
    if topic is None:
        raise _bad("topic_code", f"нет кода «{code}» в справочнике тематик")
    if appeal_type is not None and topic.appeal_type not in (None, appeal_type):
        raise _bad("topic_code", f"код «{code}» не относится к выбранному виду обращения")


async def check_complaint_reasons(session: AsyncSession, codes: list[str], on: date) -> None:
    """Every reason exists in the complaint-reason dictionary valid on `on`."""
    if not codes:
        return
    found = set(
        await session.scalars(
            select(Topic.code).where(
                Topic.kind == TopicKind.COMPLAINT_REASON,
                Topic.code.in_(codes),
                Topic.valid_from <= on,
                or_(Topic.valid_to.is_(None), Topic.valid_to >= on),
            )
        )
    )
    missing = [c for c in codes if c not in found]
    if missing:
        raise _bad("complaint_reasons", f"нет кодов {', '.join(missing)} в справочнике")


async def check_insurer(session: AsyncSession, organization_id: int) -> None:
    kind = await session.scalar(
        select(Organization.kind).where(Organization.id == organization_id)
    )
    if kind != OrgKind.INSURER:
        raise _bad("insurer_concerned_id", "такой СМО нет")


async def check_responsible(session: AsyncSession, user_id: int, organization_id: int) -> None:
    """The responsible person is an active operator of the card's organization."""
    found = await session.scalar(
        select(func.count()).select_from(User).where(
            User.id == user_id,
            User.organization_id == organization_id,
            User.active.is_(True),
            User.role == Role.OPERATOR,
        )
    )
    if not found:
        raise _bad("responsible_user_id", "нет такого оператора в организации")


# --- what a step needs ------------------------------------------------------------------

COMPLETE = "complete"
REGISTER = "register"
STEP_TITLES = {
    COMPLETE: "Чтобы отметить карточку исполненной",
    REGISTER: "Чтобы зарегистрировать обращение",
}


@dataclass(frozen=True, slots=True)
class Requirement:
    """A field a step of the card needs filled.

    `for_type`: needed only for that type of appeal (a complaint's verdict); `unless`: a
    flag field that lifts it (an anonymous appeal has no applicant to name). A flag (bool)
    counts as filled when set either way; text, a choice or a list when not empty.
    """

    field: str
    message: str
    for_type: str | None = None
    unless: str | None = None

    def applies(self, state: Mapping[str, Any]) -> bool:
        if self.for_type is not None and state.get("appeal_type") != self.for_type:
            return False
        return not (self.unless is not None and state.get(self.unless))

    def missing(self, state: Mapping[str, Any]) -> bool:
        value = state.get(self.field)
        if isinstance(value, str):
            return not value.strip()
        return value is None or value == []

    def as_json(self) -> dict[str, Any]:
        return {"field": self.field, "title": title(self.field), "message": self.message,
                "for_type": self.for_type, "unless": self.unless}


_TYPE = Requirement("appeal_type", "Выберите вид обращения")
_TOPIC = Requirement("topic_code", "Выберите тематику по форме ПГ")
_CONTENT = Requirement("content", "Заполните содержание обращения")
_APPLICANT = Requirement(
    "applicant_name", "Укажите ФИО заявителя или отметьте «Анонимное обращение»",
    unless="anonymous",
)
# What each step of the card needs; the browser shows the same list (GET
# /api/v1/dictionaries, `requirements`) beside the fields before the click.
REQUIREMENTS: dict[str, tuple[Requirement, ...]] = {
    REGISTER: (_TYPE, _TOPIC, _CONTENT, _APPLICANT),
    COMPLETE: (
        _TYPE, _TOPIC, _CONTENT, _APPLICANT,
        Requirement("measures_taken", "Заполните «Принятые меры»"),
        Requirement("justified", "Для жалобы укажите, обоснована ли она",
                    for_type=AppealType.COMPLAINT.value),
    ),
}


def missing_for(step: str, state: Mapping[str, Any]) -> list[Requirement]:
    """The requirements of `step` the card's `state` (its fields by name) does not meet."""
    return [r for r in REQUIREMENTS[step] if r.applies(state) and r.missing(state)]


def require(step: str, state: Mapping[str, Any]) -> None:
    """Refuse the step, naming every field it still needs (in Russian), if any is missing.

    The error's `field` is the first of them (where the form puts the cursor), `fields`
    all of them, `messages` what to do about each.
    """
    missing = missing_for(step, state)
    if not missing:
        return
    if len(missing) == 1:
        message = missing[0].message
    else:
        names = ", ".join(f"«{title(r.field)}»" for r in missing)
        message = f"{STEP_TITLES[step]}, заполните: {names}"
    raise InvalidInput(
        message, field=missing[0].field, fields=[r.field for r in missing],
        messages={r.field: r.message for r in missing},
    )


def requirements_json() -> dict[str, list[dict[str, Any]]]:
    return {step: [r.as_json() for r in rules] for step, rules in REQUIREMENTS.items()}
