"""DESIGN.md: dependencies point one way — `hotline` imports `journal`, never the reverse."""

from __future__ import annotations

import ast
from pathlib import Path

JOURNAL = Path(__file__).resolve().parents[1] / "journal"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_journal_never_imports_hotline() -> None:
    offenders = {
        str(path.relative_to(JOURNAL.parent)): sorted(
            m for m in imported_modules(path) if m == "hotline" or m.startswith("hotline.")
        )
        for path in JOURNAL.rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}
    assert len(offenders) > 10, "the journal's modules were found"
