"""Each PBX's monitor spool (the folder its MixMonitor and Record() write to, mounted here).

Two Asterisks name their files alike (`hotline/YYYYMMDD/<uniqueid>.wav`, and uniqueids repeat
between PBXs), so each PBX may have its own folder (`[[pbx]] monitor_dir`, by default
`[recordings] pbx_dir`). A recording's file is looked up in the folder of its call's PBX
(`calls.pbx`); a recording of no known call, or of a PBX no longer configured, in the default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from hotline.config import MAIN_PBX, Settings
from hotline.recordings.audio import AudioProblem


def source_path(pbx_dir: Path, pbx_file: str) -> Path:
    """The PBX's file inside its spool; a name that escapes the spool is refused."""
    relative = PurePosixPath(pbx_file.removeprefix("/var/spool/asterisk/monitor/"))
    if not pbx_file or relative.is_absolute() or ".." in relative.parts:
        raise AudioProblem("corrupt", f"недопустимое имя файла записи: {pbx_file!r}")
    return pbx_dir.joinpath(*relative.parts)


@dataclass(frozen=True, slots=True)
class Spools:
    """PBX name -> its spool on this host; `default` for a recording of no known PBX.

    `first` is the first PBX's name: the calls journaled before several PBXs existed say
    "main", and they are the first PBX's even when it has another name now."""

    default: Path
    by_pbx: Mapping[str, Path] = field(default_factory=dict)
    first: str = MAIN_PBX

    @classmethod
    def of(cls, settings: Settings) -> Spools:
        """Built once from the settings: every configured PBX with its spool."""
        default = settings.recordings.pbx_dir
        return cls(default, {pbx.name: pbx.monitor_dir or default for pbx in settings.pbxs},
                   settings.pbxs[0].name)

    def dir_of(self, pbx: str | None) -> Path:
        """The spool of the PBX named `pbx` (the default for None or an unknown name)."""
        if pbx == MAIN_PBX and pbx not in self.by_pbx:
            pbx = self.first
        return self.by_pbx.get(pbx, self.default) if pbx is not None else self.default

    def source(self, pbx: str | None, pbx_file: str) -> Path:
        """A recording's file in its PBX's spool."""
        return source_path(self.dir_of(pbx), pbx_file)

    @property
    def several(self) -> bool:
        """Whether there are several PBXs (the faults then name each file's PBX)."""
        return len(self.by_pbx) > 1

    def folders(self) -> dict[Path, tuple[str, ...]]:
        """Each distinct spool (resolved: this touches the disk) with the PBXs writing into
        it; the default is one even when no PBX writes there (recordings of no known call)."""
        found: dict[Path, list[str]] = {self.default.resolve(): []}
        for name, folder in self.by_pbx.items():
            found.setdefault(folder.resolve(), []).append(name)
        return {folder: tuple(names) for folder, names in found.items()}
