"""Reading an extract of the register of insured persons (РС ЕРЗЛ) from CSV or XML.

CSV (UTF-8, with or without BOM, or Windows-1251; `;` or `,` between fields), a header line
naming the columns in any order:

    ЕНП;ФИО;Дата рождения;СМО;Полис с;Полис по
    2250123456789018;Иванова Анна Петровна;15.03.1980;22003;01.02.2021;

XML: a root element holding one `<person>` (or `<insured>`, `<zl>`) per person, the fields as
child elements or attributes: `enp`, `fio`, `birth_date`, `smo`, `policy_from`, `policy_to`
(the Russian CSV headers' Latin twins; case does not matter):

    <register date="2026-01-31">
      <person><enp>2250123456789018</enp><fio>Иванова Анна Петровна</fio>
        <birth_date>1980-03-15</birth_date><smo>22003</smo><policy_from>2021-02-01</policy_from></person>
    </register>

Dates as ДД.ММ.ГГГГ or ГГГГ-ММ-ДД. ЕНП, ФИО and СМО are required. Every bad row is reported
with its line number in Russian; a repeated ЕНП is an error; a control digit that does not match
is a warning only (the register is the authority on its own numbers).
"""

from __future__ import annotations

import csv
import io
import xml.sax
import xml.sax.expatreader
import xml.sax.handler
import xml.sax.xmlreader
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from journal import enp
from journal.register import Insured

COLUMNS = {
    "енп": "enp", "enp": "enp", "номер полиса": "enp",
    "фио": "fio", "fio": "fio",
    "дата рождения": "birth_date", "др": "birth_date", "birth_date": "birth_date", "dr": "birth_date",
    "смо": "smo", "smo": "smo", "код смо": "smo",
    "полис с": "policy_from", "дата начала": "policy_from", "policy_from": "policy_from",
    "полис по": "policy_to", "дата окончания": "policy_to", "policy_to": "policy_to",
}
PERSON_TAGS = {"person", "insured", "zl"}
REQUIRED = ("enp", "fio", "smo")
TITLES = {"enp": "ЕНП", "fio": "ФИО", "smo": "СМО", "birth_date": "дата рождения",
          "policy_from": "начало действия полиса", "policy_to": "окончание действия полиса"}


class RegisterFileError(Exception):
    """The file cannot be read at all (format, encoding, no header): one Russian sentence."""


@dataclass
class ParsedRegister:
    persons: list[Insured] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # rows left out, «строка N: ...»
    warnings: list[str] = field(default_factory=list)  # rows loaded, with a remark


