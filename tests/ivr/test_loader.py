"""Loading ivr_scripts/: the shipped scripts are valid; bad ones name file, line, problem."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hotline.config import ConfigError, Settings
from hotline.ivr.loader import ScriptError, load_scripts
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
    """A menu playing a prompt the script does not define."""
    _edit(scripts_dir / "secretary.yaml", "prompts: [secretary/menu]", "prompts: [secretary/nope]")
    error = _error(scripts_dir, settings)
    assert error.path == str(scripts_dir / "secretary.yaml")
    assert error.line == "88007758565"
    assert str(error) == (f"{scripts_dir / 'secretary.yaml'}: line 88007758565: menu.prompts: "
                          "prompt 'secretary/nope' is not in prompts")


def test_unknown_action_and_bad_key(scripts_dir: Path, settings: Settings) -> None:
    """An action the interpreter does not know is named with its key."""
    _edit(scripts_dir / "secretary.yaml", '"9": repeat', '"9": dance')
    error = _error(scripts_dir, settings)
    assert "menu.options.9" in str(error) and "line 88007758565" in str(error)


def test_greeting_without_hours(scripts_dir: Path, settings: Settings) -> None:
    """The greeting must say the working hours."""
    _edit(scripts_dir / "secretary.yaml", ", $hours]", "]")
    assert "greeting: must include '$hours'" in str(_error(scripts_dir, settings))


def test_menu_without_message(scripts_dir: Path, settings: Settings) -> None:
    """A secretary that cannot take a message is no secretary."""
    _edit(scripts_dir / "secretary.yaml", '"2": message', '"2": info')
    assert "menu.options: " in str(_error(scripts_dir, settings))


def test_yaml_syntax_error_names_its_line(scripts_dir: Path, settings: Settings) -> None:
    """Broken YAML: the YAML line is named."""
    _edit(scripts_dir / "secretary.yaml", "kind: secretary", "kind: [secretary")
    error = _error(scripts_dir, settings)
    assert "yaml line" in error.key and "not valid YAML" in error.reason


def test_operator_override_on_a_line_with_hours(scripts_dir: Path, settings: Settings) -> None:
    """A per-line script offering the operator on the fund's line (no 24/7 team) is refused;
    the same on an insurer's 24/7 line is accepted."""
    shutil.copy(scripts_dir / "secretary.yaml", scripts_dir / "secretary-88002009204.yaml")
    assert load_scripts(scripts_dir, settings).sources["88002009204"].endswith(
        "secretary-88002009204.yaml")
    shutil.copy(scripts_dir / "secretary.yaml", scripts_dir / "secretary-88007758565.yaml")
    error = _error(scripts_dir, settings)
    assert error.line == "88007758565"
    assert "operator option needs a line staffed around the clock" in error.reason


def test_script_for_an_unknown_line(scripts_dir: Path, settings: Settings) -> None:
    shutil.copy(scripts_dir / "secretary.yaml", scripts_dir / "secretary-88000000000.yaml")
    assert "no such line" in _error(scripts_dir, settings).reason


def test_bad_survey_and_missing_file(scripts_dir: Path, settings: Settings) -> None:
    """The survey is checked too; a missing file says so."""
    _edit(scripts_dir / "survey.yaml", "highest: 5", "highest: 1")
    error = _error(scripts_dir, settings)
    assert error.path.endswith("survey.yaml") and "highest" in str(error)
    (scripts_dir / "survey.yaml").unlink()
    assert _error(scripts_dir, settings).reason == "file not found"
