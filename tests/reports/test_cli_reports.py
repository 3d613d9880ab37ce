"""`hotline report ...` end to end on a SQLite journal with one appeal."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select

from journal.db import make_engine, make_sessionmaker
from journal.models import Organization
from tests.reports.conftest import add_card, local, unit_of_work
from tests.test_cli import hotline


async def test_pg_calls_and_deadlines_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'reports.sqlite3'}"
    env = {"HOTLINE_DATABASE_URL": url}
    assert hotline("db", "upgrade", env=env).returncode == 0
    engine = make_engine(url)
    try:
        async with unit_of_work(make_sessionmaker(engine)) as s:
            orgs = dict((await s.execute(select(Organization.code, Organization.id))).all())
            await add_card(s, orgs, "sogaz", received=local(2026, 8, 5, 10), appeal_type="complaint",
                           reasons=("11",), justified=True)
    finally:
        await engine.dispose()

    out = tmp_path / "pg.xlsx"
    done = hotline("report", "pg", "--quarter", "2026Q3", "--org", "sogaz", "--out", str(out), env=env)
    assert done.returncode == 0, done.stderr
    ws = load_workbook(out)["1.1"]
    assert ws["C4"].value.startswith("АО «Страховая компания «СОГАЗ-Мед»")
    assert [ws.cell(r, 1).value for r in (6, 7)] == ["1", "2"]
    assert [ws.cell(7, c).value for c in range(3, 7)] == [1, 1, 0, 1]

    csv_done = hotline("report", "pg", "--year", "2026", "--out", "-", env=env)
    assert any(line.startswith("1.2,11,") and line.endswith(",sogaz,1,1,0,1")
               for line in csv_done.stdout.splitlines()), csv_done.stdout

    calls = hotline("report", "calls", "--month", "2026-10", "--out", str(tmp_path / "c.xlsx"), env=env)
    assert calls.returncode == 0, calls.stderr
    assert load_workbook(tmp_path / "c.xlsx").sheetnames[:2] == ["итого", "линии"]

    assert hotline("report", "deadlines", "--within", "3", env=env).returncode == 0
    bad = hotline("report", "pg", "--quarter", "2026Q5", "--out", "x.xlsx", env=env)
    assert bad.returncode == 1
    assert bad.stderr.startswith("hotline: ошибка: Период «2026Q5» не распознан")
