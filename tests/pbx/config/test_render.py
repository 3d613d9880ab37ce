"""config/asterisk/ against config/hotline.toml, the tracker and the service.

Every file in config/asterisk/ is read back with a small parser of Asterisk's config syntax
(independent of the renderer) and checked: every line, queue, operator endpoint and AstDB key
agrees with the region's config; the AMI user is the service's, exports what the tracker reads
and filters out only what it ignores; the dialplan's jumps land on existing places. The
committed files must be exactly `hotline asterisk render`'s output.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from pathlib import Path

import pytest

from hotline.pbx.config.render import CHANNEL_VARS, EXCLUDED_EVENTS, FILES, render
from hotline.config import load_settings
from hotline.pbx.ami.message import AmiMessage
from hotline.pbx.tracking.calls import (
    DEFAULT_CALLBACK_CONTEXT,
    MESSAGE_USER_EVENT,
    RECORDING_VARIABLES,
    CallTracker,
)
from hotline.pbx.actions import ASTDB_FAMILY, mode_key
from tests.support.paths import REPO
from tests.support.transcripts import load, transcript_names

ROOT = REPO
ASTERISK_DIR = ROOT / "config" / "asterisk"
SETTINGS = load_settings(ROOT / "config" / "hotline.toml", environ={})


@dataclasses.dataclass
class Section:
    name: str
    templates: list[str]
    is_template: bool
    items: list[tuple[str, str]]

    def get(self, key: str) -> list[str]:
        return [value for k, value in self.items if k == key]


def parse(path: Path) -> list[Section]:
    """Asterisk config syntax: [name](!) / [name](tpl), `key = value`, `key => value`, `;`."""
    sections: list[Section] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split(";", 1)[0].strip() if not raw.lstrip().startswith("#") else raw.strip()
        if not line:
            continue
        where = f"{path.name}:{number}"
        if line.startswith("#"):
            assert re.fullmatch(r"#(try)?include \S+", line), where
            continue
        if line.startswith("["):
            match = re.fullmatch(r"\[([^\]]+)\](?:\(([^)]*)\))?", line)
            assert match, f"{where}: bad section header {line!r}"
            options = [o for o in (match.group(2) or "").split(",") if o]
            sections.append(
                Section(match.group(1), [o for o in options if o != "!"], "!" in options, [])
            )
            continue
        assert sections, f"{where}: a setting before any section"
        match = re.fullmatch(r"([^=>\s][^=>]*?)\s*=>?\s*(.*)", line)
        assert match, f"{where}: not key = value: {line!r}"
        key, value = match.group(1).strip(), match.group(2).strip()
        _balanced(value, where)
        sections[-1].items.append((key, value))
    return sections


def _balanced(text: str, where: str) -> None:
    stack: list[str] = []
    pairs = {")": "(", "}": "{", "]": "["}
    for char in text:
        if char in "({[":
            stack.append(char)
        elif char in pairs:
            assert stack and stack.pop() == pairs[char], f"{where}: unbalanced {text!r}"
    assert not stack, f"{where}: unbalanced {text!r}"


def _sections(name: str) -> dict[str, list[Section]]:
    found: dict[str, list[Section]] = defaultdict(list)
    for section in parse(ASTERISK_DIR / name):
        found[section.name].append(section)
    return found


@dataclasses.dataclass
class Exten:
    context: str
    name: str
    steps: list[tuple[str | None, str]]  # (label, application call)


def dialplan() -> dict[str, dict[str, Exten]]:
    """context → extension → its priorities, from extensions.conf (exten/same => n...)."""
    contexts: dict[str, dict[str, Exten]] = {}
    for section in parse(ASTERISK_DIR / "extensions.conf"):
        if section.name in ("general", "globals"):
            continue
        extens = contexts.setdefault(section.name, {})
        current: Exten | None = None
        for key, value in section.items:
            if key == "include":
                extens.setdefault("__include__", Exten(section.name, "", [])).steps.append(
                    (None, value)
                )
                continue
            assert key in ("exten", "same"), f"{section.name}: {key}"
            if key == "exten":
                name, priority, app = value.split(",", 2)
                assert priority == "1", f"{section.name},{name}: starts at priority {priority}"
                assert name not in extens, f"{section.name},{name} defined twice"
                current = extens[name] = Exten(section.name, name, [(None, app)])
            else:
                assert current is not None
                match = re.fullmatch(r"n(?:\((\w+)\))?,(.*)", value)
                assert match, f"{section.name},{current.name}: {value!r}"
                current.steps.append((match.group(1), match.group(2)))
    return contexts


def _apps(exten: Exten) -> list[str]:
    return [app for _, app in exten.steps]


# --------------------------------------------------------------------------- the files


def test_committed_files_are_the_rendered_ones() -> None:
    """Run `hotline asterisk render` after editing config/hotline.toml."""
    rendered = render(SETTINGS)
    assert sorted(rendered) == sorted(FILES)
    committed = {p.name for p in ASTERISK_DIR.glob("*.conf") if p.name != "pjsip_auth.conf"}
    assert committed == set(FILES)
    for name, text in rendered.items():
        assert (ASTERISK_DIR / name).read_text(encoding="utf-8") == text, name


@pytest.mark.parametrize("name", FILES)
def test_every_file_parses(name: str) -> None:
    assert parse(ASTERISK_DIR / name)


# --------------------------------------------------------------------------- extensions.conf


def test_every_line_is_tagged_and_reads_its_mode() -> None:
    plan = dialplan()
    inbound = plan["from-trunk"]
    assert {e for e in inbound if not e.startswith("_")} == {ln.number for ln in SETTINGS.lines}
    for line in SETTINGS.lines:
        apps = _apps(inbound[line.number])
        assert apps[1] == "Set(__HOTLINE_ID=${UNIQUEID})", "the call tag comes first"
        assert "Set(__HOTLINE_LINE=${EXTEN})" in apps
        assert f"Set(__HOTLINE_ORG={line.organization})" in apps
        key = mode_key("${EXTEN}")
        assert f"Set(MODE=${{DB({ASTDB_FAMILY}/{key})}})" in apps
        default = "operator" if line.around_the_clock else "secretary"
        assert any(a.startswith("Set(MODE=${IF(") and a.endswith(f":{default})}})")
                   for a in apps), line.number
        assert apps[-1] == f"Goto(hotline-inbound,{line.organization},1)"


def test_every_organization_answers_records_announces_and_queues() -> None:
    plan = dialplan()
    for org in SETTINGS.organizations:
        apps = _apps(plan["hotline-inbound"][org.code])
        answer = apps.index("Answer()")
        rec = next(i for i, a in enumerate(apps) if a.startswith("Set(__REC=hotline/"))
        mix = apps.index("MixMonitor(${REC},b)")
        announce = apps.index("Playback(hotline/call-recorded)")
        queue = next(i for i, a in enumerate(apps) if a.startswith(f"Queue({org.level1_queue},"))
        assert answer < rec < mix < announce < queue
        assert "T" not in apps[queue].split(",")[1], "the citizen must not transfer"
        level2 = plan["hotline-l2"]
        assert _apps(level2[org.level2_extension]) == [f"Goto({org.code},1)"]
        assert org.level2_extension.isdigit()
        assert any(a.startswith(f"Queue({org.level2_queue},") for a in _apps(level2[org.code]))


def test_the_secretary_falls_back_to_plain_dialplan() -> None:
    plan = dialplan()
    steps = plan["hotline-secretary"]["s"].steps
    apps = [app for _, app in steps]
    agi = next(i for i, a in enumerate(apps) if a.startswith("AGI(agi://"))
    assert apps[agi + 1] == 'GotoIf($["${AGISTATUS}" = "SUCCESS"]?done)'
    record = next(i for i, a in enumerate(apps) if a.startswith("Record("))
    push = apps.index("Set(CHANNEL(hangup_handler_push)=hotline-msg-done,s,1)")
    assert agi < push < record
    handler = _apps(plan["hotline-msg-done"]["s"])
    event = next(a for a in handler if a.startswith("UserEvent("))
    assert event.startswith(f"UserEvent({MESSAGE_USER_EVENT},File: ${{MSG}},")
    for key in ("Line:", "Caller:", "Duration:"):
        assert key in event
    assert handler[-1] == "Return()"


def test_callbacks_record_and_dial_through_the_trunk() -> None:
    plan = dialplan()
    (exten,) = plan[DEFAULT_CALLBACK_CONTEXT].values()
    apps = _apps(exten)
    assert any(a.startswith("Set(__REC=hotline/") for a in apps)
    assert apps.index("MixMonitor(${REC},b)") < apps.index("Dial(PJSIP/${EXTEN}@trunk,60)")
    assert not any("HOTLINE_ID" in a for a in apps), "a HOTLINE_ID would classify it inbound"
    assert "REC" in RECORDING_VARIABLES


def test_every_jump_lands_somewhere() -> None:
    plan = dialplan()
    for context, extens in plan.items():
        for exten in extens.values():
            labels = {label for label, _ in exten.steps if label}
            for _, app in exten.steps:
                if app.startswith("include"):
                    continue
                for target in re.findall(r"\?(\w+)(?::(\w+))?\)$", app) if app.startswith(
                        "GotoIf(") else []:
                    assert {t for t in target if t} <= labels, f"{context},{exten.name}: {app}"
                match = re.fullmatch(r"Goto\((?:([\w-]+),)?([\w${}:]+),1\)", app)
                if match and "$" not in match.group(2):
                    where = match.group(1) or context
                    assert match.group(2) in plan[where], f"{context},{exten.name}: {app}"
                match = re.search(r"hangup_handler_push\)=([\w-]+),(\w+),1", app)
                if match:
                    assert match.group(2) in plan[match.group(1)]
            for _, included in extens.get("__include__", Exten("", "", [])).steps:
                assert included in plan
    assert "hotline-l2" in [i for _, i in plan["from-operators"]["__include__"].steps]


# --------------------------------------------------------------------------- queues, phones


def test_queues_and_members_match_the_organizations() -> None:
    queues = {n: s[0] for n, s in _sections("queues.conf").items()
              if n != "general" and not s[0].is_template}
    expected = {}
    for org in SETTINGS.organizations:
        expected[org.level1_queue] = org.level1_phones
        expected[org.level2_queue] = org.level2_phones
    assert set(queues) == set(expected)
    for name, phones in expected.items():
        members = [m.split(",")[0] for m in queues[name].get("member")]
        assert members == [f"PJSIP/{p}" for p in phones], name


def test_every_phone_and_the_trunk_are_endpoints() -> None:
    sections = _sections("pjsip.conf")
    templates = {s.name: s for group in sections.values() for s in group if s.is_template}

    def kind(section: Section) -> str:
        types = section.get("type") or [
            t for name in section.templates for t in templates[name].get("type")
        ]
        return types[0]

    def typed(name: str) -> dict[str, Section]:
        return {kind(s): s for s in sections[name]}

    trunk = typed("trunk")
    assert trunk["endpoint"].get("context") == ["from-trunk"]
    assert trunk["aor"].get("contact") == [
        f"sip:{SETTINGS.asterisk.trunk_host}:{SETTINGS.asterisk.trunk_port}"
    ]
    assert typed("trunk-identify")["identify"].get("endpoint") == ["trunk"]
    phones = {p for org in SETTINGS.organizations for p in org.phones}
    endpoints = {
        name for name, group in sections.items()
        for s in group if not s.is_template and kind(s) == "endpoint"
    }
    assert endpoints == phones | {"trunk"}
    for phone in phones:
        objects = typed(phone)
        assert objects["endpoint"].get("aors") == [phone]
        assert objects["endpoint"].get("auth") == [phone]
        assert "aor" in objects
    assert templates["operator-phone"].get("context") == ["from-operators"]


def test_the_simulator_roster_is_the_configured_phones() -> None:
    from hotline.sim.dialplan import default_roster

    roster = default_roster(SETTINGS)
    for org in SETTINGS.organizations:
        assert [p.interface for p in roster[org.level1_queue]] == [
            f"PJSIP/{p}" for p in org.level1_phones
        ]
        assert [p.interface for p in roster[org.level2_queue]] == [
            f"PJSIP/{p}" for p in org.level2_phones
        ]


# --------------------------------------------------------------------------- manager.conf


def test_the_ami_user_is_the_services_and_least_privileged() -> None:
    sections = _sections("manager.conf")
    assert sections["general"][0].get("enabled") == ["yes"]
    assert sections["general"][0].get("port") == [str(SETTINGS.ami.port)]
    assert sections["general"][0].get("timestampevents") == ["yes"]
    assert set(sections) == {"general", SETTINGS.ami.user}
    user = sections[SETTINGS.ami.user][0]
    assert user.get("secret") == [SETTINGS.ami.secret]
    assert user.get("deny") == ["0.0.0.0/0.0.0.0"]
    assert len(user.get("permit")) == len(SETTINGS.asterisk.ami_permit)
    assert set(user.get("read")[0].split(",")) == {"system", "call", "agent", "user", "dialplan"}
    assert set(user.get("write")[0].split(",")) == {
        "call", "originate", "agent", "reporting", "system"
    }
    assert 2000 <= int(user.get("writetimeout")[0]) <= 5000
    # Asterisk reads channelvars in [general] only (test_every_manager_option_is_read_where_
    # it_sits); tests/asterisk/ checks what the real program then shows.
    exported = sections["general"][0].get("channelvars")[0].split(",")
    assert exported == list(CHANNEL_VARS)
    for name in ("HOTLINE_ID", "HOTLINE_LINE", "HOTLINE_ORG", "HOTLINE_CARD"):
        assert name in exported
    assert set(RECORDING_VARIABLES) & set(exported)


# What Asterisk 22.10.1 reads in manager.conf, section by section (main/manager.c,
# __init_manager: the [general] loop and the per-user loop). An option elsewhere is skipped:
# in a user section with nothing above debug level ("... is an unknown option").
MANAGER_GENERAL = {
    "enabled", "webenabled", "port", "bindaddr", "brokeneventsaction", "allowmultiplelogin",
    "displayconnects", "timestampevents", "debug", "httptimeout", "authtimeout", "authlimit",
    "channelvars", "disabledevents",
    # ast_tls_read_conf (main/tcptls.c)
    "tlsenable", "sslenable", "tlsbindaddr", "sslbindaddr", "tlscertfile", "sslcert",
    "tlsprivatekey", "sslprivatekey", "tlscipher", "sslcipher", "tlsservercipherorder",
    "tlsdisablev1", "tlsdisablev11", "tlsdisablev12",
}
MANAGER_USER = {
    "secret", "deny", "permit", "acl", "read", "write", "displayconnects",
    "allowmultiplelogin", "writetimeout", "setvar",
}


def test_every_manager_option_is_read_where_it_sits() -> None:
    """An option in a section where Asterisk 22 does not read it is silently lost (the
    channelvars of a user section exported nothing on a real Asterisk)."""
    for section in parse(ASTERISK_DIR / "manager.conf"):
        known = MANAGER_GENERAL if section.name == "general" else MANAGER_USER
        for key, _ in section.items:
            if section.name != "general" and key.startswith("eventfilter"):
                continue
            assert key.lower() in known, f"manager.conf [{section.name}]: {key} is not read there"


def test_only_events_the_tracker_ignores_are_filtered() -> None:
    user = _sections("manager.conf")[SETTINGS.ami.user][0]
    filters = [k for k, _ in user.items if k.startswith("eventfilter")]
    names = []
    for key in filters:
        match = re.fullmatch(r"eventfilter\(action\(exclude\),name\((\w+)\)\)", key)
        assert match, f"only exclude filters by name: {key}"
        names.append(match.group(1))
    assert names == list(EXCLUDED_EVENTS)
    handled = set(CallTracker()._handlers) - {"newexten", "varset"}
    assert not {n.lower() for n in names} & handled


@pytest.mark.parametrize("name", transcript_names())
def test_the_tracker_sees_the_same_calls_through_the_filters(name: str) -> None:
    """Replay each real session as this manager.conf would deliver it: excluded events gone,
    every snapshot carrying channelvars. The tracker must report exactly the same calls."""
    messages, times = load(name)
    full, filtered = CallTracker(), CallTracker()
    expected, got = [], []
    values: dict[str, dict[str, str]] = defaultdict(dict)
    excluded = {e.lower() for e in EXCLUDED_EVENTS}
    for message, at in zip(messages, times, strict=True):
        expected.extend(full.feed(message, at))
        event = str(message.get("Event", ""))
        uniqueid = message.get("Uniqueid")
        if event.lower() == "varset" and uniqueid:
            variable = str(message.get("Variable", "")).lstrip("_")
            if variable in CHANNEL_VARS:
                values[uniqueid][variable] = str(message.get("Value", ""))
        if event.lower() in excluded:
            continue
        if uniqueid and event:
            message = AmiMessage({**dict(message.header_items()), "ChanVariable": [
                f"{var}={values[uniqueid].get(var, '')}" for var in CHANNEL_VARS
            ]})
        got.extend(filtered.feed(message, at))

    def describe(events: list) -> list:
        return [(type(e).__name__, {k: v for k, v in dataclasses.asdict(e).items() if k != "at"})
                for e in events]

    assert describe(got) == describe(expected)
    assert filtered.stats.internal_errors == 0


# --------------------------------------------------------------------------- docker-compose.yml


def test_compose_mounts_the_config_and_keeps_ami_and_agi_internal() -> None:
    import ipaddress

    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"postgres", "asterisk", "hotline"}
    pbx = services["asterisk"]
    mounts = pbx["volumes"]
    for name in FILES:
        assert f"./config/asterisk/{name}:/etc/asterisk/{name}:ro" in mounts
    assert "./config/asterisk:/etc/asterisk/hotline:ro" in mounts
    # Asterisk's monitor dir is the service's pbx_dir (where it looks for the PBX's files);
    # the stored copies live apart, in recordings_dir.
    assert "pbxspool:/var/spool/asterisk/monitor" in mounts
    service_mounts = services["hotline"]["volumes"]
    assert f"pbxspool:/srv/hotline/{SETTINGS.recordings.pbx_dir.as_posix()}" in service_mounts
    assert f"recordings:/srv/hotline/{SETTINGS.service.recordings_dir}" in service_mounts
    assert not any(m.startswith("recordings:") for m in mounts)
    # FastAGI is on (the secretary and surveys) and reachable from the PBX's network.
    assert SETTINGS.asterisk.agi_serve
    assert services["hotline"]["environment"]["HOTLINE_AGI_BIND"] == "0.0.0.0"
    published = " ".join(str(p) for s in services.values() for p in s.get("ports", []))
    assert "5038" not in published and "4573" not in published and "5432" not in published
    internal = compose["networks"]["internal"]
    assert internal["internal"] is True
    subnet = ipaddress.IPv4Network(internal["ipam"]["config"][0]["subnet"])
    assert any(subnet.subnet_of(ipaddress.IPv4Network(p)) for p in SETTINGS.asterisk.ami_permit)
    assert services["postgres"]["networks"] == ["internal"]
    env = services["hotline"]["environment"]
    assert env["HOTLINE_AMI_HOST"] in pbx["networks"]["internal"]["aliases"]
    assert pbx["environment"]["HOTLINE_AGI_HOST"] in (
        services["hotline"]["networks"]["internal"]["aliases"]
    )
    rtp = f"{SETTINGS.asterisk.rtp_start}-{SETTINGS.asterisk.rtp_end}"
    assert f"{rtp}:{rtp}/udp" in pbx["ports"]


def test_render_command_writes_the_files_and_keeps_passwords(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from hotline.cli.main import main

    runner = CliRunner()
    args = ["--config", str(ROOT / "config" / "hotline.toml"), "asterisk", "render",
            "--out", str(tmp_path), "--phone-passwords"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.glob("*.conf")) == sorted([*FILES, "pjsip_auth.conf"])
    auth = (tmp_path / "pjsip_auth.conf").read_text(encoding="utf-8")
    assert auth.count("type=auth") == len(
        [p for org in SETTINGS.organizations for p in org.phones]
    )
    again = runner.invoke(main, args)
    assert again.exit_code == 0
    assert (tmp_path / "pjsip_auth.conf").read_text(encoding="utf-8") == auth
    for section in parse(tmp_path / "pjsip_auth.conf"):
        assert section.get("username") == [section.name]
