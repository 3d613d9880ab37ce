"""The reasons of a wrong configuration file are Russian: pydantic's and tomllib's English is
rewritten by kind, an unforeseen kind falls to a generic reason, a secret is never quoted."""

from __future__ import annotations

import copy
import tomllib

import pytest

from hotline.config import ConfigError, parse_settings
from hotline.config_errors import PATTERN_HINTS, pydantic_reason, toml_reason, yaml_reason
from tests.support.config_text import foreign_words, settings_models
from tests.support.paths import REPO

EXAMPLE = tomllib.loads((REPO / "config" / "hotline.toml").read_text(encoding="utf-8"))


def _refused(section: str, **values: object) -> ConfigError:
    raw = copy.deepcopy(EXAMPLE)
    table = raw[section][0] if isinstance(raw[section], list) else raw[section]
    table.update(values)
    with pytest.raises(ConfigError) as info:
        parse_settings(raw, source="hotline.toml")
    return info.value


@pytest.mark.parametrize(("section", "values", "key", "reason"), [
    ("ami", {"port": "x"}, "ami.port", "нужно целое число (указано 'x')"),
    ("ami", {"port": 1.5}, "ami.port", "нужно целое число, без дробной части (указано 1.5)"),
    ("ami", {"port": 0}, "ami.port", "должно быть не меньше 1 (указано 0)"),
    ("ami", {"ping_interval": 0}, "ami.ping_interval", "должно быть больше 0 (указано 0)"),
    ("ami", {"host": 5}, "ami.host", "нужна строка в кавычках (указано 5)"),
    ("ami", {"ping_interval": "часто"}, "ami.ping_interval", "нужно число (указано 'часто')"),
    ("alerts", {"service_level_percent": 101.5}, "alerts.service_level_percent",
     "должно быть не больше 100 (указано 101.5)"),
    ("service", {"secure_cookies": "да"}, "service.secure_cookies",
     "нужно логическое значение: true или false (указано 'да')"),
    ("service", {"recordings_dir": 5}, "service.recordings_dir",
     "нужен путь к файлу или папке в кавычках (указано 5)"),
    ("recordings", {"format": "wav"}, "recordings.format",
     "допустимые значения: 'ogg', 'mp3' (указано 'wav')"),
    ("organizations", {"survey": "sms"}, "organizations.0.survey",
     "допустимые значения: 'off', 'ivr', 'operator' (указано 'sms')"),
    ("reports", {"digest_time": "8 утра"}, "reports.digest_time",
     "нужно время суток вида ЧЧ:ММ, например '08:00' (указано '8 утра')"),
    ("organizations", {"name": ""}, "organizations.0.name", "строка не должна быть пустой"),
    ("organizations", {"level1_phones": "op1"}, "organizations.0.level1_phones",
     "нужен список в квадратных скобках (указано 'op1')"),
    ("organizations", {"level1_phones": ["trunk"]}, "organizations.0.level1_phones",
     "имя телефона 'trunk' занято: так называется транк оператора связи"),
    ("organizations", {"queue": 1}, "organizations.0.queue", "неизвестный ключ"),
    ("lines", {"number": "8 800 775-85-65"}, "lines.0.number",
     "нужен номер 8-800 из 11 цифр подряд, например '88007758565' (указано '8 800 775-85-65')"),
    ("lines", {"hours": {"monday": "08:00-17:00"}}, "lines.0.hours",
     "неизвестный день недели 'monday'; допустимы: mon, tue, wed, thu, fri, sat, sun"),
    ("lines", {"hours": {"mon": 8}}, "lines.0.hours",
     "нужны часы вида ЧЧ:ММ-ЧЧ:ММ, например '08:30-17:30' (указано 8)"),
    ("lines", {"hours": {}}, "lines.0",
     "для линии, работающей не круглосуточно, нужна таблица [lines.hours] с часами операторов"),
    ("asterisk", {"rtp_start": 20000, "rtp_end": 10000}, "asterisk",
     "значение rtp_end должно быть больше rtp_start"),
    ("asterisk", {"ami_permit": ["10.0.0.1/8"]}, "asterisk.ami_permit",
     "нужен адрес сети с длиной маски, например '192.168.0.0/24' (указано '10.0.0.1/8')"),
    ("alerts", {"long_wait_clear_seconds": 600}, "alerts",
     "значение long_wait_clear_seconds не должно быть больше long_wait_seconds"),
    ("evaluation", {"criteria": []}, "evaluation.criteria", "список не должен быть пустым"),
])
def test_each_kind_of_mistake_has_its_russian_reason(section, values, key, reason) -> None:
    error = _refused(section, **values)
    assert (error.key, error.reason) == (key, reason)
    assert foreign_words(error.reason) == []


