"""`hotline asterisk render --pbx NAME`: with several PBXs each gets its own configuration:
its lines, the queues and phones of the organizations on it, its own AMI user."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import hotline
from tests.support.paths import REPO

EXAMPLE = (REPO / "config" / "hotline.toml").read_text(encoding="utf-8")
AMI = EXAMPLE.split("[ami]\n", 1)[1].split("\n\n", 1)[0]
TWO = """[[pbx]]
name = "main"
title = "Барнаул"
user = "hotline"
secret = "one"

[[pbx]]
name = "omsk-2"
title = "Омск, второй узел"
port = 5039
user = "omsk"
secret = "two"
"""


def _two_pbxs(tmp_path: Path) -> Path:
    text = EXAMPLE.replace("[ami]\n" + AMI + "\n", TWO, 1)
    text = text.replace('code = "sogaz"', 'code = "sogaz"\npbx = "omsk-2"', 1)
    path = tmp_path / "hotline.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_each_pbx_gets_its_lines_queues_phones_and_ami_user(tmp_path: Path) -> None:
    config = _two_pbxs(tmp_path)
    env = {"HOTLINE_CONFIG": str(config)}
    refused = hotline("asterisk", "render", "--out", str(tmp_path / "x"), env=env)
    assert refused.returncode == 1
    assert "АТС несколько (main, omsk-2): укажите, для какой, --pbx ИМЯ" in refused.stderr
    unknown = hotline("asterisk", "render", "--pbx", "tomsk", "--out", str(tmp_path / "x"), env=env)
    assert unknown.returncode == 1 and "АТС «tomsk» нет в конфигурации" in unknown.stderr

    for name in ("main", "omsk-2"):
        done = hotline("asterisk", "render", "--pbx", name, "--out", str(tmp_path / name), env=env)
        assert done.returncode == 0, done.stderr
    omsk = {f.name: f.read_text(encoding="utf-8") for f in (tmp_path / "omsk-2").iterdir()}
    main = {f.name: f.read_text(encoding="utf-8") for f in (tmp_path / "main").iterdir()}
    # СОГАЗ's line, queues and phones on the second PBX only; the fund's on the first.
    assert "88002009204" in omsk["extensions.conf"] and "88002009204" not in main["extensions.conf"]
    assert "[l1-sogaz]" in omsk["queues.conf"] and "[l1-sogaz]" not in main["queues.conf"]
    assert "[l1-tfoms]" in main["queues.conf"] and "[l1-tfoms]" not in omsk["queues.conf"]
    assert "[op1100]" in omsk["pjsip.conf"] and "[op1100]" not in main["pjsip.conf"]
    assert "[omsk]" in omsk["manager.conf"] and "secret = two" in omsk["manager.conf"]
    assert "[hotline]" in main["manager.conf"] and "[omsk]" not in main["manager.conf"]
