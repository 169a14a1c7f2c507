"""Document text extraction: formats built here, limits, the isolated runner, the corpus."""

from __future__ import annotations

import codecs
import faulthandler
import io
import json
import multiprocessing
import os
import pickle
import signal
import struct
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flowwright.knowledge.extract import (
    ExtractionError,
    ExtractLimits,
    detect_type,
    dispatch,
    extract,
    extract_isolated,
)
from flowwright.knowledge.models import ExtractedDocument

from tests.support import SHARED

CORPUS = SHARED / "corpus"
HAS_FORK = "fork" in multiprocessing.get_all_start_methods()
needs_fork = pytest.mark.skipif(not HAS_FORK, reason="patched extractors reach the child by fork")

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
A = 'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
P = 'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"'
R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
S = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
MC = 'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
RELS = 'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"'
RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def error_of(data: bytes, filename: str, **kwargs: Any) -> ExtractionError:
    with pytest.raises(ExtractionError) as info:
        extract(data, filename=filename, **kwargs)
    return info.value


# --- building small files -------------------------------------------------------------


def make_zip(parts: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content.encode() if isinstance(content, str) else content)
    return buffer.getvalue()


def rels(*targets: tuple[str, str]) -> str:
    items = "".join(
        f'<Relationship Id="rId{i}" Type="{RT}/{kind}" Target="{target}"/>'
        for i, (kind, target) in enumerate(targets, 1)
    )
    return f"<Relationships {RELS}>{items}</Relationships>"


def core(title: str) -> str:
    return (
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
        'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:title>{title}</dc:title></cp:coreProperties>"
    )


def make_docx(body: str, title: str = "") -> bytes:
    return make_zip(
        {
            "[Content_Types].xml": "<Types/>",
            "_rels/.rels": rels(("officeDocument", "word/document.xml")),
            "word/document.xml": f"<w:document {W} {MC}><w:body>{body}</w:body></w:document>",
            "docProps/core.xml": core(title),
        }
    )


def wp(text: str) -> str:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"


def slide(*paragraphs: str) -> str:
    ps = "".join(f"<a:p><a:r><a:t>{t}</a:t></a:r></a:p>" for t in paragraphs)
    return (
        f"<p:sld {P} {A}><p:cSld><p:spTree><p:sp><p:txBody>{ps}</p:txBody></p:sp>"
        "</p:spTree></p:cSld></p:sld>"
    )


def make_pdf(contents: list[bytes], title: str | None = None) -> bytes:
    """A valid PDF with one Helvetica text page per content stream."""
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    kids = []
    for i, content in enumerate(contents):
        page = 4 + 2 * i
        kids.append(b"%d 0 R" % page)
        objects[page] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (page + 1)
        )
        objects[page + 1] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content)
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    info = b""
    if title:
        info_number = max(objects) + 1
        objects[info_number] = b"<< /Title (%s) >>" % title.encode()
        info = b" /Info %d 0 R" % info_number
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, objects[number])
    xref, size = len(out), max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    out += b"".join(b"%010d 00000 n \n" % offsets[n] for n in range(1, size))
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (size, info, xref)
    return bytes(out)


def text_page(text: str) -> bytes:
    return b"BT /F1 24 Tf 72 720 Td (%s) Tj ET" % text.encode()


# --- errors, limits, detection --------------------------------------------------------


def test_error_shape() -> None:
    err = ExtractionError("encrypted", "report.pdf: PDF is encrypted and needs a password")
    assert str(err) == err.reason and err.code == "encrypted"
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.code, copy.reason) == (err.code, err.reason)


def test_limits_defaults() -> None:
    limits = ExtractLimits()
    assert limits.max_bytes == 50 * 2**20 and limits.max_uncompressed_bytes == 200 * 2**20
    assert (limits.max_seconds, limits.max_memory_mb, limits.max_compression_ratio) == (
        60,
        1024,
        100,
    )


def test_empty_and_too_large() -> None:
    assert error_of(b"", "a.txt").code == "empty_file"
    err = error_of(b"x" * 2000, "folder/big.txt", limits=ExtractLimits(max_bytes=1000))
    assert err.code == "too_large" and err.reason.startswith("big.txt: ")


