"""Bulk import of customers and their vehicles from Excel (.xlsx) or CSV, run as a job.

One row of the file is one customer and, optionally, one of their vehicles (a customer with
two cars is two rows with the same mobile number and name). The template
(``template_xlsx`` / ``template_csv``) has the Chinese column headers in its first row and
the English keys (``name``, ``mobile``…) in the second; the importer recognises a column
by either, skips the row of English keys, and ignores columns it does not know.

Flow: ``import_create`` stores the upload (status ``queued``); the job runner
(``run_queued_imports``, every few seconds) claims one job at a time with a conditional
``UPDATE … WHERE status = 'queued'`` and runs ``import_run``:

1. **check**: every row is read and validated with the services' rules and messages
   (``crm.validators`` and the rules of ``customer_create`` / ``vehicle_create``); then the
   rows are checked against each other (a mobile number with two names, a VIN twice) and
   against the database in bulk (VINs already registered, mobiles of existing customers);
   every error of every row is collected; ``processed_rows`` moves as rows are checked;
2. **report**: when there are errors, an .xlsx error report (row, column, value, reason,
   plus the rows to fix in the template's layout) is written;
3. **write**: all-or-nothing with an error ends ``rejected`` and writes nothing; otherwise
   the valid rows are written in chunks (customers with their encrypted ID numbers via
   ``set_id_number``, tags, dealer relationships, vehicles with ``apply_warranty``,
   ownerships, odometer readings, and one audit entry per created record, channel
   "import", at the dealer). All-or-nothing writes in one transaction, so a crash leaves
   nothing behind; valid-rows mode commits chunk by chunk, so the page shows progress and
   other users' writes are not held up.

A mobile number that belongs to an existing customer reuses that customer (the record is
not changed; the importing dealer gets a relationship with it) when the name in the file
is the same; with another name the row is an error, so an import cannot be used to reach
other dealers' customers by guessing numbers.

Speed (100,000 rows in under 90 s, see bench/crm_import.py), measured on a 2-CPU machine:

* the .xlsx reader streams the worksheet XML with expat instead of building openpyxl
  cells: openpyxl's read-only mode took ~2.5x the CPU for 100,000 x 20 cells;
* rows are inserted without model instances (``_Table``: ``executemany`` on SQLite,
  ``COPY`` on PostgreSQL), ~10x cheaper than ``bulk_create`` at this volume; primary keys
  are reserved first, so a helper thread prepares chunk k+1 while chunk k is inserted;
* the audit entries are built by the database (``INSERT ... SELECT`` with its JSON
  functions) from the rows just inserted, with the fields and formats of
  ``core.audit.audit_create``.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime
import io
import json
import logging
import os
import re
import tempfile
import uuid
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import PurePosixPath
from xml.etree import ElementTree
from xml.parsers import expat

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files import File
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.core.access import user_has_perm
from aftersales.core.audit import audit_event
from aftersales.core.errors import ValidationFailed
from aftersales.core.models import AuditAction, AuditChannel, AuditLog
from aftersales.crm.choices import (
    ContactChannel,
    CustomerSource,
    ImportMode,
    ImportStatus,
    OdometerSource,
    OwnershipReason,
    RelationshipKind,
)
from aftersales.crm.models import (
    Customer,
    CustomerTag,
    DealerCustomer,
    DealerVehicle,
    ImportJob,
    OdometerReading,
    Ownership,
    Vehicle,
)
from aftersales.crm.services import acting_dealer, apply_warranty, set_id_number
from aftersales.crm.validators import (
    normalise_id_number,
    normalise_mobile,
    normalise_plate,
    normalise_vin,
)

log = logging.getLogger(__name__)

MAX_ROWS = 200_000  # rows per file; more is refused (split the file)
MAX_UPLOAD_BYTES = 60 * 1024 * 1024
CHECK_CHUNK = 2_000  # rows between two progress updates while checking
WRITE_CHUNK = 2_000  # rows written per bulk round (and per transaction in valid-rows mode)
LOOKUP_CHUNK = 500  # values per IN (...) lookup
BATCH = 1_000  # objects per INSERT (PostgreSQL allows 65,535 parameters per statement)
STALE_AFTER = datetime.timedelta(hours=2)  # a running job without an end is given up
MAX_SHARED_STRINGS_BYTES = 200 * 1024 * 1024
DATA_SHEET = "客户车辆 Customers"
VARIANT_SHEET = "车款代码 Variants"
HELP_SHEET = "说明 Instructions"
ERRORS_SHEET = "错误 Errors"
FIX_SHEET = "待修正 Rows to fix"  # in the error report: fix the rows there, upload the report
SOURCE_ROW = "source_row"  # the error report's "rows to fix" sheet adds it; ignored on import


class ImportFileError(Exception):
    """The file cannot be read as a customer import (its message is shown to the user)."""


# ---------------------------------------------------------------- the columns


@dataclass(frozen=True)
class Column:
    key: str  # the English key: second header row of the template, API field name
    label: str  # the Chinese header: first row of the template
    hint: str  # what to write, shown on the instructions sheet and as a header comment
    kind: str = "text"  # text, date, int, bool
    width: int = 14
    required: bool = False
    vehicle: bool = False
    text_format: bool = False  # formatted as text in the template (Excel mangles digits)
    aliases: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column(
        "name",
        "姓名",
        gettext_lazy("Required. At most 50 characters."),
        required=True,
        width=12,
        aliases=("客户姓名", "车主姓名", "客户名称"),
    ),
    Column(
        "mobile",
        "手机号",
        gettext_lazy(
            "Required. Mainland mobile, 11 digits starting 13-19. One row per vehicle: a customer "
            "with two cars is two rows with the same mobile number and name."
        ),
        required=True,
        width=14,
        text_format=True,
        aliases=("手机", "手机号码", "移动电话"),
    ),
    Column(
        "id_number",
        "身份证号",
        gettext_lazy(
            "Optional. 18 characters, GB 11643 check digit. Format the column as text, or Excel "
            "drops the last digits."
        ),
        width=21,
        text_format=True,
        aliases=("身份证", "身份证号码"),
    ),
    Column(
        "other_phone",
        "其他电话",
        gettext_lazy("Optional. Landline or second number."),
        width=14,
        text_format=True,
        aliases=("其它电话", "备用电话", "phone2"),
    ),
    Column("email", "电子邮箱", gettext_lazy("Optional."), width=20, aliases=("邮箱", "e-mail")),
    Column("city", "城市", gettext_lazy("Optional. At most 50 characters."), width=10),
    Column(
        "address",
        "地址",
        gettext_lazy("Optional. At most 200 characters."),
        width=28,
        aliases=("联系地址", "住址"),
    ),
    Column(
        "contact_channel",
        "联系方式偏好",
        gettext_lazy("短信, 电话, 微信 or 邮件 (sms, phone, wechat, email). Empty: 短信."),
        width=12,
        aliases=("联系方式", "preferred_contact"),
    ),
    Column(
        "marketing_consent",
        "同意营销",
        gettext_lazy("是 or 否 (yes or no). Empty: 否."),
        kind="bool",
        width=10,
        aliases=("营销同意", "consent"),
    ),
    Column("tags", "标签", gettext_lazy("Optional. Several tags separated by commas."), width=16),
    Column(
        "vin",
        "车架号(VIN)",
        gettext_lazy(
            "Needed for a vehicle. 17 characters, no I, O or Q; the 9th is the check digit. "
            "Leave all vehicle columns empty for a customer without a vehicle."
        ),
        width=20,
        vehicle=True,
        text_format=True,
        aliases=("车架号", "车辆识别代号", "vin码"),
    ),
    Column(
        "plate",
        "车牌号",
        gettext_lazy(
            "Optional. e.g. 京A12345, or 8 characters for new-energy vehicles (京AD12345)."
        ),
        width=11,
        vehicle=True,
        text_format=True,
        aliases=("车牌", "车牌号码"),
    ),
    Column(
        "variant_code",
        "车款代码",
        gettext_lazy(
            "Needed for a vehicle: a code from the sheet 车款代码 Variants, e.g. X3-15T-2024."
        ),
        width=16,
        vehicle=True,
        aliases=("车款", "车型代码", "variant"),
    ),
    Column(
        "colour",
        "颜色",
        gettext_lazy("Optional. At most 20 characters."),
        width=8,
        vehicle=True,
        aliases=("车身颜色", "color"),
    ),
    Column(
        "sale_date",
        "销售日期",
        gettext_lazy("Optional date, e.g. 2024-03-15 or 2024/03/15; not in the future."),
        kind="date",
        width=12,
        vehicle=True,
    ),
    Column(
        "invoice_date",
        "开票日期",
        gettext_lazy("Optional date; the warranty starts on it (or on the sale date)."),
        kind="date",
        width=12,
        vehicle=True,
    ),
    Column(
        "odometer_km",
        "里程(km)",
        gettext_lazy("Optional. Odometer today in whole km, 0 to 2,000,000."),
        kind="int",
        width=10,
        vehicle=True,
        aliases=("里程", "行驶里程", "公里数", "odometer"),
    ),
    Column(
        "insurance_expiry",
        "保险到期日",
        gettext_lazy("Optional date."),
        kind="date",
        width=12,
        vehicle=True,
        aliases=("保险到期", "保险到期日期"),
    ),
    Column(
        "last_inspection",
        "上次年检日期",
        gettext_lazy("Optional date; not in the future."),
        kind="date",
        width=12,
        vehicle=True,
        aliases=("年检日期", "上次年检"),
    ),
    Column(
        "sold_by_dealer",
        "本店销售",
        gettext_lazy(
            "是 if your dealer sold this vehicle (it becomes the selling dealer), else 否 or empty."
        ),
        kind="bool",
        width=10,
        vehicle=True,
        aliases=("本店售出",),
    ),
)
COLUMN = {c.key: c for c in COLUMNS}
KEYS = tuple(c.key for c in COLUMNS)
VEHICLE_KEYS = tuple(c.key for c in COLUMNS if c.vehicle)


def column_title(key: str) -> str:
    """``手机号 (mobile)``: how errors and the report name a column."""
    if key in COLUMN:
        return f"{COLUMN[key].label} ({key})"
    return key


def _header_key(text) -> str:
    return re.sub(r"[\s*＊_\-]", "", str(text or "")).replace("（", "(").replace("）", ")").lower()


_HEADER_LOOKUP: dict[str, str] = {}
for _column in COLUMNS:
    for _name in (_column.key, _column.label, _column.label.split("(")[0], *_column.aliases):
        _HEADER_LOOKUP[_header_key(_name)] = _column.key
_HEADER_LOOKUP[_header_key(SOURCE_ROW)] = SOURCE_ROW
_HEADER_LOOKUP[_header_key("原行号")] = SOURCE_ROW


# ---------------------------------------------------------------- reading .xlsx


_REL_ID = re.compile(r"\}id$")


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _column_index(letters: str) -> int:
    """``"A"`` -> 0, ``"AB"`` -> 27."""
    index = 0
    for char in letters:
        index = index * 26 + (ord(char) - 64)
    return index - 1


def _number(text: str):
    """A numeric cell's value: int when whole (Excel writes 12000 as "12000", sometimes
    as "12000.0" or "1.2E4"), else float."""
    number = float(text)
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


class _SharedStrings:
    """The workbook's shared-string table, parsed lazily: the header check at upload only
    needs the first few strings, the import all of them."""

    def __init__(self, stream):
        self.values: list[str] = []
        self.stream = stream
        self.done = stream is None
        self._parts: list[str] = []
        self._capture = False
        self._phonetic = 0
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        self.parser = parser

    def _start(self, name, attrs):
        name = name.rpartition(":")[2]
        if name == "t":
            self._capture = not self._phonetic
        elif name == "si":
            self._parts = []
        elif name == "rPh":
            self._phonetic += 1

    def _end(self, name):
        name = name.rpartition(":")[2]
        if name == "t":
            self._capture = False
        elif name == "si":
            self.values.append("".join(self._parts))
        elif name == "rPh":
            self._phonetic -= 1

    def _text(self, data):
        if self._capture:
            self._parts.append(data)

    def all(self) -> list[str]:
        """The whole table (the import reads every row, so it needs all of it)."""
        while not self.done:
            self._more()
        return self.values

    def _more(self):
        data = self.stream.read(1 << 16)
        self.parser.Parse(data, not data)
        if not data:
            self.done = True
            self.stream.close()

    def __getitem__(self, index: int) -> str:
        while index >= len(self.values) and not self.done:
            self._more()
        try:
            return self.values[index]
        except IndexError:
            raise ImportFileError(_("The workbook is damaged (a missing text cell).")) from None


class XlsxReader:
    """Rows of the data sheet of an .xlsx workbook as lists of Python values (str, int,
    float, bool or None), streamed: memory does not grow with the number of rows."""

    def __init__(self, path):
        try:
            self.zip = zipfile.ZipFile(path)
            names = set(self.zip.namelist())
            if "xl/workbook.xml" not in names:
                raise zipfile.BadZipFile
            workbook = ElementTree.fromstring(self.zip.read("xl/workbook.xml"))
            rels = ElementTree.fromstring(self.zip.read("xl/_rels/workbook.xml.rels"))
        except (zipfile.BadZipFile, KeyError, OSError, ElementTree.ParseError):
            raise ImportFileError(
                _(
                    "This file is not an Excel workbook (.xlsx). Save it from Excel as .xlsx "
                    "or as CSV and upload it again."
                )
            ) from None
        targets, shared = {}, None
        for rel in rels:
            target = rel.get("Target", "")
            path_in_zip = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            path_in_zip = str(PurePosixPath(os.path.normpath(path_in_zip)))
            targets[rel.get("Id")] = path_in_zip
            if rel.get("Type", "").endswith("/sharedStrings"):
                shared = path_in_zip
        sheets = []
        self.date1904 = False
        for element in workbook.iter():
            tag = _local(element.tag)
            if tag == "workbookPr":
                self.date1904 = element.get("date1904", "").lower() in ("1", "true")
            elif tag == "sheet":
                rel_id = next((v for k, v in element.attrib.items() if _REL_ID.search(k)), None)
                if rel_id in targets:
                    sheets.append((element.get("name", ""), targets[rel_id]))
        if not sheets:
            raise ImportFileError(_("The workbook has no worksheet."))
        # the template's data sheet, or the error report's rows to fix, else the first
        named = [path for name, path in sheets if name in (DATA_SHEET, FIX_SHEET)]
        self.sheet_path = named[0] if named else sheets[0][1]
        if self.sheet_path not in names:
            raise ImportFileError(_("The workbook is damaged (a missing worksheet)."))
        self.dimension_rows = 0
        stream = None
        if shared and shared in names:
            if self.zip.getinfo(shared).file_size > MAX_SHARED_STRINGS_BYTES:
                raise ImportFileError(_("The workbook holds too much text; split the file."))
            stream = self.zip.open(shared)
        self.shared = _SharedStrings(stream)

    def excel_date(self, serial: float) -> datetime.date:
        if self.date1904:
            return datetime.date(1904, 1, 1) + datetime.timedelta(days=int(serial))
        # Excel counts 1900-02-29, which did not exist: serials from 61 on are one day ahead
        base = datetime.date(1899, 12, 30) if serial >= 61 else datetime.date(1899, 12, 31)
        return base + datetime.timedelta(days=int(serial))

    def rows(self, *, lazy: bool = False) -> Iterator[tuple[int, list]]:
        """``(row number, values)`` for every row of the sheet, in order (``lazy``: read
        the shared strings only as far as needed, for a look at the first rows). The
        callbacks keep their state in closure variables: this loop runs for every cell."""
        strings = self.shared if lazy else self.shared.all()
        ready: list[tuple[int, list]] = []
        columns: dict[str, int] = {}
        digits = "0123456789"
        row_number = 0
        values: list = []
        ref = kind = text = None
        capture = False
        phonetic = 0
        position = 0

        def start(name, attrs):
            nonlocal ref, kind, text, capture, row_number, values, phonetic, position
            if name == "c":
                ref = attrs.get("r")
                kind = attrs.get("t")
                text = None
            elif name == "v" or name == "t":
                capture = not phonetic
            elif name == "row":
                number = attrs.get("r")
                row_number = int(number) if number else row_number + 1
                values = []
                position = 0
            elif ":" in name:
                start(name.rpartition(":")[2], attrs)
            elif name == "rPh":
                phonetic += 1
            elif name == "dimension":
                last = (
                    (attrs.get("ref") or "").rpartition(":")[2].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
                )
                self.dimension_rows = int(last) if last.isdigit() else 0

        def end(name):
            nonlocal capture, phonetic, position
            if name == "v" or name == "t":
                capture = False
            elif name == "c":
                if ref is None:
                    index = position
                else:
                    letters = ref.rstrip(digits)
                    index = columns.get(letters)
                    if index is None:
                        index = columns[letters] = _column_index(letters)
                position = index + 1
                if text is None or text == "":
                    value = "" if kind == "inlineStr" or kind == "str" else None
                elif kind == "s":
                    value = strings[int(text)]
                elif kind is None or kind == "n":
                    value = int(text) if text.isdigit() else _number(text)
                elif kind == "b":
                    value = text.strip() in ("1", "true")
                else:  # inlineStr, str (a formula's text), e (#N/A...), d (ISO date)
                    value = text
                if index == len(values):
                    values.append(value)
                else:
                    if index > len(values):
                        values.extend([None] * (index - len(values)))
                        values.append(value)
                    else:
                        values[index] = value
            elif name == "row":
                ready.append((row_number, values))
            elif ":" in name:
                end(name.rpartition(":")[2])
            elif name == "rPh":
                phonetic -= 1

        def characters(data):
            nonlocal text
            if capture:
                text = data if text is None else text + data

        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = characters
        try:
            with self.zip.open(self.sheet_path) as stream:
                while True:
                    data = stream.read(1 << 16)
                    parser.Parse(data, not data)
                    if ready:
                        yield from ready
                        ready.clear()
                    if not data:
                        break
        except (expat.ExpatError, zipfile.BadZipFile, EOFError, ValueError, IndexError) as exc:
            raise ImportFileError(
                _("The workbook is damaged and cannot be read (%(error)s).") % {"error": exc}
            ) from None


# ---------------------------------------------------------------- reading .csv


def _csv_encoding(path) -> tuple[str, int]:
    """The text encoding of a CSV file and its number of lines. Excel saves "CSV UTF-8"
    with a byte-order mark and plain "CSV" in the system code page, GBK on Chinese
    Windows (read as GB 18030, its superset)."""
    with open(path, "rb") as f:
        head = f.read(4)
        if head.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
        elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"
        else:
            encoding = "utf-8"
        f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")() if encoding == "utf-8" else None
        lines = 0
        while chunk := f.read(1 << 20):
            lines += chunk.count(b"\n")
            if decoder is not None:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    decoder, encoding = None, "gb18030"
        if decoder is not None:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                encoding = "gb18030"
    return encoding, lines


class CsvReader:
    def __init__(self, path):
        self.path = path
        self.encoding, lines = _csv_encoding(path)
        self.dimension_rows = lines + 1

    def rows(self) -> Iterator[tuple[int, list]]:
        try:
            with open(self.path, encoding=self.encoding, newline="") as f:
                first = f.readline()
                f.seek(0)
                delimiter = "\t" if first.count("\t") > first.count(",") else ","
                for number, record in enumerate(csv.reader(f, delimiter=delimiter), start=1):
                    yield number, [value if value != "" else None for value in record]
        except (UnicodeDecodeError, UnicodeError, csv.Error) as exc:
            raise ImportFileError(
                _(
                    "The CSV file cannot be read (%(error)s). Save it from Excel as "
                    "“CSV UTF-8” and upload it again."
                )
                % {"error": exc}
            ) from None


def open_reader(path, original_name: str):
    suffix = PurePosixPath(original_name.lower()).suffix
    if suffix in (".xlsx", ".xlsm"):
        return XlsxReader(path)
    if suffix in (".csv", ".txt"):
        return CsvReader(path)
    raise ImportFileError(file_type_message())


def file_type_message() -> str:
    return _(
        "Upload an Excel workbook (.xlsx) or a CSV file; old .xls files must be saved as .xlsx."
    )


# ---------------------------------------------------------------- header


@dataclass
class Header:
    row: int  # spreadsheet row number of the header
    columns: dict[str, int]  # key -> index in the file's rows
    ignored: list[str]  # headers not recognised
    key_row: bool = False  # the next row holds the English keys (skipped)


def find_header(rows: Iterator[tuple[int, list]]) -> tuple[Header, Iterator]:
    """The header row (among the first 5 non-empty rows) and the rows after it."""
    seen = 0
    for number, values in rows:
        if not any(_filled(v) for v in values):
            continue
        seen += 1
        columns, ignored, twice = {}, [], []
        for index, value in enumerate(values):
            if not _filled(value):
                continue
            key = _HEADER_LOOKUP.get(_header_key(value))
            if key is None:
                ignored.append(str(value).strip())
            elif key in columns:
                twice.append(str(value).strip())
            else:
                columns[key] = index
        if "name" in columns and "mobile" in columns:
            if twice:
                raise ImportFileError(
                    _("These columns appear twice: %(columns)s. Keep one of each.")
                    % {"columns": ", ".join(twice)}
                )
            columns.pop(SOURCE_ROW, None)
            return Header(number, columns, ignored), rows
        if seen >= 5:
            break
    raise ImportFileError(
        _(
            "The header row of the template was not found: the file needs at least the "
            "columns 姓名 (name) and 手机号 (mobile). Download the template and copy your data "
            "into it."
        )
    )


def _filled(value) -> bool:
    return value is not None and (not isinstance(value, str) or value.strip() != "")


def _is_key_row(values, header: Header) -> bool:
    """The template's second row (``name``, ``mobile``…): English keys, not data."""
    filled = [v for v in values if _filled(v)]
    return bool(filled) and all(
        isinstance(v, str) and _HEADER_LOOKUP.get(_header_key(v)) for v in filled
    )


