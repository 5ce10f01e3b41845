"""The printed settlement documents as Chinese PDFs, drawn with ReportLab: the invoice
(结算单, A4), the credit note (红字冲销单, A4) and the payment receipt or refund slip
(收款收据/退款凭证, A5 landscape, content from ``billing.receipts.receipt_context``).

The cashier prints at every settlement and payment, so printing must be quick: ReportLab
lays the page out directly and writes the text in Adobe's standard Chinese font
STSong-Light, a CID font that PDF readers provide (Acrobat, PDFium in Chrome and Edge,
pdf.js, Preview; on Linux desktops poppler-data), so no font file is read, measured or
subset: about 20-30 ms for an invoice of 20 lines, against some 500 ms for the same page
through HTML and WeasyPrint with an embedded Noto CJK font.

Labels are in Chinese whatever the reader's UI language. Each document shows the dealer
and who printed it; the invoice has the buyer's fapiao details, per line 金额 (excl. VAT),
税率, 税额 and 价税合计, the total in figures and in capital numerals (大写,
``money.capital_amount``), its credit notes, the issuer and a box for the dealer's stamp.
"""

import io
from functools import cache

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from aftersales.billing.models import CreditNote, Invoice
from aftersales.billing.money import capital_amount

DOCUMENT_LANGUAGE = "zh-hans"


def _invoice(invoice) -> Invoice:
    return (
        Invoice.objects.select_related(
            "dealer", "repair_order__vehicle", "customer", "issued_by", "created_by"
        )
        .prefetch_related("lines", "credit_notes")
        .get(pk=invoice.pk)
    )


def invoice_pdf(invoice, *, user) -> bytes:
    return invoice_pdf_bytes(_invoice(invoice), user=user)


def credit_note_pdf(note, *, user) -> bytes:
    note = (
        CreditNote.objects.select_related(
            "dealer", "invoice__repair_order", "invoice__dealer", "created_by"
        )
        .prefetch_related("lines__invoice_line")
        .get(pk=note.pk)
    )
    return credit_note_pdf_bytes(note, user=user)


def pdf_filename(document, kind: str) -> str:
    return f"{kind}-{document.number or document.pk}.pdf"


FONT = "STSong-Light"


@cache
def _fonts():
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


@cache
def _styles():
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle

    base = ParagraphStyle("base", fontName=_fonts(), fontSize=9, leading=12, wordWrap="CJK")
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "small_right": ParagraphStyle("small_right", parent=base, fontSize=8, alignment=TA_RIGHT),
        "dealer": ParagraphStyle("dealer", parent=base, fontSize=12, leading=15),
        "amount": ParagraphStyle("amount", parent=base, fontSize=12, leading=15),
        "title": ParagraphStyle(
            "title", parent=base, fontSize=16, leading=20, alignment=TA_CENTER, spaceBefore=6
        ),
        "number": ParagraphStyle(
            "number", parent=base, fontSize=10, alignment=TA_CENTER, spaceAfter=6
        ),
        "h2": ParagraphStyle(
            "h2", parent=base, fontSize=10, backColor="#eeeeee", spaceBefore=6, spaceAfter=3
        ),
    }


def _p(text, style="base"):
    from xml.sax.saxutils import escape

    from reportlab.platypus import Paragraph

    return Paragraph(escape(str(text if text is not None else "")), _styles()[style])


def _grid(rows, widths, *, header=False, totals=0):
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [
        ("FONT", (0, 0), (-1, -1), _fonts(), 9),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#777777")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f4f4f4")))
    for row in range(len(rows) - totals, len(rows)):
        style.append(("BACKGROUND", (0, row), (-1, row), colors.HexColor("#fafafa")))
    table.setStyle(TableStyle(style))
    return table


def _percent(rate) -> str:
    return f"{(rate * 100).normalize():f}%"


def _page_number(canvas, doc):
    from reportlab.lib.units import mm

    canvas.saveState()
    canvas.setFont(_fonts(), 8)
    canvas.drawRightString(doc.pagesize[0] - 12 * mm, 7 * mm, f"第 {doc.page} 页")
    canvas.restoreState()


def _header(dealer, user, width):
    """The dealer's name, address and phone, and who printed when, above a rule."""
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    where = dealer.address or dealer.city
    if dealer.phone:
        where = f"{where} · {_('Service phone')} {dealer.phone}"
    printed = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    header = Table(
        [
            [_p(dealer.name, "dealer"), _p(f"{_('Printed')} {printed}", "small_right")],
            [_p(where, "small"), _p(user, "small_right")],
        ],
        colWidths=[width * 0.7, width * 0.3],
    )
    header.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, -1), (-1, -1), 1.5, colors.black),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return header


