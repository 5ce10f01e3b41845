"""Printable barcode labels (PDF) for parts and bins.

A sheet of 3 × 8 labels of 70 × 37 mm on A4: each label carries a Code128 barcode and a
QR code of the same payload (the part's barcode, else its number; a bin's ``BIN:<id>``),
and the readable text. The page is HTML (aftersales/templates/parts/labels_sheet.html)
with the codes as SVG images, rendered to PDF by WeasyPrint with a CJK font.
"""

import base64
import io
from dataclasses import dataclass

from django.template.loader import render_to_string

MAX_LABELS = 24 * 20  # twenty sheets


@dataclass
class Label:
    payload: str  # what the barcode and the QR code encode
    title: str  # big text: part number or bin code
    line1: str = ""
    line2: str = ""
    line3: str = ""

    @property
    def code128(self) -> str:
        return _data_uri(code128_svg(self.payload))

    @property
    def qr(self) -> str:
        return _data_uri(qr_svg(self.payload))


def code128_svg(payload: str) -> bytes:
    import barcode
    from barcode.writer import SVGWriter

    buffer = io.BytesIO()
    barcode.get("code128", payload, writer=SVGWriter()).write(
        buffer,
        options={
            "write_text": False,
            "module_height": 9.0,
            "module_width": 0.25,
            "quiet_zone": 1.0,
        },
    )
    return buffer.getvalue()


def qr_svg(payload: str) -> bytes:
    import segno

    buffer = io.BytesIO()
    segno.make(payload, error="m").save(buffer, kind="svg", scale=4, border=1)
    return buffer.getvalue()


def _data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def part_label(part, bin_code: str = "") -> Label:
    return Label(
        payload=part.barcode or part.number,
        title=part.number,
        line1=part.name,
        line2=part.name_en,
        line3=bin_code,
    )


def bin_label(bin_) -> Label:
    return Label(
        payload=bin_.barcode,
        title=bin_.code,
        line1=f"{bin_.warehouse.code} {bin_.warehouse.name}",
        line2=bin_.barcode,
    )


def sheet_html(labels: list[Label], *, title: str = "") -> str:
    return render_to_string("parts/labels_sheet.html", {"labels": labels, "title": title})


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html).write_pdf()
