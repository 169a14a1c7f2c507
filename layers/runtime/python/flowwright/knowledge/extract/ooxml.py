"""Reading OOXML packages (DOCX, PPTX, XLSX) safely: zip-bomb checks, capped reads,
DTD-free XML, relationships and core properties."""

from __future__ import annotations

import io
import posixpath
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from .errors import ExtractionError
from .source import Source

__all__ = ["Package", "Relationship", "local", "relationship_id"]

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: Entries smaller than this are not held to the compression ratio (tiny XML compresses well).
_RATIO_FLOOR = 1024 * 1024
_CHUNK = 1024 * 1024


def local(tag: str) -> str:
    """An element's name without its namespace (transitional and strict OOXML alike)."""
    return tag.rpartition("}")[2]


def relationship_id(element: ET.Element) -> str:
    """The ``r:id`` attribute of an element, whatever the relationships namespace."""
    for key, value in element.attrib.items():
        if key.endswith("}id"):
            return value
    return ""


@dataclass(frozen=True)
class Relationship:
    """One entry of a ``.rels`` part; ``target`` is resolved to a package path."""

    type: str
    target: str


class Package:
    """An OOXML zip whose declared sizes passed the bomb checks."""

    def __init__(self, source: Source) -> None:
        self.source = source
        if source.data.startswith(_OLE_MAGIC):
            raise source.error(
                "encrypted", "the document is password-protected (remove the password and retry)"
            )
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(source.data))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
            raise source.error("corrupt", f"not a valid zip archive ({exc})") from exc
        self._check(infos)
        self.entries = {info.filename: info for info in infos}
        self.budget = source.limits.max_uncompressed_bytes

    def _check(self, infos: list[zipfile.ZipInfo]) -> None:
        limits = self.source.limits
        if len(infos) > limits.max_zip_entries:
            raise self.source.error(
                "bomb", f"the archive has {len(infos)} entries (limit {limits.max_zip_entries})"
            )
        total = sum(info.file_size for info in infos)
        if total > limits.max_uncompressed_bytes:
            raise self.source.error(
                "bomb",
                f"the archive would inflate to {total / 2**20:.0f} MiB "
                f"(limit {limits.max_uncompressed_bytes / 2**20:.0f} MiB)",
            )
        for info in infos:
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size >= _RATIO_FLOOR and ratio > limits.max_compression_ratio:
                raise self.source.error(
                    "bomb",
                    f"{info.filename} inflates {ratio:.0f}x "
                    f"(limit {limits.max_compression_ratio:g}x), a decompression bomb",
                )
            if info.flag_bits & 0x1:
                raise self.source.error("encrypted", f"{info.filename} is encrypted in the zip")

    def has(self, name: str) -> bool:
        """Whether the package holds a part with this path."""
        return name in self.entries

    def read(self, name: str) -> bytes:
        """A part's bytes, read in chunks and charged to the package's inflation budget."""
        info = self.entries.get(name)
        if info is None:
            raise self.source.error("corrupt", f"the package has no {name} part")
        out = bytearray()
        try:
            with self.zip.open(info) as stream:
                while chunk := stream.read(min(_CHUNK, self.budget - len(out) + 1)):
                    out += chunk
                    if len(out) > self.budget:
                        raise self.source.error(
                            "bomb", f"{name} inflates beyond the uncompressed-size limit"
                        )
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as exc:
            raise self.source.error("corrupt", f"{name} could not be unpacked ({exc})") from exc
        self.budget -= len(out)
        return bytes(out)

    def xml(self, name: str) -> ET.Element:
        """Parse a part as XML (no DTDs: OOXML never has one)."""
        data = self._xml_bytes(name)
        try:
            return ET.fromstring(data)
        except ET.ParseError as exc:
            raise self.source.error("corrupt", f"{name} is not well-formed XML ({exc})") from exc

    def iterxml(self, name: str) -> Iterator[tuple[str, ET.Element]]:
        """``("start"|"end", element)`` events of a part, for large parts (callers drop the
        elements they are done with)."""
        data = self._xml_bytes(name)
        try:
            yield from ET.iterparse(io.BytesIO(data), events=("start", "end"))
        except ET.ParseError as exc:
            raise self.source.error("corrupt", f"{name} is not well-formed XML ({exc})") from exc

    def _xml_bytes(self, name: str) -> bytes:
        data = self.read(name)
        if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
            raise self.source.error("corrupt", f"{name} declares a DTD, which OOXML never does")
        return data

    def relationships(self, part: str) -> dict[str, Relationship]:
        """The relationships of ``part`` ("" for the package), by id; internal targets only."""
        folder, base = posixpath.split(part)
        rels = posixpath.join(folder, "_rels", f"{base}.rels")
        if not self.has(rels):
            return {}
        found: dict[str, Relationship] = {}
        for element in self.xml(rels):
            if element.get("TargetMode") == "External":
                continue
            rel_id, target = element.get("Id"), element.get("Target")
            if rel_id and target:
                path = target[1:] if target.startswith("/") else posixpath.join(folder, target)
                found[rel_id] = Relationship(element.get("Type", ""), posixpath.normpath(path))
        return found

    def main_part(self, default: str) -> str:
        """The package's main document part (from ``_rels/.rels``), else ``default``."""
        for rel in self.relationships("").values():
            if rel.type.endswith("/officeDocument") and self.has(rel.target):
                return rel.target
        return default

    def title(self) -> str | None:
        """``dc:title`` from ``docProps/core.xml``, if set."""
        if not self.has("docProps/core.xml"):
            return None
        try:
            core = self.xml("docProps/core.xml")
        except ExtractionError as exc:
            if exc.code != "corrupt":
                raise
            return None  # unreadable properties are no reason to lose the text
        for element in core:
            if local(element.tag) == "title" and element.text and element.text.strip():
                return " ".join(element.text.split())
        return None
