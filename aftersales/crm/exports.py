"""Export of the customer and vehicle lists to Excel, filtered like the list pages.

``filter_customers`` / ``filter_vehicles`` apply the list pages' query-string filters
(the same forms, the same meaning) to a queryset already scoped with ``restrict``; the
list pages can use them too, so a list and its export never disagree. The workbook is
written with openpyxl's write-only mode to a temporary file, reading the rows in keyset
pages of ``PAGE`` (memory stays flat whatever the size), and is refused above
``MAX_ROWS`` rows with a message saying so.

Personal data: mobiles are masked (138****1234) for users without
``crm.contact_customer``; the resident ID number is only ever exported masked; names of
owners the user has no relationship with are masked as on the vehicle page.
"""

from __future__ import annotations

import datetime
import os
import tempfile
from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.catalogue.models import VehicleModel
from aftersales.core.audit import audit_event
from aftersales.core.errors import ValidationFailed
from aftersales.core.models import AuditAction
from aftersales.crm import selectors
from aftersales.crm.forms import CustomerFilterForm, VehicleFilterForm
from aftersales.crm.models import Customer, CustomerTag, Vehicle
from aftersales.crm.validators import PROVINCES, mask_mobile

MAX_ROWS = 200_000
PAGE = 2_000  # rows read per query
SEARCH_LIMIT = 1_000  # hits of the search box that an export with ?q= covers


class TooManyRows(ValidationFailed):
    code = "export_too_large"


# ---------------------------------------------------------------- filters


def customer_filter_form(user, params) -> CustomerFilterForm:
    form = CustomerFilterForm(params, tags=CustomerTag.objects.restrict(user, "view"))
    form.is_valid()
    return form


def filter_customers(user, queryset, data: dict):
    """The customer list's filters. ``q`` is the search box: like the list page, it covers
    what the ranked search finds (customers, and owners of the vehicles found)."""
    query = (data.get("q") or "").strip()
    if query:
        hits = selectors.search(user, query, limit=SEARCH_LIMIT)
        ids = {hit.customer_id for hit in hits if hit.customer_id}
        queryset = queryset.filter(pk__in=ids)
    if data.get("segment"):
        queryset = queryset.filter(segment=data["segment"])
    if data.get("tag"):
        queryset = queryset.filter(tags__name=data["tag"])
    if data.get("city"):
        queryset = queryset.filter(city__startswith=data["city"])
    return queryset


def vehicle_filter_form(user, params) -> VehicleFilterForm:
    models = VehicleModel.objects.restrict(user, "view").select_related("brand")
    form = VehicleFilterForm(params, models=models)
    form.is_valid()
    return form


def in_warranty_q(today) -> Q:
    return Q(warranty_end__gte=today) & (
        Q(odometer_km__isnull=True)
        | Q(warranty_km__isnull=True)
        | Q(odometer_km__lte=F("warranty_km"))
    )


def out_of_warranty_q(today) -> Q:
    return Q(warranty_end__lt=today) | Q(odometer_km__gt=F("warranty_km"))


def filter_vehicles(queryset, data: dict, today=None):
    """The vehicle list's filters: ``q`` (plate, full VIN, or the VIN's / plate's tail),
    ``model`` (id) and ``warranty`` (``in`` or ``out``)."""
    today = today or timezone.localdate()
    q = "".join((data.get("q") or "").split()).upper()
    if q:
        if len(q) == 17:
            queryset = queryset.filter(vin=q)
        elif q[0] in PROVINCES:
            queryset = queryset.filter(plate__startswith=q)
        elif len(q) == 8:
            queryset = queryset.filter(Q(vin_last8=q) | Q(plate__endswith=q))
        elif len(q) == 6:
            queryset = queryset.filter(Q(vin_last6=q) | Q(plate__endswith=q))
        else:
            queryset = queryset.filter(Q(vin__endswith=q) | Q(plate__contains=q))
    if data.get("model"):
        queryset = queryset.filter(variant__vehicle_model_id=data["model"])
    if data.get("warranty") == "in":
        queryset = queryset.filter(in_warranty_q(today))
    elif data.get("warranty") == "out":
        queryset = queryset.filter(out_of_warranty_q(today))
    return queryset


