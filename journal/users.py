"""Users of the journal: operators and administrators, with argon2 password hashes."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Collection
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import CursorResult, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from journal import audit
from journal.access import visible_staff
from journal.actors import Actor
from journal.errors import Conflict, Forbidden, InvalidInput, NotFound
from journal.models import Organization, Role, User, WebSessionRow
from journal.organizations import organization_by_code
from journal.clock import utc_now

_hasher = PasswordHasher()
LOGIN_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
INTERFACE_RE = re.compile(r"^(PJSIP|SIP|IAX2|Local)/[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def add_user(
    session: AsyncSession,
    *,
    login: str,
    password: str,
    full_name: str,
    role: str,
    organization_code: str,
    level: int | None = None,
    interface: str | None = None,
    phones: Collection[str] | None = None,
    actor: Actor | None = None,
) -> User:
    """Create a user; refuses bad logins, weak passwords, duplicates and wrong levels.

    `phones` are the organization's own phones (its `level1_phones`/`level2_phones` in the
    service configuration, as "PJSIP/op101"): when given, the interface must be one of them,
    since whoever is bound to a phone gets the pops and the calls that ring at it.

    With an `actor` (the web console, the command line) the account must be one that actor
    may give (`may_give`); the creation is then audited."""
    if not LOGIN_RE.match(login):
        raise InvalidInput(
            "Логин: строчные латинские буквы, цифры, точка, дефис или подчёркивание (2-64)",
            field="login",
        )
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"Пароль должен быть не короче {MIN_PASSWORD} символов", field="password")
    if role not in set(Role):
        raise InvalidInput(f"Неизвестная роль «{role}»", field="role")
    if role == Role.OPERATOR and level not in (1, 2, 3):
        raise InvalidInput("Оператору нужен уровень 1, 2 или 3", field="level")
    if interface is not None and not INTERFACE_RE.match(interface):
        raise InvalidInput(
            f"Телефон «{interface}» не похож на интерфейс АТС (например, PJSIP/op101)",
            field="interface",
        )
    org = await organization_by_code(session, organization_code)
    _check_role_in(role, org)
    if actor is not None and not may_give(actor, role, org.id):
        raise Forbidden(_NOT_YOURS_TO_GIVE)
    if interface is not None and phones is not None:
        check_phone(interface, phones, organization_code)
    if await session.scalar(select(User.id).where(User.login == login)) is not None:
        raise Conflict(f"Пользователь «{login}» уже есть", field="login")
    if interface and await session.scalar(select(User.id).where(User.interface == interface)):
        raise Conflict(f"Телефон {interface} уже закреплён за другим пользователем", field="interface")
    user = User(
        login=login,
        password_hash=hash_password(password),
        full_name=full_name,
        role=role,
        level=level,
        organization_id=org.id,
        interface=interface,
        active=True,
        failed_logins=0,
        created_at=utc_now(),
    )
    session.add(user)
    await session.flush()
    if actor is not None:
        await audit.record(session, actor, audit.AuditAction.USER_CREATE, "user", user.id, {
            "login": login, "role": role, "level": level, "organization": org.code,
            "interface": interface})
    return user


def _check_role_in(role: str, org: Organization) -> None:
    """The contact center's administrator is the fund's: an insurer has none."""
    if role == Role.ADMIN and org.kind != "fund":
        raise InvalidInput(
            "Администратор контакт-центра бывает только у фонда (ТФОМС); руководителю "
            "операторов страховой компании дайте роль «supervisor»",
            field="role",
        )


def check_phone(interface: str, phones: Collection[str], organization_code: str) -> None:
    """Refuse a phone that is not one of the organization's own (compared caselessly)."""
    if interface.lower() not in {p.lower() for p in phones}:
        own = ", ".join(sorted(phones)) or "нет телефонов"
        raise InvalidInput(
            f"Телефон {interface} не принадлежит организации «{organization_code}» "
            f"(её телефоны: {own})",
            field="interface",
        )


_NOT_YOURS_TO_GIVE = ("Такую учётную запись вы создать или изменить не можете: нельзя дать "
                      "кому-либо больше прав, чем у вас")
