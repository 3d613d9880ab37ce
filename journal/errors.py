"""Errors of the journal: each has a stable code and a Russian message for the operator."""

from __future__ import annotations


class JournalError(Exception):
    """Base: a request the journal refuses. `code` is stable; `message` is shown to users."""

    code = "journal_error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(JournalError):
    """Also what an organization's staff get for another organization's card: no leak."""

    code = "not_found"


class Forbidden(JournalError):
    code = "forbidden"


class InvalidInput(JournalError):
    code = "invalid_input"


class InvalidTransition(JournalError):
    """The card's status does not allow this step (e.g. editing a closed card)."""

    code = "invalid_transition"


class Conflict(JournalError):
    """Someone else changed the same thing first, or it already exists."""

    code = "conflict"
