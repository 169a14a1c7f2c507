"""XLSX cell values as text: shared strings, numbers, booleans and date-formatted numbers."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

from .ooxml import Package, local

__all__ = ["CellFormats", "column_index", "rich_text", "shared_strings"]

#: Built-in number formats that show dates or times.
_DATE_FORMAT_IDS = {*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)}
#: Quoted text, escaped characters and [colour]/[condition] sections of a format code.
_FORMAT_NOISE = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')
_DATE_TOKENS = re.compile(r"[ymdhs]", re.IGNORECASE)
_COLUMN = re.compile(r"[A-Za-z]+")
_LAST_SERIAL = 2958465  # 9999-12-31


def column_index(ref: str | None) -> int | None:
    """0-based column of a cell reference such as ``B7`` (None if it has none)."""
    match = _COLUMN.match(ref or "")
    if match is None:
        return None
    index = 0
    for char in match.group(0).upper():
        index = index * 26 + ord(char) - 64
    return index - 1


def rich_text(element: ET.Element) -> str:
    """Text of a string item (``<si>`` or ``<is>``): its runs, without phonetic guides."""
    parts: list[str] = []
    stack = [element]
    while stack:
        node = stack.pop()
        name = local(node.tag)
        if name == "rPh":
            continue
        if name == "t":
            parts.append(node.text or "")
        stack.extend(reversed(node))
    return "".join(parts)


def shared_strings(package: Package, part: str | None) -> list[str]:
    """The shared-string table (empty when the workbook has none)."""
    if part is None or not package.has(part):
        return []
    strings: list[str] = []
    for event, element in package.iterxml(part):
        if event == "end" and local(element.tag) == "si":
            strings.append(rich_text(element))
            element.clear()
    return strings


class CellFormats:
    """Which cell styles show numbers as dates, and the workbook's date system."""

    def __init__(self, package: Package, styles: str | None, date1904: bool) -> None:
        self.date_styles: set[int] = set()
        self.epoch = dt.datetime(1904, 1, 1) if date1904 else dt.datetime(1899, 12, 30)
        if styles is None or not package.has(styles):
            return
        root = package.xml(styles)
        custom_dates = {
            int(fmt.get("numFmtId", "-1"))
            for fmt in root.iter()
            if local(fmt.tag) == "numFmt" and _is_date_code(fmt.get("formatCode", ""))
        }
        date_ids = _DATE_FORMAT_IDS | custom_dates
        for section in root:
            if local(section.tag) == "cellXfs":
                for index, xf in enumerate(child for child in section if local(child.tag) == "xf"):
                    if _int(xf.get("numFmtId")) in date_ids:
                        self.date_styles.add(index)

    def number(self, value: str, style: str | None) -> str:
        """A numeric cell as text: dates as ISO 8601, integers without ``.0``."""
        try:
            number = float(value)
        except ValueError:
            return value
        if _int(style or "0") in self.date_styles and 0 <= number <= _LAST_SERIAL:
            return self._date(number)
        if number.is_integer() and abs(number) < 1e15:
            return str(int(number))
        return repr(number)

    def _date(self, serial: float) -> str:
        moment = self.epoch + dt.timedelta(days=serial)
        moment = (moment + dt.timedelta(microseconds=500_000)).replace(microsecond=0)
        if serial < 1:
            return moment.time().isoformat()
        if moment.time() == dt.time(0):
            return moment.date().isoformat()
        return moment.isoformat(sep=" ")


def _is_date_code(code: str) -> bool:
    return bool(_DATE_TOKENS.search(_FORMAT_NOISE.sub("", code)))


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None