@pytest.mark.parametrize(
    ("filename", "content_type", "data", "expected"),
    [
        ("a.PDF", None, b"", "pdf"),
        ("notes.md", "application/pdf", b"", "markdown"),  # extension wins
        ("upload", "text/csv; charset=utf-8", b"", "csv"),
        ("upload", "application/octet-stream", b"junk\n%PDF-1.7\n", "pdf"),
        ("upload", None, make_docx(wp("x")), "docx"),
        ("upload", None, make_zip({"ppt/presentation.xml": "<x/>"}), "pptx"),
        ("upload", None, make_zip({"xl/workbook.xml": "<x/>"}), "xlsx"),
        ("page.htm", None, b"", "html"),
        ("data.json", None, b"", "json"),
        ("readme.txt", None, b"", "txt"),
    ],
)
def test_detect_type(filename: str, content_type: str | None, data: bytes, expected: str) -> None:
    assert detect_type(filename, data, content_type) == expected


@pytest.mark.parametrize(
    ("filename", "data", "words"),
    [
        ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "legacy Microsoft Office"),
        ("slides.key", b"PK\x03\x04 not really a zip", "unsupported file type (.key)"),
        ("image.png", b"\x89PNG\r\n", "unsupported file type (.png)"),
    ],
)
def test_unsupported(filename: str, data: bytes, words: str) -> None:
    err = error_of(data, filename)
    assert err.code == "unsupported_type" and words in err.reason
    assert err.reason.startswith(f"{filename}: ")


# --- text formats ---------------------------------------------------------------------


def test_utf16_with_bom() -> None:
    doc = extract("Grüße, 世界\nline two".encode("utf-16"), filename="a.txt")
    assert doc.text == "Grüße, 世界\nline two"
    assert doc.metadata["encoding"] == "utf-16" and doc.metadata["title"] == "a"


def test_utf16_without_bom_is_guessed() -> None:
    text = "Quarterly report for the knowledge base, with enough words to guess from.\n" * 3
    doc = extract(text.encode("utf-16-le"), filename="a.txt")
    assert doc.text == text and doc.metadata["encoding"] == "utf-16-le"


def test_gbk_text() -> None:
    text = "这是一个测试文件，用于检查编码的文本是否可以被正确识别。知识库需要支持中文文档。\n" * 2
    doc = extract(text.encode("gbk"), filename="中文.md")
    assert doc.text == text and doc.metadata["encoding"] in ("gb18030", "gbk", "gb2312")
    assert doc.metadata == {**doc.metadata, "content_type": "markdown", "title": "中文"}


def test_charset_from_content_type() -> None:
    doc = extract(
        "café".encode("cp1252"), filename="a.txt", content_type="text/plain; charset=cp1252"
    )
    assert doc.text == "café" and doc.metadata["encoding"] == "cp1252"


def test_binary_is_a_decode_error() -> None:
    assert error_of(bytes(64), "zeros.txt").code == "decode"


def test_whitespace_only_is_no_text() -> None:
    err = error_of(b" \n\t\n", "blank.md")
    assert err.code == "no_text" and err.reason == "blank.md: the Markdown file contains no text"


def test_json_pretty_printed_and_invalid() -> None:
    doc = extract(b'{"name":"\\u5317\\u4eac","n":[1,2]}', filename="d.json")
    assert doc.text == json.dumps({"name": "北京", "n": [1, 2]}, indent=2, ensure_ascii=False)
    err = error_of(b'{"a": 1,,}', "bad.json")
    assert err.code == "decode" and "not valid JSON" in err.reason


def test_csv_rows_with_header_and_sniffed_dialect() -> None:
    data = b'Name;City;Note\nAda;London;"multi\nline"\nLinus;;x\n;;\n'
    doc = extract(data, filename="people.csv")
    assert doc.text == "Name: Ada; City: London; Note: multi line\nName: Linus; Note: x"
    assert doc.metadata["encoding"] == "utf-8"


def test_html_drops_scripts_and_keeps_blocks() -> None:
    html = (
        "<html><head><title> The  Title </title><style>p{color:red}</style>"
        '<script>var s = "<p>hidden</p>";</script></head><body><noscript>enable js</noscript>'
        "<h1>Heading</h1><p>One <b>bold</b>\n word</p><ul><li>a</li><li> b </li></ul>"
        "<table><tr><th>x</th><th>y</th></tr><tr><td>1</td><td>2</td></tr></table>"
        "<pre>  code\n    indented</pre>tail<br>after &amp; more</body></html>"
    )
    doc = extract(html.encode(), filename="p.html")
    assert doc.text == (
        "Heading\n\nOne bold word\n\n- a\n- b\n\nx | y\n1 | 2\n\n  code\n    indented\n\n"
        "tail\nafter & more"
    )
    assert doc.metadata["title"] == "The Title"


