"""The register of insured persons: reading extracts, replacing the table atomically, lookups
audited and refused to roles that read no cards (both backends)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from journal import register
from journal.actors import Actor
from journal.db import unit_of_work
from journal.errors import Forbidden, InvalidInput
from journal.models import AuditEntry, InsuredPerson, RegisterLoad
from journal.register_files import RegisterFileError, read_register

CSV = """ЕНП;ФИО;Дата рождения;СМО;Полис с;Полис по
2250123456789018;Иванова  Анна Петровна;15.03.1980;22007;01.02.2021;
2200000000000004;Петров Пётр;1955-01-02;22010;;
"""
XML = """<?xml version="1.0" encoding="utf-8"?>
<register date="2026-01-31">
  <person><enp>2250123456789018</enp><fio>Иванова Анна Петровна</fio>
    <birth_date>1980-03-15</birth_date><smo>22007</smo></person>
  <person enp="2200000000000004" fio="Петров Пётр" smo="22010" birth_date="02.01.1955"/>
</register>
"""


def test_csv_and_xml_read_alike(tmp_path: Path) -> None:
    """The same two persons from CSV (cp1251 too) and from XML."""
    (tmp_path / "r.csv").write_text(CSV, encoding="utf-8")
    (tmp_path / "r1251.csv").write_bytes(CSV.encode("cp1251"))
    (tmp_path / "r.xml").write_text(XML, encoding="utf-8")
    results = [read_register(tmp_path / name) for name in ("r.csv", "r1251.csv", "r.xml")]
    for parsed in results:
        assert parsed.errors == [] and parsed.warnings == []
        assert [p.enp for p in parsed.persons] == ["2250123456789018", "2200000000000004"]
        assert parsed.persons[0].full_name == "Иванова Анна Петровна"
        assert parsed.persons[1].birth_date == date(1955, 1, 2)
    assert results[0].persons[0].policy_from == date(2021, 2, 1)


def test_bad_rows_are_named_by_line(tmp_path: Path) -> None:
    """Each bad row says its line and what is wrong, in Russian; a wrong control digit only
    warns (the register is the authority on its numbers)."""
    text = CSV + ("123;Сидоров;01.01.1990;22007;;\n"
                  "2250123456789018;Двойник;01.01.1990;22007;;\n"
                  "2200000000000012;Без СМО;01.01.1990;;;\n"
                  "2200000000000020;Дата;31.02.1990;22007;;\n"
                  "2250123456789012;Опечатка;01.01.1990;22007;;\n")
    (tmp_path / "bad.csv").write_text(text, encoding="utf-8")
    parsed = read_register(tmp_path / "bad.csv")
    assert parsed.errors == [
        "строка 4: ЕНП «123» должен состоять из 16 цифр",
        "строка 5: ЕНП 2250123456789018 уже был в строке 2",
        "строка 6: не заполнено: СМО",
        "строка 7: дата рождения «31.02.1990» — не дата (нужно ДД.ММ.ГГГГ или ГГГГ-ММ-ДД)",
    ]
    assert parsed.warnings == [
        "строка 8: у ЕНП 2250123456789012 не сходится контрольная цифра (загружен как есть)"]
    assert len(parsed.persons) == 3


def test_unreadable_files_say_why(tmp_path: Path) -> None:
    """No header columns, broken XML: one sentence naming the line."""
    (tmp_path / "h.csv").write_text("номер;имя\n1;2\n", encoding="utf-8")
    with pytest.raises(RegisterFileError, match="строка 1: в заголовке нет столбцов ЕНП, ФИО, СМО"):
        read_register(tmp_path / "h.csv")
    (tmp_path / "b.xml").write_text("<register>\n<person>\n</register>", encoding="utf-8")
    with pytest.raises(RegisterFileError, match="строка 3: файл не является правильным XML"):
        read_register(tmp_path / "b.xml")


async def test_replace_swaps_the_whole_register_and_lookups_are_audited(
    sessions, region, tmp_path: Path,
) -> None:
    """Two loads: the second replaces the first entirely; a lookup finds, audits, refuses."""
    (tmp_path / "r.csv").write_text(CSV, encoding="utf-8")
    first = read_register(tmp_path / "r.csv").persons
    cli = Actor.system("cli")
    for persons in (first, first[1:]):  # twice: the swap works again after a swap
        async with unit_of_work(sessions) as session:
            summary = await register.replace(session, persons, source="r.csv", loaded_by="cli",
                                             actor=cli)
    assert summary.persons == 1 and summary.replaced == 2
    async with unit_of_work(sessions) as session:
        assert await session.scalar(select(func.count()).select_from(InsuredPerson)) == 1
        assert await session.scalar(select(func.count()).select_from(RegisterLoad)) == 2
        assert await register.lookup(session, cli, "2250123456789018") is None
        found = await register.lookup(session, cli, "2200 0000 0000 0004", card_id=7)
        assert found is not None and found.full_name == "Петров Пётр"
        with pytest.raises(InvalidInput, match="контрольная цифра"):
            await register.lookup(session, cli, "2200000000000005")
    async with sessions() as session:
        rows = list(await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "register_lookup").order_by(AuditEntry.id)))
    assert [(r.object_id, r.details["found"]) for r in rows] == [
        ("2250123456789018", False), ("2200000000000004", True)]


async def test_a_role_without_cards_may_not_look_up(sessions, region) -> None:
    """The system administrator manages users, not personal data: refused and audited."""
    sysadmin = Actor(user_id=None, login="root", role="sysadmin", organization_id=None)
    async with unit_of_work(sessions) as session:
        with pytest.raises(Forbidden):
            await register.lookup(session, sysadmin, "2200000000000004")
