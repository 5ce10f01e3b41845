"""The printed repair order (任务委托书) and the delivery sheet (交车单) as A4 PDFs.

Both are Chinese documents whatever the reader's UI language: the customer signs them
and takes them home. They are HTML templates (templates/workorders/print_*.html)
rendered under zh-hans and turned into PDF by WeasyPrint with the CJK font the set-up
installs (see aftersales/parts/labels.py). The customer's mobile number is masked unless
the printing user may see full numbers.

``render_pdf`` is shared by every Chinese document (also the invoice, credit note and
receipt of aftersales/billing). It keeps one WeasyPrint ``FontConfiguration`` per thread:
a new one per document (WeasyPrint's default) loads fontconfig's configuration and fonts
again and loses Pango's font and font-set caches, which made font loading and matching
most of a document's time. The documents name one installed CJK font (Noto Sans CJK SC,
in print_style.html, on the root element so the page numbers use it too) rather than a
fallback chain, and fetch nothing: images are data URIs, and any other URL is refused.
"""

import base64
import mimetypes
import threading
from collections import Counter
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.core.errors import Conflict
from aftersales.workorders.choices import (
    Approval,
    CheckKind,
    LineKind,
    PayType,
    ROStatus,
)
from aftersales.workorders.delivery import delivery_checks_for
from aftersales.workorders.models import RepairOrder

S = ROStatus
DOCUMENT_LANGUAGE = "zh-hans"
ZERO = Decimal("0")
# the delivery sheet exists once the inspector has passed the work
DELIVERABLE = {S.QC_PASSED, S.READY, S.DELIVERED, S.CLOSED}
STORAGE_FREE_DAYS = 3

MARK_KINDS = {
    "scratch": gettext_lazy("Scratch"),
    "dent": gettext_lazy("Dent"),
    "crack": gettext_lazy("Crack"),
    "chip": gettext_lazy("Stone chip"),
    "other": gettext_lazy("Other damage"),
}


def terms() -> list[str]:
    """The standard clauses printed under the estimate."""
    return [
        _(
            "Work beyond this order is carried out only after the customer has approved it "
            "(at the counter, by phone or on the owner's link)."
        ),
        _(
            "The estimate is an approximation; the final amount follows the work actually "
            "done and the parts actually fitted."
        ),
        _(
            "Please take valuables out of the vehicle; the dealer is liable only for the "
            "valuables recorded on this order."
        ),
        _(
            "Old parts not taken by the customer at delivery are disposed of by the dealer; "
            "parts replaced under warranty belong to the manufacturer."
        ),
        _(
            "A vehicle not collected within %(days)s days of the notice that it is ready "
            "may be charged a storage fee."
        )
        % {"days": STORAGE_FREE_DAYS},
        _("The customer's signature confirms the vehicle's condition and the work ordered."),
    ]


def _totals(order) -> dict:
    from aftersales.workorders.estimate import estimate_totals

    return estimate_totals(order)


def _labelled_totals(totals) -> list[dict]:
    labels = dict(PayType.choices)
    return [
        {"pay_type": pay_type, "label": labels.get(pay_type, pay_type), **row}
        for pay_type, row in totals.get("by_pay_type", {}).items()
    ]


def _image_uri(field) -> str:
    """The stored signature as a data URI: WeasyPrint reads no media URLs."""
    if not field:
        return ""
    try:
        with field.open("rb") as handle:
            content = handle.read()
    except (OSError, ValueError):
        return ""
    kind = mimetypes.guess_type(field.name)[0] or "image/png"
    return f"data:{kind};base64," + base64.b64encode(content).decode("ascii")


def _marks_summary(order) -> str:
    marks = order.walkaround or []
    counts = Counter(str(m.get("kind") or "other") for m in marks if isinstance(m, dict))
    return "，".join(
        f"{MARK_KINDS.get(kind, kind)} × {count}" for kind, count in sorted(counts.items())
    )


def _mobile(order, user) -> str:
    from aftersales.crm.selectors import shown_mobile

    mobile = order.contact_mobile or (order.customer.mobile if order.customer else "")
    return shown_mobile(user, mobile) if mobile else ""