def test_html_declared_charset() -> None:
    html = '<html><head><meta charset="gbk"><title>标题</title></head><body>中文内容</body></html>'
    doc = extract(html.encode("gbk"), filename="cn.html")
    assert doc.text == "中文内容" and doc.metadata["title"] == "标题"
    assert doc.metadata["encoding"] == "gb18030"  # gbk labels read as the superset


# --- office formats -------------------------------------------------------------------


def test_docx_paragraphs_tables_and_title() -> None:
    table = (
        "<w:tbl><w:tblPr/><w:tr><w:tc>" + wp("Name") + "</w:tc><w:tc>" + wp("Age") + "</w:tc>"
        "</w:tr><w:tr><w:tc>" + wp("Ada") + "</w:tc><w:tc>" + wp("36") + "</w:tc></w:tr>"
        "<w:tr><w:tc><w:p/></w:tc><w:tc><w:p/></w:tc></w:tr></w:tbl>"
    )
    body = (
        wp("First")
        + table
        + "<w:p><w:pPr><w:tabs><w:tab w:val='left' w:pos='720'/></w:tabs></w:pPr>"
        "<w:r><w:t>a</w:t><w:tab/><w:t>b</w:t></w:r><w:del><w:r><w:delText>gone</w:delText>"
        "</w:r></w:del><w:r><w:br/><w:t xml:space='preserve'>c </w:t></w:r></w:p>"
        "<w:p><w:r><mc:AlternateContent><mc:Choice><w:t>chosen</w:t></mc:Choice>"
        "<mc:Fallback><w:t>fallback</w:t></mc:Fallback></mc:AlternateContent></w:r></w:p>"
    )
    doc = extract(make_docx(body, title="Staff list"), filename="staff.docx")
    assert doc.pages[0].number is None
    assert doc.text == "First\n\nName | Age\nAda | 36\n\na\tb\nc\n\nchosen"
    assert doc.metadata == {
        "title": "Staff list",
        "content_type": "docx",
        "size": doc.metadata["size"],
    }


def test_docx_without_text_and_encrypted() -> None:
    assert error_of(make_docx("<w:p/>"), "empty.docx").code == "no_text"
    err = error_of(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "secret.docx")
    assert err.code == "encrypted" and "password" in err.reason


def test_docx_broken_parts_are_corrupt() -> None:
    assert error_of(b"PK\x03\x04broken", "a.docx").code == "corrupt"
    broken = make_zip({"word/document.xml": "<w:document"})
    err = error_of(broken, "a.docx")
    assert err.code == "corrupt" and "word/document.xml is not well-formed XML" in err.reason
    dtd = make_zip({"word/document.xml": '<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>'})
    assert error_of(dtd, "a.docx").code == "corrupt"


def test_pptx_slides_in_numeric_order_with_notes() -> None:
    notes = (
        f"<p:notes {P} {A}><p:cSld><p:spTree>"
        '<p:sp><p:nvSpPr><p:nvPr><p:ph type="sldNum"/></p:nvPr></p:nvSpPr>'
        "<p:txBody><a:p><a:r><a:t>10</a:t></a:r></a:p></p:txBody></p:sp>"
        '<p:sp><p:nvSpPr><p:nvPr><p:ph type="body" idx="1"/></p:nvPr></p:nvSpPr>'
        "<p:txBody><a:p><a:r><a:t>Say this</a:t></a:r></a:p></p:txBody></p:sp>"
        "</p:spTree></p:cSld></p:notes>"
    )
    data = make_zip(
        {
            "ppt/slides/slide10.xml": slide("Ten"),
            "ppt/slides/slide2.xml": slide("Two", "second line"),
            "ppt/slides/slide1.xml": slide("One"),
            "ppt/slides/_rels/slide10.xml.rels": rels(
                ("notesSlide", "../notesSlides/notesSlide1.xml")
            ),
            "ppt/notesSlides/notesSlide1.xml": notes,
        }
    )
    doc = extract(data, filename="deck.pptx")
    assert [(p.number, p.text) for p in doc.pages] == [
        (1, "One"),
        (2, "Two\nsecond line"),
        (3, "Ten\n\nNotes:\nSay this"),
    ]
    assert doc.metadata["page_count"] == 3 and doc.metadata["title"] == "deck"


