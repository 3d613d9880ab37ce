"""Where stored recordings live: a small interface, and a local folder behind it.

Keys are relative paths such as "2026/11/23/00000042-1795444523.2.ogg". A stored object is
immutable: `put` refuses to overwrite, and the local files are made read-only. An object store
(S3 and the like) can be added later by implementing `RecordingStorage`. The methods are
blocking: callers run them in worker threads.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Protocol

_CHUNK = 1 << 20
_TMP_PREFIX = ".incoming-"


class StorageError(OSError):
    """A storage operation failed; `strerror` is the reason."""


class ObjectExists(StorageError):
    """`put` to a key that is already stored: stored recordings are never overwritten."""


class RecordingStorage(Protocol):
    """The place stored recordings are kept."""

    def put(self, source: Path, key: str) -> int:
        """Copy `source` under `key` (never overwriting); returns the stored size in bytes."""
        ...

    def open(self, key: str) -> BinaryIO:
        """A binary stream of the stored object; FileNotFoundError when it is not there."""
        ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int | None:
        """The stored size, None when the object is not there."""
        ...

    def sha256(self, key: str) -> str:
        """The SHA-256 of the stored bytes, read back from the storage."""
        ...

    def delete(self, key: str) -> bool:
        """Remove the object (retention only); False when it was not there."""
        ...

    def keys(self) -> Iterator[str]:
        """Every stored key (reconciliation looks for orphans)."""
        ...


def _checked_key(key: str) -> PurePosixPath:
    path = PurePosixPath(key)
    if not key or path.is_absolute() or ".." in path.parts or path.name.startswith(_TMP_PREFIX):
        raise ValueError(f"not a storage key: {key!r}")
    return path


class LocalStorage:
    """A local folder (`[service] recordings_dir`): files are read-only once stored."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root.joinpath(*_checked_key(key).parts)

    def put(self, source: Path, key: str) -> int:
        target = self.path(key)
        if target.exists():
            raise ObjectExists(errno.EEXIST, "запись уже сохранена, перезапись запрещена", key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{_TMP_PREFIX}{target.name}.{os.getpid()}")
        try:
            with source.open("rb") as src, tmp.open("wb") as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
                dst.flush()
                os.fsync(dst.fileno())
            os.chmod(tmp, stat.S_IRUSR | stat.S_IRGRP)
            # link() never replaces an existing file: two writers cannot overwrite each other.
            os.link(tmp, target)
        except FileExistsError:
            raise ObjectExists(errno.EEXIST, "запись уже сохранена, перезапись запрещена", key) from None
        finally:
            tmp.unlink(missing_ok=True)
        return target.stat().st_size

    def open(self, key: str) -> BinaryIO:
        return self.path(key).open("rb")

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def size(self, key: str) -> int | None:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            return None

    def sha256(self, key: str) -> str:
        digest = hashlib.sha256()
        with self.open(key) as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def delete(self, key: str) -> bool:
        try:
            self.path(key).unlink()
        except FileNotFoundError:
            return False
        return True

    def keys(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob("*")):
            relative = path.relative_to(self.root)
            if path.is_file() and not any(part.startswith(".") for part in relative.parts):
                yield relative.as_posix()
