"""The claim reports as an Excel workbook (openpyxl): one sheet for ageing, one for
approval and rejection rates; the same scoped numbers as the page and the API."""

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from aftersales.claims.selectors import AGE_BUCKETS, approval_rates, claim_ageing


def bucket_labels() -> dict[str, str]:
    return {
        "d0_7": _("0-7 days"),
        "d8_30": _("8-30 days"),
        "d31_60": _("31-60 days"),
        "d61_plus": _("over 60 days"),
    }


def _sheet(book, title, header, rows, *, first=False):
    sheet = book.active if first else book.create_sheet()
    sheet.title = title[:31]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for column in sheet.columns:
        sheet.column_dimensions[column[0].column_letter].width = 16
    return sheet


def claims_workbook(user, *, today=None, date_from=None, date_to=None) -> bytes:
    labels = bucket_labels()
    book = Workbook()
    ageing = claim_ageing(user, today=today)
    header = [_("Dealer"), _("Name")]
    for key, _a, _b in AGE_BUCKETS:
        header += [labels[key], _("%(bucket)s amount") % {"bucket": labels[key]}]
    header += [_("Open claims"), _("Open amount")]
    rows = []
    for row in ageing:
        values = [row.dealer_code, row.dealer_name]
        for key, _a, _b in AGE_BUCKETS:
            values += [row.counts[key], row.amounts[key]]
        rows.append([*values, row.total, row.total_amount])
    _sheet(book, _("Claim ageing"), header, rows, first=True)
    rates = approval_rates(user, date_from=date_from, date_to=date_to)
    _sheet(
        book,
        _("Approval rates"),
        [
            _("Dealer"),
            _("Name"),
            _("Decided"),
            _("Approved"),
            _("Partly approved"),
            _("Rejected"),
            _("Approval rate %"),
            _("Rejection rate %"),
            _("Claimed amount"),
            _("Approved amount"),
            _("Rejected amount"),
        ],
        [
            [
                r.dealer_code,
                r.dealer_name,
                r.decided,
                r.approved,
                r.partial,
                r.rejected,
                r.approval_rate,
                r.rejection_rate,
                r.claimed_amount,
                r.approved_amount,
                r.rejected_amount,
            ]
            for r in rates
        ],
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
