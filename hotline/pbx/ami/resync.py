"""What the PBX looks like right after a (re)connect, and whether Asterisk restarted.

AMI keeps no replay buffer: whatever happened while the service was disconnected is lost.
On every login the connection therefore reads a snapshot (live channels, queue callers and
members, the channels' own `HOTLINE_*` tags) and hands it to the `on_connected` hooks, which
close the calls that are gone and write the line modes again. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from hotline.pbx.ami.message import AmiMessage

# Uptime is whole seconds and our clock and the PBX's are read at slightly different
# moments: two boot-time estimates closer than this are the same boot.
BOOT_TIME_TOLERANCE = 5.0


@dataclass(frozen=True)
class ResyncResult:
    """The snapshot read after one successful login.

    `restarted` is True when Asterisk was restarted since the previous session of the same
    connection object: every channel tracked before is gone. It is False on the first session
    (there is nothing to compare with; `first` says so).
    """

    session: int
    connected_at: datetime
    first: bool
    restarted: bool
    uptime: float | None = None
    last_reload: float | None = None
    outage: float | None = None
    channels: tuple[AmiMessage, ...] = ()
    queue_params: tuple[AmiMessage, ...] = ()
    queue_members: tuple[AmiMessage, ...] = ()
    queue_entries: tuple[AmiMessage, ...] = ()
    statuses: tuple[AmiMessage, ...] = ()
    errors: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """False when one of the snapshot actions failed (its part is then empty)."""
        return not self.errors

    @property
    def messages(self) -> tuple[AmiMessage, ...]:
        """Every snapshot message: channels, queue entries and members, statuses."""
        return (
            self.channels
            + self.queue_params
            + self.queue_members
            + self.queue_entries
            + self.statuses
        )

    def live_uniqueids(self) -> set[str]:
        """Uniqueids of the channels CoreShowChannels listed (for the tracker's reconcile)."""
        return {str(m["Uniqueid"]) for m in self.channels if m.get("Uniqueid")}

    def channel_tags(self) -> dict[str, dict[str, str]]:
        """Uniqueid -> {variable: value} read by `Status` with `Variables:` (our call tags).

        Asterisk answers each requested variable as a `Variable: NAME=value` header, so one
        variable is a string and several are a list; an unset variable has an empty value.
        """
        tags: dict[str, dict[str, str]] = {}
        for status in self.statuses:
            uniqueid = status.get("Uniqueid")
            if not uniqueid or not isinstance(uniqueid, str):
                continue
            values = status.getall("Variable")
            pairs = dict(v.split("=", 1) for v in values if "=" in v)
            tags[uniqueid] = pairs
        return tags


@dataclass
class BootWatch:
    """Remembers when Asterisk booted, across the sessions of one connection object.

    FullyBooted gives `Uptime` (seconds); `now - uptime` estimates the boot moment, which a
    restart moves forward. When FullyBooted does not come (no `system` read class) CoreStatus
    gives the startup date and time as the PBX prints them: a changed value is a restart.
    """

    boot_time: float | None = None
    startup_marker: str | None = None
    sessions: int = field(default=0)

    def observe(
        self,
        *,
        now: float,
        uptime: float | None = None,
        startup_marker: str | None = None,
        outage: float | None = None,
    ) -> bool:
        """Record one session's boot facts; True if Asterisk restarted since the last one."""
        restarted = False
        if self.sessions:
            if uptime is not None and self.boot_time is not None:
                restarted = (now - uptime) - self.boot_time > BOOT_TIME_TOLERANCE
            elif startup_marker is not None and self.startup_marker is not None:
                restarted = startup_marker != self.startup_marker
            if uptime is not None and outage is not None and uptime < outage:
                # Up for less time than we were away: it went down while we were away.
                restarted = True
        self.sessions += 1
        if uptime is not None:
            self.boot_time = now - uptime
        if startup_marker is not None:
            self.startup_marker = startup_marker
        return restarted