def read_register(path: Path) -> ParsedRegister:
    """Parse a CSV or XML extract (by its content, not only its name)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RegisterFileError(f"не удалось прочитать файл {path}: {exc.strerror}") from None
    head = raw.lstrip(b"\xef\xbb\xbf \r\n\t")[:1]
    if head == b"<":
        return _rows(_xml_records(raw))
    return _rows(_csv_records(raw))


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1251")


def _csv_records(raw: bytes) -> Iterable[tuple[int, dict[str, str]]]:
    text = _decode(raw)
    first = text.splitlines()[0] if text.strip() else ""
    if not first:
        raise RegisterFileError("файл пуст")
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader)
    keys = [COLUMNS.get(h.strip().lower()) for h in header]
    missing = [TITLES[k] for k in REQUIRED if k not in keys]
    if missing:
        raise RegisterFileError(
            f"строка 1: в заголовке нет столбцов {', '.join(missing)} (ожидается "
            "«ЕНП;ФИО;Дата рождения;СМО;Полис с;Полис по»)")
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        values = {k: v.strip() for k, v in zip(keys, row, strict=False) if k}
        if len(row) != len(header):
            values["__columns__"] = f"{len(row)} из {len(header)}"
        yield reader.line_num, values


class _PersonHandler(xml.sax.handler.ContentHandler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[tuple[int, dict[str, str]]] = []
        self._current: dict[str, str] | None = None
        self._line = 0
        self._field: str | None = None
        self._text: list[str] = []
        # Set by ContentHandler.__init__ and setDocumentLocator (not in typeshed's stub).
        self._locator: xml.sax.xmlreader.Locator | None = None

    def startElement(self, name: str, attrs: xml.sax.xmlreader.AttributesImpl[str]  # noqa: N802 - SAX API
                     ) -> None:
        tag = name.lower()
        if tag in PERSON_TAGS:
            self._line = (self._locator.getLineNumber() or 0) if self._locator else 0
            self._current = {COLUMNS[k.lower()]: v.strip() for k, v in attrs.items()
                             if k.lower() in COLUMNS}
        elif self._current is not None and tag in COLUMNS:
            self._field, self._text = COLUMNS[tag], []

    def characters(self, content: str) -> None:
        if self._field is not None:
            self._text.append(content)

    def endElement(self, name: str) -> None:  # noqa: N802 - SAX API
        tag = name.lower()
        if self._field is not None and self._current is not None and COLUMNS.get(tag) == self._field:
            self._current[self._field] = "".join(self._text).strip()
            self._field = None
        elif tag in PERSON_TAGS and self._current is not None:
            self.records.append((self._line, self._current))
            self._current = None


def _xml_records(raw: bytes) -> list[tuple[int, dict[str, str]]]:
    handler = _PersonHandler()
    parser = xml.sax.expatreader.create_parser()  # make_parser()'s default, typed incremental
    parser.setFeature(xml.sax.handler.feature_external_ges, False)
    parser.setFeature(xml.sax.handler.feature_external_pes, False)
    parser.setContentHandler(handler)
    try:
        parser.feed(raw)
        parser.close()
    except xml.sax.SAXParseException as exc:
        raise RegisterFileError(
            f"строка {exc.getLineNumber()}: файл не является правильным XML ({exc.getMessage()})"
        ) from None
    if not handler.records:
        raise RegisterFileError("в XML нет ни одного элемента <person> с данными застрахованного")
    return handler.records


def _date(text: str | None) -> date | None:
    if not text:
        return None
    for fmt in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def _rows(records: Iterable[tuple[int, dict[str, str]]]) -> ParsedRegister:
    out = ParsedRegister()
    seen: dict[str, int] = {}
    for line, values in records:
        where = f"строка {line}"
        if "__columns__" in values:
            out.errors.append(f"{where}: неверное число полей ({values['__columns__']})")
            continue
        empty = [TITLES[k] for k in REQUIRED if not values.get(k)]
        if empty:
            out.errors.append(f"{where}: не заполнено: {', '.join(empty)}")
            continue
        number = values["enp"].replace(" ", "")
        if len(number) != enp.ENP_LENGTH or not number.isdigit():
            out.errors.append(f"{where}: ЕНП «{values['enp']}» должен состоять из 16 цифр")
            continue
        if number in seen:
            out.errors.append(f"{where}: ЕНП {number} уже был в строке {seen[number]}")
            continue
        dates: dict[str, date | None] = {}
        bad = False
        for key in ("birth_date", "policy_from", "policy_to"):
            try:
                dates[key] = _date(values.get(key))
            except ValueError:
                out.errors.append(f"{where}: {TITLES[key]} «{values[key]}» — не дата "
                                  "(нужно ДД.ММ.ГГГГ или ГГГГ-ММ-ДД)")
                bad = True
                break
        if bad:
            continue
        if dates["policy_from"] and dates["policy_to"] and dates["policy_to"] < dates["policy_from"]:
            out.errors.append(f"{where}: полис заканчивается раньше, чем начинается")
            continue
        if not enp.is_valid(number):
            out.warnings.append(f"{where}: у ЕНП {number} не сходится контрольная цифра "
                                "(загружен как есть)")
        seen[number] = line
        out.persons.append(Insured(number, " ".join(values["fio"].split())[:300],
                                   dates["birth_date"], values["smo"][:32],
                                   dates["policy_from"], dates["policy_to"]))
    return out