def next_service(order) -> dict:
    """The next maintenance by the model's interval: the first service when the car has
    not reached it, else the next multiple of the interval above the odometer."""
    vehicle = order.vehicle
    model = vehicle.variant.vehicle_model if vehicle.variant_id else None
    km = order.odometer_km or vehicle.odometer_km or 0
    if model is None:
        return {}
    if km < model.first_service_km:
        due_km = model.first_service_km
    else:
        interval = model.service_interval_km or 10_000
        due_km = (km // interval + 1) * interval
    months = getattr(model, "service_interval_months", None) or 12
    since = timezone.localdate(order.delivered_at) if order.delivered_at else timezone.localdate()
    year, month = divmod(since.month - 1 + months, 12)
    try:
        due_on = since.replace(year=since.year + year, month=month + 1)
    except ValueError:  # the 31st of a shorter month
        due_on = since.replace(year=since.year + year, month=month + 1, day=28)
    return {"km": due_km, "on": due_on}


def _order(order) -> RepairOrder:
    return (
        RepairOrder.objects.select_related(
            "dealer",
            "vehicle__variant__vehicle_model",
            "customer",
            "service_advisor",
        )
        .prefetch_related("lines__operation", "lines__part")
        .get(pk=order.pk)
    )


def _common(order, user) -> dict:
    lines = list(order.lines.all())
    return {
        "order": order,
        "dealer": order.dealer,
        "vehicle": order.vehicle,
        "customer": order.customer,
        "mobile": _mobile(order, user),
        "printed_at": timezone.localtime(),
        "printed_by": user,
        "labour": [x for x in lines if x.kind == LineKind.LABOUR],
        "parts": [x for x in lines if x.kind == LineKind.PART],
        "others": [x for x in lines if x.kind in (LineKind.SUBLET, LineKind.FEE)],
        "lines": lines,
        "signature_uri": _image_uri(order.signature),
    }


def repair_order_html(order, *, user) -> str:
    order = _order(order)
    with translation.override(DOCUMENT_LANGUAGE):
        context = _common(order, user)
        totals = _totals(order)
        live = [x for x in context["lines"] if x.approval != Approval.DECLINED]
        context.update(
            labour=[x for x in live if x.kind == LineKind.LABOUR],
            parts=[x for x in live if x.kind == LineKind.PART],
            others=[x for x in live if x.kind in (LineKind.SUBLET, LineKind.FEE)],
            title=_("Repair order %(number)s") % {"number": order.number},
            marks=_marks_summary(order),
            totals=_labelled_totals(totals),
            total=totals.get("total", ZERO),
            declined_total=totals.get("declined", ZERO),
            declined=[x for x in context["lines"] if x.approval == Approval.DECLINED],
            terms=terms(),
        )
        return render_to_string("workorders/print_repair_order.html", context)


def delivery_sheet_html(order, *, user) -> str:
    order = _order(order)
    if order.status not in DELIVERABLE:
        raise Conflict(
            _("The delivery sheet can be printed once the work has passed QC."),
            code="not_qc_passed",
        )
    with translation.override(DOCUMENT_LANGUAGE):
        context = _common(order, user)
        done = [x for x in context["lines"] if x.approval == Approval.APPROVED]
        qc = (
            order.checks.filter(kind=CheckKind.QC, passed=True)
            .select_related("checked_by")
            .order_by("-checked_at", "-id")
            .first()
        )
        checks = order.delivery_checks or {}
        context.update(
            title=_("Delivery sheet %(number)s") % {"number": order.number},
            work=[x for x in done if x.kind != LineKind.PART],
            fitted=[x for x in done if x.kind == LineKind.PART],
            qc=qc,
            delivery_checks=[
                {"label": label, "done": bool(checks.get(key))}
                for key, label in delivery_checks_for(order).items()
            ],
            next_service=next_service(order),
        )
        return render_to_string("workorders/print_delivery_sheet.html", context)


_renderer = threading.local()


def _pdf_tools():
    """(FontConfiguration, URL fetcher) of this thread, made once: WeasyPrint's font
    configuration is not shared between threads."""
    tools = getattr(_renderer, "tools", None)
    if tools is None:
        from weasyprint import URLFetcher
        from weasyprint.text.fonts import FontConfiguration

        # data: URIs only (inlined images): no file, network or media URL is read
        tools = _renderer.tools = (FontConfiguration(), URLFetcher(allowed_protocols=("data",)))
    return tools


def render_pdf(html: str) -> bytes:
    """``html`` (a document of templates/*/print_*.html) as PDF bytes."""
    from weasyprint import HTML

    font_config, fetcher = _pdf_tools()
    return HTML(string=html, url_fetcher=fetcher).write_pdf(font_config=font_config)


def repair_order_pdf(order, *, user) -> bytes:
    """The 任务委托书 of ``order`` as an A4 PDF."""
    return render_pdf(repair_order_html(order, user=user))


def delivery_sheet_pdf(order, *, user) -> bytes:
    """The 交车单 of ``order`` (QC passed or later; else Conflict ``not_qc_passed``)."""
    return render_pdf(delivery_sheet_html(order, user=user))


def pdf_filename(order, kind: str) -> str:
    return f"{order.number}-{kind}.pdf"
