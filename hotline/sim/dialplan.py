"""What the simulated dialplan knows: lines, organizations, queues, operators' phones.

It mirrors what config/asterisk/ gives a real Asterisk: `from-trunk` answers each 8-800 line,
`hotline-l2,<org code or level-2 extension>` queues a caller for level 2, `callback,<number>`
records and dials a citizen from an operator's phone, `hotline-spy,<listen|whisper|barge>`
runs ChanSpy on `HOTLINE_SPY_TARGET` from a supervisor's phone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hotline.config import Line, Organization, Settings
from hotline.pbx.spy import SPY_CONTEXT, SPY_MODES

L2_CONTEXT = "hotline-l2"
CALLBACK_CONTEXT = "callback"
INBOUND_CONTEXT = "from-trunk"
OPERATORS_CONTEXT = "from-operators"

# The fund's phones as the transcripts show them; other organizations get generated ones.
_TFOMS_ROSTER: dict[str, list[tuple[str, str, tuple[str, str] | None]]] = {
    "level1": [
        ("PJSIP/op101", "Иванова А.А.", ("101", "Оператор 101")),
        ("PJSIP/op102", "Петров Б.Б.", None),
    ],
    "level2": [("PJSIP/op201", "Сидорова В.В.", None)],
}
_SURNAMES = [
    "Кузнецова", "Смирнов", "Попова", "Васильев", "Соколова", "Михайлов", "Новикова", "Фёдоров",
]


@dataclass(frozen=True)
class Phone:
    """An operator's phone: queue interface, member name, caller id set on the endpoint."""

    interface: str
    name: str
    endpoint_callerid: tuple[str, str] | None = None

    @property
    def endpoint(self) -> str:
        return self.interface.split("/", 1)[1]


@dataclass
class Dialplan:
    """Lines, organizations and who answers which queue."""

    settings: Settings
    roster: dict[str, list[Phone]] = field(default_factory=dict)

    def line(self, number: str) -> Line:
        return self.settings.line(number)

    def org_of_line(self, number: str) -> Organization:
        return self.settings.organization(self.settings.line(number).organization)

    def level2_target(self, context: str, exten: str) -> Organization | None:
        """The organization whose level-2 queue `context,exten` leads to, if any."""
        if context != L2_CONTEXT:
            return None
        for org in self.settings.organizations:
            if exten in (org.code, org.level2_extension):
                return org
        return None

    def extension_exists(self, context: str, exten: str) -> bool:
        if context == CALLBACK_CONTEXT:
            return exten.isdigit()
        if context == INBOUND_CONTEXT:
            return any(line.number == exten for line in self.settings.lines)
        if context == SPY_CONTEXT:
            return exten in SPY_MODES
        return self.level2_target(context, exten) is not None

    def phone(self, interface: str) -> Phone | None:
        for phones in self.roster.values():
            for phone in phones:
                if phone.interface.lower() == interface.lower():
                    return phone
        return None

    def endpoint(self, interface: str) -> Phone | None:
        """Any phone the PBX has an endpoint for: an operator's of the roster, or a
        supervisor's (`supervisor_phones`: in no queue; pjsip.conf gives each endpoint its
        own name as caller id)."""
        found = self.phone(interface)
        if found is not None:
            return found
        for org in self.settings.organizations:
            for name in org.supervisor_phones:
                if f"PJSIP/{name}".lower() == interface.lower():
                    return Phone(f"PJSIP/{name}", name, (name, name))
        return None


def default_roster(
    settings: Settings, agents_per_queue: int | None = None
) -> dict[str, list[Phone]]:
    """Queue name → phones. The fund gets the transcripts' op101/op102/op201 by default."""
    roster: dict[str, list[Phone]] = {}
    for index, org in enumerate(settings.organizations):
        if org.code == "tfoms" and agents_per_queue is None:
            roster[org.level1_queue] = [Phone(*p) for p in _TFOMS_ROSTER["level1"]]
            roster[org.level2_queue] = [Phone(*p) for p in _TFOMS_ROSTER["level2"]]
            continue
        count1 = agents_per_queue or 2
        count2 = agents_per_queue or 1
        roster[org.level1_queue] = _phones(index, 1, count1)
        roster[org.level2_queue] = _phones(index, 2, count2)
    return roster


def _phones(org_index: int, level: int, count: int) -> list[Phone]:
    phones = []
    for n in range(count):
        number = f"op{level}{org_index}{n:02d}" if org_index else f"op{level}{n + 1:02d}"
        surname = _SURNAMES[(org_index * 3 + level + n) % len(_SURNAMES)]
        initials = f"{chr(0x410 + n % 32)}.{chr(0x410 + level)}."
        phones.append(Phone(f"PJSIP/{number}", f"{surname} {initials}"))
    return phones