def check_file_header(path, original_name: str) -> Header:
    """Read the header only: the upload is refused at once when it is not a template."""
    reader = open_reader(path, original_name)
    rows = reader.rows(lazy=True) if isinstance(reader, XlsxReader) else reader.rows()
    header, _rows = find_header(rows)
    return header


# ---------------------------------------------------------------- checking one row


_TAG_SEPARATORS = re.compile(r"[,，、;；\n]")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?$")
_YES = {"是", "y", "yes", "true", "1", "√", "✓", "同意", "x"}
_NO = {"否", "n", "no", "false", "0", "×", "不同意"}
_CHANNELS = {
    "短信": ContactChannel.SMS,
    "sms": ContactChannel.SMS,
    "电话": ContactChannel.PHONE,
    "phone": ContactChannel.PHONE,
    "phonecall": ContactChannel.PHONE,
    "微信": ContactChannel.WECHAT,
    "wechat": ContactChannel.WECHAT,
    "邮件": ContactChannel.EMAIL,
    "电子邮件": ContactChannel.EMAIL,
    "邮箱": ContactChannel.EMAIL,
    "email": ContactChannel.EMAIL,
    "e-mail": ContactChannel.EMAIL,
}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if not value.time() else value.isoformat(" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


class Row:
    """One checked row, ready to write."""

    __slots__ = (
        "number",
        "name",
        "mobile",
        "id_number",
        "phone2",
        "email",
        "city",
        "address",
        "contact_channel",
        "consent",
        "tags",
        "vin",
        "plate",
        "variant_code",
        "colour",
        "sale_date",
        "invoice_date",
        "odometer_km",
        "insurance_expiry",
        "last_inspection",
        "sold",
    )

    def __init__(self, number):
        self.number = number


class RowChecker:
    """Validates one row with the rules (and messages) of the customer and vehicle
    services; collects every error of the row, not just the first."""

    def __init__(self, *, variants: dict, tags: set[str], may_add_tags: bool, date_of=None):
        self.variants = variants  # code -> Variant
        self.known_tags = tags
        self.may_add_tags = may_add_tags
        self.date_of = date_of  # serial -> date for the workbook's date system
        self.today = timezone.localdate()
        self.new_tags: set[str] = set()

    def check(self, number: int, raw: dict) -> tuple[Row, list[tuple[str, object, str]]]:
        row = Row(number)
        errors: list[tuple[str, object, str]] = []

        def error(key, message):
            errors.append((key, raw.get(key), str(message)))

        def validated(key, func, text):
            try:
                return func(text)
            except DjangoValidationError as exc:
                error(key, exc.messages[0])
                return ""

        # customer
        name = " ".join(_text(raw.get("name")).split())
        if not name:
            error("name", _("Enter the customer's name."))
        elif len(name) > 50:
            error("name", _("A name has at most 50 characters."))
        row.name = name
        mobile = _text(raw.get("mobile"))
        if not mobile:
            error("mobile", _("This field is required."))
        else:
            mobile = validated("mobile", normalise_mobile, mobile)
        row.mobile = mobile
        id_raw = raw.get("id_number")
        row.id_number = ""
        if isinstance(id_raw, int | float) and not isinstance(id_raw, bool):
            error(
                "id_number",
                _(
                    "Excel stored this ID number as a number and lost its last digits; format "
                    "the column as text and enter the number again."
                ),
            )
        elif _text(id_raw):
            row.id_number = validated("id_number", normalise_id_number, _text(id_raw))
        phone2 = "".join(_text(raw.get("other_phone")).split())
        if len(phone2) > 20:
            error("other_phone", _("A phone number has at most 20 characters."))
        row.phone2 = phone2
        email = _text(raw.get("email"))
        if email:
            validated("email", validate_email, email)
        row.email = email
        for key, limit in (("city", 50), ("address", 200)):
            value = _text(raw.get(key))
            if len(value) > limit:
                error(key, _("At most %(n)d characters.") % {"n": limit})
            setattr(row, key, value)
        channel = _text(raw.get("contact_channel"))
        row.contact_channel = ContactChannel.SMS
        if channel:
            found = _CHANNELS.get(channel.lower().replace(" ", ""))
            if found is None:
                found = next(
                    (
                        c
                        for c in ContactChannel
                        if channel.lower() in (c.value, str(c.label).lower())
                    ),
                    None,
                )
            if found is None:
                error("contact_channel", _("Choose SMS, phone call, WeChat or e-mail."))
            else:
                row.contact_channel = found
        if row.contact_channel == ContactChannel.EMAIL and not email:
            error("email", _("Give an e-mail address when e-mail is the preferred channel."))
        row.consent = self._yes_no(raw, "marketing_consent", error)
        tags = []
        for tag in _TAG_SEPARATORS.split(_text(raw.get("tags"))):
            tag = " ".join(tag.split())
            if not tag or tag in tags:
                continue
            if len(tag) > 30:
                error("tags", _("A tag has at most 30 characters."))
            elif tag not in self.known_tags:
                if self.may_add_tags:
                    self.new_tags.add(tag)
                else:
                    error("tags", _("Unknown tag: %(tag)s") % {"tag": tag})
            tags.append(tag)
        row.tags = tuple(tags)

        # vehicle
        row.vin = row.plate = row.variant_code = row.colour = ""
        row.sale_date = row.invoice_date = row.insurance_expiry = row.last_inspection = None
        row.odometer_km = None
        row.sold = False
        if any(_filled(raw.get(key)) for key in VEHICLE_KEYS):
            vin = _text(raw.get("vin"))
            if not vin:
                error("vin", _("Enter the VIN."))
            else:
                row.vin = validated("vin", normalise_vin, vin)
            plate = _text(raw.get("plate"))
            if plate:
                row.plate = validated("plate", normalise_plate, plate)
            code = _text(raw.get("variant_code")).upper()
            if not code:
                error(
                    "variant_code",
                    _("Enter the variant code (see the sheet of variant codes)."),
                )
            elif code not in self.variants:
                error(
                    "variant_code",
                    _(
                        "There is no variant with the code %(code)s (see the sheet of variant "
                        "codes)."
                    )
                    % {"code": code},
                )
            else:
                row.variant_code = code
            colour = _text(raw.get("colour"))
            if len(colour) > 20:
                error("colour", _("At most %(n)d characters.") % {"n": 20})
            row.colour = colour
            for key in ("sale_date", "invoice_date", "insurance_expiry", "last_inspection"):
                day = self._date(raw.get(key))
                if day is False:
                    error(key, _("Enter a date such as 2026-03-15."))
                    day = None
                elif day and day > self.today and key != "insurance_expiry":
                    error(key, _("This date is in the future."))
                setattr(row, key, day)
            if (
                row.sale_date
                and row.invoice_date
                and row.invoice_date < row.sale_date - datetime.timedelta(days=90)
            ):
                error("invoice_date", _("The invoice date is long before the sale date."))
            row.odometer_km = self._km(raw.get("odometer_km"), error)
            row.sold = bool(self._yes_no(raw, "sold_by_dealer", error))
        return row, errors

    def _yes_no(self, raw, key, error):
        value = raw.get(key)
        if isinstance(value, bool):
            return value
        text = _text(value).lower()
        if not text:
            return None
        if text in _YES:
            return True
        if text in _NO:
            return False
        error(key, _("Write 是 or 否 (yes or no)."))
        return None

    def _date(self, value):
        """A date, None when empty, False when not a date."""
        if value is None or value == "":
            return None
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            if self.date_of is not None and 1 <= value < 2958466:  # an Excel date serial
                return self.date_of(value)
            return False
        text = _text(value)
        match = _DATE.match(text)
        if match is None and len(text) == 8 and text.isdigit():
            match = re.match(r"(\d{4})(\d{2})(\d{2})", text)
        if match is None:
            return False
        try:
            return datetime.date(*(int(g) for g in match.groups()[:3]))
        except ValueError:
            return False

    def _km(self, value, error):
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            error("odometer_km", _("Enter the odometer reading in km."))
            return None
        if isinstance(value, float):
            if not value.is_integer():
                error("odometer_km", _("Enter the odometer reading in whole km."))
                return None
            value = int(value)
        if not isinstance(value, int):
            text = re.sub(r"[\s,，]", "", _text(value)).lower().removesuffix("km")
            if re.fullmatch(r"-?\d+", text):
                value = int(text)
            elif re.fullmatch(r"-?\d+\.\d*", text):
                error("odometer_km", _("Enter the odometer reading in whole km."))
                return None
            else:
                error("odometer_km", _("Enter the odometer reading in km."))
                return None
        if value < 0 or value > 2_000_000:
            error("odometer_km", _("An odometer reading is 0 to 2,000,000 km."))
            return None
        return value


# ---------------------------------------------------------------- the job: upload


def import_create(*, actor, file, mode: str, dealer=None) -> ImportJob:
    """Store an uploaded file as a queued import for ``dealer`` (default: the actor's;
    OEM staff must choose one). The header is checked now so a wrong file is refused at
    once; the rows are checked by the job."""
    dealer = acting_dealer(actor, "crm.import_customer", dealer)
    errors = {}
    if dealer is None:
        errors["dealer"] = [_("Choose the dealer the customers are imported for.")]
    if mode not in ImportMode.values:
        errors["mode"] = [_("Choose “all or nothing” or “import the valid rows”.")]
    name = os.path.basename(getattr(file, "name", "") or "")
    if file is None or not name:
        errors["file"] = [_("Choose the file to upload.")]
    elif PurePosixPath(name.lower()).suffix not in (".xlsx", ".xlsm", ".csv", ".txt"):
        errors["file"] = [file_type_message()]
    elif not file.size:
        errors["file"] = [_("The file is empty.")]
    elif file.size > MAX_UPLOAD_BYTES:
        errors["file"] = [
            _("The file is larger than %(mb)d MB; split it into several files.")
            % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
        ]
    if errors:
        raise ValidationFailed(fields=errors)
    with _local_copy(file) as path:
        try:
            check_file_header(path, name)
        except ImportFileError as exc:
            raise ValidationFailed(fields={"file": [str(exc)]}) from None
    file.seek(0)
    with transaction.atomic():
        job = ImportJob(
            dealer=dealer,
            created_by=actor,
            original_name=name[:200],
            mode=mode,
            status=ImportStatus.QUEUED,
        )
        suffix = PurePosixPath(name.lower()).suffix
        stored = f"{timezone.now():%Y%m%d-%H%M%S}-{dealer.code}-{uuid.uuid4().hex[:8]}{suffix}"
        job.file.save(stored, file, save=False)
        job.save()
        # audit_create cannot serialise the FileField (core.audit._plain): name the fields
        audit_event(
            job,
            actor=actor,
            action=AuditAction.CREATE,
            changes={
                "original_name": [None, job.original_name],
                "file": [None, job.file.name],
                "mode": [None, job.mode],
                "dealer": [None, dealer.pk],
                "status": [None, job.status],
            },
        )
    return job


class _local_copy:
    """A path on disk for an uploaded or stored file (zipfile needs to seek)."""

    def __init__(self, file):
        self.file = file
        self.temp = None

    def __enter__(self):
        path = getattr(self.file, "temporary_file_path", None)
        if path is not None:
            return path()
        try:
            return self.file.path
        except (AttributeError, NotImplementedError, ValueError):
            pass
        self.temp = tempfile.NamedTemporaryFile(suffix=".upload", delete=False)
        self.file.seek(0)
        for chunk in (
            self.file.chunks()
            if hasattr(self.file, "chunks")
            else iter(lambda: self.file.read(1 << 20), b"")
        ):
            self.temp.write(chunk)
        self.temp.close()
        return self.temp.name

    def __exit__(self, *exc):
        if self.temp is not None:
            os.unlink(self.temp.name)
        return False


# ---------------------------------------------------------------- the job: runner


def run_queued_imports(max_jobs: int = 10) -> int:
    """Run queued imports one at a time; the job schedule calls this every few seconds.
    Returns how many jobs ran. Several runners at once never take the same job."""
    _give_up_stale_jobs()
    ran = 0
    while ran < max_jobs:
        job = claim_next_job()
        if job is None:
            break
        import_run(job)
        ran += 1
    return ran


def claim_next_job() -> ImportJob | None:
    """Take the oldest queued job: ``queued -> running`` with a conditional UPDATE, so of
    two runners only one gets it (on PostgreSQL the candidate row is also locked with
    SKIP LOCKED, so a second runner passes on to the next job instead of waiting)."""
    for _attempt in range(20):
        with transaction.atomic():
            queued = ImportJob.objects.filter(status=ImportStatus.QUEUED).order_by("id")
            if connection.features.has_select_for_update_skip_locked:
                queued = queued.select_for_update(skip_locked=True)
            job_id = queued.values_list("id", flat=True).first()
            if job_id is None:
                return None
            claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(
                status=ImportStatus.RUNNING, started_at=timezone.now()
            )
        if claimed:
            return ImportJob.objects.select_related("dealer", "created_by").get(pk=job_id)
    return None


def _give_up_stale_jobs():
    cutoff = timezone.now() - STALE_AFTER
    ImportJob.objects.filter(status=ImportStatus.RUNNING, started_at__lt=cutoff).update(
        status=ImportStatus.FAILED,
        finished_at=timezone.now(),
        message=_(
            "The import did not finish (the job runner stopped). In “all or nothing” mode "
            "nothing was written; rows already imported in “valid rows” mode are kept. Upload "
            "the file again: rows already imported are reported as already registered."
        ),
    )


def _progress(job, **fields):
    for name, value in fields.items():
        setattr(job, name, value)
    ImportJob.objects.filter(pk=job.pk).update(**fields)


@dataclass
class CheckResult:
    rows: list  # the valid rows (Row), in file order
    errors: dict  # row number -> [(key, value, message)]
    raw_errors: dict  # row number -> the row's values in template order (rows to fix)
    total: int
    header: Header
    matched: dict  # mobile -> existing customer id
    new_tags: set


def import_run(job: ImportJob, *, before_write: Callable | None = None) -> ImportJob:
    """Check and import one claimed (running) job; records the outcome on the job.
    ``before_write`` is called between the check and the write (tests use it to register
    a VIN meanwhile, as another user could)."""
    with translation.override(settings.LANGUAGE_CODE):
        written = {"rows": 0}
        try:
            actor = job.created_by
            if not _may_import(actor, job.dealer):
                _finish(
                    job,
                    ImportStatus.FAILED,
                    _("%(user)s may no longer import customers for this dealer.") % {"user": actor},
                )
                return job
            with job.file.open("rb") as stored, _local_copy(stored) as path:
                result = check_rows(job, path, actor=actor)
            if result.errors:
                _write_error_report(job, result)
            if result.total == 0:
                _finish(job, ImportStatus.FAILED, _("The file has no rows below the header."))
                return job
            if result.errors and job.mode == ImportMode.ALL_OR_NOTHING:
                _finish(
                    job,
                    ImportStatus.REJECTED,
                    _(
                        "%(bad)d of %(total)d rows have errors, so nothing was imported (all or "
                        "nothing). Download the error report, correct the rows and upload the "
                        "file again."
                    )
                    % {"bad": len(result.errors), "total": result.total},
                )
                return job
            if before_write is not None:
                before_write()
            counts = write_rows(job, result, actor=actor, written=written)
            _finish(job, ImportStatus.DONE, _summary(job, result, counts))
        except Exception as exc:  # recorded on the job: the runner goes on with the next one
            log.exception("import %s failed", job.pk)
            _fail(job, exc, written["rows"])
    return job


def _may_import(actor, dealer) -> bool:
    try:
        acting_dealer(actor, "crm.import_customer", dealer)
    except Exception:
        return False
    return actor.is_active


def _finish(job, status, message):
    _progress(job, status=status, message=message, finished_at=timezone.now())


def _fail(job, exc, written_rows):
    if isinstance(exc, ImportFileError):
        reason = str(exc)
    elif isinstance(exc, IntegrityError):
        reason = _(
            "another user registered one of these customers or vehicles while the import ran "
            "(%(error)s)"
        ) % {"error": exc}
    else:
        reason = f"{type(exc).__name__}: {exc}"
    if job.mode == ImportMode.ALL_OR_NOTHING or not written_rows:
        kept = _("Nothing was imported.")
    else:
        kept = _(
            "%(n)d rows were imported before the failure and are kept; upload the file again "
            "to import the rest (those rows are then reported as already registered)."
        ) % {"n": written_rows}
    fields = {"status": ImportStatus.FAILED, "finished_at": timezone.now()}
    fields["message"] = _("The import stopped: %(reason)s. %(kept)s") % {
        "reason": reason,
        "kept": kept,
    }
    if job.mode == ImportMode.ALL_OR_NOTHING:
        fields.update(imported_rows=0, customers_created=0, vehicles_created=0)
    _progress(job, **fields)


def _summary(job, result, counts) -> str:
    parts = [
        _("%(rows)d rows imported: %(customers)d new customers, %(vehicles)d vehicles.")
        % {
            "rows": counts["rows"],
            "customers": counts["customers"],
            "vehicles": counts["vehicles"],
        }
    ]
    if counts["matched"]:
        parts.append(
            _(
                "%(n)d customers were already registered (same mobile number and name): they "
                "were linked to your dealer and their records were not changed."
            )
            % {"n": counts["matched"]}
        )
    if result.errors:
        parts.append(
            _("%(n)d rows have errors and were not imported; see the error report.")
            % {"n": len(result.errors)}
        )
    if result.header.ignored:
        parts.append(
            _("Columns not recognised and ignored: %(columns)s.")
            % {"columns": ", ".join(result.header.ignored[:10])}
        )
    return " ".join(parts)


# ---------------------------------------------------------------- check all rows


def check_rows(job: ImportJob, path, *, actor) -> CheckResult:
    """Read and check every row; cross-row and database checks; no writes (except the
    job's progress)."""
    from aftersales.catalogue.models import Variant

    reader = open_reader(path, job.original_name)
    header, rows = find_header(reader.rows())
    estimate = max(reader.dimension_rows - header.row, 0)
    _progress(job, total_rows=estimate, processed_rows=0)
    checker = RowChecker(
        variants={v.code.upper(): v for v in Variant.objects.select_related("vehicle_model")},
        tags=set(CustomerTag.objects.values_list("name", flat=True)),
        may_add_tags=user_has_perm(actor, "crm.add_customertag"),
        date_of=getattr(reader, "excel_date", None),
    )
    columns = list(header.columns.items())
    valid: list[Row] = []
    errors: dict[int, list] = {}
    raw_errors: dict[int, list] = {}
    by_mobile: dict[str, list[tuple[int, str]]] = {}
    by_vin: dict[str, list[int]] = {}
    total = 0
    first = True
    for number, values in rows:
        if first:
            first = False
            if _is_key_row(values, header):
                header.key_row = True
                continue
        width = len(values)
        raw = {key: values[index] if index < width else None for key, index in columns}
        if not any(_filled(v) for v in raw.values()):
            continue
        total += 1
        if total > MAX_ROWS:
            raise ImportFileError(
                _("The file has more than %(n)s rows; split it into several files.")
                % {"n": f"{MAX_ROWS:,}"}
            )
        row, row_errors = checker.check(number, raw)
        if row.mobile and row.name:
            by_mobile.setdefault(row.mobile, []).append((number, row.name))
        if row.vin:
            by_vin.setdefault(row.vin, []).append(number)
        if row_errors:
            errors[number] = row_errors
            raw_errors[number] = [raw.get(key) for key in KEYS]
        else:
            valid.append(row)
        if total % CHECK_CHUNK == 0:
            _progress(job, processed_rows=total, total_rows=max(total, job.total_rows))

    def add_error(row_number, key, message, value):
        if row_number not in errors:
            errors[row_number] = []
            raw_errors[row_number] = None  # filled below from the kept valid row
        errors[row_number].append((key, value, str(message)))

    # the same mobile with two names, the same VIN twice
    for mobile, seen in by_mobile.items():
        if len({name for _n, name in seen}) > 1:
            listed = ", ".join(str(n) for n, _name in seen[:10])
            for row_number, _name in seen:
                add_error(
                    row_number,
                    "mobile",
                    _(
                        "This mobile number is in rows %(rows)s with different names; one "
                        "mobile number belongs to one customer."
                    )
                    % {"rows": listed},
                    mobile,
                )
    for vin, seen in by_vin.items():
        if len(seen) > 1:
            listed = ", ".join(str(n) for n in seen[:10])
            for row_number in seen:
                add_error(
                    row_number,
                    "vin",
                    _("This VIN is in the file more than once (rows %(rows)s).") % {"rows": listed},
                    vin,
                )
    del by_vin

    # against the database, in chunks
    names = {mobile: seen[0][1] for mobile, seen in by_mobile.items()}
    del by_mobile
    matched: dict[str, int] = {}
    check_ids: dict[str, str] = {}
    mobiles = list(names)
    for start in range(0, len(mobiles), LOOKUP_CHUNK):
        chunk = mobiles[start : start + LOOKUP_CHUNK]
        for mobile, pk, name, id_hash in (
            Customer.objects.live()
            .filter(mobile__in=chunk)
            .values_list("mobile", "id", "name", "id_number_hash")
        ):
            if " ".join(name.split()) == names[mobile]:
                matched[mobile] = pk
                if id_hash:
                    check_ids[mobile] = id_hash
            else:
                matched[mobile] = -1  # another person's number
    taken: set[str] = set()
    vins = [row.vin for row in valid if row.vin]
    for start in range(0, len(vins), LOOKUP_CHUNK):
        taken.update(
            Vehicle.objects.filter(vin__in=vins[start : start + LOOKUP_CHUNK]).values_list(
                "vin", flat=True
            )
        )
    if matched or taken:
        from aftersales.crm import pii

        for row in valid:
            pk = matched.get(row.mobile)
            if pk == -1:
                add_error(
                    row.number,
                    "mobile",
                    _(
                        "This mobile number belongs to a registered customer with another "
                        "name; check the number and the name."
                    ),
                    row.mobile,
                )
            elif pk and row.id_number and row.mobile in check_ids:
                if pii.blind_index(row.id_number) != check_ids[row.mobile]:
                    add_error(
                        row.number,
                        "id_number",
                        _(
                            "The customer with this mobile number is registered with another "
                            "resident ID number."
                        ),
                        row.id_number,
                    )
            if row.vin in taken:
                add_error(
                    row.number,
                    "vin",
                    _("A vehicle with this VIN is already registered; look it up by its VIN."),
                    row.vin,
                )
    if any(v is None for v in raw_errors.values()):
        for row in valid:
            if raw_errors.get(row.number, 0) is None:
                raw_errors[row.number] = _row_values(row)
    valid = [row for row in valid if row.number not in errors]
    matched = {mobile: pk for mobile, pk in matched.items() if pk > 0}
    _progress(
        job,
        total_rows=total,
        processed_rows=total,
        error_rows=len(errors),
    )
    new_tags = {tag for row in valid for tag in row.tags} & checker.new_tags
    return CheckResult(valid, errors, raw_errors, total, header, matched, new_tags)


def _row_values(row: Row) -> list:
    """A checked row back in template order (for the "rows to fix" sheet)."""
    return [
        row.name,
        row.mobile,
        row.id_number,
        row.phone2,
        row.email,
        row.city,
        row.address,
        row.contact_channel,
        "是" if row.consent else ("否" if row.consent is False else ""),
        ",".join(row.tags),
        row.vin,
        row.plate,
        row.variant_code,
        row.colour,
        row.sale_date,
        row.invoice_date,
        row.odometer_km,
        row.insurance_expiry,
        row.last_inspection,
        "是" if row.sold else "",
    ]


# ---------------------------------------------------------------- write the valid rows


def write_rows(job: ImportJob, result: CheckResult, *, actor, written: dict) -> dict:
    """Write the checked rows: one transaction for all-or-nothing, one per chunk for
    valid-rows mode (progress visible, other writers not held up for long).

    The primary keys of the new customers, vehicles and readings are reserved first, so
    a helper thread can turn chunk k+1 into rows (pure Python: encryption, warranty,
    audit entries) while this thread has the database insert chunk k; the database
    driver lets go of the interpreter while the database works, so both run at once."""
    writer = _Writer(job, actor, result)
    rows = result.rows
    chunks = [rows[i : i + WRITE_CHUNK] for i in range(0, len(rows), WRITE_CHUNK)]
    writer.reserve_ids(rows)
    all_or_nothing = job.mode == ImportMode.ALL_OR_NOTHING
    with _sqlite_cache(), ThreadPoolExecutor(max_workers=1) as helper:
        with transaction.atomic():
            writer.create_tags()
        outer = transaction.atomic() if all_or_nothing else contextlib.nullcontext()
        with outer:
            upcoming = helper.submit(writer.prepare, chunks[0]) if chunks else None
            for index in range(len(chunks)):
                prepared = upcoming.result()
                if index + 1 < len(chunks):
                    upcoming = helper.submit(writer.prepare, chunks[index + 1])
                with transaction.atomic():
                    writer.execute(prepared)
                if not all_or_nothing:
                    written["rows"] = writer.counts["rows"]
                    _progress(
                        job,
                        imported_rows=writer.counts["rows"],
                        customers_created=writer.counts["customers"],
                        vehicles_created=writer.counts["vehicles"],
                    )
    _progress(
        job,
        imported_rows=writer.counts["rows"],
        customers_created=writer.counts["customers"],
        vehicles_created=writer.counts["vehicles"],
    )
    return writer.counts


class _sqlite_cache:
    """On SQLite, a bigger page cache while importing: the inserts update a dozen indexes,
    and with the default 2 MB cache SQLite re-reads their pages over and over."""

    PAGES_KIB = 128 * 1024

    def __enter__(self):
        self.before = None
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size")
                self.before = cursor.fetchone()[0]
                cursor.execute(f"PRAGMA cache_size = -{self.PAGES_KIB}")
        return self

    def __exit__(self, *exc):
        if self.before is not None:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size = {int(self.before)}")
        return False


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value) -> str:
    text = value if isinstance(value, str) else str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_COPY_ESCAPES)
    return text