# ---------------------------------------------------------------- the workbook


@dataclass
class ExportFile:
    path: str  # a temporary file: the caller streams it and removes it
    filename: str
    rows: int


def _pages(queryset):
    """The rows newest first, in keyset pages (no OFFSET, no server-side cursor)."""
    last = None
    while True:
        page = queryset.order_by("-pk")
        if last is not None:
            page = page.filter(pk__lt=last)
        rows = list(page[:PAGE])
        if not rows:
            return
        yield from rows
        last = rows[-1].pk


def _refuse_if_too_large(count: int):
    if count > MAX_ROWS:
        raise TooManyRows(
            _(
                "This list has %(count)s rows; an export holds at most %(max)s. Narrow the list "
                "with the filters and export again."
            )
            % {"count": f"{count:,}", "max": f"{MAX_ROWS:,}"}
        )


def _workbook(title: str, headers: list[tuple[str, str, int]]):
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    for index, (_zh, _en, width) in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A3"
    bold, grey = Font(bold=True), Font(italic=True, color="666666")
    fill = PatternFill("solid", fgColor="F2F2F2")
    first, second = [], []
    for zh, en, _width in headers:
        cell = WriteOnlyCell(sheet, value=zh)
        cell.font = bold
        first.append(cell)
        cell = WriteOnlyCell(sheet, value=en)
        cell.font, cell.fill = grey, fill
        second.append(cell)
    sheet.append(first)
    sheet.append(second)
    return workbook, sheet


def _audit(user, stem: str, rows: int, data: dict):
    """Exports of personal data are recorded (PIPL): who took which list, filtered how,
    how many rows. The entry hangs off the exporting user."""
    filters = {}
    for name, value in data.items():
        if hasattr(value, "__iter__") and not isinstance(value, str):
            value = ", ".join(str(v) for v in value)
        if value not in (None, "", False):
            filters[name] = str(value)
    audit_event(
        user,
        actor=user,
        action=AuditAction.EXPORT,
        changes={"list": [None, stem], "rows": [None, rows], "filters": [None, filters]},
    )


def _save(workbook, stem: str, rows: int) -> ExportFile:
    handle, path = tempfile.mkstemp(prefix="aftersales-export-", suffix=".xlsx")
    os.close(handle)
    try:
        workbook.save(path)
    except BaseException:
        os.unlink(path)
        raise
    return ExportFile(path, f"{stem}-{timezone.localtime():%Y%m%d-%H%M}.xlsx", rows)


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


CUSTOMER_COLUMNS = [
    ("姓名", "name", 12),
    ("手机号", "mobile", 14),
    ("其他电话", "other_phone", 14),
    ("身份证号(掩码)", "id_number_masked", 21),
    ("电子邮箱", "email", 22),
    ("城市", "city", 10),
    ("地址", "address", 28),
    ("联系方式偏好", "contact_channel", 12),
    ("同意营销", "marketing_consent", 9),
    ("标签", "tags", 16),
    ("客户分层", "segment", 10),
    ("车辆数", "vehicles", 8),
    ("车牌号", "plates", 22),
    ("积分", "loyalty_points", 8),
    ("登记日期", "registered", 12),
]


def export_customers(user, params) -> ExportFile:
    """The customer list as the user sees it (scoped, filtered by ``params``)."""
    data = customer_filter_form(user, params).cleaned_data
    queryset = filter_customers(user, selectors.customers(user), data)
    _refuse_if_too_large(queryset.count())
    see_phone = selectors.can_see_phone(user)
    queryset = queryset.annotate(vehicle_count=Count("vehicles", distinct=True)).prefetch_related(
        "tags",
        Prefetch(
            "vehicles",
            queryset=Vehicle.objects.only("id", "plate", "owner_id").order_by("id"),
            to_attr="vehicle_list",
        ),
    )
    workbook, sheet = _workbook("客户 Customers", CUSTOMER_COLUMNS)
    rows = 0
    for customer in _pages(queryset):
        phone2 = customer.phone2
        if phone2 and not see_phone:
            phone2 = mask_mobile(phone2)
        sheet.append(
            [
                customer.name,
                customer.mobile if see_phone else mask_mobile(customer.mobile),
                phone2,
                customer.id_number_masked,
                customer.email,
                customer.city,
                customer.address,
                str(customer.get_contact_channel_display()),
                _yes_no(customer.marketing_consent),
                ",".join(tag.name for tag in customer.tags.all()),
                str(customer.get_segment_display()) if customer.segment else "",
                customer.vehicle_count,
                ",".join(v.plate for v in customer.vehicle_list if v.plate),
                customer.loyalty_points,
                timezone.localtime(customer.created_at).date(),
            ]
        )
        rows += 1
    _audit(user, "customers", rows, data)
    return _save(workbook, "customers", rows)


