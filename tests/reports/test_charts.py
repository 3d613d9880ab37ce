"""SVG charts: well-formed SVG with the Russian labels and every value written on it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from hotline.reports.charts import Series, bar_chart, column_chart, line_chart, number
from tests.support.charts import SVG, texts





def test_numbers_are_written_the_russian_way() -> None:
    assert [number(v) for v in (12, 3.5, 4.666, 0.0, None)] == ["12", "3,5", "4,67", "0", "—"]


def test_bar_chart_of_appeals_by_type() -> None:
    svg = bar_chart("Обращения по видам", [
        ("Жалобы", 3), ("Заявления", 12), ("Обращения за консультацией (разъяснением)", 80),
        ("Предложения <и> «прочее» & др.", 1),
    ])
    got = texts(svg)
    assert got[0] == "Обращения по видам"
    assert ["Жалобы", "3"] == got[1:3] and "Заявления" in got and "12" in got and "80" in got
    assert "Предложения <и> «прочее» & др." in got  # escaped in the SVG, read back intact
    root = ET.fromstring(svg)
    assert root.find(f"{SVG}title").text == "Обращения по видам"
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("height") == "18"]
    # 360 px for the longest (80); the others in proportion
    assert [float(b.get("width")) for b in bars] == [13.5, 54.0, 360.0, 4.5]


def test_answered_and_abandoned_per_hour_are_stacked_with_totals() -> None:
    svg = column_chart("Звонки по часам суток", ["9", "10", "11"], [
        Series("принято", [10, 20, 0]), Series("потеряно", [2, 5, 1]),
    ])
    got = texts(svg)
    assert "принято" in got and "потеряно" in got  # the legend
    assert ["12", "25", "1"] == [t for t in got if t in {"12", "25", "1"}][-3:]  # column totals
    assert "20" in got and "5" in got  # values inside the segments
    root = ET.fromstring(svg)
    assert any(r.get("fill") == "url(#hatch)" for r in root.iter(f"{SVG}rect"))  # grey-print pattern
    assert root.find(f".//{SVG}pattern[@id='hatch']") is not None


def test_quality_scores_over_time_are_lines_with_values() -> None:
    svg = line_chart("Средний балл по месяцам", ["июль 2026", "август 2026", "сентябрь 2026"], [
        Series("Иванова И. И.", [4.5, None, 3.25]), Series("Все операторы", [4.0, 4.2, 3.6]),
    ], y_max=5)
    got = texts(svg)
    for label in ("июль 2026", "август 2026", "Иванова И. И.", "Все операторы", "4,5", "3,25", "4,2"):
        assert label in got
    root = ET.fromstring(svg)
    lines = list(root.iter(f"{SVG}polyline"))
    # legend samples (2) and the lines: one for "all", none across Иванова's gap in August
    assert len(lines) == 3
    assert {line.get("stroke-dasharray") for line in lines} == {None, "8 4"}
