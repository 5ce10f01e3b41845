"""Customer/vehicle import: the template round trip, both modes, the error report, no
half-writes, CSV encodings, the job runner claiming each job once, access per dealer."""

import codecs
import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import Workbook, load_workbook

from aftersales.catalogue.demo import load_catalogue_demo
from aftersales.catalogue.models import Variant
from aftersales.core.errors import ValidationFailed
from aftersales.core.models import AuditChannel, AuditLog
from aftersales.crm import imports, pii
from aftersales.crm.choices import (
    ImportMode,
    ImportStatus,
    OdometerSource,
    OwnershipReason,
    RelationshipKind,
)
from aftersales.crm.imports import (
    KEYS,
    XlsxReader,
    claim_next_job,
    import_create,
    import_run,
    run_queued_imports,
)
from aftersales.crm.models import (
    Customer,
    DealerCustomer,
    DealerVehicle,
    ImportJob,
    OdometerReading,
    Ownership,
    Vehicle,
)
from aftersales.crm.testing import (
    make_customer,
    make_vehicle,
    unique_mobile,
    unique_plate,
    valid_id_number,
    valid_vin,
)
from aftersales.crm.validators import normalise_vin
from aftersales.org.models import Dealer

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def english_media(settings, tmp_path):
    """Uploaded files and reports under a temporary MEDIA_ROOT; messages in English."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def catalogue(db):
    load_catalogue_demo()
    return Variant.objects.select_related("vehicle_model").get(code="X3-15T-2024")


@pytest.fixture
def manager(demo_org, catalogue):
    """BJ01's service manager: may import, see imports, see full phone numbers."""
    return demo_org["bj01-svcmgr"]


