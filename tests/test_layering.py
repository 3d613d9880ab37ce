"""Who may import whom (ARCHITECTURE.md): the rules are checked on the source, not on trust.

- `journal` (the appeals' domain and its database) never imports `hotline`;
- the web shell (`hotline/web/`: keys, errors, auth, guard, sessions, pages...) imports no
  feature: the composition root (`hotline/app.py`) adds each feature's routes and pages;
- nothing imports the composition root but the command line that runs it;
- only `hotline/pbx/` speaks AMI: no other feature imports panoramisk or `hotline.pbx.ami`
  (they take the PBX's domain events, `hotline.pbx.events`, and its actions); the composition
  root only builds the AMI link and hands it to the PBX's feed and actions;
- tests import no tests: shared helpers are in `tests/support/`;
- no two modules import each other, directly or round a circle (type-only imports count: a
  reader still has to hold both ends in mind).
"""

from __future__ import annotations

import ast
from pathlib import Path
from tests.support.paths import REPO

FEATURES = ("agents", "alerts", "audit", "callbacks", "calls", "cards", "cli", "cluster", "evaluations",
            "figures", "ivr", "live", "modes", "pbx", "recordings", "register", "reports", "scripts", "sim",
            "staff", "supervision", "surveys", "wallboard")


def module_name(path: Path) -> str:
    name = ".".join(path.relative_to(REPO).with_suffix("").parts)
    return name.removesuffix(".__init__")


def modules() -> dict[str, Path]:
    found = {}
    for package in ("hotline", "journal"):
        for path in (REPO / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[module_name(path)] = path
    return found


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def offenders(paths: dict[str, Path], forbidden) -> dict[str, list[str]]:
    found = {name: sorted(m for m in imported_modules(path) if forbidden(m))
             for name, path in paths.items()}
    return {name: bad for name, bad in found.items() if bad}


def under(package: str):
    return lambda m: m == package or m.startswith(package + ".")


def test_journal_never_imports_hotline() -> None:
    journal = {n: p for n, p in modules().items() if n.startswith("journal")}
    assert len(journal) > 10, "the journal's modules were found"
    assert offenders(journal, under("hotline")) == {}


def test_the_web_shell_imports_no_feature() -> None:
    shell = {n: p for n, p in modules().items() if n.startswith("hotline.web")}
    assert "hotline.web.auth" in shell
    assert offenders(shell, lambda m: any(under(f"hotline.{f}")(m) for f in FEATURES)
                     or under("hotline.keys")(m)) == {}


def test_nothing_but_the_command_line_imports_the_composition_root() -> None:
    others = {n: p for n, p in modules().items() if not n.startswith("hotline.cli")}
    assert offenders(others, under("hotline.app")) == {}


def test_only_the_pbx_folder_speaks_ami() -> None:
    others = {n: p for n, p in modules().items()
              if not n.startswith("hotline.pbx") and n != "hotline.app"}
    assert offenders(others, lambda m: under("panoramisk")(m) or under("hotline.pbx.ami")(m)) == {}


def test_no_import_cycles() -> None:
    known = modules()
    graph = {name: {m for m in imported_modules(path) if m in known and m != name}
             for name, path in known.items()}
    cycles = []
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for name in graph:
        if name not in index:
            visit(name)
    assert cycles == []


def test_tests_import_no_tests() -> None:
    """Shared helpers live in `tests/support/`; a test module or a conftest is never imported
    (fixtures are found by pytest, not imported)."""
    tests = {module_name(p): p for p in (REPO / "tests").rglob("*.py")}
    assert "tests.support.api" in tests

    def a_test(m: str) -> bool:
        last = m.rsplit(".", 1)[-1]
        return m.startswith("tests.") and (last.startswith("test_") or last == "conftest")

    found = {n: sorted(m for m in imported_modules(p) if a_test(m) and m in tests)
             for n, p in tests.items()}
    assert {n: bad for n, bad in found.items() if bad} == {}
