"""Configuration: the example region loads; a wrong file names the file, key and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.config import ConfigError, load_settings
from tests.support.paths import REPO

EXAMPLE = REPO / "config" / "hotline.toml"


def test_example_region_has_the_fund_and_three_insurers() -> None:
    settings = load_settings(EXAMPLE, environ={})
    kinds = {o.code: o.kind for o in settings.organizations}
    assert kinds == {"tfoms": "fund", "sogaz": "insurer", "kapital": "insurer", "alfa": "insurer"}
    fund_line = settings.line("88007758565")
    assert fund_line.organization == "tfoms"
    assert fund_line.timezone == "Asia/Barnaul"
    assert str(fund_line.hours["fri"].end) == "16:15:00"
    assert "sat" not in fund_line.hours
    assert all(settings.line(n).around_the_clock for n in ("88002009204", "88001008102", "88007700799"))
    assert settings.organization("tfoms").level2_extension.isdigit()


def test_environment_overrides_database_and_pbx_connection(tmp_path: Path) -> None:
    env = {
        "HOTLINE_CONFIG": str(EXAMPLE),
        "HOTLINE_DATABASE_URL": "postgresql+asyncpg://u@db/hotline",
        "HOTLINE_AMI_HOST": "pbx.local",
        "HOTLINE_AMI_PORT": "5039",
        "HOTLINE_AMI_USER": "svc",
        "HOTLINE_AMI_SECRET": "s3cret",
    }
    settings = load_settings(environ=env)
    assert settings.service.database_url == "postgresql+asyncpg://u@db/hotline"
    assert (settings.ami.host, settings.ami.port) == ("pbx.local", 5039)
    assert (settings.ami.user, settings.ami.secret) == ("svc", "s3cret")


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "hotline.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "key", "reason"),
    [
        ('timezone = "Asia/Barnaul"', 'timezone = "Mars/Olympus"', "service.timezone",
         "неизвестный часовой пояс 'Mars/Olympus'"),
        ('organization = "tfoms"\ntimezone = "Asia/Barnaul"', 'organization = "tfoms"\ntimezone = "Mars/Olympus"',
         "lines.0.timezone", "неизвестный часовой пояс"),
        ('fri = "08:30-16:15"', 'fri = "16:15-08:30"', "lines.0.hours",
         "конец должен быть позже начала (указано '16:15-08:30')"),
        ('organization = "sogaz"', 'organization = "rosno"', "lines.1.organization",
         "неизвестная организация 'rosno'; известные: 'tfoms', 'sogaz', 'kapital', 'alfa'"),
        ('port = 5038', 'port = 99999', "ami.port", "должно быть не больше 65535 (указано 99999)"),
        ('level2_extension = "2000"', 'level2_extension = "l2"', "organizations.0.level2_extension",
         "нужен внутренний номер из 2–8 цифр (указано 'l2')"),
        ('[service]', '[service]\nunknown_key = 1', "service.unknown_key", "неизвестный ключ"),
    ],
)
def test_a_wrong_file_names_file_key_and_reason(tmp_path, old, new, key, reason) -> None:
    path = _broken(tmp_path, old, new)
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    error = info.value
    assert error.path == str(path)
    assert error.key == key
    assert reason in error.reason


def test_missing_and_unparsable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as absent:
        load_settings(tmp_path / "absent.toml", environ={})
    assert (absent.value.key, absent.value.reason) == ("-", "файл не найден")
    bad = tmp_path / "bad.toml"
    bad.write_text("[service]\nhttp_port = 8080\nhttp_host = localhost\n", encoding="utf-8")
    with pytest.raises(ConfigError) as unparsable:
        load_settings(bad, environ={})
    assert unparsable.value.reason == ("ошибка синтаксиса в строке 3, столбце 13: непонятное значение "
                                       "(строки пишут в кавычках)")
    cp1251 = tmp_path / "cp1251.toml"
    cp1251.write_bytes("[service]\n# Барнаул\n".encode("cp1251"))
    with pytest.raises(ConfigError, match="не в кодировке UTF-8"):
        load_settings(cp1251, environ={})


def test_evaluation_criteria_are_data_with_unique_codes(tmp_path: Path) -> None:
    """The evaluation sheet's criteria come from `[evaluation]`; a repeated code or a score
    range of zero stops start-up; without the section the built-in sheet is used."""
    settings = load_settings(EXAMPLE, environ={})
    assert [c.code for c in settings.evaluation.criteria][:2] == ["greeting", "listening"]
    repeated = _broken(tmp_path, '{ code = "listening"', '{ code = "greeting"')
    with pytest.raises(ConfigError) as info:
        load_settings(repeated, environ={})
    assert info.value.key == "evaluation.criteria"
    assert info.value.reason == "значение code 'greeting' встречается дважды"
    zero = _broken(tmp_path, 'title = "Завершение разговора", max_score = 2',
                   'title = "Завершение разговора", max_score = 0')
    with pytest.raises(ConfigError, match="должно быть не меньше 1 \\(указано 0\\)"):
        load_settings(zero, environ={})
    text = EXAMPLE.read_text(encoding="utf-8")
    start = text.index("[evaluation]")
    bare = tmp_path / "bare.toml"
    bare.write_text(text[:start] + text[text.index("[[organizations]]"):], encoding="utf-8")
    assert len(load_settings(bare, environ={}).evaluation.criteria) == 7