def page(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def vin_for(variant, serial=None):
    return valid_vin(variant.vin_prefix, variant.model_year, serial)


def row(variant=None, **values) -> dict:
    """One row of the template as {key: value}; a customer with a vehicle by default."""
    data = {
        "name": "张伟",
        "mobile": unique_mobile(),
        "city": "北京",
        "contact_channel": "短信",
        "marketing_consent": "是",
    }
    if variant is not None:
        data.update(
            vin=vin_for(variant),
            plate=unique_plate(),
            variant_code=variant.code,
            sale_date="2024-03-15",
            invoice_date="2024-03-15",
            odometer_km=12000,
        )
    data.update(values)
    return data


def fill_template(template: bytes, rows: list[dict]) -> bytes:
    """Write rows into the downloaded .xlsx template, from its third row, as Excel would."""
    workbook = load_workbook(io.BytesIO(template))
    sheet = workbook[imports.DATA_SHEET]
    keys = [cell.value for cell in sheet[2]]
    assert keys == list(KEYS)
    for number, data in enumerate(rows, start=3):
        for index, key in enumerate(keys, start=1):
            if key in data:
                sheet.cell(row=number, column=index, value=data[key])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_file(rows: list[dict], name="customers.xlsx") -> SimpleUploadedFile:
    content = fill_template(imports.template_xlsx(Variant.objects.all()), rows)
    return SimpleUploadedFile(name, content, content_type=XLSX)


def csv_bytes(rows: list[dict], encoding="utf-8-sig") -> bytes:
    lines = [",".join(c.label for c in imports.COLUMNS), ",".join(KEYS)]
    for data in rows:
        lines.append(",".join(str(data.get(key, "")) for key in KEYS))
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def queue(user, file, mode=ImportMode.ALL_OR_NOTHING, **kwargs) -> ImportJob:
    return import_create(actor=user, file=file, mode=mode, **kwargs)


def run(job) -> ImportJob:
    assert run_queued_imports() == 1
    job.refresh_from_db()
    return job


def report_rows(job) -> list[tuple]:
    """The error report's rows below its two header rows: (row, column, field, value, reason)."""
    with job.error_report.open("rb") as f:
        workbook = load_workbook(io.BytesIO(f.read()), read_only=True)
    sheet = workbook["错误 Errors"]
    return [tuple(r) for r in sheet.iter_rows(min_row=3, values_only=True)]


def reasons(job, number) -> dict:
    return {field: reason for row_no, _c, field, _v, reason in report_rows(job) if row_no == number}


# ---------------------------------------------------------------- template round trip


def test_the_downloaded_template_filled_in_imports_customers_vehicles_and_history(
    manager, catalogue
):
    # given the template as the page serves it, filled in with two customers, one of them
    # with two vehicles (two rows, same mobile and name), and one customer without a car
    client = page(manager)
    response = client.get(reverse("import-template") + "?format=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    template = b"".join(response.streaming_content) if response.streaming else response.content
    workbook = load_workbook(io.BytesIO(template))
    data_sheet = workbook[imports.DATA_SHEET]
    assert [c.value for c in data_sheet[1]][:2] == ["姓名*", "手机号*"]
    assert data_sheet["A1"].comment is not None
    variant_codes = [
        r[0] for r in workbook[imports.VARIANT_SHEET].iter_rows(min_row=3, values_only=True)
    ]
    assert "X3-15T-2024" in variant_codes
    assert len(variant_codes) == Variant.objects.count()
    id_number = valid_id_number(datetime.date(1990, 2, 3), seq=457)
    first_vin, second_vin = vin_for(catalogue), vin_for(catalogue)
    mobile = unique_mobile()
    rows = [
        row(
            catalogue,
            name="王芳",
            mobile=mobile,
            id_number=id_number,
            tags="VIP，车队客户",
            vin=first_vin,
            sale_date=datetime.datetime(2024, 3, 15),
            invoice_date="2024/03/16",
            sold_by_dealer="是",
            email="wf@example.com",
        ),
        row(
            catalogue,
            name="王芳",
            mobile=mobile,
            vin=second_vin.lower(),
            odometer_km=None,
            sale_date=None,
            invoice_date=None,
        ),
        row(name="李娜", marketing_consent="否", contact_channel="微信"),
    ]
    upload = SimpleUploadedFile("客户.xlsx", fill_template(template, rows), content_type=XLSX)

    # when it is uploaded on the page and the job runner runs
    response = client.post(
        reverse("import-create"), {"file": upload, "mode": ImportMode.ALL_OR_NOTHING}
    )
    assert response.status_code == 302, response.content
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("import-detail", args=[job.pk])
    assert job.status == ImportStatus.QUEUED and job.dealer == manager.dealer
    job = run(job)

    # then both customers and both vehicles exist, with everything that belongs to them
    assert job.status == ImportStatus.DONE, job.message
    assert (job.total_rows, job.imported_rows, job.error_rows) == (3, 3, 0)
    assert (job.customers_created, job.vehicles_created) == (2, 2)
    assert not job.error_report
    wang = Customer.objects.get(mobile=mobile)
    assert wang.id_number_hash == pii.blind_index(id_number)
    assert pii.decrypt(wang.id_number_encrypted) == id_number
    assert wang.id_number_masked == id_number[:6] + "********" + id_number[-4:]
    assert wang.birthday == datetime.date(1990, 2, 3)
    assert wang.marketing_consent and wang.marketing_consent_at is not None
    assert sorted(wang.tags.values_list("name", flat=True)) == ["VIP", "车队客户"]
    assert wang.source == "import" and wang.origin_dealer == manager.dealer
    li = Customer.objects.get(name="李娜")
    assert li.contact_channel == "wechat" and not li.marketing_consent
    assert not li.vehicles.exists()
    first = Vehicle.objects.get(vin=first_vin)
    assert first.owner == wang and first.vin_last8 == first_vin[-8:]
    assert first.vin_last6 == first_vin[-6:]
    assert first.invoice_date == datetime.date(2024, 3, 16)
    assert first.warranty_start == datetime.date(2024, 3, 16)
    assert first.warranty_end == datetime.date(2027, 3, 15)
    assert first.selling_dealer == manager.dealer and first.odometer_km == 12000
    second = Vehicle.objects.get(vin=second_vin)
    assert second.owner == wang and second.selling_dealer is None
    assert second.warranty_end is None
    ownership = Ownership.objects.get(vehicle=first)
    assert ownership.reason == OwnershipReason.IMPORT and ownership.customer == wang
    assert ownership.started_on == datetime.date(2024, 3, 15)
    reading = OdometerReading.objects.get(vehicle=first)
    assert (reading.km, reading.source) == (12000, OdometerSource.IMPORT)
    assert reading.read_on == timezone.localdate() and reading.recorded_by == manager
    assert not OdometerReading.objects.filter(vehicle=second).exists()
    kinds = dict(DealerVehicle.objects.filter(dealer=manager.dealer).values_list("vehicle", "kind"))
    assert kinds == {first.pk: RelationshipKind.SOLD, second.pk: RelationshipKind.REGISTERED}
    assert set(
        DealerCustomer.objects.filter(dealer=manager.dealer).values_list("customer", flat=True)
    ) == {wang.pk, li.pk}
    # one audit entry per created record, through the import channel, at the dealer
    entries = AuditLog.objects.filter(channel=AuditChannel.IMPORT, action="create")
    assert entries.filter(content_type__model="customer").count() == 2
    assert entries.filter(content_type__model="vehicle").count() == 2
    assert entries.filter(content_type__model="odometerreading").count() == 1
    assert set(entries.values_list("dealer", flat=True)) == {manager.dealer.pk}
    entry = entries.get(content_type__model="customer", object_id=str(wang.pk))
    assert entry.changes["mobile"] == [None, mobile]
    assert "id_number_encrypted" not in entry.changes and "id_number_hash" not in entry.changes
    assert entry.changes["id_number_masked"] == [None, wang.id_number_masked]
    assert entry.changes["marketing_consent"] == [None, True]
    assert entry.changes["birthday"] == [None, "1990-02-03"]
    assert entry.changes["origin_dealer"] == [None, manager.dealer.pk]
    consent_at = datetime.datetime.fromisoformat(entry.changes["marketing_consent_at"][1])
    assert consent_at == wang.marketing_consent_at
    assert "phone2" not in entry.changes  # empty fields are left out
    assert entry.object_repr == "王芳"
    assert entry.actor == manager
    vehicle_entry = entries.get(content_type__model="vehicle", object_id=str(first.pk))
    assert vehicle_entry.object_repr == first.plate
    assert vehicle_entry.changes["vin"] == [None, first_vin]
    assert vehicle_entry.changes["sale_date"] == [None, "2024-03-15"]
    assert vehicle_entry.changes["warranty_end"] == [None, "2027-03-15"]
    assert vehicle_entry.changes["owner"] == [None, wang.pk]
    assert vehicle_entry.changes["warranty_km"][1] == first.warranty_km
    assert "vin_last8" not in vehicle_entry.changes and "colour" not in vehicle_entry.changes
    assert vehicle_entry.changes["variant"] == [None, catalogue.pk]
    created = datetime.datetime.fromisoformat(vehicle_entry.changes["created_at"][1])
    assert abs(created - first.created_at) < datetime.timedelta(seconds=1)
    reading_entry = entries.get(content_type__model="odometerreading")
    assert reading_entry.object_repr == f"12000 km @ {timezone.localdate()}"
    # and the dealer's staff find them
    sa = Customer.objects.restrict(manager, "view")
    assert sa.filter(pk__in=[wang.pk, li.pk]).count() == 2


def test_the_csv_template_has_a_byte_order_mark_and_imports(manager, catalogue):
    # given the CSV template from the page (UTF-8 with BOM, Chinese then English headers)
    response = page(manager).get(reverse("import-template") + "?format=csv")
    assert response.status_code == 200
    assert response.content.startswith(codecs.BOM_UTF8)
    header, keys = response.content.decode("utf-8-sig").splitlines()[:2]
    assert header.startswith("姓名*,手机号*,身份证号")
    assert keys.split(",") == list(KEYS)
    # when a row is appended and the file imported
    data = row(catalogue, name="赵敏")
    content = response.content + (",".join(str(data.get(k, "")) for k in KEYS) + "\r\n").encode()
    job = run(queue(manager, SimpleUploadedFile("t.csv", content)))
    # then the customer is there with the Chinese name intact
    assert job.status == ImportStatus.DONE, job.message
    assert Customer.objects.get(mobile=data["mobile"]).name == "赵敏"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk"])
def test_csv_in_utf8_with_or_without_bom_and_in_gbk_reads_chinese_text(
    manager, catalogue, encoding
):
    # given a CSV as Chinese Excel saves it ("CSV" is GBK, "CSV UTF-8" has a BOM)
    rows = [row(catalogue, name="欧阳娜娜", city="广州", tags="车队客户")]
    file = SimpleUploadedFile("gbk.csv", csv_bytes(rows, encoding))
    # when it is imported
    job = run(queue(manager, file))
    # then the Chinese text arrives unchanged
    assert job.status == ImportStatus.DONE, job.message
    customer = Customer.objects.get(mobile=rows[0]["mobile"])
    assert (customer.name, customer.city) == ("欧阳娜娜", "广州")
    assert list(customer.tags.values_list("name", flat=True)) == ["车队客户"]


# ---------------------------------------------------------------- the two modes


def _file_with_one_bad_row(variant):
    good = [row(variant, name="甲"), row(variant, name="乙")]
    future = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    vin = vin_for(variant)
    wrong_check = vin[:8] + ("1" if vin[8] != "1" else "2") + vin[9:]
    bad = row(
        variant,
        name="丙",
        mobile="1381234567",
        vin=wrong_check,
        variant_code="NOPE-1",
        sale_date=future,
        odometer_km=-5,
        plate="京AI2345",
    )
    return good, bad, vin[8]


def test_all_or_nothing_with_one_bad_row_writes_nothing_and_reports_every_error_of_the_row(
    manager, catalogue
):
    # given a file with two good rows and one row with seven errors (row 5 of the sheet)
    good, bad, check_digit = _file_with_one_bad_row(catalogue)
    customers, vehicles, audit = (
        Customer.objects.count(),
        Vehicle.objects.count(),
        AuditLog.objects.count(),
    )
    # when it is imported all-or-nothing
    job = run(queue(manager, xlsx_file([*good, bad])))
    # then nothing is written and the job is rejected with a report
    assert job.status == ImportStatus.REJECTED
    assert (job.total_rows, job.error_rows, job.imported_rows) == (3, 1, 0)
    assert "nothing was imported" in job.message
    assert Customer.objects.count() == customers and Vehicle.objects.count() == vehicles
    assert AuditLog.objects.count() == audit + 1  # the upload itself
    # and the report names row, column and reason of every error of that row
    rows = report_rows(job)
    assert {r[0] for r in rows} == {5}
    by_field = {field: (column, value, reason) for _n, column, field, value, reason in rows}
    assert by_field["手机号 (mobile)"] == (
        "B",
        "1381234567",
        "A mobile number has 11 digits, not 10.",
    )
    assert by_field["车架号(VIN) (vin)"][0] == "K"
    assert by_field["车架号(VIN) (vin)"][2] == (
        f"VIN check digit (9th character) should be {check_digit}, not {bad['vin'][8]}."
    )
    assert (
        by_field["车牌号 (plate)"][2] == "Plates never use the letters I or O; did you mean 1 or 0?"
    )
    assert "NOPE-1" in by_field["车款代码 (variant_code)"][2]
    assert by_field["销售日期 (sale_date)"][2] == "This date is in the future."
    assert by_field["里程(km) (odometer_km)"][2] == "An odometer reading is 0 to 2,000,000 km."
    assert (
        by_field["开票日期 (invoice_date)"][2] == "The invoice date is long before the sale date."
    )
    assert len(rows) == 7
    # the "rows to fix" sheet gives the row back in the template's layout
    with job.error_report.open("rb") as f:
        fix = load_workbook(io.BytesIO(f.read()), read_only=True)["待修正 Rows to fix"]
    fix_rows = list(fix.iter_rows(values_only=True))
    assert list(fix_rows[1][: len(KEYS)]) == list(KEYS)
    assert fix_rows[2][0] == "丙" and fix_rows[2][-1] == 5


def test_valid_rows_mode_imports_the_good_rows_and_reports_the_others(manager, catalogue):
    # given the same kind of file
    good, bad, _digit = _file_with_one_bad_row(catalogue)
    # when it is imported in valid-rows mode
    job = run(queue(manager, xlsx_file([*good, bad]), mode=ImportMode.VALID_ROWS))
    # then the two good rows are in, the bad one is reported
    assert job.status == ImportStatus.DONE
    assert (job.total_rows, job.imported_rows, job.error_rows) == (3, 2, 1)
    assert (job.customers_created, job.vehicles_created) == (2, 2)
    assert "1 rows have errors" in job.message
    assert set(
        Customer.objects.filter(name__in=["甲", "乙", "丙"]).values_list("name", flat=True)
    ) == {"甲", "乙"}
    assert {r[0] for r in report_rows(job)} == {5}
    # and the error report itself, its "rows to fix" corrected, imports the last row
    with job.error_report.open("rb") as f:
        workbook = load_workbook(io.BytesIO(f.read()))
    fix = workbook["待修正 Rows to fix"]
    fixes = {
        "mobile": unique_mobile(),
        "vin": vin_for(catalogue),
        "variant_code": catalogue.code,
        "sale_date": "2024-01-02",
        "odometer_km": 5,
        "plate": unique_plate(),
    }
    for key, value in fixes.items():
        fix.cell(row=3, column=KEYS.index(key) + 1, value=value)
    # (the report is uploaded as it is: the importer reads its "rows to fix" sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    again = run(queue(manager, SimpleUploadedFile("fixed.xlsx", buffer.getvalue())))
    assert again.status == ImportStatus.DONE, again.message
    assert Customer.objects.get(mobile=fixes["mobile"]).name == "丙"


def test_rows_are_checked_against_each_other_and_the_database(manager, catalogue, demo_org):
    # given customers and a vehicle already registered (one at another dealer)
    sh = Dealer.objects.get(code="SH01")
    known = make_customer(dealer=sh, name="周杰", id_number=valid_id_number(seq=321))
    stranger = make_customer(dealer=sh, name="吴磊")
    registered = make_vehicle(owner=stranger, dealer=sh, variant=catalogue)
    shared_mobile, shared_vin = unique_mobile(), vin_for(catalogue)
    rows = [
        row(name="甲", mobile=shared_mobile),  # 3: same mobile, different names
        row(name="乙", mobile=shared_mobile),  # 4
        row(catalogue, name="丙", vin=shared_vin),  # 5: same VIN twice
        row(catalogue, name="丁", vin=shared_vin.lower()),  # 6
        row(catalogue, name="戊", vin=registered.vin),  # 7: VIN already registered
        row(catalogue, name="周杰", mobile=known.mobile),  # 8: existing customer, same name
        row(name="假名", mobile=stranger.mobile),  # 9: existing mobile, another name
        row(name="周杰", mobile=known.mobile, id_number=valid_id_number(seq=999)),  # 10
        row(name="己"),  # 11: fine
    ]
    # when imported in valid-rows mode
    job = run(queue(manager, xlsx_file(rows), mode=ImportMode.VALID_ROWS))
    # then every clash is reported on its rows
    assert job.status == ImportStatus.DONE, job.message
    assert "rows 3, 4 with different names" in reasons(job, 3)["手机号 (mobile)"]
    assert "rows 3, 4 with different names" in reasons(job, 4)["手机号 (mobile)"]
    assert (
        reasons(job, 5)["车架号(VIN) (vin)"]
        == "This VIN is in the file more than once (rows 5, 6)."
    )
    assert (
        reasons(job, 6)["车架号(VIN) (vin)"]
        == "This VIN is in the file more than once (rows 5, 6)."
    )
    assert reasons(job, 7)["车架号(VIN) (vin)"] == (
        "A vehicle with this VIN is already registered; look it up by its VIN."
    )
    assert "registered customer with another name" in reasons(job, 9)["手机号 (mobile)"]
    assert "another resident ID number" in reasons(job, 10)["身份证号 (id_number)"]
    assert reasons(job, 8) == {} and reasons(job, 11) == {}
    assert (job.imported_rows, job.error_rows, job.customers_created) == (2, 7, 1)
    # the existing customer was reused: linked to BJ01, its record unchanged, its new car added
    known.refresh_from_db()
    assert known.name == "周杰" and known.version == 1
    assert DealerCustomer.objects.filter(dealer=manager.dealer, customer=known).exists()
    assert known.vehicles.count() == 1
    assert "already registered (same mobile number and name)" in job.message
    # the other dealer's customer with another name was not linked
    assert not DealerCustomer.objects.filter(dealer=manager.dealer, customer=stranger).exists()
    assert Vehicle.objects.get(vin=registered.vin).owner == stranger


def test_dates_numbers_and_choices_accept_what_excel_gives_and_refuse_the_rest(manager, catalogue):
    # given dates as Excel dates and as text in both accepted forms, and bad values
    rows = [
        row(
            catalogue,
            sale_date=datetime.date(2023, 5, 6),
            invoice_date="2023/05/07",
            insurance_expiry="2026-05-06",
            last_inspection="2025/5/1",
            odometer_km=8000.0,
        ),
        row(
            catalogue,
            sale_date="06.05.2023",
            odometer_km="12000.5",
            marketing_consent="也许",
            contact_channel="飞鸽",
            email="not-an-email",
        ),
        row(catalogue, invoice_date="2020-01-01", sale_date="2023-01-01"),
        row(id_number=110105198506151234),  # Excel turned the ID number into a number
        row(name="", mobile=""),
    ]
    # when imported in valid-rows mode
    job = run(queue(manager, xlsx_file(rows), mode=ImportMode.VALID_ROWS))
    # then the good row is in with its dates
    vehicle = Vehicle.objects.get(vin=rows[0]["vin"])
    assert vehicle.sale_date == datetime.date(2023, 5, 6)
    assert vehicle.invoice_date == datetime.date(2023, 5, 7)
    assert vehicle.insurance_expiry == datetime.date(2026, 5, 6)
    assert vehicle.last_inspection == datetime.date(2025, 5, 1)
    assert vehicle.odometer_km == 8000
    # and each bad value is named with the services' message
    second = reasons(job, 4)
    assert second["销售日期 (sale_date)"] == "Enter a date such as 2026-03-15."
    assert second["里程(km) (odometer_km)"] == "Enter the odometer reading in whole km."
    assert second["同意营销 (marketing_consent)"] == "Write 是 or 否 (yes or no)."
    assert second["联系方式偏好 (contact_channel)"] == "Choose SMS, phone call, WeChat or e-mail."
    assert second["电子邮箱 (email)"] == "Enter a valid email address."
    assert reasons(job, 5) == {
        "开票日期 (invoice_date)": "The invoice date is long before the sale date."
    }
    assert "format the column as text" in reasons(job, 6)["身份证号 (id_number)"]
    assert reasons(job, 7) == {
        "姓名 (name)": "Enter the customer's name.",
        "手机号 (mobile)": "This field is required.",
    }
    assert (job.imported_rows, job.error_rows) == (1, 4)


# ---------------------------------------------------------------- failures and the runner


def test_a_crash_while_writing_all_or_nothing_leaves_nothing_and_records_the_failure(
    manager, catalogue
):
    # given a valid file of 3 rows whose last VIN another user registers after the check
    rows = [row(catalogue), row(catalogue), row(catalogue)]
    job = queue(manager, xlsx_file(rows))
    job = claim_next_job()
    customers, vehicles = Customer.objects.count(), Vehicle.objects.count()
    audit = AuditLog.objects.count()

    def another_user_registers_the_vin():
        owner = make_customer(dealer=manager.dealer, name="抢先")
        make_vehicle(owner=owner, dealer=manager.dealer, variant=catalogue, vin=rows[2]["vin"])

    # when the job writes
    import_run(job, before_write=another_user_registers_the_vin)
    job.refresh_from_db()
    # then it failed with a message, and none of the file's rows is half-written
    assert job.status == ImportStatus.FAILED
    assert "another user registered" in job.message and "Nothing was imported" in job.message
    assert job.finished_at is not None and job.imported_rows == 0
    assert Customer.objects.count() == customers + 1  # only the other user's customer
    assert Vehicle.objects.count() == vehicles + 1
    assert not Customer.objects.filter(mobile__in=[r["mobile"] for r in rows]).exists()
    assert AuditLog.objects.count() == audit + 2  # the other user's customer and vehicle


def test_a_file_that_is_not_a_workbook_is_refused_at_upload(manager):
    # given files that are not a template
    before = ImportJob.objects.count()
    cases = [
        (SimpleUploadedFile("old.xls", b"\xd0\xcf\x11\xe0" + b"0" * 100), ".xlsx"),
        (SimpleUploadedFile("fake.xlsx", b"PK not really a zip"), "not an Excel workbook"),
        (SimpleUploadedFile("list.csv", b"foo,bar\r\n1,2\r\n"), "姓名 (name)"),
        (SimpleUploadedFile("empty.csv", b""), "empty"),
    ]
    for file, expected in cases:
        # when it is uploaded
        with pytest.raises(ValidationFailed) as exc:
            queue(manager, file)
        # then the upload is refused with a message that says why, and nothing is queued
        assert expected in exc.value.fields["file"][0]
    assert ImportJob.objects.count() == before


def test_the_runner_claims_each_job_once(manager, catalogue):
    # given one queued job
    job = queue(manager, xlsx_file([row(catalogue)]))
    # when two runners look for work at the same time, only one gets it
    first = claim_next_job()
    assert first.pk == job.pk and first.status == ImportStatus.RUNNING
    assert claim_next_job() is None
    import_run(first)
    # and when the runner is run again, it does not import the job a second time
    assert run_queued_imports() == 0
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.imported_rows == 1
    assert Customer.objects.filter(source="import").count() == 1


def test_the_runner_takes_queued_jobs_oldest_first_and_a_failing_one_does_not_stop_it(
    manager, catalogue
):
    # given a job whose file disappeared and a good job queued after it
    broken = queue(manager, xlsx_file([row(catalogue)]))
    broken.file.storage.delete(broken.file.name)
    good = queue(manager, xlsx_file([row(catalogue)]))
    # when the runner runs
    assert run_queued_imports() == 2
    broken.refresh_from_db()
    good.refresh_from_db()
    # then the broken one is failed with its reason and the next one is done
    assert broken.status == ImportStatus.FAILED and "Nothing was imported" in broken.message
    assert good.status == ImportStatus.DONE


def test_a_job_stuck_running_is_given_up(manager, catalogue):
    # given a job the runner started long ago and never finished (the worker died)
    job = queue(manager, xlsx_file([row(catalogue)]))
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, started_at=timezone.now() - datetime.timedelta(hours=3)
    )
    # when the runner runs
    assert run_queued_imports() == 0
    # then the job is failed and says what to do
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and "Upload the file again" in job.message


# ---------------------------------------------------------------- uploads, pages, API


def test_oem_staff_choose_the_dealer_and_dealer_staff_cannot_pick_another(demo_org, catalogue):
    oem, manager = demo_org["oem-admin"], demo_org["bj01-svcmgr"]
    sh = Dealer.objects.get(code="SH01")
    # the upload page asks OEM staff for the dealer, and dealer staff not
    assert 'name="dealer"' in page(oem).get(reverse("import-create")).content.decode()
    assert 'name="dealer"' not in page(manager).get(reverse("import-create")).content.decode()
    # OEM staff without a dealer are asked for one
    with pytest.raises(ValidationFailed) as exc:
        queue(oem, xlsx_file([row()]))
    assert "dealer" in str(exc.value.message).lower() or exc.value.fields
    job = queue(oem, xlsx_file([row()]), dealer=sh)
    assert job.dealer == sh
    # a dealer's manager cannot import into another dealer
    from aftersales.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        queue(manager, xlsx_file([row()]), dealer=sh)


def test_upload_page_shows_errors_and_the_detail_page_polls_while_the_job_runs(manager, catalogue):
    client = page(manager)
    # an upload without a file is refused on the page
    response = client.post(reverse("import-create"), {"mode": ImportMode.VALID_ROWS})
    assert response.status_code == 400
    assert not ImportJob.objects.exists()
    # a queued job's page polls every 2 s
    job = queue(
        manager,
        xlsx_file([row(catalogue), row(catalogue, mobile="123")]),
        mode=ImportMode.VALID_ROWS,
    )
    response = client.get(reverse("import-detail", args=[job.pk]))
    assert response.status_code == 200
    assert 'hx-trigger="every 2s"' in response.content.decode()
    # the htmx poll gets the progress part only
    fragment = client.get(reverse("import-detail", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert fragment.content.decode().lstrip().startswith("<section")
    # once done, no more polling, and the error report can be downloaded
    run(job)
    html = client.get(reverse("import-detail", args=[job.pk])).content.decode()
    assert "every 2s" not in html
    assert reverse("import-errors", args=[job.pk]) in html
    response = client.get(reverse("import-errors", args=[job.pk]))
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    # and the list shows it
    listing = client.get(reverse("import-list"))
    assert [j.pk for j in listing.context["object_list"]] == [job.pk]


def test_import_list_has_a_fixed_number_of_queries(
    manager, catalogue, django_assert_max_num_queries
):
    client = page(manager)
    job = queue(manager, xlsx_file([row()]))
    for _ in range(30):
        ImportJob.objects.create(
            dealer=job.dealer,
            created_by=manager,
            file=job.file.name,
            original_name="x.xlsx",
            mode=ImportMode.VALID_ROWS,
        )
    client.get(reverse("import-list"))  # warm the session and role caches
    with django_assert_max_num_queries(8):
        response = client.get(reverse("import-list"))
    assert len(response.context["object_list"]) == 31


def test_another_dealers_import_is_not_found_in_pages_or_api(demo_org, catalogue):
    manager, outsider = demo_org["bj01-svcmgr"], demo_org["sh01-svcmgr"]
    job = run(
        queue(manager, xlsx_file([row(catalogue), row(mobile="1")]), mode=ImportMode.VALID_ROWS)
    )
    assert job.error_report
    client = page(outsider)
    assert client.get(reverse("import-detail", args=[job.pk])).status_code == 404
    assert client.get(reverse("import-errors", args=[job.pk])).status_code == 404
    assert client.get(reverse("import-list")).context["object_list"].count() == 0
    assert client.get(reverse("api:importjob-detail", args=[job.pk])).status_code == 404
    assert client.get(reverse("api:importjob-errors", args=[job.pk])).status_code == 404
    assert client.get(reverse("api:importjob-list")).json()["results"] == []
    # the region manager of BJ01's region may look (crm.view_importjob is not theirs: 403)
    assert page(demo_org["north-rm"]).get(reverse("import-list")).status_code == 403


def test_api_upload_progress_and_error_report(manager, catalogue):
    client = page(manager)
    # when a file is posted as multipart
    content = csv_bytes([row(catalogue), row(catalogue, plate="X")])
    response = client.post(
        reverse("api:importjob-list"),
        {"file": SimpleUploadedFile("api.csv", content), "mode": "valid_rows"},
    )
    # then the import is queued
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "queued" and body["error_report_url"] is None
    assert body["dealer_code"] == "BJ01"
    # and after the run its progress, counts and report URL are in the detail
    run(ImportJob.objects.get(pk=body["id"]))
    detail = client.get(reverse("api:importjob-detail", args=[body["id"]])).json()
    assert detail["status"] == "done" and detail["progress"] == 100
    assert (detail["total_rows"], detail["imported_rows"], detail["error_rows"]) == (2, 1, 1)
    report = client.get(detail["error_report_url"])
    assert report.status_code == 200 and report["Content-Type"] == XLSX
    listed = client.get(reverse("api:importjob-list")).json()["results"]
    assert [j["id"] for j in listed] == [body["id"]]
    # a JSON post without a file is refused with a field error
    response = client.post(
        reverse("api:importjob-list"), {"mode": "valid_rows"}, content_type="application/json"
    )
    assert response.status_code == 400 and "file" in response.json()["fields"]


# ---------------------------------------------------------------- the .xlsx reader


def test_the_xlsx_reader_reads_what_openpyxl_reads(tmp_path):
    # given workbooks with shared strings (as Excel writes them) and inline strings
    values = [
        ["姓名", "手机号", "数字", "日期", "空", "布尔", "公式"],
        ["张 & 伟 <1>", "13912345678", 12000, datetime.date(2024, 3, 1), None, True, 3.5],
        ["", None, -7, datetime.datetime(2023, 12, 31, 0, 0), "x", False, 1e20],
    ]
    shared = Workbook()
    for r in values:
        shared.active.append(r)
    shared.save(tmp_path / "shared.xlsx")
    inline = Workbook(write_only=True)
    sheet = inline.create_sheet("Sheet")
    for r in values:
        sheet.append(r)
    inline.save(tmp_path / "inline.xlsx")
    for name in ("shared.xlsx", "inline.xlsx"):
        # when both readers read them
        path = tmp_path / name
        reference = [
            list(r) for r in load_workbook(path, read_only=True).active.iter_rows(values_only=True)
        ]
        reader = XlsxReader(path)
        ours = [values for _n, values in reader.rows()]
        # then the values agree (dates arrive as Excel serials, converted by the column)
        for mine, theirs in zip(ours, reference, strict=True):
            for a, b in zip(mine + [None] * (len(theirs) - len(mine)), theirs, strict=True):
                if isinstance(b, datetime.datetime):
                    assert reader.excel_date(a) == b.date()
                elif b == "" or b is None:
                    assert a in ("", None)
                else:
                    assert a == b, (name, a, b)


def test_vin_validation_in_the_import_is_the_services_own(manager, catalogue):
    # the import uses crm.validators: a good VIN in lower case with spaces is normalised
    vin = vin_for(catalogue)
    spaced = f"{vin[:4]} {vin[4:]}".lower()
    job = run(queue(manager, xlsx_file([row(catalogue, vin=spaced)])))
    assert job.status == ImportStatus.DONE, job.message
    assert Vehicle.objects.filter(vin=normalise_vin(spaced)).exists()


def test_a_crash_in_valid_rows_mode_keeps_the_committed_chunks_and_says_so(
    manager, catalogue, monkeypatch
):
    # given chunks of one row (valid-rows mode commits chunk by chunk) and a third VIN
    # that another user registers after the check
    monkeypatch.setattr(imports, "WRITE_CHUNK", 1)
    rows = [row(catalogue), row(catalogue), row(catalogue)]
    queue(manager, xlsx_file(rows), mode=ImportMode.VALID_ROWS)
    job = claim_next_job()

    def another_user_registers_the_vin():
        owner = make_customer(dealer=manager.dealer, name="抢先")
        make_vehicle(owner=owner, dealer=manager.dealer, variant=catalogue, vin=rows[2]["vin"])

    # when the job writes
    import_run(job, before_write=another_user_registers_the_vin)
    job.refresh_from_db()
    # then the first two rows are in, the job failed and says what was kept
    assert job.status == ImportStatus.FAILED
    assert "2 rows were imported before the failure and are kept" in job.message
    assert job.imported_rows == 2
    assert Customer.objects.filter(mobile__in=[r["mobile"] for r in rows]).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_runners_claiming_at_the_same_moment_get_the_job_once(demo_org):
    import threading

    from django.db import connection

    load_catalogue_demo()
    manager = demo_org["bj01-svcmgr"]
    job = queue(manager, xlsx_file([row()]))
    barrier = threading.Barrier(2)
    claimed = []

    def runner():
        try:
            barrier.wait(timeout=10)
            claimed.append(claim_next_job())
        finally:
            connection.close()

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(c.pk if c else 0 for c in claimed) == [0, job.pk]
    job.refresh_from_db()
    assert job.status == ImportStatus.RUNNING


def test_text_with_tabs_backslashes_and_line_breaks_arrives_intact(manager, catalogue):
    # given an address and a colour with the characters bulk loading has to escape
    address = '朝阳区\t建国路 88\\2 号\n2 单元 "东门"'
    job = run(queue(manager, xlsx_file([row(catalogue, address=address, colour="灰\\白")])))
    assert job.status == ImportStatus.DONE, job.message
    customer = Customer.objects.get(address=address)
    assert customer.vehicles.get().colour == "灰\\白"
    entry = AuditLog.objects.get(content_type__model="customer", object_id=str(customer.pk))
    assert entry.changes["address"] == [None, address]


def test_uploaded_files_and_error_reports_are_deleted_after_the_retention_period(
    manager, catalogue, settings
):
    # given two finished imports with error reports: one old, one recent
    good, bad, _digit = _file_with_one_bad_row(catalogue)
    old = run(queue(manager, xlsx_file([*good, bad]), mode=ImportMode.VALID_ROWS))
    recent = run(queue(manager, xlsx_file([bad]), mode=ImportMode.VALID_ROWS))
    storage = old.file.storage
    old_files = [old.file.name, old.error_report.name]
    assert all(storage.exists(name) for name in old_files)
    now = timezone.now()
    ImportJob.objects.filter(pk=old.pk).update(
        finished_at=now - datetime.timedelta(days=settings.CRM_IMPORT_FILE_DAYS + 1)
    )
    # when the retention job runs
    assert imports.purge_old_import_files(now=now) == 1
    # then the old job's files are gone but its row and counts stay; the recent one is kept
    old.refresh_from_db()
    assert not any(storage.exists(name) for name in old_files)
    assert (old.file.name, old.error_report.name) == ("", "")
    assert (old.imported_rows, old.error_rows) == (2, 1)
    recent.refresh_from_db()
    assert storage.exists(recent.file.name) and storage.exists(recent.error_report.name)
    # and running it again finds nothing more to clean
    assert imports.purge_old_import_files(now=now) == 0
