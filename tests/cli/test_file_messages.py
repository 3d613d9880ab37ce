"""A wrong IVR script or production calendar file as a person sees it: the one line `hotline`
prints, exit code 1, with a Russian reason: Latin letters only in the file's own names (keys,
attributes, <tags>) and in the values quoted from it."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotline.cli.main import main
from tests.support.cli import hotline
from tests.support.config_text import foreign_words, script_key_names
from tests.support.paths import REPO

EXAMPLE = (REPO / "config" / "hotline.toml").read_text(encoding="utf-8")
SCRIPT = (REPO / "ivr_scripts" / "secretary.yaml").read_text(encoding="utf-8")
CALENDAR_2027 = (REPO / "config" / "calendar" / "2027.xml").read_text(encoding="utf-8")


@pytest.mark.parametrize(("old", "new", "key", "reason"), [
    ('"2": message', '"2": info', "menu.options", "в меню должна быть возможность оставить сообщение"),
    ("kind: secretary\n", "", "kind", "обязательный ключ не задан"),
    ("  end_key:", "  finish_key: \"*\"\n  end_key:", "message.finish_key", "неизвестный ключ"),
    ("silence_seconds: 5", "silence_seconds: 1", "message.silence_seconds",
     "должно быть не меньше 2 (указано 1)"),
    ('"9": repeat', '"9": ring', "menu.options.9",
     "допустимые значения: 'info', 'message', 'repeat', 'operator' (указано 'ring')"),
    ("invalid: [secretary/invalid]", "invalid: []", "invalid", "список не должен быть пустым"),
    ("prompts: [secretary/menu]", "prompts: [secretary/Menu]", "menu.prompts.0",
     "нужно имя подсказки до 64 символов из строчных латинских букв, цифр, «/», «_» и «-», первый "
     "символ — буква или цифра (указано 'secretary/Menu')"),
    ("kind: secretary", "kind: [secretary", "-",
     "ошибка синтаксиса в строке 9, столбце 8: список в квадратных скобках не закрыт «]» или его "
     "элементы не разделены запятыми"),
])
def test_a_wrong_ivr_script_is_one_russian_line(tmp_path: Path, old: str, new: str, key: str,
                                                reason: str) -> None:
    """`hotline prompts build --check` reads the scripts first, as `hotline serve` does."""
    scripts = tmp_path / "ivr_scripts"
    scripts.mkdir()
    shutil.copy(REPO / "ivr_scripts" / "survey.yaml", scripts / "survey.yaml")
    assert old in SCRIPT
    (scripts / "secretary.yaml").write_text(SCRIPT.replace(old, new, 1), encoding="utf-8")
    config = _config(tmp_path, "[asterisk]", f"[asterisk]\nivr_scripts_dir = {str(scripts)!r}")
    line = _refusal(config, "prompts", "build", "--check")
    assert line == f"hotline: ошибка: сценарий {scripts / 'secretary.yaml'}: {key}: {reason}"
    assert foreign_words(reason, script_key_names()) == []


@pytest.mark.parametrize(("old", "new", "where", "reason"), [
    ('<day d="01.08" t="1" h="1"/>', '<day d="01.08" t="2" f="01.03"/>', ", день 01.08 (8 января)",
     "перенос (f) допустим только для выходного дня (t=1)"),
    ('<day d="01.08" t="1" h="1"/>', '<day d="08.01" t="1" h="1"/><day d="01.08" t="7"/>',
     ", день 01.08 (8 января)", "тип дня t должен быть 1, 2 или 3 (указано '7')"),
    ('<day d="01.08" t="1" h="1"/>', '<day d="31.12" t="1"/>', ", день '31.12'",
     "d: такой даты в 2027 году нет (указано '31.12', сначала месяц, потом день)"),
    ("</days>", "</day>", "", "ошибка разметки в строке 44, столбце 5: закрывающий тег не "
     "соответствует открывающему"),
])
def test_a_wrong_calendar_is_one_russian_line(tmp_path: Path, old: str, new: str, where: str,
                                              reason: str) -> None:
    """`hotline calendar show` reads the production calendar (so does `hotline serve`)."""
    calendar = tmp_path / "calendar"
    calendar.mkdir()
    assert old in CALENDAR_2027
    (calendar / "2027.xml").write_text(CALENDAR_2027.replace(old, new, 1), encoding="utf-8")
    config = _config(tmp_path, 'calendar_dir = "config/calendar"', f"calendar_dir = {str(calendar)!r}")
    line = _refusal(config, "calendar", "show", "--line", "88007758565", "--from", "2027-01-01",
                    "--to", "2027-01-10", "--schedule-only")
    assert line == f"hotline: ошибка: календарь {calendar / '2027.xml'}{where}: {reason}"
    assert foreign_words(re.sub(r"<[^>]*>", "", reason), {"d", "t", "f", "h", "id"}) == []


def test_an_absent_calendar_directory_is_named(tmp_path: Path) -> None:
    config = _config(tmp_path, 'calendar_dir = "config/calendar"', f"calendar_dir = {str(tmp_path / 'нет')!r}")
    line = _refusal(config, "calendar", "show", "--line", "88007758565", "--from", "2027-01-01",
                    "--to", "2027-01-10", "--schedule-only")
    assert line == f"hotline: ошибка: календарь {tmp_path / 'нет'}: такой папки нет"


def test_serve_with_a_wrong_calendar_stops_with_one_russian_line(tmp_path: Path) -> None:
    """`hotline serve` reads the calendar as the service starts (on a throwaway SQLite
    journal here): the same line, not a traceback."""
    calendar = tmp_path / "calendar"
    calendar.mkdir()
    (calendar / "2027.xml").write_text(CALENDAR_2027.replace('t="1" h="1"/>', 't="1" h="99"/>', 1),
                                       encoding="utf-8")
    config = _config(tmp_path, 'calendar_dir = "config/calendar"', f"calendar_dir = {str(calendar)!r}",
                     ('"sqlite+aiosqlite:///var/hotline.sqlite3"', f"'sqlite+aiosqlite:///{tmp_path}/j.sqlite3'"),
                     ('spool_dir = "var/spool"', f"spool_dir = {str(tmp_path / 'spool')!r}"))
    result = hotline("--config", str(config), "serve", "--host", "127.0.0.1", "--port", "0")
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"hotline: ошибка: календарь {calendar / '2027.xml'}, день 01.01 (1 января): "
        "h='99': праздника с таким id нет в <holidays>")
    assert "Traceback" not in result.stderr


def _config(tmp_path: Path, old: str, new: str, *more: tuple[str, str]) -> Path:
    text = EXAMPLE
    for before, after in ((old, new), *more):
        assert before in text
        text = text.replace(before, after, 1)
    config = tmp_path / "hotline.toml"
    config.write_text(text, encoding="utf-8")
    return config


def _refusal(config: Path, *args: str) -> str:
    """The one line `hotline` prints on stderr, nothing on stdout, exit code 1. The HOTLINE_*
    of the machine are unset: they would override the file."""
    unset: dict[str, str | None] = {name: None for name in os.environ if name.startswith("HOTLINE_")}
    result = CliRunner(env=unset).invoke(main, ["--config", str(config), *args], prog_name="hotline")
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    return line
