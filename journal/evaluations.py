"""Operator evaluation sheets (лист оценки оператора): the administrator scores an operator's
work on one call, criterion by criterion.

The criteria are data, not code: the service passes them in (`[evaluation] criteria` of
config/hotline.toml, see `DEFAULT_CRITERIA` for the shape). A sheet stores, per criterion, the
criterion's code and the score (0..its maximum), and a total: the share of the maximum reached,
in percent (0-100, one decimal), so sheets stay comparable when the criteria list changes.
Only the administrator evaluates (`journal.access.can_evaluate`); the call must be one the
administrator sees and the operator one who took it. Every sheet is audited.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from journal import audit
from journal.access import can_evaluate, visible_evaluations
from journal.actors import Actor
from journal.audit import AuditAction
from journal.calls import get_call_for
from journal.errors import Forbidden, InvalidInput
from journal.models import Evaluation, EvaluationScore, Role, User
from journal.clock import utc_now

MAX_COMMENT = 4000
MAX_LIST = 500


@dataclass(frozen=True, slots=True)
class Criterion:
    """One line of the sheet: a stable code (kept in `evaluation_scores.criterion`), its
    Russian title and the highest score (scores run from 0 to `max_score`)."""

    code: str
    title: str
    max_score: int = 2

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "title": self.title, "max_score": self.max_score}


DEFAULT_CRITERIA: tuple[Criterion, ...] = (
    Criterion("greeting", "Приветствие и представление по стандарту"),
    Criterion("listening", "Выяснение сути обращения, уточняющие вопросы"),
    Criterion("accuracy", "Правильность и полнота ответа (по утверждённому скрипту)"),
    Criterion("ethics", "Вежливость, этика и деонтология"),
    Criterion("routing", "Своевременный перевод на 2-й уровень или разъяснение, куда обратиться"),
    Criterion("card", "Полнота и точность заполнения карточки (РКК)"),
    Criterion("closing", "Завершение разговора"),
)


def _clean_scores(scores: Mapping[str, Any], criteria: Sequence[Criterion]) -> dict[str, int]:
    """Every criterion scored once, within its range; nothing else."""
    if not isinstance(scores, Mapping):
        raise InvalidInput("Оценки: ожидается объект «критерий: балл»", field="scores")
    known = {c.code: c for c in criteria}
    unknown = sorted(set(scores) - set(known))
    if unknown:
        raise InvalidInput(f"Нет такого критерия оценки: «{unknown[0]}»", field="scores")
    out: dict[str, int] = {}
    for criterion in criteria:
        value = scores.get(criterion.code)
        if value is None or value == "":
            raise InvalidInput(f"Оцените: «{criterion.title}»", field=criterion.code)
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"«{criterion.title}»: нужен целый балл", field=criterion.code)
        if not 0 <= value <= criterion.max_score:
            raise InvalidInput(
                f"«{criterion.title}»: балл от 0 до {criterion.max_score}", field=criterion.code
            )
        out[criterion.code] = value
    return out


def total_of(scores: Mapping[str, int], criteria: Sequence[Criterion]) -> float:
    """The share of the maximum reached, in percent, one decimal."""
    most = sum(c.max_score for c in criteria)
    if most <= 0:
        return 0.0
    return round(100.0 * sum(scores.values()) / most, 1)


async def _call_operators(session: AsyncSession, call_answered_by: int | None,
                          interfaces: Sequence[str]) -> list[User]:
    """The users who took the call: the first who answered and every phone that answered."""
    conditions = []
    if call_answered_by is not None:
        conditions.append(User.id == call_answered_by)
    if interfaces:
        conditions.append(User.interface.in_(list(interfaces)))
    if not conditions:
        return []
    rows = await session.scalars(
        select(User).where(or_(*conditions), User.role == Role.OPERATOR).order_by(User.id)
    )
    return list(rows)


async def call_operators(session: AsyncSession, actor: Actor, call_id: int) -> list[User]:
    """Who may be evaluated on a visible call (another organization's call is not found)."""
    view = await get_call_for(session, actor, call_id)
    return await _call_operators(session, view.call.answered_by_id, view.operators)


async def create_evaluation(
    session: AsyncSession,
    actor: Actor,
    call_id: int,
    *,
    scores: Mapping[str, Any],
    criteria: Sequence[Criterion] = DEFAULT_CRITERIA,
    operator_id: int | None = None,
    comment: str | None = None,
    now: datetime | None = None,
) -> Evaluation:
    """Store the administrator's sheet on `operator_id` (default: who answered) for a call."""
    if not can_evaluate(actor):
        raise Forbidden("Оценивать операторов может только администратор контакт-центра")
    if not criteria:
        raise InvalidInput("Критерии оценки не настроены", field="scores")
    view = await get_call_for(session, actor, call_id)
    operators = await _call_operators(session, view.call.answered_by_id, view.operators)
    if not operators:
        raise InvalidInput("На этот звонок не отвечал ни один оператор", field="operator_id")
    if operator_id is None:
        operator_id = view.call.answered_by_id or operators[0].id
    if operator_id not in {u.id for u in operators}:
        raise InvalidInput("Этот оператор не принимал звонок", field="operator_id")
    clean = _clean_scores(scores, criteria)
    if comment is not None and not isinstance(comment, str):
        raise InvalidInput("Комментарий: ожидается текст", field="comment")
    text = (comment or "").strip() or None
    if text is not None and len(text) > MAX_COMMENT:
        raise InvalidInput(f"Комментарий: не длиннее {MAX_COMMENT} символов", field="comment")
    at = now or utc_now()
    evaluation = Evaluation(
        call_id=view.call.id, operator_id=operator_id, evaluator_id=actor.user_id, at=at,
        total=total_of(clean, criteria), comment=text,
        scores=[EvaluationScore(criterion=code, score=score) for code, score in clean.items()],
    )
    session.add(evaluation)
    await session.flush()
    await audit.record(session, actor, AuditAction.EVALUATE, "evaluation", evaluation.id, {
        "call_id": view.call.id, "operator_id": operator_id, "total": evaluation.total,
    }, at=at)
    await session.flush()
    return evaluation


async def list_evaluations(
    session: AsyncSession,
    actor: Actor,
    *,
    operator_id: int | None = None,
    call_id: int | None = None,
    limit: int = 100,
) -> list[Evaluation]:
    """Visible sheets, newest first, optionally of one operator and/or one call."""
    if not 1 <= limit <= MAX_LIST:
        raise InvalidInput(f"Размер страницы от 1 до {MAX_LIST}", field="limit")
    stmt = visible_evaluations(actor)
    if operator_id is not None:
        stmt = stmt.where(Evaluation.operator_id == operator_id)
    if call_id is not None:
        stmt = stmt.where(Evaluation.call_id == call_id)
    rows = await session.scalars(
        stmt.order_by(Evaluation.at.desc(), Evaluation.id.desc()).limit(limit)
    )
    return list(rows)