def test_pptx_uses_presentation_order_and_tables() -> None:
    table = (
        f"<p:sld {P} {A}><p:cSld><p:spTree><p:graphicFrame><a:graphic><a:graphicData>"
        "<a:tbl><a:tr><a:tc><a:txBody><a:p><a:r><a:t>h1</a:t></a:r></a:p></a:txBody></a:tc>"
        "<a:tc><a:txBody><a:p><a:r><a:t>h2</a:t></a:r></a:p></a:txBody></a:tc></a:tr></a:tbl>"
        "</a:graphicData></a:graphic></p:graphicFrame></p:spTree></p:cSld></p:sld>"
    )
    presentation = (
        f'<p:presentation {P} {R}><p:sldIdLst><p:sldId id="256" r:id="rId2"/>'
        '<p:sldId id="257" r:id="rId1"/></p:sldIdLst></p:presentation>'
    )
    data = make_zip(
        {
            "_rels/.rels": rels(("officeDocument", "ppt/presentation.xml")),
            "ppt/presentation.xml": presentation,
            "ppt/_rels/presentation.xml.rels": rels(
                ("slide", "slides/slide1.xml"), ("slide", "slides/slide2.xml")
            ),
            "ppt/slides/slide1.xml": slide("moved to the end"),
            "ppt/slides/slide2.xml": table,
            "docProps/core.xml": core("Deck"),
        }
    )
    doc = extract(data, filename="deck.pptx")
    assert [(p.number, p.text) for p in doc.pages] == [(1, "h1 | h2"), (2, "moved to the end")]
    assert doc.metadata["title"] == "Deck"


def make_xlsx() -> bytes:
    workbook = (
        f"<workbook {S} {R}><workbookPr/><sheets>"
        '<sheet name="People" sheetId="1" r:id="rId2"/><sheet name="Chart" sheetId="2" r:id="rId3"/>'
        '<sheet name="Empty" sheetId="3" r:id="rId1"/></sheets></workbook>'
    )
    people = (
        f"<worksheet {S}><dimension ref='A1:XFD1048576'/><sheetData>"
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
        '<c r="C1" t="inlineStr"><is><t>Joined</t></is></c><c r="D1" t="s"><v>2</v></c></row>'
        '<row r="2"><c r="A2" t="s"><v>3</v></c><c r="B2"><v>36.0</v></c>'
        '<c r="C2" s="1"><v>45306</v></c><c r="D2" t="b"><v>1</v></c></row>'
        '<row r="3"><c r="A3" t="inlineStr"><is><r><t>Li</t></r><r><t>nus</t></r></is></c>'
        '<c r="B3"><v>0.10000000000000001</v></c><c r="F3" t="str"><v>extra</v></c></row>'
        '<row r="1048576"/></sheetData></worksheet>'
    )
    strings = (
        f"<sst {S}><si><t>Name</t></si><si><r><t>A</t></r><r><t>ge</t></r></si>"
        "<si><t>Active</t><rPh><t>ignored</t></rPh></si><si><t>Ada</t></si></sst>"
    )
    styles = (
        f'<styleSheet {S}><cellXfs><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs></styleSheet>'
    )
    return make_zip(
        {
            "_rels/.rels": rels(("officeDocument", "xl/workbook.xml")),
            "xl/workbook.xml": workbook,
            "xl/_rels/workbook.xml.rels": rels(
                ("worksheet", "worksheets/sheet2.xml"),
                ("worksheet", "worksheets/sheet1.xml"),
                ("chartsheet", "chartsheets/sheet1.xml"),
                ("sharedStrings", "sharedStrings.xml"),
                ("styles", "styles.xml"),
            ),
            "xl/worksheets/sheet1.xml": people,
            "xl/worksheets/sheet2.xml": f"<worksheet {S}><sheetData/></worksheet>",
            "xl/chartsheets/sheet1.xml": "<chartsheet/>",
            "xl/sharedStrings.xml": strings,
            "xl/styles.xml": styles,
        }
    )


