"""Customer/vehicle import benchmark: a 100,000-row .xlsx imported on SQLite and PostgreSQL.

    .venv/bin/python bench/crm_import.py [--rows 100000] [--db sqlite|postgresql|both]
        [--database-url postgres://...] [--mode all_or_nothing|valid_rows] [--profile]
        [--keep] [--json FILE] [--check]

It writes one workbook the way Excel does (shared strings, dates as date-formatted serial
numbers, the template's two header rows) with valid identifiers from
``aftersales.crm.testing`` (VINs with their check digit, GB 11643 ID numbers on 70 % of
the rows, mainland mobiles and plates): one row per vehicle, 10 % of the customers with a
second vehicle (a second row with the same mobile and name), 5 % without a vehicle, tags
on 30 %. Then, for each database, in fresh processes: migrate an empty database in a
temporary directory (SQLite file, or a PostgreSQL server started on loopback with initdb
as the test set-up does; ``--database-url`` uses yours instead, which must be empty),
load the demo organisation and catalogue, queue the file as BJ01's service manager and run
the job (``import_run``) in a process of its own. It prints the rows, the seconds
(checking and writing apart), the peak RSS of the importing process
(``resource.getrusage``), what was written, and the machine: CPU count, load, Python,
database version.

Targets (issue 3): 100,000 rows in under 90 s with under 1 GB of memory, on both.
``--check`` exits 1 when a target is missed. The whole run takes 4-8 minutes.
Internal sub-commands (run in a subprocess with the benchmark's environment):
``_prepare <xlsx> <rows>`` and ``_import <xlsx> <mode> <out.json> [--profile]``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable
TARGET_SECONDS = 90.0
TARGET_RSS_MB = 1024.0
IMPORTER = "bj01-svcmgr"

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红鹏辉建国建华志强海"
    "燕丹玲斌宇浩凯欣怡子涵梓萱浩然宇轩俊杰晨阳思远雨桐佳怡"
)
CITIES = ["北京", "天津", "石家庄", "唐山", "保定", "廊坊"]
STREETS = ["建国路", "朝阳北路", "中关村大街", "长安街", "望京街", "丰台路", "通州北苑"]
COLOURS = ["星空灰", "珍珠白", "曜石黑", "冰川蓝", "熔岩红", "月光银"]
TAGS = ["VIP", "车队客户", "老客户", "网约车"]
CHANNELS = ["短信", "短信", "短信", "电话", "微信"]
PROVINCES = "京京京京津冀"

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"


# --------------------------------------------------------------------------------------
# The workbook, written as Excel writes it
# --------------------------------------------------------------------------------------


def _letters(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def write_xlsx(path: Path, lines, sheet_name: str) -> int:
    """Write ``lines`` (lists of str / int / date / None; the first two are the template's
    header rows) as an .xlsx with a shared-string table and date cells formatted with the
    built-in date format 14, as Excel saves them. Returns the number of data rows."""
    strings: dict[str, int] = {}

    def sst(text: str) -> int:
        index = strings.get(text)
        if index is None:
            index = strings[text] = len(strings)
        return index

    epoch = datetime.date(1899, 12, 30)
    count = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as package:
        with package.open("xl/worksheets/sheet1.xml", "w") as raw:
            out = []
            out.append(
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheetData>'
            )
            number = 0
            for values in lines:
                number += 1
                cells = []
                for index, value in enumerate(values):
                    if value is None or value == "":
                        continue
                    ref = f"{_letters(index)}{number}"
                    if isinstance(value, datetime.date):
                        cells.append(f'<c r="{ref}" s="1"><v>{(value - epoch).days}</v></c>')
                    elif isinstance(value, int):
                        cells.append(f'<c r="{ref}"><v>{value}</v></c>')
                    else:
                        cells.append(f'<c r="{ref}" t="s"><v>{sst(str(value))}</v></c>')
                out.append(f'<row r="{number}">{"".join(cells)}</row>')
                if len(out) >= 2000:
                    raw.write("".join(out).encode())
                    out.clear()
            out.append("</sheetData></worksheet>")
            raw.write("".join(out).encode())
            count = number - 2
        with package.open("xl/sharedStrings.xml", "w") as raw:
            raw.write(
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<sst xmlns="{MAIN_NS}" uniqueCount="{len(strings)}">'.encode()
            )
            batch = []
            for text in strings:
                batch.append(f"<si><t>{escape(text)}</t></si>")
                if len(batch) >= 5000:
                    raw.write("".join(batch).encode())
                    batch.clear()
            raw.write(("".join(batch) + "</sst>").encode())
        package.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            "</Types>",
        )
        package.writestr(
            "_rels/.rels",
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{PKG_REL_NS}"><Relationship Id="rId1" '
            f'Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        package.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets>'
            f'<sheet name="{escape(sheet_name)}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        package.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{PKG_REL_NS}">'
            f'<Relationship Id="rId1" Type="{REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{REL_NS}/styles" Target="styles.xml"/>'
            f'<Relationship Id="rId3" Type="{REL_NS}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>",
        )
        package.writestr(
            "xl/styles.xml",
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<styleSheet xmlns="{MAIN_NS}">'
            '<fonts count="1"><font><sz val="11"/><name val="等线"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
            "</borders>"
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
            "</cellStyleXfs>"
            '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" '
            'applyNumberFormat="1"/></cellXfs></styleSheet>',
        )
    return count


def generate(path: Path, rows: int, seed: int = 2026) -> int:
    """The benchmark workbook: ``rows`` rows of customers and vehicles (needs Django set up
    and the demo catalogue loaded, for the variant codes and VIN prefixes)."""
    from aftersales.catalogue.models import Variant
    from aftersales.crm.imports import COLUMNS, DATA_SHEET, KEYS
    from aftersales.crm.testing import unique_mobile, valid_id_number, valid_vin

    rng = random.Random(seed)
    variants = list(Variant.objects.order_by("code"))
    today = datetime.date.today()
    header = [c.label + ("*" if c.required else "") for c in COLUMNS]

    def lines():
        yield header
        yield list(KEYS)
        made = 0
        serial = 0
        while made < rows:
            name = rng.choice(SURNAMES) + "".join(
                rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))
            )
            mobile = unique_mobile()
            id_number = ""
            if rng.random() < 0.7:
                birth = datetime.date(1955, 1, 1) + datetime.timedelta(days=rng.randint(0, 16000))
                id_number = valid_id_number(birth, seq=rng.randint(0, 999))
            city = rng.choice(CITIES)
            customer = [
                name,
                mobile,
                id_number,
                "",
                f"u{mobile}@example.com" if rng.random() < 0.2 else "",
                city,
                f"{city}市{rng.choice(STREETS)}{rng.randint(1, 300)}号",
                rng.choice(CHANNELS),
                rng.choice(("是", "否")),
                ",".join(rng.sample(TAGS, rng.randint(1, 2))) if rng.random() < 0.3 else "",
            ]
            cars = 0 if rng.random() < 0.05 else (2 if rng.random() < 0.1 else 1)
            for _ in range(max(cars, 1)):
                if made >= rows:
                    break
                made += 1
                if cars == 0:
                    yield customer + [""] * 10
                    continue
                serial += 1
                variant = variants[serial % len(variants)]
                sale = today - datetime.timedelta(days=rng.randint(30, 2500))
                plate_province = rng.choice(PROVINCES)
                yield customer + [
                    valid_vin(variant.vin_prefix, variant.model_year, serial=serial),
                    f"{plate_province}{rng.choice('ABCEFGHJKLMNPQ')}{serial % 100_000:05d}",
                    variant.code,
                    rng.choice(COLOURS),
                    sale,
                    sale + datetime.timedelta(days=rng.randint(0, 3)),
                    rng.randint(100, 150_000),
                    sale + datetime.timedelta(days=365 * rng.randint(1, 8)),
                    sale + datetime.timedelta(days=rng.randint(0, 700))
                    if (today - sale).days > 730
                    else "",
                    "是" if rng.random() < 0.6 else "",
                ]

    return write_xlsx(path, lines(), DATA_SHEET)


# --------------------------------------------------------------------------------------
# Inside the Django subprocesses
# --------------------------------------------------------------------------------------


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.config.settings")
    import django

    django.setup()


def internal_prepare(xlsx: str, rows: int) -> None:
    """Migrate the empty database, load the demo organisation and catalogue, write the
    workbook if it is not there yet."""
    _django()
    from django.core.management import call_command

    from aftersales.catalogue.demo import load_catalogue_demo
    from aftersales.org.demo import load_org_demo

    started = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    load_org_demo()
    load_catalogue_demo()
    print(f"  migrated and seeded in {time.monotonic() - started:.1f} s", flush=True)
    path = Path(xlsx)
    if not path.exists():
        started = time.monotonic()
        written = generate(path, rows)
        print(
            f"  wrote {path.name}: {written:,} rows, {path.stat().st_size / 1e6:.1f} MB "
            f"in {time.monotonic() - started:.1f} s",
            flush=True,
        )


def internal_import(xlsx: str, mode: str, out: str, profile: bool = False) -> None:
    """Queue the workbook and run the job in this process; write the figures to ``out``."""
    import resource

    _django()
    from django.core.files import File
    from django.db import connection

    from aftersales.core.models import AuditLog
    from aftersales.crm.imports import claim_next_job, import_create, import_run
    from aftersales.crm.models import (
        Customer,
        DealerCustomer,
        DealerVehicle,
        ImportJob,
        OdometerReading,
        Ownership,
        Vehicle,
    )
    from aftersales.org.models import User

    user = User.objects.get(username=IMPORTER)
    with open(xlsx, "rb") as f:
        upload = File(f, name=Path(xlsx).name)
        upload.size = Path(xlsx).stat().st_size
        job = import_create(actor=user, file=upload, mode=mode)
    job = claim_next_job()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    marks = {}
    backend = _backend_pid(connection)
    backend_cpu = _process_cpu(backend)
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.monotonic()
    cpu_started = time.process_time()

    def checked():
        marks["checked"] = time.monotonic()
        marks["checked_cpu"] = time.process_time()

    import_run(job, before_write=checked)
    seconds = time.monotonic() - started
    cpu = time.process_time() - cpu_started
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(
            35
        )
    server_cpu = None
    if backend is not None and backend_cpu is not None:
        server_cpu = _process_cpu(backend) - backend_cpu
    job = ImportJob.objects.get(pk=job.pk)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            db_version = f"PostgreSQL {cursor.fetchone()[0]}"
    else:
        import sqlite3

        db_version = f"SQLite {sqlite3.sqlite_version}"
    result = {
        "db": db_version,
        "status": job.status,
        "message": job.message,
        "rows": job.total_rows,
        "imported_rows": job.imported_rows,
        "error_rows": job.error_rows,
        "seconds": round(seconds, 1),
        "check_seconds": round(marks["checked"] - started, 1) if "checked" in marks else None,
        "write_seconds": round(started + seconds - marks["checked"], 1)
        if "checked" in marks
        else None,
        "cpu_seconds": round(cpu, 1),
        "check_cpu_seconds": round(marks["checked_cpu"] - cpu_started, 1)
        if "checked" in marks
        else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "db_server_cpu_seconds": round(server_cpu, 1) if server_cpu is not None else None,
        "rss_before_mb": round(rss_before, 1),
        "written": {
            "customers": Customer.objects.count(),
            "vehicles": Vehicle.objects.count(),
            "ownerships": Ownership.objects.count(),
            "odometer_readings": OdometerReading.objects.count(),
            "dealer_customer_links": DealerCustomer.objects.count(),
            "dealer_vehicle_links": DealerVehicle.objects.count(),
            "audit_entries": AuditLog.objects.filter(channel="import").count(),
        },
    }
    Path(out).write_text(json.dumps(result))


def _backend_pid(connection):
    """The PostgreSQL server process serving this connection, when it runs here."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    return pid if Path(f"/proc/{pid}/stat").exists() else None


