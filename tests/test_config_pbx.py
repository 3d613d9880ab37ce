"""Several PBXs in `hotline.toml`: `[[pbx]]` tables instead of `[ami]`; lines and
organizations name their PBX; mistakes stop start-up naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.config import ConfigError, load_settings
from hotline.recordings.spools import Spools
from tests.support.paths import REPO

EXAMPLE = REPO / "config" / "hotline.toml"
AMI = EXAMPLE.read_text(encoding="utf-8").split("[ami]\n", 1)[1].split("\n\n", 1)[0]
TWO_PBXS = """[[pbx]]
name = "main"
title = "Барнаул"
host = "10.0.0.1"
port = 5038
user = "hotline"
secret = "one"

[[pbx]]
name = "omsk-2"
title = "Омск, второй узел"
host = "10.0.0.2"
port = 5039
user = "hotline"
secret = "two"
"""


def _region(tmp_path: Path, pbx: str, *, extra: tuple[tuple[str, str], ...] = ()) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8").replace("[ami]\n" + AMI + "\n", pbx, 1)
    for old, new in extra:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "hotline.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_single_ami_section_is_the_pbx_named_main() -> None:
    """Today's files keep working: `[ami]` is one PBX, "main", holding every line."""
    settings = load_settings(EXAMPLE, environ={})
    (pbx,) = settings.pbxs
    assert (pbx.name, pbx.host, pbx.port) == ("main", settings.ami.host, settings.ami.port)
    assert pbx.title == "Основная АТС"
    assert {settings.pbx_of_line(line.number) for line in settings.lines} == {"main"}
    assert settings.pbx_of_phone("PJSIP/op101") == "main"


def test_two_pbxs_each_with_its_lines_and_phones(tmp_path: Path) -> None:
    """An insurer's organization on the second PBX takes its phones and its lines there; a
    line may name its PBX itself; the others stay on the first."""
    path = _region(tmp_path, TWO_PBXS, extra=(
        ('code = "sogaz"', 'code = "sogaz"\npbx = "omsk-2"'),
        ('number = "88001008102"', 'number = "88001008102"\npbx = "omsk-2"'),
    ))
    settings = load_settings(path, environ={"HOTLINE_AMI_SECRET": "from-env"})
    assert [(p.name, p.title, p.port) for p in settings.pbxs] == [
        ("main", "Барнаул", 5038), ("omsk-2", "Омск, второй узел", 5039)]
    # HOTLINE_AMI_* set the first PBX's link when [[pbx]] lists several.
    assert settings.pbxs[0].secret == "from-env" and settings.pbxs[1].secret == "two"
    sogaz = settings.organization("sogaz")
    assert settings.pbx_of_phone(f"PJSIP/{sogaz.level1_phones[0]}") == "omsk-2"
    assert settings.pbx_of_line("88002009204") == "omsk-2"  # the СОГАЗ line, by its organization
    assert settings.pbx_of_line("88001008102") == "omsk-2"  # named on the line
    assert settings.pbx_of_line("88007758565") == "main"
    assert settings.pbx_title("omsk-2") == "Омск, второй узел"


def test_each_pbx_may_have_its_own_monitor_spool(tmp_path: Path) -> None:
    """`monitor_dir` of a PBX is where its recordings are read; a PBX without it (and the
    single `[ami]` form) uses `[recordings] pbx_dir`."""
    path = _region(tmp_path, TWO_PBXS.replace('secret = "two"\n', 'secret = "two"\nmonitor_dir = "/mnt/omsk-2"\n'))
    settings = load_settings(path, environ={})
    spools = Spools.of(settings)
    assert settings.pbxs[0].monitor_dir is None and settings.pbxs[1].monitor_dir == Path("/mnt/omsk-2")
    assert spools.dir_of("omsk-2") == Path("/mnt/omsk-2")
    assert spools.dir_of("main") == settings.recordings.pbx_dir == Path("var/pbx-spool")
    assert Spools.of(load_settings(EXAMPLE, environ={})).by_pbx == {"main": Path("var/pbx-spool")}


@pytest.mark.parametrize(
    ("pbx", "extra", "key", "reason"),
    [
        (TWO_PBXS, (('code = "sogaz"', 'code = "sogaz"\npbx = "tomsk"'),),
         "organizations.1.pbx", "неизвестная АТС 'tomsk'; известные: 'main', 'omsk-2'"),
        (TWO_PBXS, (('number = "88001008102"', 'number = "88001008102"\npbx = "tomsk"'),),
         "lines.2.pbx", "неизвестная АТС 'tomsk'"),
        (TWO_PBXS.replace('"omsk-2"', '"main"'), (), "pbx", "значение name 'main' встречается дважды"),
        (TWO_PBXS + "\n[ami]\n" + AMI + "\n", (), "pbx", "заданы и [ami], и [[pbx]]"),
        (TWO_PBXS.replace('name = "omsk-2"', 'name = "Омск 2"'), (), "pbx.1.name",
         "нужно до 32 символов: строчные латинские буквы"),
        (TWO_PBXS.replace('title = "Барнаул"\n', ""), (), "pbx.0.title", "обязательный ключ не задан"),
        (TWO_PBXS, (('code = "sogaz"', 'code = "sogaz"\npbx = ""'),),
         "organizations.1.pbx", "неизвестная АТС ''"),
        (TWO_PBXS.replace('secret = "two"\n', 'secret = "two"\nmonitor_dir = 5\n'), (), "pbx.1.monitor_dir",
         "нужен путь к файлу или папке в кавычках"),
    ],
)
def test_a_wrong_pbx_list_names_the_key(tmp_path: Path, pbx, extra, key, reason) -> None:
    path = _region(tmp_path, pbx, extra=extra)
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    assert info.value.key == key
    assert reason in info.value.reason
