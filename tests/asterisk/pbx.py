"""Two real Asterisk 22 processes on this machine, for the real-PBX tier.

- `hotline`: config/asterisk/*.conf exactly as `hotline asterisk render` writes them from the
  test's settings (the trunk's address, the AMI, FastAGI and RTP ports are the test's), plus
  the operator phones' pjsip_auth.conf, the project's prompts and Debian's stock sounds.
- `world`: the provider and everybody outside. Its `provider` transport (127.0.0.2) is the
  8-800 trunk the citizens call from and the callbacks reach; its `phones` transport
  (127.0.0.3) registers the operator phones to the hotline PBX with their passwords. What a
  phone or a citizen does is the world's dialplan, steered by the test through the world's
  own AMI (AstDB keys `phone/<name>`, Originate of citizens, PlayDTMF).

Nothing here builds Asterisk: the tier runs where an `asterisk` 22 binary is on PATH.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ASTERISK = shutil.which("asterisk")
MODULES_DIR = next(
    (p for p in (Path("/usr/lib/asterisk/modules"), Path("/usr/lib64/asterisk/modules"),
                 Path("/usr/local/lib/asterisk/modules")) if p.is_dir()),
    Path("/usr/lib/asterisk/modules"),
)
STOCK_SOUNDS = next(
    (p for p in (Path("/usr/share/asterisk/sounds"), Path("/var/lib/asterisk/sounds"))
     if p.is_dir()),
    None,
)
DOCUMENTATION = Path("/var/lib/asterisk/documentation")
HOTLINE_HOST, PROVIDER_HOST, PHONES_HOST = "127.0.0.1", "127.0.0.2", "127.0.0.3"
PROVIDER_PORT, PHONES_PORT = 5080, 5090


def version() -> str | None:
    """`Asterisk 22.10.1` or None when no asterisk binary runs here."""
    if ASTERISK is None:
        return None
    try:
        out = subprocess.run([ASTERISK, "-V"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Asterisk:
    """One Asterisk process with its own directories under `root`."""

    name: str
    root: Path
    files: dict[str, str]
    sounds: dict[str, Path] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def etc(self) -> Path:
        return self.root / "etc"

    @property
    def spool(self) -> Path:
        return self.root / "spool"

    @property
    def monitor(self) -> Path:
        return self.spool / "monitor"

    @property
    def log(self) -> Path:
        return self.root / "log" / "messages.log"

    def write(self) -> None:
        for sub in ("etc", "lib/keys", "data", "spool/monitor", "run", "log", "agi"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        r = self.root
        (self.etc / "asterisk.conf").write_text(
            "[directories]\n"
            f"astetcdir => {r / 'etc'}\nastmoddir => {MODULES_DIR}\n"
            f"astvarlibdir => {r / 'lib'}\nastdbdir => {r / 'lib'}\nastkeydir => {r / 'lib'}\n"
            f"astdatadir => {r / 'data'}\nastagidir => {r / 'agi'}\n"
            f"astspooldir => {r / 'spool'}\nastrundir => {r / 'run'}\n"
            f"astlogdir => {r / 'log'}\nastsbindir => /usr/sbin\n"
            "[options]\ndocumentation_language = en_US\ncache_media_frames = yes\n"
            "transmit_silence = yes\n",
            encoding="utf-8",
        )
        base = {
            "modules.conf": "[modules]\nautoload = yes\n"
            + "".join(f"noload => {m}\n" for m in _NOT_NEEDED),
            "logger.conf": "[general]\n[logfiles]\n"
            "messages.log => notice,warning,error,verbose(3),dtmf\n",
            "musiconhold.conf": "[general]\n",
        }
        for name, text in {**base, **self.files}.items():
            path = self.etc / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        sounds = self.root / "data" / "sounds"
        sounds.mkdir(parents=True, exist_ok=True)
        if DOCUMENTATION.is_dir() and not (self.root / "data" / "documentation").exists():
            (self.root / "data" / "documentation").symlink_to(DOCUMENTATION)
        if STOCK_SOUNDS is not None:
            for language in STOCK_SOUNDS.iterdir():
                if not language.is_dir():
                    continue
                target = sounds / language.name
                target.mkdir(exist_ok=True)
                for item in language.iterdir():
                    link = target / item.name
                    if not link.exists():
                        link.symlink_to(item)
        for relative, source in self.sounds.items():
            link = sounds / relative
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.exists():
                link.symlink_to(source.resolve())

    def start(self) -> None:
        assert ASTERISK is not None
        self.write()
        with (self.root / "log" / "console.log").open("ab") as out:  # the child keeps its copy
            self.process = subprocess.Popen(
                [ASTERISK, "-f", "-n", "-C", str(self.etc / "asterisk.conf")],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            )
        self.wait_booted()

    def wait_booted(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"asterisk {self.name} exited: {self.tail()}")
            try:
                if "Asterisk" in self.cli("core show version", timeout=5):
                    self.cli("core waitfullybooted", timeout=30)
                    return
            except (subprocess.SubprocessError, OSError):
                pass
            time.sleep(0.3)
        raise TimeoutError(f"asterisk {self.name} did not boot: {self.tail()}")

    def cli(self, command: str, timeout: float = 15.0) -> str:
        assert ASTERISK is not None
        out = subprocess.run(
            [ASTERISK, "-C", str(self.etc / "asterisk.conf"), "-rx", command],
            capture_output=True, text=True, timeout=timeout,
        )
        return out.stdout

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            self.cli("core stop now", timeout=10)
            self.process.wait(timeout=20)
        except (subprocess.SubprocessError, OSError):
            self.process.kill()
            self.process.wait(timeout=10)

    def restart(self) -> None:
        """`core restart now`: the process re-executes itself; channels die with it."""
        self.cli("core restart now", timeout=10)
        time.sleep(2.0)
        self.wait_booted()

    def tail(self, lines: int = 40) -> str:
        for path in (self.log, self.root / "log" / "console.log"):
            if path.exists():
                return "\n".join(path.read_text("utf-8", "replace").splitlines()[-lines:])
        return ""

    def warnings(self) -> list[str]:
        """WARNING and ERROR lines about the project's files and the modules that read them
        (a res_pjsip line counts unless it is about a stock file this test does not write)."""
        if not self.log.exists():
            return []
        found = []
        for ln in self.log.read_text("utf-8", "replace").splitlines():
            if "WARNING[" not in ln and "ERROR[" not in ln:
                continue
            pjsip = "res_pjsip" in ln and "Unable to load config file" not in ln
            if pjsip or _OURS.search(ln):
                found.append(ln)
        return found


# Modules this tier never uses whose load only costs time or prints noise.
_NOT_NEEDED = (
    "chan_iax2.so", "chan_unistim.so", "chan_mgcp.so", "chan_skinny.so", "chan_motif.so",
    "res_xmpp.so", "cdr_radius.so", "cel_radius.so", "res_config_ldap.so", "res_phoneprov.so",
    "res_pjsip_phoneprov_provider.so", "chan_dahdi.so", "res_snmp.so", "cdr_pgsql.so",
    "cel_pgsql.so", "res_config_pgsql.so", "cdr_tds.so", "cel_tds.so", "res_hep.so",
    "res_hep_pjsip.so", "res_hep_rtcp.so", "chan_console.so", "chan_alsa.so", "chan_oss.so",
    "res_statsd.so", "res_calendar.so", "res_pjsip_notify.so", "cel_manager.so",
    "cdr_manager.so",
)
# The modules that read the project's files, and the files themselves: a warning from or
# about one of them is a mistake of config/asterisk/ (stock files absent here are not).
_OURS = re.compile(
    r"\b(pbx_config|manager|app_queue|features_config|res_rtp_asterisk|pbx|res_agi)\.c"
    r"|extensions\.conf|manager\.conf|pjsip\.conf|queues\.conf|features\.conf|rtp\.conf"
    r"|pjsip_auth|hotline"
)


# --------------------------------------------------------------------------- the world


def world_files(ami_port: int, phones: dict[str, str]) -> dict[str, str]:
    """The provider and the people: citizens on the trunk, operator phones that register."""
    registrations = "".join(
        f"""