def test_xlsx_sheets_rows_and_values() -> None:
    doc = extract(make_xlsx(), filename="staff.xlsx")
    assert [p.number for p in doc.pages] == [1, 2, 3]
    assert doc.pages[0].text == (
        "Sheet: People\n"
        "Name: Ada; Age: 36; Joined: 2024-01-15; Active: TRUE\n"
        "Name: Linus; Age: 0.1; Column 6: extra"
    )
    assert doc.pages[1].text == doc.pages[2].text == ""  # chart sheet, empty sheet
    assert doc.metadata["page_count"] == 3


# --- zip bombs --------------------------------------------------------------------------


def test_zip_over_uncompressed_limit_is_a_bomb() -> None:
    err = error_of(
        make_docx(wp("x" * 5000)), "big.docx", limits=ExtractLimits(max_uncompressed_bytes=4000)
    )
    assert err.code == "bomb" and "inflate" in err.reason


def test_zip_with_extreme_ratio_is_a_bomb() -> None:
    data = make_zip({"word/document.xml": b"<w:document/>" + b" " * (8 * 2**20)})
    assert len(data) < 100_000
    err = error_of(data, "bomb.docx")
    assert err.code == "bomb" and "word/document.xml inflates" in err.reason


def test_zip_that_lies_about_its_size_is_not_read_past_the_lie() -> None:
    """Declared sizes are what zipfile reads up to; a lie ends as a CRC error (corrupt)."""
    data = bytearray(make_docx(wp("y" * 100_000)))
    central = data.find(b"PK\x01\x02", data.find(b"word/document.xml") - 100)
    while central != -1:
        (name_len,) = struct.unpack_from("<H", data, central + 28)
        if data[central + 46 : central + 46 + name_len] == b"word/document.xml":
            struct.pack_into("<I", data, central + 24, 10)  # declared uncompressed size
        central = data.find(b"PK\x01\x02", central + 4)
    assert error_of(bytes(data), "liar.docx").code in ("corrupt", "bomb")


# --- PDF --------------------------------------------------------------------------------


def test_pdf_pages_and_title() -> None:
    data = make_pdf([text_page("Hello page one"), text_page("Second page")], title="My Report")
    doc = extract(data, filename="r.pdf")
    assert [(p.number, p.text) for p in doc.pages] == [(1, "Hello page one"), (2, "Second page")]
    assert doc.metadata == {
        "page_count": 2,
        "title": "My Report",
        "content_type": "pdf",
        "size": len(data),
    }


def test_pdf_without_text_is_image_only() -> None:
    err = error_of(make_pdf([b"", b" "]), "scan.pdf")
    assert err.code == "image_only"
    assert err.reason == (
        "scan.pdf: has no text layer (image-only or scanned PDF; OCR is not supported)"
    )


def encrypt(data: bytes, user: str) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=io.BytesIO(data))
    writer.encrypt(user_password=user, owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_pdf_encryption() -> None:
    plain = make_pdf([text_page("Top secret")])
    assert extract(encrypt(plain, ""), filename="open.pdf").text == "Top secret"
    err = error_of(encrypt(plain, "pw"), "report.pdf")
    assert err.code == "encrypted"
    assert err.reason == "report.pdf: PDF is encrypted and needs a password"


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\nnothing else",
        make_pdf([text_page("x")]).replace(b"/MediaBox [0 0 612 792]", b"[" * 50_000),
        b"%PDF-1.4\n1 0 obj\n" + b"[" * 200_000 + b"\ntrailer\n<< /Root 1 0 R >>\n%%EOF",
    ],
    ids=["no-body", "deep-nesting-in-page", "deep-nesting-trailer"],
)
def test_malformed_pdf_is_corrupt(data: bytes) -> None:
    err = error_of(data, "bad.pdf")
    assert err.code == "corrupt" and err.reason.startswith("bad.pdf: PDF could not be read")


def test_pdf_circular_xobjects_end() -> None:
    form = (
        b"<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] "
        b"/Resources << /XObject << /X1 6 0 R >> >> /Length 6 >>\nstream\n/X1 Do\nendstream"
    )
    data = make_pdf([b"/X1 Do " + text_page("visible")])
    data = data.replace(b"/Font << /F1 3 0 R >>", b"/Font << /F1 3 0 R >> /XObject << /X1 6 0 R >>")
    data = data.replace(b"xref\n", b"6 0 obj\n" + form + b"\nendobj\nxref\n", 1)  # xref rebuilt
    try:
        doc = extract_isolated(data, filename="loop.pdf", limits=ExtractLimits(max_seconds=10))
    except ExtractionError as exc:
        assert exc.code in ("corrupt", "timeout")
    else:
        assert "visible" in doc.text