def _copy_bool(value) -> str:
    return "t" if value else "f"


def _copy_json(value) -> str:
    return _copy_text(json.dumps(value, ensure_ascii=False))


def _copy_cached(value) -> str:  # dates and times: converted once per value (see _copy_text)
    return value.isoformat()


_COPY_CONVERTERS = {
    "BooleanField": _copy_bool,
    "DateField": _copy_cached,
    "DateTimeField": _copy_cached,
    "TimeField": _copy_cached,
    "JSONField": _copy_json,
}


class _Table:
    """Fast inserts into one model's table. A row is a dict keyed by attname; missing
    fields get the model's defaults, ``auto_now`` fields the time of the write; values
    go through the database backend's own adapters and are sent with ``executemany``.
    Compared with ``bulk_create`` this skips building a model instance and compiling
    the SQL of every field of every row, which costs ~10x more at import volumes.
    ``audit_changes`` gives the audit entry of a created row, like ``audit_create``."""

    def __init__(self, model, *, with_pk=False, ignore_conflicts=False):
        ops = connection.ops  # this thread's connection; the helper thread only adapts
        pk = model._meta.pk
        fields = [f for f in model._meta.concrete_fields if with_pk or f is not pk]
        self.model = model
        self.attnames = [f.attname for f in fields]
        self.defaults = {
            f.attname: None
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
            else f.get_default()
            for f in fields
            if not f.primary_key
        }
        self.auto_now = [
            f.attname
            for f in fields
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        ]
        self.adapters = []
        for index, field in enumerate(fields):
            kind = field.get_internal_type()
            if kind == "DateTimeField":
                self.adapters.append((index, ops.adapt_datetimefield_value, True))
            elif kind == "DateField":
                self.adapters.append((index, ops.adapt_datefield_value, True))
            elif kind == "TimeField":
                self.adapters.append((index, ops.adapt_timefield_value, True))
            elif kind == "JSONField":  # as text: SQLite stores it so, COPY parses it
                encoder = field.encoder
                self.adapters.append(
                    (index, lambda v, e=encoder: json.dumps(v, cls=e, ensure_ascii=False), False)
                )
            elif kind == "DecimalField":
                self.adapters.append(
                    (
                        index,
                        lambda v, f=field: ops.adapt_decimalfield_value(
                            v, f.max_digits, f.decimal_places
                        ),
                        True,
                    )
                )
        quote = ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        table = quote(model._meta.db_table)
        self.sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
        if ignore_conflicts:
            self.sql += " ON CONFLICT DO NOTHING"
        # PostgreSQL loads rows several times faster with COPY than with INSERTs; COPY
        # cannot skip conflicting rows, so tables that may conflict keep the INSERT
        self.copy_sql = None
        if connection.vendor == "postgresql" and not ignore_conflicts:
            self.copy_sql = f"COPY {table} ({columns}) FROM STDIN"
        self.copy_converters = [
            _COPY_CONVERTERS.get(f.get_internal_type(), _copy_text) for f in fields
        ]
        # the fields an audit entry of a created row names (``core.audit.snapshot``'s rule)
        excluded = {"password", *getattr(model, "audit_exclude", ())}
        self.audit_fields = [
            f.name
            for f in model._meta.concrete_fields
            if f.name not in excluded and not getattr(f, "auto_now", False)
        ]

    def complete(self, record: dict, now) -> dict:
        """The row with defaults and ``auto_now`` values filled in."""
        full = {**self.defaults, **record}
        for name in self.auto_now:
            if full.get(name) is None:
                full[name] = now
        return full

    def encode(self, rows: list[dict], cache: dict):
        """The rows ready to send: COPY text for PostgreSQL, parameter lists for
        ``executemany`` otherwise. Runs in the helper thread. ``cache`` keeps converted
        dates and times, which recur on every row."""
        if not rows:
            return None
        if self.copy_sql is not None:
            return self._copy_text(rows, cache.setdefault("copy", {}))
        cache = cache.setdefault("params", {})
        attnames, adapters = self.attnames, self.adapters
        params = []
        for row in rows:
            values = [row[name] for name in attnames]
            for index, adapt, cacheable in adapters:
                value = values[index]
                if value is None:
                    continue
                if cacheable:
                    done = cache.get(value)
                    if done is None:
                        done = cache[value] = adapt(value)
                    values[index] = done
                else:
                    values[index] = adapt(value)
            params.append(values)
        return params

    def _copy_text(self, rows: list[dict], cache: dict) -> str:
        """PostgreSQL's COPY text format: one line per row, tab-separated, ``\\N`` for
        NULL, backslash, tab and line breaks escaped. Dates and times are converted once
        per value (``cache``): they recur on every row."""

        def when(value):
            done = cache.get(value)
            if done is None:
                done = cache[value] = value.isoformat()
            return done

        columns = [
            (name, when if convert is _copy_cached else convert)
            for name, convert in zip(self.attnames, self.copy_converters, strict=True)
        ]
        lines = [
            "\t".join(
                [
                    "\\N" if (value := row[name]) is None else convert(value)
                    for name, convert in columns
                ]
            )
            for row in rows
        ]
        lines.append("")
        return "\n".join(lines)

    def insert(self, encoded):
        if not encoded:
            return
        with connection.cursor() as cursor:
            if self.copy_sql is not None:  # Django's error classes, as for other queries
                with connection.wrap_database_errors, cursor.cursor.copy(self.copy_sql) as copy:
                    copy.write(encoded)
                return
            for start in range(0, len(encoded), BATCH):
                cursor.executemany(self.sql, encoded[start : start + BATCH])

    def reserve_ids(self, count: int) -> Iterator[int]:
        """Primary keys for ``count`` new rows, reserved before the insert so related rows
        can point at them and the rows can be prepared ahead. PostgreSQL: taken from the
        table's sequence. SQLite: AUTOINCREMENT never gives an id at or below the one in
        ``sqlite_sequence``, so moving it up by ``count`` reserves the range. Ids of an
        import that fails are simply never used (a gap, as with any sequence)."""
        if not count:
            return iter(())
        meta = self.model._meta
        quote = connection.ops.quote_name
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [meta.db_table, meta.pk.column, count],
                )
                return iter([row[0] for row in cursor.fetchall()])
            if connection.vendor == "sqlite":
                cursor.execute(f"SELECT MAX({quote(meta.pk.column)}) FROM {quote(meta.db_table)}")
                top = cursor.fetchone()[0] or 0
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [meta.db_table])
                found = cursor.fetchone()
                start = max(top, found[0] if found else 0)
                if found:
                    cursor.execute(
                        "UPDATE sqlite_sequence SET seq = %s WHERE name = %s",
                        [start + count, meta.db_table],
                    )
                else:
                    cursor.execute(
                        "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)",
                        [meta.db_table, start + count],
                    )
                return iter(range(start + 1, start + count + 1))
        raise NotImplementedError(f"imports do not support {connection.vendor}")