VEHICLE_COLUMNS = [
    ("车架号(VIN)", "vin", 20),
    ("车牌号", "plate", 11),
    ("品牌", "brand", 10),
    ("车型", "model", 12),
    ("车款代码", "variant_code", 16),
    ("车款", "variant", 20),
    ("年款", "model_year", 7),
    ("颜色", "colour", 8),
    ("销售日期", "sale_date", 12),
    ("开票日期", "invoice_date", 12),
    ("整车质保至", "warranty_end", 12),
    ("整车质保里程(km)", "warranty_km", 10),
    ("动力总成质保至", "powertrain_warranty_end", 12),
    ("在保", "in_warranty", 6),
    ("里程(km)", "odometer_km", 10),
    ("里程日期", "odometer_on", 12),
    ("保险到期日", "insurance_expiry", 12),
    ("上次年检日期", "last_inspection", 12),
    ("车主", "owner", 12),
    ("车主手机号", "owner_mobile", 14),
]


def export_vehicles(user, params) -> ExportFile:
    """The vehicle list as the user sees it (scoped, filtered by ``params``)."""
    if params.get("in_warranty") and not params.get("warranty"):  # the API's spelling
        params = params.copy()
        params["warranty"] = "in" if params["in_warranty"] in ("1", "true", "yes") else "out"
    data = vehicle_filter_form(user, params).cleaned_data
    today = timezone.localdate()
    queryset = filter_vehicles(selectors.vehicles(user), data, today)
    _refuse_if_too_large(queryset.count())
    see_phone = selectors.can_see_phone(user)
    visible_owner = Customer.objects.restrict(user, "view").filter(pk=OuterRef("owner_id"))
    queryset = queryset.select_related("variant__vehicle_model__brand", "owner").annotate(
        owner_visible=Exists(visible_owner)
    )
    workbook, sheet = _workbook("车辆 Vehicles", VEHICLE_COLUMNS)
    rows = 0
    for vehicle in _pages(queryset):
        variant = vehicle.variant
        model = variant.vehicle_model
        owner = vehicle.owner
        if owner is None:
            owner_name = owner_mobile = ""
        elif vehicle.owner_visible:
            owner_name = owner.name
            owner_mobile = owner.mobile if see_phone else mask_mobile(owner.mobile)
        else:
            owner_name = owner.name[:1] + "*" * max(len(owner.name) - 1, 1)
            owner_mobile = mask_mobile(owner.mobile)
        sheet.append(
            [
                vehicle.vin,
                vehicle.plate,
                model.brand.name,
                model.name,
                variant.code,
                variant.name,
                variant.model_year,
                vehicle.colour,
                vehicle.sale_date,
                vehicle.invoice_date,
                vehicle.warranty_end,
                vehicle.warranty_km,
                vehicle.powertrain_warranty_end,
                _yes_no(_in_warranty(vehicle, today)) if vehicle.warranty_end else "",
                vehicle.odometer_km,
                vehicle.odometer_on,
                vehicle.insurance_expiry,
                vehicle.last_inspection,
                owner_name,
                owner_mobile,
            ]
        )
        rows += 1
    _audit(user, "vehicles", rows, data)
    return _save(workbook, "vehicles", rows)


def _in_warranty(vehicle: Vehicle, today: datetime.date) -> bool:
    if vehicle.warranty_end is None or vehicle.warranty_end < today:
        return False
    return not (
        vehicle.warranty_km
        and vehicle.odometer_km is not None
        and vehicle.odometer_km > vehicle.warranty_km
    )