def _process_cpu(pid) -> float | None:
    """User + system CPU seconds of a process (Linux /proc)."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------


def _run(args: list[str], env: dict) -> None:
    subprocess.run([PYTHON, __file__, *args], env=env, cwd=ROOT, check=True)


def _bench_one(db: str, url: str | None, workdir: Path, xlsx: Path, args) -> dict:
    var = workdir / f"var-{db}"
    var.mkdir()
    env = {
        **os.environ,
        "AFTERSALES_VAR": str(var),
        "DJANGO_SETTINGS_MODULE": "aftersales.config.settings",
        "CELERY_BROKER_URL": "",
        "REDIS_URL": "",
    }
    env.pop("AFTERSALES_TEST_DATABASE", None)
    if url:
        env["DATABASE_URL"] = url
    else:
        env.pop("DATABASE_URL", None)  # SQLite in AFTERSALES_VAR
    print(f"[{db}] preparing the database", flush=True)
    _run(["_prepare", str(xlsx), str(args.rows)], env)
    out = workdir / f"result-{db}.json"
    print(f"[{db}] importing {xlsx.name} ({args.mode})", flush=True)
    _run(["_import", str(xlsx), args.mode, str(out), *(["--profile"] if args.profile else [])], env)
    return json.loads(out.read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--database-url", help="an empty PostgreSQL database to use")
    parser.add_argument(
        "--mode", choices=["all_or_nothing", "valid_rows"], default="all_or_nothing"
    )
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the import")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="aftersales-bench-import-"))
    xlsx = workdir / f"customers-{args.rows}.xlsx"
    results = {}
    stop_postgres = None
    load = os.getloadavg()
    try:
        for db in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
            url = None
            if db == "postgresql":
                url = args.database_url
                if not url:
                    from aftersales.testing import servers

                    url = servers.start_postgres()
                    stop_postgres = servers.pytest_unconfigure
            results[db] = _bench_one(db, url, workdir, xlsx, args)
    finally:
        if stop_postgres is not None:
            stop_postgres(None)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept {workdir}")

    machine = {
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in load],
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }
    print()
    print(
        f"machine: {machine['cpus']} CPUs ({machine['processor']}), Python {machine['python']}, "
        f"{machine['platform']}; load average {machine['load_average_at_start']} at start, "
        f"{machine['load_average_at_end']} at end"
    )
    print(
        f"mode: {args.mode}; targets: < {TARGET_SECONDS:.0f} s, < {TARGET_RSS_MB:.0f} MB peak RSS"
    )
    print()
    print(
        "| database | status | rows | imported | seconds (check + write) | CPU s: import "
        "(check) + db server | peak RSS MB |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    missed = False
    for result in results.values():
        server = result["db_server_cpu_seconds"]
        server = "in-process" if server is None else server
        print(
            f"| {result['db']} | {result['status']} | {result['rows']:,} | "
            f"{result['imported_rows']:,} | {result['seconds']} ({result['check_seconds']} + "
            f"{result['write_seconds']}) | {result['cpu_seconds']} "
            f"({result['check_cpu_seconds']}) + {server} | {result['peak_rss_mb']} |"
        )
        missed |= (
            result["status"] != "done"
            or result["seconds"] > TARGET_SECONDS
            or result["peak_rss_mb"] > TARGET_RSS_MB
        )
    for db, result in results.items():
        print(f"\n{db}: {result['message']}\nwritten: {result['written']}")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine, "results": results}, indent=2))
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_prepare":
        internal_prepare(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "_import":
        internal_import(sys.argv[2], sys.argv[3], sys.argv[4], profile="--profile" in sys.argv)
    else:
        sys.exit(main())
