"""Who is acting: every journal operation takes an Actor and is checked against it."""

from __future__ import annotations

from dataclasses import dataclass

from journal.models import Role, User


@dataclass(frozen=True, slots=True)
class Actor:
    """The person (or the PBX integration) on whose behalf the journal is used."""

    user_id: int | None
    login: str
    role: str
    organization_id: int | None
    level: int | None = None
    remote_addr: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_system(self) -> bool:
        return self.role == "system"

    @classmethod
    def of(cls, user: User, remote_addr: str | None = None) -> Actor:
        return cls(
            user_id=user.id,
            login=user.login,
            role=user.role,
            organization_id=user.organization_id,
            level=user.level,
            remote_addr=remote_addr,
        )

    @classmethod
    def system(cls, what: str = "pbx") -> Actor:
        """The telephony integration: creates cards for calls in any organization."""
        return cls(user_id=None, login=f"system:{what}", role="system", organization_id=None)