def test_in_process_deadline() -> None:
    data = make_pdf([text_page("a"), text_page("b")])
    assert error_of(data, "a.pdf", limits=ExtractLimits(max_seconds=1e-9)).code == "timeout"


# --- isolated runner --------------------------------------------------------------------


def test_isolated_matches_in_process() -> None:
    data = make_pdf([text_page("Hello"), text_page("World")], title="T")
    assert extract_isolated(data, filename="a.pdf") == extract(data, filename="a.pdf")
    with pytest.raises(ExtractionError) as info:
        extract_isolated(encrypt(data, "pw"), filename="a.pdf")
    assert info.value.code == "encrypted"
    with pytest.raises(ExtractionError) as info:
        extract_isolated(b"", filename="a.pdf")
    assert info.value.code == "empty_file"


def _sleep(source: Any) -> ExtractedDocument:
    time.sleep(30)
    raise AssertionError("not killed")


def _allocate(source: Any) -> ExtractedDocument:
    hog = [bytearray(64 * 2**20) for _ in range(64)]
    raise AssertionError(f"allocated {len(hog)} blocks")


def _segfault(source: Any) -> ExtractedDocument:
    faulthandler.disable()  # keep pytest's traceback dump out of the output
    os.kill(os.getpid(), signal.SIGSEGV)
    raise AssertionError("still alive")


def _exit(source: Any) -> ExtractedDocument:
    os._exit(3)


@needs_fork
@pytest.mark.parametrize(
    ("extractor", "code", "words"),
    [
        (_sleep, "timeout", "took longer than 0.5 s"),
        (_allocate, "memory", "memory"),
        (_segfault, "crashed", "SIGSEGV"),
        (_exit, "crashed", "status 3"),
    ],
    ids=["hang", "memory", "segfault", "exit"],
)
def test_isolated_failures(
    monkeypatch: pytest.MonkeyPatch, extractor: Any, code: str, words: str
) -> None:
    monkeypatch.setitem(dispatch.EXTRACTORS, "txt", extractor)
    limits = ExtractLimits(max_seconds=0.5 if code == "timeout" else 20, max_memory_mb=256)
    started = time.monotonic()
    with pytest.raises(ExtractionError) as info:
        extract_isolated(b"hello", filename="x.txt", limits=limits)
    assert info.value.code == code and words in info.value.reason
    assert info.value.reason.startswith("x.txt: ")
    assert time.monotonic() - started < 10


# --- the shared corpus ------------------------------------------------------------------

#: Malformed files pypdf cannot open or read at all; the others recover text.
CORRUPT = {
    "pdf/unreadablemetadata.pdf",  # broken page tree: "Invalid object in /Pages"
    "pdf/govdocs1-498264.pdf",  # every content stream fails to inflate
    "pdf/T04_007_premature-EOF-only.pdf",
    "pdf/invalid.pdf",
    "pdf/issue-1113-evil-xobjects.pdf",  # no xref: rejected before the XObject cycle
    "pdf/qpdf-issue-146.pdf",  # deep nesting, truncated inside an array
}
NO_TEXT_KINDS = {"images_only", "empty"}
TEXT_KINDS = {
    "text", "form", "annotations", "cjk", "scanned_ocr", "unusual_font", "unusual_encoding",
    "unusual_structure", "legacy_encoding", "pathological",
}  # fmt: skip
#: A few characters each file's text must contain.
SNIPPETS = {
    "pdf/GeoTopo-komprimiert.pdf": "Geometrie und Topologie",
    "pdf/govdocs1-455746.pdf": "Geological Survey",
    "pdf/multicolumn.pdf": "Two-Column Document",
    "pdf/hello-world.pdf": "你好世界",
    "pdf/issue-914-xmp-data.pdf": "商品",
    "pdf/r2-empty-password.pdf": "pdf encryption test",
    "pdf/r6-empty-password.pdf": "pdf encryption test",
    "pdf/encryption_nocopy.pdf": "This is a test document",
    "pdf/Seige_of_Vicksburg_Sample_OCR.pdf": "VICKSBURG",
    "pdf/zen_of_python_corrupted.pdf": "Beautiful is better than ugly",
    "pdf/T01_006_header-invalid-syntax-no-pdf.pdf": "Hello PDF-world!",
    "pdf/pdf20-with-offset-start.pdf": "PDF 2.0 document",
    "office/blk-paras-and-tables.docx": "Between",
    "office/test_slides.pptx": "Cell text 1 | Cell text 2",
    "office/tbl-cell.pptx": "merged cell",
    "office/sld-notes.pptx": "Notes",
    "office/missing_rels_item.pptx": "Presentation Title Text",
    "office/autofilter00.xlsx": "Region: East; Item: Apple; Volume: 9000; Month: July",
    "office/comment05.xlsx": "A1: Some text",
    "office/comment03.xlsx": "Foo",
    "office/httpd-htaccess.en.html": ".htaccess files",
    "office/httpd-htaccess.ja.html": "ファイル",
    "office/httpd-urlmapping.ko.euc-kr.html": "파일시스템",
}
#: jo.pdf: vertical Japanese in a non-embedded CID font without ToUnicode; pypdf 7.1.1
#: returns mojibake, so only "some text" is asserted for it.
NO_CJK_FROM_PYPDF = {"pdf/jo.pdf"}
SLOW = {"pdf/GeoTopo-komprimiert.pdf"}  # ~2.5 s