def test_every_pattern_of_the_settings_has_its_hint() -> None:
    """A new `pattern=` without a line in PATTERN_HINTS would show people the regex."""
    patterns = {getattr(meta, "pattern", None) for model in settings_models()
                for field in model.model_fields.values() for meta in field.metadata}
    assert patterns - {None} <= PATTERN_HINTS.keys()


def test_a_kind_outside_the_table_is_named_generically_with_the_value() -> None:
    error = {"type": "uuid_parsing", "loc": ("service", "instance"), "msg": "Input should be a UUID",
             "input": "abc", "ctx": {}}
    assert pydantic_reason(error) == "недопустимое значение 'abc'"


def test_a_secret_is_never_quoted() -> None:
    secret = _refused("ami", secret=12345678)
    assert (secret.key, secret.reason) == ("ami.secret", "нужна строка в кавычках")
    token = _refused("service", metrics_token="x" * 201)
    assert token.reason == "строка длиннее 200 символов"


@pytest.mark.parametrize(("text", "reason"), [
    ("[service\n", "ошибка синтаксиса в строке 1, столбце 9: заголовок таблицы не закрыт: ожидалась «]»"),
    ("[[pbx]\n",
     "ошибка синтаксиса в строке 1, столбце 6: заголовок списка таблиц не закрыт: ожидалось «]]»"),
    ("[service]\n[service]\n",
     "ошибка синтаксиса в строке 2, столбце 9: таблица [service] объявлена дважды"),
    ("[ami]\nport = 1\nport = 2\n",
     "ошибка синтаксиса в строке 3, столбце 9: ключ с этим именем уже задан выше"),
    ('[ami]\nhost = "pbx\n',
     "ошибка синтаксиса в строке 2, столбце 12: строка не закрыта кавычкой до конца строки"),
    ("[ami]\nhost 1\n", "ошибка синтаксиса в строке 2, столбце 6: после ключа ожидался знак «=»"),
    ("ami_permit = [\n", "ошибка синтаксиса в конце файла: непонятное значение (строки пишут в кавычках)"),
])
def test_a_file_that_is_not_toml_says_where_and_why(text: str, reason: str) -> None:
    with pytest.raises(tomllib.TOMLDecodeError) as info:
        tomllib.loads(text)
    assert toml_reason(info.value) == reason
    assert foreign_words(reason) == []


def test_an_unforeseen_toml_message_is_still_russian() -> None:
    assert toml_reason(ValueError("Something new (at line 4, column 2)")) == \
        "ошибка синтаксиса в строке 4, столбце 2: неверная запись"


def test_an_unforeseen_yaml_problem_is_still_russian() -> None:
    """PyYAML's problems outside the table get the place and the usual causes, never English."""
    class Mark:
        line, column = 3, 0

    class Unforeseen(Exception):
        problem, problem_mark = "something new", Mark()

    assert yaml_reason(Unforeseen()) == ("ошибка синтаксиса в строке 4, столбце 1: проверьте отступы, "
                                         "двоеточие после ключа, закрывающие кавычки и скобки")
