"""The dictionaries a card form needs, with their Russian names: appeal types, channels, forms,
oral outcomes, statuses, field names, organizations and the form ПГ topics valid on a day, and
`labels`: every code of the journal with its title (`journal.labels`), so every page and export
names them alike.

Topics are dated data (migration 0002); the enums' titles live in `journal.labels` once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from journal.card_fields import TITLES as FIELD_TITLES, requirements_json
from journal.labels import (
    APPEAL_TYPE_TITLES, CARD_STATUS_TITLES, CHANNEL_TITLES, FORM_TITLES, ORAL_OUTCOME_TITLES,
    labels_json,
)
from journal.models import Organization, Topic, TopicKind


def _choices(titles: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"value": str(key), "title": value} for key, value in titles.items()]


async def dictionaries(session: AsyncSession, on: date) -> dict[str, Any]:
    """Everything a card form offers, as plain JSON-ready values."""
    topics = (await session.scalars(
        select(Topic)
        .where(Topic.valid_from <= on, or_(Topic.valid_to.is_(None), Topic.valid_to >= on))
        .order_by(Topic.kind, Topic.id)
    )).all()
    organizations = (await session.scalars(select(Organization).order_by(Organization.id))).all()
    return {
        "appeal_types": _choices(APPEAL_TYPE_TITLES),
        "channels": _choices(CHANNEL_TITLES),
        "forms": _choices(FORM_TITLES),
        "oral_outcomes": _choices(ORAL_OUTCOME_TITLES),
        "statuses": _choices(CARD_STATUS_TITLES),
        "fields": dict(FIELD_TITLES),
        "requirements": requirements_json(),
        "topics": [
            {"code": t.code, "parent_code": t.parent_code, "appeal_type": t.appeal_type,
             "title": t.title}
            for t in topics if t.kind == TopicKind.TOPIC
        ],
        "complaint_reasons": [
            {"code": t.code, "parent_code": t.parent_code, "title": t.title}
            for t in topics if t.kind == TopicKind.COMPLAINT_REASON
        ],
        "organizations": [
            {"id": o.id, "code": o.code, "name": o.name, "kind": o.kind} for o in organizations
        ],
        "labels": labels_json(),
    }
