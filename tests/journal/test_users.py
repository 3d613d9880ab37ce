"""Users: argon2 hashes, validation, duplicates — on PostgreSQL and SQLite."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from journal.db import unit_of_work
from journal.errors import Conflict, InvalidInput, NotFound
from journal.models import User
from journal.users import add_user, verify_password

pytestmark = pytest.mark.usefixtures("region")


async def test_user_is_stored_with_an_argon2_hash_not_the_password(sessions) -> None:
    async with unit_of_work(sessions) as session:
        await add_user(session, login="ivanova", password="s3cret-pass", full_name="Иванова А. А.",
                       role="operator", level=1, organization_code="tfoms", interface="PJSIP/op101")
    async with sessions() as session:
        user = await session.scalar(select(User).where(User.login == "ivanova"))
    assert user.password_hash.startswith("$argon2id$")
    assert "s3cret-pass" not in user.password_hash
    assert verify_password(user.password_hash, "s3cret-pass")
    assert not verify_password(user.password_hash, "wrong-pass")
    assert user.interface == "PJSIP/op101"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"login": "Bad Login"}, InvalidInput),
        ({"password": "short"}, InvalidInput),
        ({"role": "operator", "level": None}, InvalidInput),
        ({"interface": "op101; rm -rf"}, InvalidInput),
        ({"organization_code": "nope"}, NotFound),
    ],
)
async def test_bad_user_input_is_refused_with_a_reason(sessions, kwargs, error) -> None:
    base = dict(login="petrov", password="long-enough", full_name="Петров", role="operator",
                level=1, organization_code="tfoms", interface=None)
    async with sessions() as session:
        with pytest.raises(error) as info:
            await add_user(session, **{**base, **kwargs})
    assert info.value.message


async def test_login_and_phone_are_unique(sessions) -> None:
    common = dict(password="long-enough", full_name="X", role="operator", level=1,
                  organization_code="sogaz")
    async with unit_of_work(sessions) as session:
        await add_user(session, login="op1", interface="PJSIP/op101", **common)
    async with sessions() as session:
        with pytest.raises(Conflict):
            await add_user(session, login="op1", **common)
        with pytest.raises(Conflict):
            await add_user(session, login="op2", interface="PJSIP/op101", **common)
