"""Loading ivr_scripts/: the shipped scripts are valid; bad ones name file, line (of a line's own
script), key and problem, the problem in Russian."""

from __future__ import annotations

import shutil
import typing
from pathlib import Path

import pytest

from hotline.config import ConfigError, Settings
from hotline.ivr.loader import ScriptError, load_scripts
from hotline.ivr.schema import PATTERN_HINTS, SecretaryScript, SurveyScript
from tests.support.config_text import foreign_words, script_key_names, settings_models
from tests.support.paths import REPO

SCRIPTS = REPO / "ivr_scripts"


@pytest.fixture
def scripts_dir(tmp_path: Path) -> Path:
    for name in ("secretary.yaml", "survey.yaml"):
        shutil.copy(SCRIPTS / name, tmp_path / name)
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_shipped_scripts_load_for_every_line(settings: Settings) -> None:
    """Every configured line gets the default secretary; the survey rates 1..5."""
    scripts = load_scripts(SCRIPTS, settings)
    assert set(scripts.secretary) == {line.number for line in settings.lines}
    assert scripts.survey.keys() == "12345"


def _error(scripts_dir: Path, settings: Settings) -> ScriptError:
    with pytest.raises(ScriptError) as info:
        load_scripts(scripts_dir, settings)
    assert isinstance(info.value, ConfigError)  # the CLI prints it as one line
    return info.value


def test_undefined_prompt(scripts_dir: Path, settings: Settings) -> None:
    """A menu playing a prompt the script does not define. The default script is every line's:
    its mistake names no line."""
    _edit(scripts_dir / "secretary.yaml", "prompts: [secretary/menu]", "prompts: [secretary/nope]")
    error = _error(scripts_dir, settings)
    assert error.path == str(scripts_dir / "secretary.yaml")
    assert error.line is None
    assert str(error) == (f"{scripts_dir / 'secretary.yaml'}: menu.prompts: "
                          "подсказки 'secretary/nope' нет в разделе prompts")


def test_unknown_action_and_bad_key(scripts_dir: Path, settings: Settings) -> None:
    """An action the interpreter does not know is named with its key and the allowed ones."""
    _edit(scripts_dir / "secretary.yaml", '"9": repeat', '"9": dance')
    error = _error(scripts_dir, settings)
    assert (error.key, error.reason) == (
        "menu.options.9", "допустимые значения: 'info', 'message', 'repeat', 'operator' (указано 'dance')")


def test_greeting_without_hours(scripts_dir: Path, settings: Settings) -> None:
    """The greeting must say the working hours."""
    _edit(scripts_dir / "secretary.yaml", ", $hours]", "]")
    error = _error(scripts_dir, settings)
    assert (error.key, error.reason) == ("greeting",
                                         "в приветствии должны быть часы работы линии ('$hours')")


def test_menu_without_message(scripts_dir: Path, settings: Settings) -> None:
    """A secretary that cannot take a message is no secretary."""
    _edit(scripts_dir / "secretary.yaml", '"2": message', '"2": info')
    assert str(_error(scripts_dir, settings)) == (
        f"{scripts_dir / 'secretary.yaml'}: menu.options: в меню должна быть возможность оставить сообщение")


def test_yaml_syntax_error_names_its_line(scripts_dir: Path, settings: Settings) -> None:
    """Broken YAML: the line and column are named, with the likely cause."""
    _edit(scripts_dir / "secretary.yaml", "kind: secretary", "kind: [secretary")
    error = _error(scripts_dir, settings)
    assert (error.key, error.reason) == (
        "-", "ошибка синтаксиса в строке 9, столбце 8: список в квадратных скобках не закрыт «]» "
        "или его элементы не разделены запятыми")


def test_operator_override_on_a_line_with_hours(scripts_dir: Path, settings: Settings) -> None:
    """A per-line script offering the operator on the fund's line (no 24/7 team) is refused;
    the same on an insurer's 24/7 line is accepted."""
    shutil.copy(scripts_dir / "secretary.yaml", scripts_dir / "secretary-88002009204.yaml")
    assert load_scripts(scripts_dir, settings).sources["88002009204"].endswith(
        "secretary-88002009204.yaml")
    shutil.copy(scripts_dir / "secretary.yaml", scripts_dir / "secretary-88007758565.yaml")
    error = _error(scripts_dir, settings)
    assert error.line == "88007758565"
    assert (error.key, error.reason) == (
        "линия 88007758565: menu.options",
        "соединение с оператором можно предлагать только на линии, где операторы работают круглосуточно")


def test_a_line_s_own_script_names_the_line(scripts_dir: Path, settings: Settings) -> None:
    """A mistake in secretary-<line>.yaml is that line's."""
    shutil.copy(scripts_dir / "secretary.yaml", scripts_dir / "secretary-88002009204.yaml")
    _edit(scripts_dir / "secretary-88002009204.yaml", "max_seconds: 180", "max_seconds: 5")
    error = _error(scripts_dir, settings)
    assert str(error) == (f"{scripts_dir / 'secretary-88002009204.yaml'}: линия 88002009204: "
                          "message.max_seconds: должно быть не меньше 10 (указано 5)")


def test_script_for_an_unknown_line(scripts_dir: Path, settings: Settings) -> None:
    shutil.copy(scripts_dir / "secretary.yaml", scripts_dir / "secretary-88000000000.yaml")
    assert _error(scripts_dir, settings).reason == (
        "такой линии нет в конфигурации: файл называют secretary-<номер линии>.yaml, номера линий: "
        "88001008102, 88002009204, 88007700799, 88007758565")


