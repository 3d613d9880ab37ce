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
CARD_FIELDS: tuple[str, ...] = (*CARD_COLUMNS, "complaint_reasons")
EARLIER_FIELDS: tuple[str, ...] = ("id", "number", "status", "received_at", "appeal_type",
                                   "topic_code", "content", "due_date")


def card_values(card: Card) -> CardValues:
    """The card's columns and complaint reasons as plain values, read-only (the writer hands
    one mapping to every waiter of a call's arrival). Reasons not loaded are none yet: a card
    the writer has just created has none, and every reader of a card loads them."""
    values: dict[str, Any] = {name: getattr(card, name) for name in CARD_COLUMNS}
    loaded = "complaint_reasons" not in inspect(card).unloaded
    values["complaint_reasons"] = tuple(sorted(r.code for r in card.complaint_reasons)) if loaded else ()
    return MappingProxyType(values)


def card_json(values: CardValues, fields: Sequence[str] = CARD_FIELDS) -> dict[str, Any]:
    """The card as the browser gets it: JSON values, its status in Russian and its address."""
    body = {name: json_value(values[name]) for name in fields}
    body["status_title"] = CARD_STATUS_TITLES.get(values["status"], "—")
    body["url"] = f"/api/v1/cards/{values['id']}"
    return body
