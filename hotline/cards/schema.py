"""The card (РКК) in one shape wherever the service hands it on.

The journal writer gives a new card's values to the live feed, the feed pops them, the API
answers them (`GET /api/v1/cards/{id}` and every lifecycle step): a pop's card is the API's
card. The caller's earlier cards in a pop are the same shape cut to what a list shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from sqlalchemy import inspect

from journal.cards import json_value
from journal.labels import CARD_STATUS_TITLES
from journal.models import Card

CardValues = Mapping[str, Any]

CARD_COLUMNS: tuple[str, ...] = tuple(attr.key for attr in inspect(Card).column_attrs)
# A field absent from the values (complaint reasons not loaded) is absent from the JSON.
CARD_FIELDS: tuple[str, ...] = (*CARD_COLUMNS, "complaint_reasons")
EARLIER_FIELDS: tuple[str, ...] = ("id", "number", "status", "received_at", "appeal_type",
                                   "topic_code", "content", "due_date")


def card_values(card: Card, *, reasons: bool = True) -> CardValues:
    """The card's columns as plain values, read-only (the writer hands one mapping to every
    waiter of a call's arrival), and its complaint reasons' codes when `reasons` and they are
    loaded (the writer's new cards have none: it leaves them out)."""
    values: dict[str, Any] = {name: getattr(card, name) for name in CARD_COLUMNS}
    if reasons and "complaint_reasons" not in inspect(card).unloaded:
        values["complaint_reasons"] = tuple(sorted(r.code for r in card.complaint_reasons))
    return MappingProxyType(values)


def card_json(values: CardValues, fields: Sequence[str] = CARD_FIELDS) -> dict[str, Any]:
    """The card as the browser gets it: JSON values, its status in Russian and its address."""
    body = {name: json_value(values[name]) for name in fields if name in values}
    body["status_title"] = CARD_STATUS_TITLES.get(values["status"], "—")
    body["url"] = f"/api/v1/cards/{values['id']}"
    return body