def test_bad_survey_and_missing_file(scripts_dir: Path, settings: Settings) -> None:
    """The survey is checked too; a missing file says so."""
    _edit(scripts_dir / "survey.yaml", "highest: 5", "highest: 1")
    error = _error(scripts_dir, settings)
    assert error.path.endswith("survey.yaml")
    assert (error.key, error.reason) == ("highest", "высшая оценка должна быть больше низшей (lowest)")
    (scripts_dir / "survey.yaml").unlink()
    assert _error(scripts_dir, settings).reason == "файл не найден"


# The words of a script's reasons that may be Latin besides its keys: the file name pattern.
SCRIPT_NAMES = script_key_names() | {"secretary", "yaml"}


@pytest.mark.parametrize(("old", "new", "key", "reason"), [
    ("kind: secretary\n", "", "kind", "обязательный ключ не задан"),
    ("  back: \"*\"", '  back: "*"\n  forward: "#"', "info.forward", "неизвестный ключ"),
    ("max_seconds: 180", "max_seconds: 601", "message.max_seconds", "должно быть не больше 600 (указано 601)"),
    ("max_seconds: 180", "max_seconds: много", "message.max_seconds", "нужно целое число (указано 'много')"),
    ("prompts: [secretary/menu]", "prompts: []", "menu.prompts", "список не должен быть пустым"),
    ("prompts: [secretary/menu]", "prompts: secretary/menu", "menu.prompts",
     "нужен список в квадратных скобках (указано 'secretary/menu')"),
    ("  answers:\n", "  answers: {}\n  old_answers:\n", "info.answers", "раздел не должен быть пустым"),
    ("operator:\n  prompts: [secretary/operator]", "operator: secretary/operator", "operator",
     "нужен раздел с вложенными ключами (указано 'secretary/operator')"),
    ("greeting: [secretary/greeting", "greeting: [Secretary/Greeting", "greeting.0",
     "нужно имя подсказки до 64 символов из строчных латинских букв, цифр, «/», «_» и «-», первый "
     "символ — буква или цифра, или '$hours' (указано 'Secretary/Greeting')"),
    ('"9": repeat', '"99": repeat', "menu.options.99",
     "недопустимое имя ключа: нужна одна клавиша телефона: цифра, «*» или «#» (указано '99')"),
    ('"9": repeat', "9: repeat", "menu.options.9",
     "недопустимое имя ключа: нужна строка в кавычках (указано 9)"),
    ('end_key: "#"', 'end_key: "##"', "message.end_key",
     "нужна одна клавиша телефона: цифра, «*» или «#» (указано '##')"),
    ('"9": repeat', '"9": info', "menu.options", "действие 'info' назначено на несколько клавиш"),
    ('  back: "*"', '  back: "1"', "info.back", "клавиша '1' уже занята одним из ответов (answers)"),
    ('other_key: "2"', 'other_key: "1"', "message.other_key", "клавиша должна отличаться от confirm_key"),
    ("operator:\n  prompts: [secretary/operator]\n", "", "operator",
     "меню предлагает соединение с оператором, а раздела operator нет"),
    ("version: 1", "version: 2", "version", "допустимые значения: 1 (указано 2)"),
    ("menu:\n", "menu:\n\tx: 1\n", "-",
     "ошибка синтаксиса в строке 37, столбце 1: табуляция: отступы делают пробелами"),
])
def test_each_kind_of_mistake_has_its_russian_reason(scripts_dir: Path, settings: Settings, old: str,
                                                     new: str, key: str, reason: str) -> None:
    """Pydantic's own errors (missing, unknown key, bounds, types, lengths, patterns) and the
    scripts' validators, as the reason a person reads; Latin only in keys and quoted values."""
    _edit(scripts_dir / "secretary.yaml", old, new)
    error = _error(scripts_dir, settings)
    assert (error.key, error.reason) == (key, reason)
    assert foreign_words(error.reason, SCRIPT_NAMES) == []


def test_a_script_that_is_a_list_or_not_utf8(scripts_dir: Path, settings: Settings) -> None:
    (scripts_dir / "survey.yaml").write_text("- 1\n- 2\n", encoding="utf-8")
    assert _error(scripts_dir, settings).reason == (
        "файл должен состоять из ключей со значениями (ключ: значение), а не из одного значения или списка")
    (scripts_dir / "survey.yaml").write_bytes("kind: опрос\n".encode("cp1251"))
    assert _error(scripts_dir, settings).reason == "файл сохранён не в кодировке UTF-8"


def test_every_pattern_of_the_scripts_has_its_hint() -> None:
    """A new `pattern=` without a line in the schema's PATTERN_HINTS would show the regex."""
    patterns = {getattr(meta, "pattern", None)
                for script in (SecretaryScript, SurveyScript) for model in settings_models(script)
                for info in model.model_fields.values() for meta in _constraints(info.annotation)}
    assert patterns - {None} == PATTERN_HINTS.keys()


def _constraints(annotation: object) -> list[object]:
    """The metadata of an annotation and of every type nested in it (list[PromptId], dict[Key, ...])."""
    found = list(getattr(annotation, "__metadata__", ()))
    for arg in typing.get_args(annotation):
        found += _constraints(arg)
    return found