[auth-{phone}]
type=auth
auth_type=userpass
username={phone}
password={password}

[reg-{phone}]
type=registration
transport=phones
outbound_auth=auth-{phone}
server_uri=sip:{HOTLINE_HOST}:5060
client_uri=sip:{phone}@{HOTLINE_HOST}:5060
contact_user={phone}
retry_interval=2
expiration=300
"""
        for phone, password in phones.items()
    )
    pjsip = f"""
[provider]
type=transport
protocol=udp
bind={PROVIDER_HOST}:{PROVIDER_PORT}

[phones]
type=transport
protocol=udp
bind={PHONES_HOST}:{PHONES_PORT}

; The hotline PBX: the 8-800 numbers are dialled there; everything it sends comes from it.
[hotline]
type=endpoint
transport=provider
context=world-in
disallow=all
allow=alaw,ulaw
aors=hotline
direct_media=no
rtp_symmetric=yes
dtmf_mode=rfc4733
send_rpid=yes
trust_id_outbound=yes

[hotline]
type=aor
contact=sip:{HOTLINE_HOST}:5060

[hotline-identify]
type=identify
endpoint=hotline
match={HOTLINE_HOST}
{registrations}"""
    extensions = """
[general]
static=yes
writeprotect=yes

; What reaches the world from the hotline PBX: a call to an operator phone (its contact is
; the phone's name) or to a citizen (callbacks, surveys).
[world-in]
exten => _op.,1,Goto(phone,${EXTEN},1)
exten => _sup.,1,Goto(phone,${EXTEN},1)
exten => _[78]XXXXXXXXXX,1,Goto(citizen-called,${EXTEN},1)

; An operator phone: AstDB phone/<name> says what it does (answer, ignore, atxfer:<digits>);
; phone/<name>-talk how long it talks. Talking is a 1004 Hz tone, so recordings have sound.
; A supervisor's phone (sup...) is one too: it answers the hotline's listening call.
[phone]
exten => _[a-z].,1,Set(ACT=${DB(phone/${EXTEN})})
 same => n,Set(TALK=${DB(phone/${EXTEN}-talk)})
 same => n,Set(TALK=${IF($["${TALK}" = ""]?8:${TALK})})
 same => n,GotoIf($["${ACT}" = "ignore"]?ignore)
 same => n,GotoIf($["${ACT:0:7}" = "atxfer:"]?atxfer)
 same => n,Wait(1)
 same => n,Answer()
 same => n,Set(TIMEOUT(absolute)=${TALK})
 same => n,Milliwatt()
 same => n,Hangup()
 same => n(ignore),Ringing()
 same => n,Wait(600)
 same => n,Hangup()
 same => n(atxfer),Wait(1)
 same => n,Answer()
 same => n,Wait(3)
 same => n,SendDTMF(*2,250)
 same => n,Wait(2)
 same => n,SendDTMF(${ACT:7},250)
 same => n,Wait(8)
 same => n,Hangup()

; A citizen the hotline calls (a callback, a survey): answers and talks; a survey is rated
; with the digit in AstDB citizen/rating.
[citizen-called]
exten => _X.,1,Wait(1)
 same => n,Answer()
 same => n,Set(RATING=${DB(citizen/rating)})
 same => n,GotoIf($["${RATING}" = ""]?talk)
 same => n,Wait(4)
 same => n,SendDTMF(${RATING},250)
 same => n(talk),Set(TIMEOUT(absolute)=20)
 same => n,Milliwatt()

; A citizen calling the hotline (Originate ... Context citizen, Exten talk): a tone until
; TALK seconds have passed; the test presses keys with PlayDTMF.
[citizen]
exten => talk,1,Set(TIMEOUT(absolute)=${TALK})
 same => n,Milliwatt()
"""
    manager = f"""
[general]
enabled = yes
port = {ami_port}
bindaddr = 127.0.0.1

[world]
secret = world
read = all
write = all
"""
    return {
        "pjsip.conf": pjsip,
        "extensions.conf": extensions,
        "manager.conf": manager,
        "rtp.conf": "[general]\nrtpstart=20000\nrtpend=20199\n",
    }


# --------------------------------------------------------------------------- a raw AMI client


class AmiClient:
    """A plain AMI session (the world's control, or a tap on the hotline PBX that records
    every byte as ../shared/ami-transcripts/ were recorded)."""

    def __init__(self, port: int, user: str, secret: str, record: Path | None = None) -> None:
        self.port, self.user, self.secret = port, user, secret
        self.record = record
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._t0 = 0.0
        self._buffer = b""
        self.events: list[dict[str, str]] = []
        self._replies: dict[str, asyncio.Future[dict[str, str]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._counter = 0
        self._log = None

    async def connect(self) -> None:
        self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self.port)
        self._t0 = time.monotonic()
        if self.record is not None:
            self.record.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.record.open("w", encoding="utf-8")
        self._task = asyncio.create_task(self._read())
        reply = await self.action({"Action": "Login", "Username": self.user,
                                   "Secret": self.secret})
        assert reply.get("Response") == "Success", reply

    def _note(self, direction: str, data: bytes) -> None:
        if self._log is not None:
            self._log.write(json.dumps({"t": round(time.monotonic() - self._t0, 3),
                                        "dir": direction, "data": data.decode("utf-8")},
                                       ensure_ascii=False) + "\n")

    async def _read(self) -> None:
        assert self._reader is not None
        while True:
            chunk = await self._reader.read(65536)
            if not chunk:
                return
            self._note("in", chunk)
            self._buffer += chunk
            while b"\r\n\r\n" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
                message: dict[str, str] = {}
                for line in raw.decode("utf-8", "replace").split("\r\n"):
                    key, sep, value = line.partition(": ")
                    if sep:
                        message.setdefault(key, value)
                aid = message.get("ActionID")
                if "Response" in message and aid in self._replies:
                    self._replies.pop(aid).set_result(message)
                elif "Event" in message:
                    self.events.append(message)

    async def action(self, fields: dict[str, str], timeout: float = 15.0) -> dict[str, str]:
        assert self._writer is not None
        self._counter += 1
        aid = f"{self.user}-{self._counter}"
        future: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()
        self._replies[aid] = future
        data = "".join(f"{k}: {v}\r\n" for k, v in {**fields, "ActionID": aid}.items()) + "\r\n"
        raw = data.encode("utf-8")
        self._note("out", raw)
        self._writer.write(raw)
        await self._writer.drain()
        return await asyncio.wait_for(future, timeout)

    async def wait_event(self, predicate: Callable[[dict[str, str]], bool],
                         timeout: float = 30.0, start: int = 0) -> dict[str, str]:
        async with asyncio.timeout(timeout):
            seen = start
            while True:
                for event in self.events[seen:]:
                    if predicate(event):
                        return event
                seen = len(self.events)
                await asyncio.sleep(0.05)

    async def close(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                await self.action({"Action": "Logoff"}, timeout=3)
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(Exception):
                await self._task
        if self._log is not None:
            self._log.close()


def wav_seconds(path: Path) -> float:
    import wave

    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / float(wav.getframerate())

