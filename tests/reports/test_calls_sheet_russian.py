"""The calls report's sheets in Russian (issue 16): «все звонки», not «all»; «да»/«нет», not
TRUE/FALSE; organizations and operators by name, not by database id; days and hours named."""

from __future__ import annotations

from journal.reports.calls import CallStats
from journal.reports.export import calls_workbook


def _row(key: object, in_hours: bool = True) -> CallStats:
    return CallStats(key=key, in_hours=in_hours, offered=3, answered=2, abandoned=1,
                     abandoned_wait_avg=None, answered_20s=2, answered_60s=2, wait_avg=5.0,
                     wait_p90=9.0, talk_avg=60.0, transferred_l2=0, secretary=0, called_back=0,
                     callback_delay_avg=None)


def test_every_key_and_flag_reads_as_words() -> None:
    sections = {"итого": [_row("all"), _row("all", False)], "организации": [_row(1)],
                "операторы": [_row(7)], "часы": [_row(9)], "дни недели": [_row(1)]}
    names = {"организации": {1: "ТФОМС Алтайского края"}, "операторы": {7: "Иванова Мария"}}
    wb = calls_workbook("Статистика звонков за ноябрь 2026 г.", sections, names)
    first = {sheet: (wb[sheet].cell(4, 1).value, wb[sheet].cell(4, 2).value) for sheet in sections}
    assert first == {"итого": ("все звонки", "да"), "организации": ("ТФОМС Алтайского края", "да"),
                     "операторы": ("Иванова Мария", "да"), "часы": ("09:00–10:00", "да"),
                     "дни недели": ("понедельник", "да")}
    assert wb["итого"].cell(5, 2).value == "нет"