class _Attrs:
    """A plain object for ``set_id_number`` / ``apply_warranty`` to set attributes on."""

    def __init__(self, **values):
        self.__dict__.update(values)


@dataclass
class _Prepared:
    """One chunk turned into parameter lists, table by table, in insert order."""

    params: list  # [(table, params)]
    audited: list  # [(audit SQL, its parameters)] for the rows just created
    rows: int
    customers: int
    vehicles: int
    matched: int


class _Writer:
    """Turns checked rows into table rows (``prepare``, pure Python, may run in a helper
    thread) and inserts them (``execute``, in the thread that owns the connection). The
    mobile -> customer id map spans chunks: a customer's second vehicle may come later."""

    def __init__(self, job, actor, result: CheckResult):
        from aftersales.catalogue.models import Variant

        self.actor_id = actor.pk if actor is not None else None
        self.actor_name = str(actor) if actor is not None else "system"
        self.dealer_id = job.dealer_id
        self.today = timezone.localdate()
        self.variants = {v.code.upper(): v for v in Variant.objects.select_related("vehicle_model")}
        self.customer_ids: dict[str, int] = dict(result.matched)
        self.matched_ids = set(result.matched.values())
        self.linked: set[int] = set()
        self.new_tags = result.new_tags
        self.tag_ids: dict[str, int] = {}
        self.counts = {"rows": 0, "customers": 0, "vehicles": 0, "matched": 0}
        self.customers = _Table(Customer, with_pk=True)
        self.vehicles = _Table(Vehicle, with_pk=True)
        self.readings = _Table(OdometerReading, with_pk=True)
        self.ownerships = _Table(Ownership)
        self.new_customer_links = _Table(DealerCustomer)  # customers created here: no clash
        self.customer_links = _Table(DealerCustomer, ignore_conflicts=True)
        self.vehicle_links = _Table(DealerVehicle)
        self.customer_tags = _Table(Customer.tags.through)
        self.content_types = {
            model: ContentType.objects.get_for_model(model).pk
            for model in (Customer, Vehicle, OdometerReading)
        }
        self.adapted: dict = {}
        # The database writes the audit entries from the rows just loaded (INSERT ...
        # SELECT building the JSON): PostgreSQL does it in its own process, SQLite in C
        # without the interpreter lock; building them here, row by row, was the slowest
        # step of the import.
        self.audit_sql = {
            Customer: self._audit_select(self.customers, 't."name"'),
            Vehicle: self._audit_select(
                self.vehicles, """COALESCE(NULLIF(t."plate", ''), t."vin")"""
            ),
            OdometerReading: self._audit_select(
                self.readings, """CAST(t."km" AS TEXT) || ' km @ ' || CAST(t."read_on" AS TEXT)"""
            ),
        }

    def _audit_select(self, table: _Table, text_sql: str) -> tuple[str, list]:
        """The SQL writing the audit entries of rows of ``table`` just created: one
        "create" entry each, its changes ``{field: [null, value]}`` as ``audit_create``
        writes them (dates and times in ISO 8601), empty fields left out.

        PostgreSQL: ``jsonb_build_object`` then ``jsonb_strip_nulls``; the rows are named
        by id (``= ANY``), since other sessions may take ids between the import's. SQLite:
        ``json_object`` then ``json_patch('{}', ...)``, which drops null members; the
        import's ids are one reserved range (``BETWEEN``)."""
        quote = connection.ops.quote_name
        meta = table.model._meta
        postgres = connection.vendor == "postgresql"
        pairs = []
        for name in table.audit_fields:
            field = meta.get_field(name)
            column = f"t.{quote(field.column)}"
            value = column
            if postgres:
                array = f"jsonb_build_array(NULL, {value})"
            else:
                kind = field.get_internal_type()
                if kind == "DateTimeField":  # stored as UTC "YYYY-MM-DD HH:MM:SS.ffffff"
                    value = f"replace({column}, ' ', 'T') || '+00:00'"
                elif kind == "BooleanField":  # stored as 0 / 1
                    value = f"json(CASE WHEN {column} THEN 'true' ELSE 'false' END)"
                array = f"json_array(NULL, {value})"
            pairs.append(
                f"'{name}', CASE WHEN {column} IS NULL OR CAST({column} AS TEXT) = '' "
                f"THEN NULL ELSE {array} END"
            )
        if postgres:
            changes = f"jsonb_strip_nulls(jsonb_build_object({', '.join(pairs)}))"
            which = f"t.{quote(meta.pk.column)} = ANY(%s)"
        else:
            changes = f"json_patch('{{}}', json_object({', '.join(pairs)}))"
            which = f"t.{quote(meta.pk.column)} BETWEEN %s AND %s"
        columns = (
            "at",
            "actor_id",
            "actor_name",
            "channel",
            "action",
            "content_type_id",
            "object_id",
            "object_repr",
            "changes",
            "dealer_id",
        )
        sql = (
            f"INSERT INTO {quote(AuditLog._meta.db_table)} "
            f"({', '.join(quote(c) for c in columns)}) "
            f"SELECT %s, %s, %s, %s, %s, %s, CAST(t.{quote(meta.pk.column)} AS TEXT), "
            f"substr({text_sql}, 1, 200), {changes}, %s "
            f"FROM {quote(meta.db_table)} t WHERE {which} "
            f"ORDER BY t.{quote(meta.pk.column)}"
        )
        params = [
            self.actor_id,
            self.actor_name,
            AuditChannel.IMPORT.value,
            AuditAction.CREATE.value,
            self.content_types[table.model],
            self.dealer_id,
        ]
        return sql, params

    def reserve_ids(self, rows: list[Row]):
        mobiles = {row.mobile for row in rows if row.mobile not in self.customer_ids}
        self.next_customer = self.customers.reserve_ids(len(mobiles))
        self.next_vehicle = self.vehicles.reserve_ids(sum(1 for row in rows if row.vin))
        self.next_reading = self.readings.reserve_ids(
            sum(1 for row in rows if row.vin and row.odometer_km is not None)
        )

    def create_tags(self):
        if self.new_tags:
            CustomerTag.objects.bulk_create(
                [CustomerTag(name=name) for name in sorted(self.new_tags)], ignore_conflicts=True
            )
        self.tag_ids = dict(CustomerTag.objects.values_list("name", "id"))

    def prepare(self, rows: list[Row]) -> _Prepared:
        now = timezone.now()
        customers, tags = [], []
        for row in rows:
            if row.mobile in self.customer_ids:
                continue
            pk = self.customer_ids[row.mobile] = next(self.next_customer)
            customer = _Attrs(
                id=pk,
                name=row.name,
                mobile=row.mobile,
                phone2=row.phone2,
                email=row.email,
                city=row.city,
                address=row.address,
                contact_channel=row.contact_channel,
                marketing_consent=bool(row.consent),
                marketing_consent_at=now if row.consent is not None else None,
                source=CustomerSource.IMPORT,
                origin_dealer_id=self.dealer_id,
            )
            if row.id_number:
                set_id_number(customer, row.id_number)
            full = self.customers.complete(customer.__dict__, now)
            customers.append(full)
            tags += [{"customer_id": pk, "customertag_id": self.tag_ids[t]} for t in row.tags]
        # every customer of the chunk, new or already registered, is now the dealer's
        links = {}
        for row in rows:
            customer_id = self.customer_ids[row.mobile]
            if customer_id not in self.linked and customer_id not in links:
                links[customer_id] = (
                    RelationshipKind.SOLD if row.sold else RelationshipKind.REGISTERED
                )
        self.linked.update(links)
        new_links, existing_links = [], []
        for pk, kind in links.items():
            link = {"dealer_id": self.dealer_id, "customer_id": pk, "kind": kind}
            if pk in self.matched_ids:  # may already be linked to the dealer
                existing_links.append(self.customer_links.complete(link, now))
            else:
                new_links.append(self.new_customer_links.complete(link, now))
        vehicles, ownerships, vehicle_links, readings = [], [], [], []
        for row in rows:
            if not row.vin:
                continue
            pk = next(self.next_vehicle)
            variant = self.variants[row.variant_code]
            vehicle = _Attrs(
                id=pk,
                vin=row.vin,
                vin_last8=row.vin[-8:],
                vin_last6=row.vin[-6:],
                plate=row.plate,
                variant_id=variant.pk,
                colour=row.colour,
                sale_date=row.sale_date,
                invoice_date=row.invoice_date,
                selling_dealer_id=self.dealer_id if row.sold else None,
                insurance_expiry=row.insurance_expiry,
                last_inspection=row.last_inspection,
                odometer_km=row.odometer_km,
                odometer_on=self.today if row.odometer_km is not None else None,
                owner_id=self.customer_ids[row.mobile],
                variant=variant,
            )
            apply_warranty(vehicle)
            del vehicle.variant
            full = self.vehicles.complete(vehicle.__dict__, now)
            vehicles.append(full)
            ownerships.append(
                self.ownerships.complete(
                    {
                        "vehicle_id": pk,
                        "customer_id": full["owner_id"],
                        "started_on": row.sale_date or row.invoice_date or self.today,
                        "reason": OwnershipReason.IMPORT,
                        "recorded_by_id": self.actor_id,
                    },
                    now,
                )
            )
            kind = RelationshipKind.SOLD if row.sold else RelationshipKind.REGISTERED
            vehicle_links.append(
                self.vehicle_links.complete(
                    {"dealer_id": self.dealer_id, "vehicle_id": pk, "kind": kind}, now
                )
            )
            if row.odometer_km is not None:
                reading = self.readings.complete(
                    {
                        "id": next(self.next_reading),
                        "vehicle_id": pk,
                        "km": row.odometer_km,
                        "read_on": self.today,
                        "source": OdometerSource.IMPORT,
                        "dealer_id": self.dealer_id,
                        "recorded_by_id": self.actor_id,
                    },
                    now,
                )
                readings.append(reading)
        cache = self.adapted
        if sum(len(c) for c in cache.values()) > 50_000:
            cache.clear()
        params = [
            (table, table.encode(table_rows, cache))
            for table, table_rows in (
                (self.customers, customers),
                (self.customer_tags, tags),
                (self.new_customer_links, new_links),
                (self.customer_links, existing_links),
                (self.vehicles, vehicles),
                (self.ownerships, ownerships),
                (self.vehicle_links, vehicle_links),
                (self.readings, readings),
            )
        ]
        audited = []
        postgres = connection.vendor == "postgresql"
        for model, created in (
            (Customer, customers),
            (Vehicle, vehicles),
            (OdometerReading, readings),
        ):
            if created:
                sql, fixed = self.audit_sql[model]
                ids = [record["id"] for record in created]
                which = [ids] if postgres else [ids[0], ids[-1]]
                audited.append((sql, [now, *fixed, *which]))
        matched = sum(1 for pk in links if pk in self.matched_ids)
        return _Prepared(params, audited, len(rows), len(customers), len(vehicles), matched)

    def execute(self, prepared: _Prepared):
        for table, params in prepared.params:
            table.insert(params)
        if prepared.audited:
            with connection.cursor() as cursor:
                for sql, params in prepared.audited:
                    cursor.execute(sql, params)
        self.counts["rows"] += prepared.rows
        self.counts["customers"] += prepared.customers
        self.counts["vehicles"] += prepared.vehicles
        self.counts["matched"] += prepared.matched