def corpus_entries() -> list[Any]:
    manifest = CORPUS / "MANIFEST.json"
    if not manifest.is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no corpus at {CORPUS}"))]
    files = json.loads(manifest.read_text())["files"]
    return [
        pytest.param(f, id=f["path"], marks=[pytest.mark.slow] if f["path"] in SLOW else [])
        for f in files
    ]


def expected_outcome(entry: dict[str, Any]) -> str:
    """``text`` or the error code this file must end with."""
    kind, path = entry["kind"], entry["path"]
    if kind == "image_only":
        return "image_only"
    if kind in NO_TEXT_KINDS:
        return "no_text"
    if kind == "encrypted":
        return "text" if (entry.get("passwords") or {}).get("user") == "" else "encrypted"
    if kind == "malformed":
        return "corrupt" if path in CORRUPT else "text"
    assert kind in TEXT_KINDS, f"new corpus kind {kind!r}: decide what {path} should give"
    return "text"


def has_cjk(text: str) -> bool:
    return any(
        "\u3040" <= c <= "\u30ff" or "\u4e00" <= c <= "\u9fff" or "\uac00" <= c <= "\ud7af"
        for c in text
    )


@pytest.mark.parametrize("entry", corpus_entries())
def test_corpus(entry: dict[str, Any]) -> None:
    path = entry["path"]
    data = (CORPUS / path).read_bytes()
    limits = ExtractLimits(max_seconds=20, max_memory_mb=1024)
    expected = expected_outcome(entry)
    try:
        doc = extract_isolated(data, filename=Path(path).name, limits=limits)
    except ExtractionError as exc:
        assert exc.code == expected, f"{path}: {exc.code}: {exc.reason}"
        assert exc.reason.startswith(f"{Path(path).name}: ")
        return
    assert expected == "text", f"{path}: extracted text, expected {expected}"
    assert doc.text.strip()
    assert doc.metadata["size"] == len(data) and doc.metadata["title"]
    assert doc.metadata["content_type"] == entry["format"] or path.endswith(".html")
    if path in SNIPPETS:
        assert SNIPPETS[path] in doc.text
    if (entry["kind"] == "cjk" or "korean" in entry["tags"]) and path not in NO_CJK_FROM_PYPDF:
        assert has_cjk(doc.text)
    if entry["format"] == "pdf":
        assert [p.number for p in doc.pages] == list(range(1, doc.metadata["page_count"] + 1))


def test_corpus_euc_kr_html_decodes_cleanly() -> None:
    path = CORPUS / "office" / "httpd-urlmapping.ko.euc-kr.html"
    if not path.is_file():
        pytest.skip("no corpus")
    doc = extract(path.read_bytes(), filename=path.name)
    assert doc.metadata["encoding"] in ("cp949", "euc-kr") and "\ufffd" not in doc.text
    assert codecs.lookup(doc.metadata["encoding"]).name in ("cp949", "euc_kr")
