"""An empty chart says «нет данных» instead of showing bare axes (issue 16)."""

from __future__ import annotations

from hotline.reports.charts import Series, bar_chart, column_chart, line_chart
from tests.support.charts import texts


def test_every_kind_of_chart_says_when_it_has_nothing_to_show() -> None:
    empty = [
        bar_chart("Обращения по видам", [("2. Жалобы", 0), ("4. Консультации", 0)]),
        bar_chart("Самые частые темы", []),
        column_chart("Звонки по часам", ["9", "10"], [Series("принято", [0, 0])]),
        line_chart("Оценки", ["июль", "август"], [Series("Иванова", [None, None])], y_max=5),
    ]
    for svg in empty:
        assert "нет данных" in texts(svg)
    shown = column_chart("Звонки по часам", ["9", "10"], [Series("принято", [3, 0])])
    assert "нет данных" not in texts(shown)