# ---------------------------------------------------------------- the error report


def _cell(value):
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=None)
    return value


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _write_error_report(job: ImportJob, result: CheckResult):
    """An .xlsx naming row, column, value and reason of every error, and the rows to fix
    in the template's layout (fix them there and upload that sheet)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    bold = Font(bold=True)
    grey = Font(italic=True, color="666666")
    fill = PatternFill("solid", fgColor="F2F2F2")

    def styled(sheet, values, font, background=None):
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            cell.font = font
            if background is not None:
                cell.fill = background
            cells.append(cell)
        return cells

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(ERRORS_SHEET)
    for index, width in enumerate((8, 8, 24, 26, 80)):
        sheet.column_dimensions[_letter(index)].width = width
    sheet.freeze_panes = "A3"
    sheet.append(styled(sheet, ("行号", "列", "列名", "内容", "原因"), bold))
    sheet.append(styled(sheet, ("row", "column", "field", "value", "reason"), grey, fill))
    columns = result.header.columns
    for number in sorted(result.errors):
        for key, value, message in result.errors[number]:
            letter = _letter(columns[key]) if key in columns else ""
            sheet.append([number, letter, column_title(key), _cell(value), message])
    fix = workbook.create_sheet(FIX_SHEET)
    fix.freeze_panes = "A3"
    fix.append(styled(fix, [*(c.label for c in COLUMNS), "原行号"], bold))
    fix.append(styled(fix, (*KEYS, SOURCE_ROW), grey, fill))
    for number in sorted(result.errors):
        values = result.raw_errors.get(number) or [None] * len(KEYS)
        fix.append([*(_cell(v) for v in values), number])
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as temp:
        workbook.save(temp.name)
        with open(temp.name, "rb") as f:
            job.error_report.save(f"import-{job.pk}-errors.xlsx", File(f), save=False)
    _progress(job, error_report=job.error_report.name)


# ---------------------------------------------------------------- the template


def template_xlsx(variants) -> bytes:
    """The import template: the data sheet (Chinese headers, English keys in the second
    row, a comment on each header), the list of valid variant codes and the instructions."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = DATA_SHEET
    required = Font(bold=True, color="C00000")
    bold = Font(bold=True)
    grey = Font(italic=True, color="666666")
    fill = PatternFill("solid", fgColor="F2F2F2")
    for index, column in enumerate(COLUMNS, start=1):
        letter = _letter(index - 1)
        head = sheet.cell(
            row=1, column=index, value=column.label + ("*" if column.required else "")
        )
        head.font = required if column.required else bold
        head.comment = Comment(f"{column.key}: {column.hint}", "aftersales", width=300, height=120)
        key = sheet.cell(row=2, column=index, value=column.key)
        key.font, key.fill = grey, fill
        sheet.column_dimensions[letter].width = column.width
        if column.text_format:
            sheet.column_dimensions[letter].number_format = "@"
        elif column.kind == "date":
            sheet.column_dimensions[letter].number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A3"
    last = 10_000
    choices = (
        ("contact_channel", '"短信,电话,微信,邮件"'),
        ("marketing_consent", '"是,否"'),
        ("sold_by_dealer", '"是,否"'),
    )
    for key, formula in choices:
        letter = _letter(KEYS.index(key))
        rule = DataValidation(type="list", formula1=formula, allow_blank=True)
        rule.add(f"{letter}3:{letter}{last}")
        sheet.add_data_validation(rule)
    variant_sheet = workbook.create_sheet(VARIANT_SHEET)
    variant_sheet.append(["车款代码", "品牌", "车型", "车款", "年款", "动力", "在售"])
    variant_sheet.append(
        ["variant_code", "brand", "model", "variant", "model_year", "fuel", "on_sale"]
    )
    for cell in variant_sheet[1]:
        cell.font = bold
    for cell in variant_sheet[2]:
        cell.font, cell.fill = grey, fill
    count = 0
    for variant in variants:
        model = variant.vehicle_model
        variant_sheet.append(
            [
                variant.code,
                model.brand.name,
                model.name,
                variant.name,
                variant.model_year,
                str(variant.get_fuel_type_display()),
                "是" if variant.active and model.active else "否",
            ]
        )
        count += 1
    for letter, width in zip("ABCDEFG", (18, 12, 12, 22, 8, 18, 6), strict=True):
        variant_sheet.column_dimensions[letter].width = width
    variant_sheet.freeze_panes = "A3"
    if count:
        letter = _letter(KEYS.index("variant_code"))
        rule = DataValidation(
            type="list",
            formula1=f"'{VARIANT_SHEET}'!$A$3:$A${count + 2}",
            allow_blank=True,
            showErrorMessage=False,
        )
        rule.add(f"{letter}3:{letter}{last}")
        sheet.add_data_validation(rule)
    help_sheet = workbook.create_sheet(HELP_SHEET)
    help_sheet.append([_("Customer and vehicle import")])
    help_sheet["A1"].font = Font(bold=True, size=14)
    for line in template_instructions():
        help_sheet.append([line])
    help_sheet.append([])
    help_sheet.append([_("Column"), _("Key"), _("Required"), _("What to write")])
    for cell in help_sheet[help_sheet.max_row]:
        cell.font = bold
    for column in COLUMNS:
        help_sheet.append(
            [column.label, column.key, _("yes") if column.required else "", str(column.hint)]
        )
    help_sheet.append([])
    help_sheet.append([_("Example row")])
    help_sheet[f"A{help_sheet.max_row}"].font = bold
    help_sheet.append(list(EXAMPLE_ROW))
    help_sheet.column_dimensions["A"].width = 16
    help_sheet.column_dimensions["B"].width = 18
    help_sheet.column_dimensions["D"].width = 90
    for row in help_sheet.iter_rows(min_row=2):
        row[-1].alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


