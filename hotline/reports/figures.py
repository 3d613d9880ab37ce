"""The report pages' charts: the journal's aggregated reports turned into `charts` SVG.

Each function takes a report already computed (no database here) and returns SVG text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hotline.reports.charts import Series, bar_chart, column_chart, line_chart
from journal.reports.calls import CallStats
from journal.reports.deadlines import OrgDeadlines
from journal.reports.export import bucket_title
from journal.reports.pg import PgReport
from journal.reports.quality import ALL, QualityReport

WEEKDAYS = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")
TOP_TOPICS = 12
MAX_LINES = 6  # operators on one quality chart; more would not read in print


def pg_types(report: PgReport) -> str:
    """Appeals by type (form ПГ rows 2-5) for the organizations shown."""
    rows = [r for r in report.table_1_1 if r.depth == 0]
    return bar_chart(f"Обращения по видам, {report.period.title}",
                     [(f"{r.code}. {r.title}", r.all.total) for r in rows])


def pg_topics(report: PgReport) -> str:
    """The commonest topics (codes without sub-codes counted twice: leaves only)."""
    codes = [r.code for r in report.table_1_1]
    leaves = [r for r in report.table_1_1
              if r.depth > 0 and not any(c.startswith(r.code + ".") for c in codes)]
    top = sorted((r for r in leaves if r.all.total), key=lambda r: -r.all.total)[:TOP_TOPICS]
    return bar_chart(f"Самые частые темы обращений, {report.period.title}",
                     [(f"{r.code}. {r.title}", r.all.total) for r in top])


# Every part of the offered calls, so that a key's columns add up to its offered calls.
OUTCOMES = (("принято", "answered"), ("потеряно", "abandoned"), ("автосекретарь", "secretary"),
            ("ещё идут", "in_progress"), ("прочие", "other"))


def _merged(rows: Sequence[CallStats]) -> dict[object, tuple[int, ...]]:
    """Each part of OUTCOMES per key, in and out of working hours together."""
    out: dict[object, tuple[int, ...]] = {}
    for r in rows:
        old = out.get(r.key, (0,) * len(OUTCOMES))
        out[r.key] = tuple(a + getattr(r, name) for a, (_, name) in zip(old, OUTCOMES, strict=True))
    return out


def _outcome_series(keys: Sequence[object], merged: Mapping[object, tuple[int, ...]]) -> list[Series]:
    """One series per part (a part with no call in the period is left out of the legend)."""
    empty = (0,) * len(OUTCOMES)
    series = [Series(title, [merged.get(k, empty)[i] for k in keys])
              for i, (title, _) in enumerate(OUTCOMES)]
    return [s for i, s in enumerate(series) if i < 3 or any(s.values)]


def calls_by_hour(rows: Sequence[CallStats], title: str) -> str:
    merged = _merged(rows)
    hours = list(range(24))
    return column_chart(f"Звонки по часам суток, {title}", [str(h) for h in hours],
                        _outcome_series(hours, merged))


def calls_by_weekday(rows: Sequence[CallStats], title: str) -> str:
    merged = _merged(rows)
    days = list(range(1, 8))
    return column_chart(f"Звонки по дням недели, {title}", list(WEEKDAYS),
                        _outcome_series(days, merged), width=520)


def calls_by_line(rows: Sequence[CallStats], title: str, names: Mapping[Any, str]) -> str:
    """Answered vs abandoned (and messages to the secretary) per line."""
    merged = _merged(rows)
    keys = sorted(merged, key=str)
    return column_chart(f"Принятые и потерянные звонки по линиям, {title}",
                        [names.get(k, str(k)) for k in keys], _outcome_series(keys, merged))


def deadlines_chart(orgs: Sequence[OrgDeadlines], names: Mapping[str, str]) -> str:
    items = []
    for org in orgs:
        name = names.get(org.organization_code, org.organization_code)
        items.append((f"{name}: просрочено", org.overdue_cards))
        items.append((f"{name}: истекает", len(org.cards) - org.overdue_cards))
        items.append((f"{name}: перезвонить", len(org.callbacks)))
    return bar_chart("Сроки рассмотрения по организациям", items)


def quality_chart(report: QualityReport) -> str:
    """The average total of the sheets per month or week: every operator together, then the
    operators with the most evaluations."""
    buckets = report.buckets
    ranked = sorted(report.operators, key=lambda o: -report.score(ALL, o.id).count)[: MAX_LINES - 1]
    series = [Series("Все операторы", [report.score(b).average for b in buckets])]
    series += [Series(o.name, [report.score(b, o.id).average for b in buckets]) for o in ranked]
    # The sheet's total is the share of the maximum in percent (journal.evaluations).
    return line_chart(f"Итог листа оценки, % от максимума, {report.period.title}",
                      [bucket_title(report.bucket, b) for b in buckets], series, y_max=100)