ALL_ROLES = frozenset(Role)


def can_manage_users(actor: Actor) -> bool:
    """Accounts are run by the administrator, the system administrator, each organization's
    supervisor (its own staff) and the server's command line; operators run none."""
    return actor.is_admin or actor.is_system or actor.role in (Role.SYSADMIN, Role.SUPERVISOR)


def roles_to_give(actor: Actor) -> frozenset[str]:
    """The roles the actor may create or set a password for: never more than it has.

    The system administrator reads no personal data, so it may give only its own role: an
    account it made or whose password it set could be used to read cards."""
    if actor.is_admin or actor.is_system:
        return ALL_ROLES
    if actor.role == Role.SUPERVISOR:
        return frozenset({Role.OPERATOR, Role.SUPERVISOR})
    if actor.role == Role.SYSADMIN:
        return frozenset({Role.SYSADMIN})
    return frozenset()


def may_give(actor: Actor, role: str, organization_id: int | None) -> bool:
    """Whether the actor may create an account of `role` in that organization, set its
    password or move an account into that role (a supervisor: in their organization only)."""
    if role not in roles_to_give(actor):
        return False
    return actor.role != Role.SUPERVISOR or organization_id == actor.organization_id


def may_run(actor: Actor, user: User) -> bool:
    """Whether the actor may disable or enable the account or change its level or phone
    (none of which gives the actor anything): the administrator any, the system
    administrator any but the contact center's administrators, a supervisor the operators
    and supervisors of their organization."""
    if actor.is_admin or actor.is_system:
        return True
    if actor.role == Role.SYSADMIN:
        return user.role != Role.ADMIN
    if actor.role == Role.SUPERVISOR:
        return (user.organization_id == actor.organization_id
                and user.role in (Role.OPERATOR, Role.SUPERVISOR))
    return False


def _deny_manager(actor: Actor) -> None:
    if not can_manage_users(actor):
        raise Forbidden("Учётными записями управляет администратор")


async def account(
    session: AsyncSession, actor: Actor, *, user_id: int | None = None, login: str | None = None
) -> User:
    """One account by id (the console) or login (the command line), for someone who may
    manage accounts: anyone else is refused (403) before anything is looked up."""
    _deny_manager(actor)
    visible = visible_staff(actor)
    if user_id is not None:
        user = await session.scalar(visible.where(User.id == user_id))
        if user is None:  # another organization's account is not disclosed to a supervisor
            raise NotFound("Пользователь не найден", user_id=user_id)
        return user
    user = await session.scalar(visible.where(User.login == login))
    if user is None:
        raise NotFound(f"Пользователь «{login}» не найден", field="login")
    return user


async def _end_sessions(session: AsyncSession, user: User) -> int:
    gone = await session.execute(delete(WebSessionRow).where(WebSessionRow.user_id == user.id))
    return cast("CursorResult[Any]", gone).rowcount or 0


async def set_password(session: AsyncSession, user: User, password: str, actor: Actor) -> int:
    """A new password set by the administrator (a forgotten one, a suspected leak); how many
    sessions were ended. The old password and every session stop working at once, the
    lock-out after wrong passwords is lifted. Audited, without the password."""
    _deny_manager(actor)
    if not may_give(actor, user.role, user.organization_id):
        # Whoever sets a password can sign in as that account.
        raise Forbidden(_NOT_YOURS_TO_GIVE, user_id=user.id)
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"Пароль должен быть не короче {MIN_PASSWORD} символов", field="password")
    ended = await _end_sessions(session, user)
    # argon2 takes tens of milliseconds of CPU on purpose: not on the event loop.
    user.password_hash = await asyncio.to_thread(hash_password, password)
    user.failed_logins, user.locked_until = 0, None
    await audit.record(session, actor, audit.AuditAction.USER_PASSWORD, "user", user.id,
                       {"login": user.login, "sessions_ended": ended})
    await session.flush()
    return ended


