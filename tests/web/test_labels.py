"""One source of the Russian titles of codes (issue 17, item 6).

The API serves every title a page shows (`GET /api/v1/dictionaries`, `labels`): the journal's
(`journal.labels`) and the features' (the PBX's states, the lines' modes), covering every code
the service stores or sends. The pages keep no copy: a scan of `hotline/web/static/*.js` fails
on an object literal that maps codes to Russian words, or a list of [code, Russian] pairs.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import get_args

from hotline.modes.schedule import MODES
from hotline.pbx.ami.client import State as LinkState
from hotline.pbx.events import AgentStateName, CallState, DeviceName, Outcome
from journal.audit import AuditAction
from journal.models import AppealType, CallbackStatus, CardStatus, Channel, OralOutcome, Role
from tests.support.api import Api

REPO = Path(__file__).resolve().parents[2]
STATIC = REPO / "hotline" / "web" / "static"
CYRILLIC = re.compile("[А-Яа-яЁё]")


async def test_the_dictionaries_name_every_code_in_russian(api: Api) -> None:
    await api.login("fund-op")
    labels = (await api.call("GET", "/api/v1/dictionaries"))["labels"]
    for group, titles in labels.items():
        assert titles, group
        for code, title in titles.items():
            assert isinstance(title, str) and CYRILLIC.search(title), (group, code, title)
    covers = {
        "card_statuses": set(CardStatus), "appeal_types": set(AppealType), "channels": set(Channel),
        "oral_outcomes": set(OralOutcome), "callback_statuses": set(CallbackStatus),
        "roles": set(Role), "audit_actions": set(AuditAction),
        "call_outcomes": {*get_args(Outcome), "in_progress"},
        "call_states": set(get_args(CallState)),
        "agent_states": {*get_args(AgentStateName), "unknown"},
        "agent_badges": {*get_args(AgentStateName), "unknown"},
        "devices": set(get_args(DeviceName)),
        "pbx_links": {*get_args(LinkState), "disabled"},
        "line_modes": set(MODES),
        "recording_kinds": {"call", "message", "callback"},
        "transfer_kinds": {"blind", "attended"},
        "call_directions": {"in", "out"},
    }
    for group, codes in covers.items():
        assert {str(c) for c in codes} <= set(labels[group]), group
    # The words the pages and their tests know.
    assert labels["card_statuses"]["in_work"] == "в работе"
    assert labels["devices"]["in_use"] == "разговаривает"
    assert labels["pbx_links"]["connected"] == "на связи"
    assert labels["agent_states"]["paused"] == "перерыв"
    assert labels["agent_badges"]["ready"] == "Готов принимать звонки"
    assert labels["line_modes"]["secretary"] == "электронный секретарь"
    assert labels["callback_statuses"]["pending"] == "ожидает"
    assert labels["card_fields"]["applicant_phone"] == "Телефон"
    assert labels["card_fields"]["status"] == "Статус"
    assert labels["reports"]["pg"] == "форма ПГ"
    # The card form's choices are the same titles.
    assert {s["value"]: s["title"] for s in (await api.call("GET", "/api/v1/dictionaries"))
            ["statuses"]} == labels["card_statuses"]


def _logged_names() -> tuple[set[str], set[str]]:
    """The access log's actions and object types the source writes by name:
    `record(session, actor, "action", "object", ...)` and the queue steps' `_changed`."""
    actions: set[str] = set()
    objects: set[str] = set()
    for package in ("hotline", "journal"):
        for path in (REPO / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                args = [a.value if isinstance(a, ast.Constant) else None for a in node.args]
                if name == "record" and len(args) >= 4:
                    actions.update(a for a in args[2:3] if isinstance(a, str))
                    objects.update(o for o in args[3:4] if isinstance(o, str))
                elif name == "_changed" and len(args) >= 4 and isinstance(args[3], str):
                    actions.add(args[3])
    return actions, objects


async def test_every_logged_action_and_object_has_a_title(api: Api) -> None:
    actions, objects = _logged_names()
    assert {"login", "callback_take", "agent_join", "call_transfer"} <= actions
    assert {"card", "user", "report", "phone"} <= objects
    await api.login("admin")
    labels = (await api.call("GET", "/api/v1/dictionaries"))["labels"]
    assert actions - set(labels["audit_actions"]) == set()
    assert objects - set(labels["audit_objects"]) == set()


# ------------------------------------------------------------------ no label map in the pages

_TOKEN = re.compile(r"""
    (?P<space>\s+) | (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')
  | (?P<template>`(?:\\.|[^`\\])*`)
  | (?P<number>\d[\w.]*) | (?P<name>[A-Za-z_$][\w$]*)
  | (?P<punct>\.\.\.|=>|[{}\[\](),:;?])
  | (?P<slash>/) | (?P<other>.)
""", re.VERBOSE | re.DOTALL)
_REGEX_AFTER = set("(,=:[!&|?{};+-*%<>~^") | {"return", "typeof", None}


def _tokens(source: str) -> list[tuple[str, str]]:
    """(kind, text) of a JavaScript source: strings, templates, names, punctuation; comments
    and regular-expression literals left out (a `/` where a value starts opens a regex)."""
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(source):
        m = _TOKEN.match(source, pos)
        assert m is not None
        kind, text = m.lastgroup or "other", m.group()
        pos = m.end()
        if kind == "slash":
            before = out[-1][1] if out else None
            if before in _REGEX_AFTER:
                regex = re.compile(r"/(?:\\.|\[(?:\\.|[^\]\\])*\]|[^/\\\n\[])+/[a-z]*").match(source, pos - 1)
                if regex:
                    pos = regex.end()
                    out.append(("regex", regex.group()))
                    continue
        if kind not in ("space", "comment"):
            out.append((kind, text))
    return out


def _close(tokens: list[tuple[str, str]], start: int) -> int:
    """The index of the bracket closing the one at `start`."""
    depth = 0
    for i in range(start, len(tokens)):
        if tokens[i][1] in "([{" and tokens[i][0] == "punct":
            depth += 1
        elif tokens[i][1] in ")]}" and tokens[i][0] == "punct":
            depth -= 1
            if depth == 0:
                return i
    return len(tokens) - 1


def _items(tokens: list[tuple[str, str]], start: int, end: int) -> list[list[tuple[str, str]]]:
    """The comma-separated items between the brackets at `start` and `end`."""
    items: list[list[tuple[str, str]]] = [[]]
    i = start + 1
    while i < end:
        if tokens[i][0] == "punct" and tokens[i][1] in "([{":
            j = _close(tokens, i)
            items[-1].extend(tokens[i:j + 1])
            i = j + 1
            continue
        if tokens[i] == ("punct", ","):
            items.append([])
        else:
            items[-1].append(tokens[i])
        i += 1
    return [item for item in items if item]


def _russian(token: tuple[str, str]) -> bool:
    return token[0] == "string" and bool(CYRILLIC.search(token[1]))


def _code(token: tuple[str, str]) -> bool:
    """A code as a key: a name or a quoted word (`in_work`, "ready"), or a number."""
    kind, text = token
    return kind in ("name", "number") or (kind == "string" and re.fullmatch(r"['\"][\w.-]*['\"]", text) is not None)


def label_maps(source: str) -> list[str]:
    """Object literals of two or more entries that all map codes to literal strings (spreads
    of other maps allowed), Russian at least twice; arrays of two or more [code, Russian]
    pairs. Each is shown by its first words."""
    tokens = _tokens(source)
    found = []
    for i, (kind, text) in enumerate(tokens):
        if kind != "punct" or text not in "{[":
            continue
        end = _close(tokens, i)
        items = _items(tokens, i, end)
        if len(items) < 2:
            continue
        shown = " ".join(t for _, t in tokens[i:min(end + 1, i + 8)])
        if text == "{":
            entries = [it for it in items if it[0] != ("punct", "...")]
            pairs = [it for it in entries if len(it) == 3 and _code(it[0]) and it[1] == ("punct", ":")
                     and it[2][0] == "string"]
            if len(pairs) == len(entries) and sum(_russian(p[2]) for p in pairs) >= 2:
                found.append(shown)
        else:
            pairs = [it for it in items if len(it) == 5 and it[0] == ("punct", "[") and _code(it[1])
                     and it[2] == ("punct", ",") and _russian(it[3]) and it[4] == ("punct", "]")]
            if len(pairs) == len(items):
                found.append(shown)
    return found


def test_the_scan_finds_the_label_maps_the_pages_used_to_keep() -> None:
    """The detector itself, on the shapes the pages had (and on what they legitimately keep)."""
    caught = [
        'const PBX = { connected: "на связи", connecting: "подключение", disconnected: "нет связи" };',
        'const ACTIONS = {\n  ...Admin.AUDIT_ACTIONS, callback_done: "Обратный звонок состоялся",\n'
        '  callback_take: "Обратный звонок взят", // taken\n};',
        "const T = { 'in_use': 'разговаривает', \"on_hold\": \"на удержании\" };",
        'select([["true", "да"], ["false", "нет"]], "не указано");',
        'const M = new Map([["ready", "готов"], ["paused", "перерыв"]]);',
        'const LEVELS = { 1: "первый", 2: "второй" };',
    ]
    for source in caught:
        assert label_maps(source), source
    kept = [
        'confirmDialog({ title: "Новая учётная запись", text: "Пароль", confirm: "Создать", run });',
        'h("button", { type: "button", class: "danger", "data-testid": "disable" }, "Отключить")',
        'const levelOptions = [["", "—"], ["1", "1"], ["2", "2"]];',
        'return { code: "invalid_input", message: "Дата рождения: введите", details: { field: "x" } };',
        'const re = /^(\\d{4})Q([1-4])$/; const x = { a: "б" };',
        'const text = `${a}: ${b}`; const y = [label("roles", r), "x"];',
        '[[1, `${n} уровень`], [2, `${n} уровень`]]',
    ]
    for source in kept:
        assert label_maps(source) == [], source


def test_no_page_keeps_its_own_russian_label_map() -> None:
    scripts = sorted(STATIC.glob("*.js"))
    assert len(scripts) >= 10, "the pages' scripts were found"
    found = {path.name: maps for path in scripts if (maps := label_maps(path.read_text(encoding="utf-8")))}
    assert found == {}, "take the titles from GET /api/v1/dictionaries (labels): " + repr(found)