EXAMPLE_ROW = (
    "张伟",
    "13912345678",
    "110105198506151237",
    "010-65001234",
    "zhangwei@example.com",
    "北京",
    "朝阳区建国路 88 号",
    "短信",
    "是",
    "VIP,车队客户",
    "LXCX3A15XRB000001",
    "京A12345",
    "X3-15T-2024",
    "星空灰",
    "2024-03-15",
    "2024-03-15",
    "12000",
    "2026-03-14",
    "2025-03-10",
    "是",
)


def template_instructions() -> list[str]:
    return [
        _(
            "One row = one customer and, optionally, one of their vehicles. A customer with two "
            "vehicles is two rows with the same mobile number and the same name."
        ),
        _(
            "Keep the first two rows: the Chinese headers and the English keys below them. Fill "
            "in from row 3. Columns marked * are required; leave all vehicle columns empty for a "
            "customer without a vehicle."
        ),
        _(
            "A mobile number that belongs to a customer already registered (same name) links "
            "that customer to your dealer; their record is not changed. With another name the "
            "row is refused."
        ),
        _("A VIN that is already registered is refused: look the vehicle up at reception."),
        _("Dates: an Excel date, or text such as 2024-03-15 or 2024/03/15."),
        _(
            "Choose “all or nothing” to import only a file without errors, or “import the valid "
            "rows” to import the good rows and get the others back in the error report."
        ),
        _("The sheet 车款代码 Variants lists the variant codes."),
    ]


def template_csv() -> bytes:
    """The CSV template: UTF-8 with a byte-order mark (Excel opens it in Chinese), the
    Chinese headers and the English keys."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.label + ("*" if c.required else "") for c in COLUMNS])
    writer.writerow(KEYS)
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


# ---------------------------------------------------------------- retention


def purge_old_import_files(*, now=None) -> int:
    """Delete the uploaded files and error reports of imports that finished more than
    ``CRM_IMPORT_FILE_DAYS`` days ago: they hold personal data that is in the database by
    then (or was refused), and PIPL asks not to keep copies longer than needed. The job
    row stays, with its counts and messages. Returns how many jobs were cleaned."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.CRM_IMPORT_FILE_DAYS)
    old = ImportJob.objects.filter(finished_at__lt=cutoff).exclude(file="", error_report="")
    cleaned = 0
    for job in old.iterator(chunk_size=200):
        for field in (job.file, job.error_report):
            if field:
                field.storage.delete(field.name)
        ImportJob.objects.filter(pk=job.pk).update(file="", error_report="")
        cleaned += 1
    return cleaned