def _signature(left: str, right: str, width, *, height=20):
    """Two lines to sign or stamp on, side by side."""
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer, Table, TableStyle

    table = Table(
        [[_p(left), "", _p(right)]],
        colWidths=[width * 0.46, width * 0.08, width * 0.46],
        rowHeights=[height * mm],
    )
    table.setStyle(
        TableStyle(
            [
                ("LINEABOVE", (0, 0), (0, 0), 0.5, colors.black),
                ("LINEABOVE", (2, 0), (2, 0), 0.5, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return [Spacer(1, 5 * mm), table]


def _document(story_of, *, pagesize, margins, title, author) -> bytes:
    """Build the story ``story_of(width)`` (written in Chinese) on ``pagesize`` pages."""
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    top, side, bottom = (m * mm for m in margins)
    with translation.override(DOCUMENT_LANGUAGE):
        story = story_of(pagesize[0] - 2 * side)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=side,
        rightMargin=side,
        topMargin=top,
        bottomMargin=bottom,
        title=title,
        author=author,
    )
    doc.build(story, onFirstPage=_page_number, onLaterPages=_page_number)
    return buffer.getvalue()


def invoice_pdf_bytes(invoice, *, user) -> bytes:
    """``invoice`` (read with its dealer, order, vehicle, lines and credit notes) as an A4
    PDF."""
    from reportlab.lib.pagesizes import A4

    return _document(
        lambda width: _invoice_story(invoice, user=user, width=width),
        pagesize=A4,
        margins=(12, 12, 14),
        title=invoice.number or str(invoice.pk),
        author=invoice.dealer.name,
    )


def _invoice_story(invoice, *, user, width):
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer, TableStyle

    dealer, order = invoice.dealer, invoice.repair_order
    number = f"{_('Invoice number')} {invoice.number or '—'} · {invoice.get_pay_type_display()}"
    if invoice.issued_at:
        issued = timezone.localtime(invoice.issued_at).strftime("%Y-%m-%d")
        number += f" · 开具日期 {issued}"
    story = [
        _header(dealer, user, width),
        _p("结算单（草稿）" if invoice.status == "draft" else "结算单", "title"),
        _p(number, "number"),
    ]

    facts = [
        [
            _p("购买方名称"),
            _p(invoice.title or invoice.payer_name),
            _p(_("Buyer type")),
            _p(invoice.get_buyer_type_display()),
        ],
        [
            _p("纳税人识别号"),
            _p(invoice.taxpayer_id or "—"),
            _p(_("Payer")),
            _p(invoice.payer_name),
        ],
    ]
    if invoice.buyer_address_phone or invoice.buyer_bank_account:
        facts.append(
            [
                _p("地址、电话"),
                _p(invoice.buyer_address_phone),
                _p("开户行及账号"),
                _p(invoice.buyer_bank_account),
            ]
        )
    if invoice.pay_type == "insurance":
        facts.append(
            [
                _p(_("Insurer")),
                _p(invoice.insurer),
                _p(_("Claim / report number")),
                _p(invoice.insurance_claim_number),
            ]
        )
    vehicle = order.vehicle
    facts.append(
        [
            _p(_("RO number")),
            _p(order.number),
            _p(_("Vehicle")),
            _p(f"{vehicle.plate or ''} {vehicle.vin}".strip()),
        ]
    )
    story.append(_grid(facts, [width * 0.18, width * 0.32, width * 0.18, width * 0.32]))

    story.append(_p(pgettext("document", "Lines"), "h2"))
    fractions = [0.22, 0.11, 0.07, 0.12, 0.07, 0.12, 0.06, 0.10, 0.13]
    widths = [width * f for f in fractions]
    rows = [
        [
            _p("项目名称"),
            _p(_("Code")),
            _p("数量", "right"),
            _p("单价（含税）", "right"),
            _p(_("Discount"), "right"),
            _p("金额", "right"),
            _p("税率", "right"),
            _p("税额", "right"),
            _p("价税合计", "right"),
        ]
    ]
    rate = _percent(invoice.vat_rate)
    for line in invoice.lines.all():
        rows.append(
            [
                _p(line.description),
                _p(line.code),
                _p(line.quantity, "right"),
                _p(line.unit_price, "right"),
                _p(line.discount_amount or "", "right"),
                _p(line.net_amount, "right"),
                _p(rate, "right"),
                _p(line.tax_amount, "right"),
                _p(line.gross_amount, "right"),
            ]
        )
    label = "合计"
    if invoice.invoice_discount:
        label += f"（{_('invoice discount')} {invoice.invoice_discount}）"
    rows.append(
        [
            _p(label),
            "",
            "",
            "",
            "",
            _p(f"¥{invoice.net_amount}", "right"),
            "",
            _p(f"¥{invoice.tax_amount}", "right"),
            _p(f"¥{invoice.gross_amount}", "right"),
        ]
    )
    rows.append(
        [
            _p("价税合计（大写）"),
            "",
            "",
            "",
            "",
            _p(f"{capital_amount(invoice.gross_amount)}　（小写）¥{invoice.gross_amount}"),
            "",
            "",
            "",
        ]
    )
    lines = _grid(rows, widths, header=True, totals=2)
    last = len(rows) - 1
    lines.setStyle(
        TableStyle([("SPAN", (0, last - 1), (4, last - 1)), ("SPAN", (0, last), (4, last))])
    )
    lines.setStyle(TableStyle([("SPAN", (5, last), (8, last))]))
    story.append(lines)

    notes = list(invoice.credit_notes.all())
    if notes:
        story.append(_p(_("Credit notes"), "h2"))
        story.append(
            _grid(
                [
                    [
                        _p(n.number),
                        _p(timezone.localtime(n.created_at).strftime("%Y-%m-%d")),
                        _p(n.reason),
                        _p(f"-{n.gross_amount}", "right"),
                    ]
                    for n in notes
                ],
                [width * 0.25, width * 0.15, width * 0.45, width * 0.15],
            )
        )
    if invoice.note:
        story.append(Spacer(1, 2 * mm))
        story.append(_p(f"{_('Note')}：{invoice.note}", "small"))
    story.extend(_signature(f"开票人：{invoice.issued_by or ''}", _("Dealer stamp"), width))
    return story


def receipt_pdf_bytes(context: dict) -> bytes:
    """The receipt (收款收据) or refund slip (退款凭证) of one payment as an A5 landscape PDF;
    ``context`` is what ``billing.receipts.receipt_context`` gathers."""
    from reportlab.lib.pagesizes import A5, landscape

    return _document(
        lambda width: _receipt_story(context, width=width),
        pagesize=landscape(A5),
        margins=(10, 10, 12),
        title=f"{context['title']} {context['number']}",
        author=context["dealer"].name,
    )


def _receipt_story(c: dict, *, width):
    from reportlab.platypus import TableStyle

    payment, invoice, order = c["payment"], c["invoice"], c["order"]
    method = c["method"] + (f" · {payment.reference}" if payment.reference else "")
    amount_label = _("Amount refunded") if c["refund"] else _("Amount received")
    rows = [
        [_p(_("Payer")), _p(c["payer"]), _p(_("Invoice")), _p(invoice.number)],
        [_p(_("Repair order")), _p(order.number), _p(_("Vehicle")), _p(c["plate"])],
        [_p(_("Method")), _p(method), _p(_("Time")), _p(c["taken_at"].strftime("%Y-%m-%d %H:%M"))],
        [
            _p(amount_label),
            _p(f"¥{payment.amount}　{_('In words')}：{c['amount_upper']}", "amount"),
            "",
            "",
        ],
    ]
    if payment.tendered:
        rows.append(
            [
                _p(_("Cash handed over")),
                _p(f"¥{payment.tendered}", "right"),
                _p(pgettext("money", "Change")),
                _p(f"¥{payment.change}", "right"),
            ]
        )
    if c["refund"]:
        rows.append([_p(_("Reason")), _p(payment.reason), "", ""])
    rows.append(
        [
            _p(_("Invoice total")),
            _p(f"¥{invoice.gross_amount}", "right"),
            _p(_("Still due")),
            _p(f"¥{invoice.due_amount}", "right"),
        ]
    )
    table = _grid(rows, [width * 0.18, width * 0.32, width * 0.18, width * 0.32])
    spans = [("SPAN", (1, 3), (3, 3))]
    if c["refund"]:
        reason_row = len(rows) - 2
        spans.append(("SPAN", (1, reason_row), (3, reason_row)))
    table.setStyle(TableStyle(spans))
    signature = _signature(
        f"{_('Cashier')}：{payment.cashier}", _("Payer's signature"), width, height=14
    )
    note = _(
        "This receipt confirms the money received; the VAT invoice (fapiao) is issued separately."
    )
    return [
        _header(c["dealer"], c["printed_by"], width),
        _p(c["title"], "title"),
        _p(f"{_('No.')} {c['number']}", "number"),
        table,
        *signature,
        _p(note, "small"),
    ]


def credit_note_pdf_bytes(note, *, user) -> bytes:
    from reportlab.lib.pagesizes import A4

    return _document(
        lambda width: _credit_note_story(note, user=user, width=width),
        pagesize=A4,
        margins=(12, 12, 14),
        title=note.number,
        author=note.dealer.name,
    )


def _credit_note_story(note, *, user, width):
    from reportlab.platypus import TableStyle

    invoice = note.invoice
    created = timezone.localtime(note.created_at).strftime("%Y-%m-%d")
    facts = _grid(
        [
            [
                _p("购买方名称"),
                _p(invoice.title or invoice.payer_name),
                _p("纳税人识别号"),
                _p(invoice.taxpayer_id or "—"),
            ],
            [_p(_("Reason")), _p(note.reason), "", ""],
        ],
        [width * 0.18, width * 0.32, width * 0.18, width * 0.32],
    )
    facts.setStyle(TableStyle([("SPAN", (1, 1), (3, 1))]))
    rate = _percent(invoice.vat_rate)
    rows = [
        [
            _p("项目名称"),
            _p("数量", "right"),
            _p("金额", "right"),
            _p("税率", "right"),
            _p("税额", "right"),
            _p("价税合计", "right"),
        ]
    ]
    for line in note.lines.all():
        rows.append(
            [
                _p(line.invoice_line.description),
                _p(f"-{line.quantity}" if line.quantity else "", "right"),
                _p(f"-{line.net_amount}", "right"),
                _p(rate, "right"),
                _p(f"-{line.tax_amount}", "right"),
                _p(f"-{line.gross_amount}", "right"),
            ]
        )
    rows.append(
        [
            _p("合计"),
            "",
            _p(f"¥-{note.net_amount}", "right"),
            "",
            _p(f"¥-{note.tax_amount}", "right"),
            _p(f"¥-{note.gross_amount}", "right"),
        ]
    )
    total = f"{capital_amount(-note.gross_amount)}　（小写）¥-{note.gross_amount}"
    rows.append([_p("价税合计（大写）"), "", _p(total), "", "", ""])
    fractions = [0.38, 0.09, 0.14, 0.08, 0.13, 0.18]
    lines = _grid(rows, [width * f for f in fractions], header=True, totals=2)
    last = len(rows) - 1
    lines.setStyle(
        TableStyle(
            [
                ("SPAN", (0, last - 1), (1, last - 1)),
                ("SPAN", (0, last), (1, last)),
                ("SPAN", (2, last), (5, last)),
            ]
        )
    )
    number = f"{_('Credit note')} {note.number} · {_('for invoice')} {invoice.number} · {created}"
    return [
        _header(note.dealer, user, width),
        _p("红字冲销单", "title"),
        _p(number, "number"),
        facts,
        _p(pgettext("document", "Lines"), "h2"),
        lines,
        *_signature(f"开票人：{note.created_by}", _("Dealer stamp"), width),
    ]