async def set_active(session: AsyncSession, user: User, active: bool, actor: Actor) -> int:
    """Disable an account (or allow it again); how many of its sessions were ended.

    Disabling ends every session of the account at once (their rows go), so each instance
    refuses its next request and its open live sockets close at their next sweep: an operator
    who leaves loses access to personal data that moment (152-ФЗ). Audited both ways.
    """
    _deny_manager(actor)
    if not may_run(actor, user):
        raise Forbidden("Этой учётной записью вы управлять не можете", user_id=user.id)
    if not active and user.id == actor.user_id:
        raise Conflict("Свою учётную запись отключить нельзя", field="login")
    ended = await _end_sessions(session, user) if not active else 0
    user.active = active
    action = audit.AuditAction.USER_ENABLE if active else audit.AuditAction.USER_DISABLE
    await audit.record(session, actor, action, "user", user.id,
                       {"login": user.login, "sessions_ended": ended})
    await session.flush()
    return ended


UNSET: Any = object()


async def change_user(
    session: AsyncSession,
    user: User,
    actor: Actor,
    *,
    role: str | None = None,
    level: int | None | Any = UNSET,
    interface: str | None | Any = UNSET,
    full_name: str | None = None,
    phones: Collection[str] | None = None,
) -> dict[str, list[Any]]:
    """Change an account's role, level, phone or name; what changed (old, new). A new role
    must be one the actor may give (and the old one too: a supervisor cannot demote the
    administrator); level, phone and name need `may_run`. Nobody changes their own role.
    The phone must be one of the organization's `phones` when given. Audited."""
    _deny_manager(actor)
    if not may_run(actor, user):
        raise Forbidden("Этой учётной записью вы управлять не можете", user_id=user.id)
    org = await session.get(Organization, user.organization_id)
    if org is None:  # a foreign key: only a concurrent deletion could get here
        raise NotFound("Организация пользователя не найдена", user_id=user.id)
    diff: dict[str, list[Any]] = {}
    if role is not None and role != user.role:
        if role not in set(Role):
            raise InvalidInput(f"Неизвестная роль «{role}»", field="role")
        if user.id == actor.user_id:
            raise Conflict("Свою роль изменить нельзя", field="role")
        if not (may_give(actor, role, user.organization_id)
                and may_give(actor, user.role, user.organization_id)):
            raise Forbidden(_NOT_YOURS_TO_GIVE, user_id=user.id)
        _check_role_in(role, org)
        diff["role"] = [user.role, role]
    new_role = role or user.role
    new_level = user.level if level is UNSET else level
    if new_role == Role.OPERATOR and new_level not in (1, 2, 3):
        raise InvalidInput("Оператору нужен уровень 1, 2 или 3", field="level")
    if new_level != user.level:
        diff["level"] = [user.level, new_level]
    if interface is not UNSET and interface != user.interface:
        if interface is not None:
            if not isinstance(interface, str) or not INTERFACE_RE.match(interface):
                raise InvalidInput(f"Телефон «{interface}» не похож на интерфейс АТС "
                                   f"(например, PJSIP/op101)", field="interface")
            if phones is not None:
                check_phone(interface, phones, org.code)
            taken = await session.scalar(
                select(User.id).where(User.interface == interface, User.id != user.id))
            if taken is not None:
                raise Conflict(f"Телефон {interface} уже закреплён за другим пользователем",
                               field="interface")
        diff["interface"] = [user.interface, interface]
    if full_name is not None and full_name.strip() and full_name.strip() != user.full_name:
        diff["full_name"] = [user.full_name, full_name.strip()[:200]]
    if not diff:
        return diff
    for name, (_old, new) in diff.items():
        setattr(user, name, new)
    await audit.record(session, actor, audit.AuditAction.USER_CHANGE, "user", user.id,
                       {"login": user.login, "changes": diff})
    await session.flush()
    return diff


async def list_staff(session: AsyncSession, actor: Actor) -> list[User]:
    """Users the actor may see listed (names, roles, levels, phones; never password data),
    by organization and name: see `journal.access.visible_staff`."""
    rows = await session.scalars(
        visible_staff(actor).order_by(User.organization_id, User.full_name, User.id)
    )
    return list(rows)
