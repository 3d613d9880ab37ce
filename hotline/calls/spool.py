"""A durable, ordered buffer of records on local disk, for while the database is away.

Records are JSON objects, one a line, appended and fsynced before `append()` returns, so a
crash or a restart of the service keeps them. `peek()` reads the oldest ones; `commit(n)`
forgets the first n once they are safely in the database. The file is rewritten on commit
(the spool is only large during an outage, and drains in chunks).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger(__name__)


class SpoolError(OSError):
    """The spool cannot be written (disk full, permissions): records were not kept."""


class DurableSpool:
    """An append-only JSON-lines file with a committed head."""

    def __init__(self, directory: Path, name: str = "events") -> None:
        self.directory = directory
        self.path = directory / f"{name}.jsonl"
        self._count: int | None = None

    def __len__(self) -> int:
        if self._count is None:
            self._count = sum(1 for _ in self._lines())
        return self._count

    def append(self, records: Iterable[dict[str, Any]]) -> int:
        """Write records durably; returns how many. Raises SpoolError if the disk refuses."""
        payload = "".join(
            json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records
        )
        if not payload:
            return 0
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise SpoolError(exc.errno, f"cannot write the spool {self.path}: {exc.strerror}") from exc
        added = payload.count("\n")
        if self._count is not None:
            self._count += added
        return added

    def peek(self, limit: int) -> list[dict[str, Any]]:
        """The oldest `limit` records; a line damaged by a crash mid-write is skipped."""
        records: list[dict[str, Any]] = []
        for line in self._lines():
            if len(records) >= limit:
                break
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                log.error("spool line unreadable, skipped", spool=str(self.path), line=line[:200])
                records.append({"event": "_unreadable"})
        return records

    def commit(self, count: int) -> None:
        """Forget the first `count` records (they are in the database now)."""
        lines = list(self._lines())
        rest = lines[count:]
        if not rest:
            self.path.unlink(missing_ok=True)
        else:
            tmp = self.path.with_suffix(".tmp")
            with open(tmp, "w", encoding="utf-8") as handle:
                handle.writelines(line + "\n" for line in rest)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        self._count = len(rest)

    def _lines(self) -> Iterable[str]:
        try:
            with open(self.path, encoding="utf-8") as handle:
                for line in handle:
                    line = line.rstrip("\n")
                    if line:
                        yield line
        except FileNotFoundError:
            return
