"""A wrong `hotline.toml` as a person sees it: one line, `hotline: ошибка: конфигурация
<file>: <key>: <reason>`, exit code 1, and a reason in Russian, with Latin letters only in the
file's own key names and in the values quoted from it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotline.cli.main import main
from tests.support.config_text import foreign_words
from tests.support.paths import REPO

EXAMPLE = (REPO / "config" / "hotline.toml").read_text(encoding="utf-8")
ONE_MORE_PBX = '[[pbx]]\nname = "omsk"\ntitle = "Омск"\nhost = "10.0.0.2"\n\n[ami]'


@pytest.mark.parametrize(("old", "new", "key", "reason"), [
    ('kind = "fund"\n', "", "organizations.0.kind", "обязательный ключ не задан"),
    ("port = 5038", 'port = "пять тысяч"', "ami.port", "нужно целое число (указано 'пять тысяч')"),
    ("[service]", "[service]\nlisten_port = 80", "service.listen_port", "неизвестный ключ"),
    ("port = 5038", "port = 99999", "ami.port", "должно быть не больше 65535 (указано 99999)"),
    ("[ami]", ONE_MORE_PBX, "pbx",
     "заданы и [ami], и [[pbx]]; перечислите все АТС в [[pbx]] (с host, port, user и secret), "
     "а [ami] удалите"),
    ('organization = "sogaz"', 'organization = "sogaz"\npbx = "tomsk"', "lines.1.pbx",
     "неизвестная АТС 'tomsk'; известные: 'main'"),
    ("[service]", "[service", "-",
     "ошибка синтаксиса в строке 6, столбце 9: заголовок таблицы не закрыт: ожидалась «]»"),
])
def test_a_wrong_file_is_one_russian_line(tmp_path: Path, old: str, new: str, key: str,
                                          reason: str) -> None:
    assert old in EXAMPLE
    config = tmp_path / "hotline.toml"
    config.write_text(EXAMPLE.replace(old, new, 1), encoding="utf-8")
    line = _refusal(config)
    assert line == f"hotline: ошибка: конфигурация {config}: {key}: {reason}"
    assert foreign_words(reason) == []


def test_an_absent_file_is_named(tmp_path: Path) -> None:
    absent = tmp_path / "нет.toml"
    assert _refusal(absent) == f"hotline: ошибка: конфигурация {absent}: -: файл не найден"


def _refusal(config: Path) -> str:
    """The one line `hotline` prints for the file. `asterisk render` reads the configuration
    first and writes only to tmp: a file that wrongly passed would not start a service. The
    HOTLINE_* of the machine are unset: they would override the file."""
    unset: dict[str, str | None] = {name: None for name in os.environ if name.startswith("HOTLINE_")}
    result = CliRunner(env=unset).invoke(
        main, ["--config", str(config), "asterisk", "render", "--out", str(config.parent / "asterisk")],
        prog_name="hotline")
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    return line
