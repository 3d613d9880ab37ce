"""`hotline report ...` end to end on a SQLite journal with one appeal."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select

from journal.db import make_engine, make_sessionmaker
from journal.models import Evaluation, EvaluationScore, Organization, User
from journal.db import unit_of_work
from tests.support.report_data import add_call, add_card, local
from tests.support.cli import hotline


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


async def test_quality_from_the_command_line(tmp_path: Path) -> None:
    """One evaluation of a sogaz operator in August: the XLSX shows it, the CSV too."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'quality.sqlite3'}"
    env = {"HOTLINE_DATABASE_URL": url}
    assert hotline("db", "upgrade", env=env).returncode == 0
    engine = make_engine(url)
    try:
        async with unit_of_work(make_sessionmaker(engine)) as s:
            orgs = dict((await s.execute(select(Organization.code, Organization.id))).all())
            now = datetime.now(UTC)
            op = User(login="sg1", password_hash="x", full_name="Иванова И. И.", role="operator",
                      level=1, organization_id=orgs["sogaz"], created_at=now)
            boss = User(login="adm", password_hash="x", full_name="Администратор", role="admin",
                        organization_id=orgs["tfoms"], created_at=now)
            s.add_all([op, boss])
            await s.flush()
            call = await add_call(s, orgs, "sogaz", "88002009204", local(2026, 8, 5, 10), "answered",
                                  queue_wait_seconds=5, talk_seconds=90, answered_by_id=op.id)
            s.add(Evaluation(call_id=call.id, operator_id=op.id, evaluator_id=boss.id,
                             at=local(2026, 8, 6, 11), total=4.5,
                             scores=[EvaluationScore(criterion="вежливость", score=5),
                                     EvaluationScore(criterion="точность ответа", score=4)]))
    finally:
        await engine.dispose()

    out = tmp_path / "q.xlsx"
    done = hotline("report", "quality", "--quarter", "2026Q3", "--org", "sogaz", "--out", str(out),
                   env=env)
    assert done.returncode == 0, done.stderr
    ws = load_workbook(out)["Качество"]
    assert ws["D4"].value == "август 2026"
    assert [ws.cell(6, c).value for c in range(1, 6)] == [
        "Иванова И. И.", "sogaz", "Итог листа оценки", 1, 4.5]
    weekly = hotline("report", "quality", "--quarter", "2026Q3", "--by", "week", "--out", "-", env=env)
    assert weekly.returncode == 0, weekly.stderr
    assert f"2026-08-03,{op.id},Иванова И. И.,sogaz,точность ответа,1,4.0" in weekly.stdout.splitlines()
