"""Generate a big CRM data set for the search and customer-360 benchmarks.

    .venv/bin/python bench/crm_generate.py --db sqlite|postgresql [--database-url URL]
        [--vehicles 1000000] [--customers 800000] [--dealers 60] [--id-share 0.3]
        [--workers 2] [--seed 2026]

Builds an empty database, migrates it as the application does, loads the demo
organisation (so the demo logins exist) and catalogue, adds bench dealers (``--dealers`` in
all, in the six demo cities and three regions), then loads, with raw batched inserts
(SQLite ``executemany``) or ``COPY`` (PostgreSQL, psycopg):

* customers: realistic Chinese names, unique valid mobiles, ``--id-share`` of them with a
  resident ID number (Fernet-encrypted, keyed hash, masked: in ``--workers`` processes),
  a home dealer, segment, consent, contact preferences, a few tags;
* vehicles: one per customer plus the rest on random customers, valid VINs from the
  catalogue's prefixes, unique plates of the dealer's city, dates consistent with the
  model year, warranty from the catalogue; ~5 % changed owner (two ownership rows);
* two odometer readings and about one service visit per vehicle; dealer relationships
  (the selling dealer, and for ~8 % a second dealer that serviced the car).

Indexes and constraints are those of the migrations: the generator drops the non-primary
ones of the loaded tables before the load and recreates them afterwards (from the
definitions the migrations created), then ``ANALYZE``. Timings of each phase are printed
and written, with the data size, to ``var/bench/crm-<db>.json`` for ``bench/crm_search.py``.

* SQLite: ``var/bench/crm.sqlite3`` (replaced).
* PostgreSQL: a server of its own, ``initdb`` in ``var/bench/crm-pg/`` (replaced), started on
  127.0.0.1 on a free port like ``aftersales/testing/servers.py`` does, and stopped at the
  end (``crm_search.py`` starts it again). Or ``--database-url`` pointing at an empty
  database you run yourself.
"""

from __future__ import annotations

import argparse
import bisect
import datetime
import itertools
import json
import multiprocessing
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
SQLITE_PATH = BENCH_DIR / "crm.sqlite3"
PG_DIR = BENCH_DIR / "crm-pg"
CHUNK = 50_000
# Server settings for the benchmark: a machine-sized cache; no durability while loading
# (a benchmark database is rebuilt, never recovered).
PG_OPTIONS = (
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50 "
    "-c shared_buffers=512MB -c maintenance_work_mem=512MB -c max_wal_size=8GB "
    "-c checkpoint_timeout=30min -c effective_cache_size=4GB -c random_page_cost=1.1"
)

sys.path.insert(0, str(ROOT))


def info_path(db: str) -> Path:
    return BENCH_DIR / f"crm-{db}.json"


# ---------------------------------------------------------------- PostgreSQL server


def _pg_helpers():
    from aftersales.testing.servers import _as_postgres_user, _pg_bin, free_port

    return _as_postgres_user, _pg_bin, free_port


def pg_start(root: Path = PG_DIR, *, fresh: bool = False) -> str:
    """Start (after ``initdb`` when ``fresh``) the benchmark's PostgreSQL server on a free
    loopback port; returns its URL."""
    as_postgres, pg_bin, free_port = _pg_helpers()
    initdb, pg_ctl = pg_bin("initdb"), pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        raise SystemExit("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    data = root / "data"
    if fresh:
        pg_stop(root)
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
        subprocess.run(
            as_postgres([initdb, "-D", str(data), "-A", "trust", "-U", "aftersales", "-E",
                         "UTF8", "--locale=C.UTF-8"]),
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
    elif not data.exists():
        raise SystemExit(f"no benchmark database in {root}: run bench/crm_generate.py first")
    pg_stop(root)
    port = free_port()
    subprocess.run(
        as_postgres([pg_ctl, "-D", str(data), "-o", f"-h 127.0.0.1 -p {port} -k {root} "
                     + PG_OPTIONS, "-l", str(root / "log"), "-w", "-t", "120", "start"]),
        check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    (root / "port").write_text(str(port))
    return f"postgres://aftersales@127.0.0.1:{port}/postgres"


def pg_stop(root: Path = PG_DIR):
    as_postgres, pg_bin, _free_port = _pg_helpers()
    data = root / "data"
    if (data / "postmaster.pid").exists():
        subprocess.run(
            as_postgres([pg_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


# ---------------------------------------------------------------- Django


def setup_django(database_url: str):
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.config.settings")
    import django

    django.setup()


def machine() -> dict:
    import django
    from django.db import connection

    model, mem_kb = "?", 0
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            db = "PostgreSQL " + cursor.fetchone()[0]
        else:
            cursor.execute("SELECT sqlite_version()")
            db = "SQLite " + cursor.fetchone()[0]
    return {
        "cpus": os.cpu_count(),
        "cpu": model,
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "django": django.get_version(),
        "database": db,
        "kernel": platform.release(),
    }


# ---------------------------------------------------------------- data


def _encrypt_ids(numbers):
    """Worker: (ciphertext, lookup hash) of each ID number."""
    from aftersales.crm import pii

    return [(pii.encrypt(n), pii.blind_index(n)) for n in numbers]


class Data:
    """Draws the rows, chunk by chunk, from one seeded random generator."""

    def __init__(
        self, *, customers, vehicles, dealers, variants, id_share, seed, ts, pool, workers
    ):
        from aftersales.crm.demo import ANCHOR, NameGenerator

        self.rng = random.Random(seed)
        self.n_customers, self.n_vehicles = customers, vehicles
        self.dealers = dealers  # [(id, code, city, region code)]
        self.variants = variants
        self.id_share = id_share
        self.ts = ts  # the timestamp literal of created_at / updated_at
        self.pool, self.workers = pool, workers
        self.end = ANCHOR
        self.names = {code: NameGenerator(code) for code in ("NORTH", "EAST", "SOUTH")}
        self.dealer_cum = list(itertools.accumulate(self.rng.uniform(0.5, 1.5) for _ in dealers))
        self.home = [0] * (customers + 1)  # customer id -> dealer index
        self.by_dealer = [[] for _ in dealers]
        self.days: dict[int, str] = {}
        self.link_ids = itertools.count(1)
        self.reading_ids = itertools.count(1)
        self.visit_ids = itertools.count(1)
        self.ownership_ids = itertools.count(1)

    def day(self, ordinal: int) -> str:
        text = self.days.get(ordinal)
        if text is None:
            text = self.days[ordinal] = datetime.date.fromordinal(ordinal).isoformat()
        return text

    # customers ----------------------------------------------------------------

    def customers(self):
        """Chunks of {table: rows}: customers, their home-dealer links, tags."""
        from aftersales.crm.demo import (
            CITY_AREA_CODES,
            MOBILE_PREFIXES,
            address_in,
            email_for,
            id_number_for,
        )
        from aftersales.crm.validators import mask_id_number

        rng, ts = self.rng, self.ts
        prefixes = MOBILE_PREFIXES
        segments = ["loyal", "regular", "regular", "potential", "potential", "at_risk", "lost"]
        channels = ["sms"] * 9 + ["wechat"] * 6 + ["phone"] * 4 + ["email"]
        start = 1
        while start <= self.n_customers:
            stop = min(start + CHUNK, self.n_customers + 1)
            rows, links, tags, with_id = [], [], [], []
            for cid in range(start, stop):
                d = bisect.bisect(self.dealer_cum, rng.random() * self.dealer_cum[-1])
                dealer_id, _code, city, region = self.dealers[d]
                self.home[cid] = d
                self.by_dealer[d].append(cid)
                gender = "m" if rng.random() < 0.68 else "f"
                born = datetime.date(1960, 1, 1) + datetime.timedelta(days=rng.randrange(15_706))
                name = self.names[region].name(rng, gender, born.year)
                k = cid // len(prefixes)
                mobile = prefixes[cid % len(prefixes)] + f"{(k * 48_271 + 9_973) % 10**8:08d}"
                id_number = ""
                if rng.random() < self.id_share:
                    id_number = id_number_for(rng, city, born, gender)
                    with_id.append((len(rows), id_number))
                channel = rng.choice(channels)
                email = email_for(rng) if channel == "email" or rng.random() < 0.08 else ""
                quiet = rng.random() < 0.3
                consent = rng.random() < 0.6
                phone2 = (
                    f"{CITY_AREA_CODES[city]}-{rng.randint(5_000_000, 8_999_999)}"
                    if rng.random() < 0.05
                    else ""
                )
                rows.append(
                    [
                        cid, name, mobile, phone2, "", "",
                        mask_id_number(id_number), born.isoformat() if id_number else None,
                        gender, email, city, address_in(rng, city), channel,
                        "21:00:00" if quiet else None, "08:00:00" if quiet else None,
                        consent, ts if consent else None, rng.choice(segments), ts,
                        rng.randrange(0, 3_000, 10), "", "sale", dealer_id, None, None, 1,
                        ts, ts,
                    ]
                )  # fmt: skip
                links.append((next(self.link_ids), dealer_id, cid, "sold", ts))
                if rng.random() < 0.05:
                    tags.append((cid, 1 + rng.randrange(4)))
            # encrypt the chunk's ID numbers in worker processes
            numbers = [n for _, n in with_id]
            size = max(1, len(numbers) // (4 * self.workers))
            parts = [numbers[i : i + size] for i in range(0, len(numbers), size)]
            results = self.pool.map(_encrypt_ids, parts) if self.pool else map(_encrypt_ids, parts)
            for (row_index, _n), (cipher, digest) in zip(
                with_id, itertools.chain.from_iterable(results), strict=True
            ):
                rows[row_index][4], rows[row_index][5] = cipher, digest
            yield {"customer": rows, "dealercustomer": links, "tags": tags}
            start = stop

    # vehicles -------------------------------------------------------------------

    def vehicles(self):
        """Chunks of {table: rows}: vehicles, ownerships, readings, visits, links."""
        from aftersales.crm.demo import (
            COLOURS,
            MODEL_WEIGHTS,
            PlateGenerator,
            _anniversary,
            sale_window,
        )
        from aftersales.crm.services import term_end
        from aftersales.crm.validators import vin_check_digit, vin_year_code

        rng, ts, end = self.rng, self.ts, self.end
        end_ordinal = end.toordinal()
        plates = PlateGenerator()
        choices = []  # (variant fields, window start ordinal, window days)
        weights = []
        for v in self.variants:
            window = sale_window(v["model_year"], end)
            if window is None:
                continue
            choices.append((v, window[0].toordinal(), (window[1] - window[0]).days + 1))
            weights.append(MODEL_WEIGHTS.get(v["model"], 5) / 3)
        cum = list(itertools.accumulate(weights))
        serials: dict[tuple, int] = {}
        extra_customer_links: set[tuple] = set()
        dealer_ids = [d[0] for d in self.dealers]
        start = 1
        while start <= self.n_vehicles:
            stop = min(start + CHUNK, self.n_vehicles + 1)
            vehicles, ownerships, readings, visits, dv, dc = [], [], [], [], [], []
            for vid in range(start, stop):
                owner = vid if vid <= self.n_customers else rng.randint(1, self.n_customers)
                d = self.home[owner]
                dealer_id, code, city, _region = self.dealers[d]
                v, window_start, window_days = choices[bisect.bisect(cum, rng.random() * cum[-1])]
                sale = window_start + rng.randrange(window_days)
                invoice = sale - rng.choice((0, 0, 0, 1, 2))
                plant = "BTSHGZ"[d % 6]
                key = (v["prefix"], v["model_year"], plant)
                serial = serials[key] = serials.get(key, 100_000) + 1
                body = f"{v['prefix']}0{vin_year_code(v['model_year'])}{plant}{serial:06d}"
                vin = body[:8] + vin_check_digit(body) + body[9:]
                green = v["nev"] and rng.random() < 1 / 3
                plate = plates.new(rng, city, green=green, fuel=v["fuel"])
                invoice_day = datetime.date.fromordinal(invoice)
                warranty_end = term_end(invoice_day, v["warranty_years"]).toordinal()
                powertrain_end = term_end(invoice_day, v["powertrain_years"]).toordinal()
                sale_day = datetime.date.fromordinal(sale)
                years = max(1, (end_ordinal - sale) // 365 + (rng.random() < 0.9))
                insurance = _anniversary(sale_day, years).toordinal() - 1
                inspection = (
                    _anniversary(sale_day, 2).toordinal() if end_ordinal - sale > 740 else None
                )
                per_day = min(max(rng.lognormvariate(9.45, 0.4), 4_000), 38_000) / 365
                sale_km = rng.randint(3, 60)
                # one visit, at the selling dealer or a second one, if the car is old enough
                second = None
                if rng.random() < 0.08:
                    second = rng.randrange(len(dealer_ids))
                    if second == d:
                        second = None
                visit_day = None
                if end_ordinal - sale > 60:
                    visit_day = sale + 60 + rng.randrange(end_ordinal - sale - 59)
                    visit_km = sale_km + int(per_day * (visit_day - sale))
                    last_day, last_km = visit_day, visit_km
                else:
                    last_day = sale + rng.randint(5, 30)
                    last_km = sale_km + int(per_day * (last_day - sale))
                # ~5 % changed hands, to another customer of the same dealer
                previous, transfer = None, None
                if end_ordinal - sale > 400 and rng.random() < 0.05:
                    candidate = rng.choice(self.by_dealer[d])
                    if candidate != owner:
                        previous = candidate
                        transfer = sale + 300 + rng.randrange(end_ordinal - sale - 330)
                vehicles.append(
                    (
                        vid, vin, vin[-8:], vin[-6:], plate, v["id"], rng.choice(COLOURS),
                        f"XC{serial:07d}{vid % 97:02d}", self.day(sale), self.day(invoice),
                        dealer_id, self.day(invoice), self.day(warranty_end), v["warranty_km"],
                        self.day(powertrain_end), v["powertrain_km"], self.day(insurance),
                        self.day(inspection) if inspection else None, last_km,
                        self.day(last_day), owner, 1, ts, ts,
                    )
                )  # fmt: skip
                if previous is None:
                    ownerships.append(
                        (next(self.ownership_ids), vid, owner, self.day(sale), None,
                         "new_sale", None, ts)
                    )  # fmt: skip
                else:
                    ownerships.append(
                        (next(self.ownership_ids), vid, previous, self.day(sale),
                         self.day(transfer), "new_sale", None, ts)
                    )  # fmt: skip
                    ownerships.append(
                        (next(self.ownership_ids), vid, owner, self.day(transfer), None,
                         "transfer", None, ts)
                    )  # fmt: skip
                readings.append(
                    (next(self.reading_ids), vid, sale_km, self.day(sale), "sale", dealer_id,
                     None, ts)
                )  # fmt: skip
                dv.append((next(self.link_ids), dealer_id, vid, "sold", ts))
                if visit_day is None:
                    readings.append(
                        (next(self.reading_ids), vid, last_km, self.day(last_day), "owner",
                         None, None, ts)
                    )  # fmt: skip
                    continue
                at = dealer_ids[second] if second is not None else dealer_id
                customer = previous if previous and visit_day < transfer else owner
                roll = rng.random()
                if roll < 0.8:
                    kind, amount = "maintenance", f"{rng.randint(300, 1_300)}.00"
                elif roll < 0.92:
                    kind, amount = "repair", f"{rng.randint(180, 3_800)}.00"
                elif roll < 0.97:
                    kind, amount = "warranty", "0.00"
                else:
                    kind, amount = "accident", f"{rng.randint(1_500, 24_000)}.00"
                visit_id = next(self.visit_ids)
                readings.append(
                    (next(self.reading_ids), vid, visit_km, self.day(visit_day),
                     "repair_order", at, None, ts)
                )  # fmt: skip
                visits.append(
                    (visit_id, customer, vid, at, self.day(visit_day), kind, amount, visit_km,
                     f"RO{code}{visit_id:08d}")
                )  # fmt: skip
                if second is not None:
                    dv.append((next(self.link_ids), at, vid, "serviced", ts))
                    for person in {customer, owner}:
                        if self.home[person] != second and (at, person) not in (
                            extra_customer_links
                        ):
                            extra_customer_links.add((at, person))
                            dc.append((next(self.link_ids), at, person, "serviced", ts))
            yield {
                "vehicle": vehicles,
                "ownership": ownerships,
                "odometerreading": readings,
                "servicevisit": visits,
                "dealervehicle": dv,
                "dealercustomer": dc,
            }
            start = stop


# ---------------------------------------------------------------- writers

COLUMNS = {
    "customer": [
        "id", "name", "mobile", "phone2", "id_number_encrypted", "id_number_hash",
        "id_number_masked", "birthday", "gender", "email", "city", "address",
        "contact_channel", "quiet_from", "quiet_until", "marketing_consent",
        "marketing_consent_at", "segment", "segment_at", "loyalty_points", "notes", "source",
        "origin_dealer_id", "user_id", "merged_into_id", "version", "created_at", "updated_at",
    ],
    "vehicle": [
        "id", "vin", "vin_last8", "vin_last6", "plate", "variant_id", "colour",
        "engine_number", "sale_date", "invoice_date", "selling_dealer_id", "warranty_start",
        "warranty_end", "warranty_km", "powertrain_warranty_end", "powertrain_warranty_km",
        "insurance_expiry", "last_inspection", "odometer_km", "odometer_on", "owner_id",
        "version", "created_at", "updated_at",
    ],
    "ownership": ["id", "vehicle_id", "customer_id", "started_on", "ended_on", "reason",
                  "recorded_by_id", "created_at"],
    "odometerreading": ["id", "vehicle_id", "km", "read_on", "source", "dealer_id",
                        "recorded_by_id", "created_at"],
    "servicevisit": ["id", "customer_id", "vehicle_id", "dealer_id", "visited_on", "kind",
                     "amount", "odometer_km", "reference"],
    "dealercustomer": ["id", "dealer_id", "customer_id", "kind", "since"],
    "dealervehicle": ["id", "dealer_id", "vehicle_id", "kind", "since"],
    "tags": ["customer_id", "customertag_id"],
}  # fmt: skip


def table_specs():
    """Per generated table: the database table, its columns (those the generator fills,
    then any other column with its model default, so new model fields do not break it)."""
    from django.db import connection

    from aftersales.crm import models

    model_of = {
        "customer": models.Customer,
        "vehicle": models.Vehicle,
        "ownership": models.Ownership,
        "odometerreading": models.OdometerReading,
        "servicevisit": models.ServiceVisit,
        "dealercustomer": models.DealerCustomer,
        "dealervehicle": models.DealerVehicle,
        "tags": models.Customer.tags.through,
    }
    specs = {}
    for key, model in model_of.items():
        given = COLUMNS[key]
        extra, defaults = [], []
        for f in model._meta.concrete_fields:
            if f.column in given or f.primary_key:
                continue
            # a blank text field without a default gets "" (Django's own default for it)
            if not f.has_default() and not f.null and not (f.blank and f.empty_strings_allowed):
                raise SystemExit(f"{model.__name__}.{f.name} is new: teach the generator it")
            extra.append(f.column)
            defaults.append(f.get_db_prep_save(f.get_default(), connection))
        specs[key] = (model._meta.db_table, given + extra, tuple(defaults))
    return specs


class SqliteWriter:
    def __init__(self, path: Path):
        import sqlite3

        self.conn = sqlite3.connect(str(path), isolation_level=None)
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "cache_size=-400000",
            "temp_store=MEMORY",
            "locking_mode=EXCLUSIVE",
        ):
            self.conn.execute(f"PRAGMA {pragma}")
        self.conn.execute("BEGIN")

    def write(self, table, columns, defaults, rows):
        marks = ",".join("?" * len(columns))
        sql = f'INSERT INTO "{table}" ({",".join(columns)}) VALUES ({marks})'
        if defaults:
            rows = (tuple(r) + defaults for r in rows)
        self.conn.executemany(sql, rows)

    def commit(self):
        self.conn.execute("COMMIT")
        self.conn.execute("BEGIN")

    def indexes(self, tables):
        rows = self.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({','.join('?' * len(tables))})",
            tables,
        ).fetchall()
        return [{"name": name, "create": sql} for name, sql in rows]

    def drop(self, saved):
        for index in saved:
            self.conn.execute(f'DROP INDEX "{index["name"]}"')

    def recreate(self, saved):
        for index in saved:
            self.conn.execute(index["create"])

    def finish(self, tables):
        self.conn.execute("COMMIT")
        self.conn.execute("ANALYZE")
        self.conn.execute("PRAGMA locking_mode=NORMAL")
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.close()


class PgWriter:
    def __init__(self, url: str):
        import psycopg

        self.conn = psycopg.connect(url.replace("postgres://", "postgresql://", 1))

    def write(self, table, columns, defaults, rows):
        def text(value):
            if value is None:
                return "\\N"
            if value is True or value is False:
                return "t" if value else "f"
            return str(value)

        tail = "\t".join(text(v) for v in defaults)
        lines = []
        for row in rows:
            line = "\t".join([text(v) for v in row])
            lines.append(line + ("\t" + tail if defaults else "") + "\n")
        with self.conn.cursor() as cur:
            with cur.copy(f'COPY "{table}" ({",".join(columns)}) FROM STDIN') as copy:
                copy.write("".join(lines))

    def commit(self):
        self.conn.commit()

    def indexes(self, tables):
        """Unique and foreign-key constraints, then plain indexes, of ``tables``."""
        with self.conn.cursor() as cur:
            cur.execute(
                "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), "
                "c.contype FROM pg_constraint c WHERE c.conrelid::regclass::text = ANY(%s) "
                "AND c.contype IN ('u', 'f') ORDER BY c.contype DESC, c.conname",
                [tables],
            )
            saved = [
                {"table": t, "name": n, "create": d, "kind": k} for t, n, d, k in cur.fetchall()
            ]
            cur.execute(
                "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname",
                [tables],
            )
            saved += [
                {"table": t, "name": n, "create": d, "kind": "i"} for t, n, d in cur.fetchall()
            ]
        return saved

    def drop(self, saved):
        with self.conn.cursor() as cur:
            for index in saved:
                if index["kind"] == "i":
                    cur.execute(f'DROP INDEX "{index["name"]}"')
                else:
                    cur.execute(f'ALTER TABLE "{index["table"]}" DROP CONSTRAINT "{index["name"]}"')
        self.conn.commit()

    def recreate(self, saved):
        with self.conn.cursor() as cur:
            cur.execute("SET max_parallel_maintenance_workers = 2")
            # indexes first, then unique constraints, then foreign keys (which use them)
            for index in sorted(saved, key=lambda i: {"i": 0, "u": 1, "f": 2}[i["kind"]]):
                if index["kind"] == "i":
                    cur.execute(index["create"])
                else:
                    cur.execute(
                        f'ALTER TABLE "{index["table"]}" ADD CONSTRAINT "{index["name"]}" '
                        f"{index['create']}"
                    )
        self.conn.commit()

    def finish(self, tables):
        with self.conn.cursor() as cur:
            for table in tables:
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f'COALESCE((SELECT MAX(id) FROM "{table}"), 0) + 1, false)'
                )
        self.conn.commit()
        self.conn.autocommit = True
        with self.conn.cursor() as cur:
            cur.execute("VACUUM (ANALYZE) " + ", ".join(f'"{t}"' for t in tables))
        self.conn.close()


# ---------------------------------------------------------------- main


def bench_dealers(count: int):
    """The demo dealers plus bench dealers in the same six cities, up to ``count``."""
    from aftersales.org.models import Dealer, Region

    cities = [("北京", "BJ", "NORTH"), ("天津", "TJ", "NORTH"), ("上海", "SH", "EAST"),
              ("杭州", "HZ", "EAST"), ("广州", "GZ", "SOUTH"), ("深圳", "SZ", "SOUTH")]  # fmt: skip
    regions = {r.code: r for r in Region.objects.all()}
    have = set(Dealer.objects.values_list("code", flat=True))
    new, n = [], 2
    while len(have) + len(new) < count:
        for city, prefix, region in cities:
            code = f"{prefix}{n:02d}"
            if code not in have and len(have) + len(new) < count:
                new.append(
                    Dealer(code=code, region=regions[region], name=f"{city}星驰{n}号店",
                           city=city, phone="400-800-0000")
                )  # fmt: skip
        n += 1
    Dealer.objects.bulk_create(new)
    return [
        (d.id, d.code, d.city, d.region.code)
        for d in Dealer.objects.select_related("region").order_by("id")
    ]


def generate(args) -> dict:
    from django.core.management import call_command
    from django.db import connection

    timings = {}
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    from aftersales.catalogue.demo import load_catalogue_demo
    from aftersales.catalogue.models import Variant
    from aftersales.crm.models import CustomerTag
    from aftersales.org.demo import load_org_demo

    load_org_demo()
    load_catalogue_demo()
    from aftersales.crm.demo import TAGS

    CustomerTag.objects.bulk_create([CustomerTag(pk=i, name=n) for i, n in enumerate(TAGS, 1)])
    dealers = bench_dealers(args.dealers)
    variants = [
        {
            "id": v.id,
            "model": v.vehicle_model.code,
            "model_year": v.model_year,
            "prefix": v.vin_prefix,
            "fuel": v.fuel_type,
            "nev": v.fuel_type in {"bev", "phev", "erev"},
            "warranty_years": v.vehicle_model.warranty_years,
            "warranty_km": v.vehicle_model.warranty_km,
            "powertrain_years": v.vehicle_model.powertrain_years,
            "powertrain_km": v.vehicle_model.powertrain_km,
        }
        for v in Variant.objects.select_related("vehicle_model").order_by("code")
    ]
    specs = table_specs()
    info = machine()
    vendor = connection.vendor
    timings["migrate + organisation"] = time.perf_counter() - started
    connection.close()

    ts = "2026-11-20 02:00:00" if vendor == "sqlite" else "2026-11-20 02:00:00+00"
    writer = SqliteWriter(SQLITE_PATH) if vendor == "sqlite" else PgWriter(args.url)
    tables = sorted({spec[0] for spec in specs.values()})
    saved = writer.indexes(tables)
    writer.drop(saved)
    counts = dict.fromkeys(specs, 0)
    pool = multiprocessing.get_context("fork").Pool(args.workers) if args.workers > 1 else None
    data = Data(
        customers=args.customers,
        vehicles=args.vehicles,
        dealers=dealers,
        variants=variants,
        id_share=args.id_share,
        seed=args.seed,
        ts=ts,
        pool=pool,
        workers=max(1, args.workers),
    )
    spent = {"generate": 0.0, "write": 0.0}

    def load(chunks, label):
        phase = time.perf_counter()
        while True:
            t0 = time.perf_counter()
            chunk = next(chunks, None)
            t1 = time.perf_counter()
            spent["generate"] += t1 - t0
            if chunk is None:
                break
            for key, rows in chunk.items():
                table, columns, defaults = specs[key]
                writer.write(table, columns, defaults, rows)
                counts[key] += len(rows)
            writer.commit()
            spent["write"] += time.perf_counter() - t1
            print(f"  {label}: {sum(counts.values()):>10,} rows", end="\r", flush=True)
        timings[f"load {label}"] = time.perf_counter() - phase

    load(data.customers(), "customers")
    load(data.vehicles(), "vehicles")
    if pool:
        pool.close()
        pool.join()
    print()
    timings["  of which drawing rows (Python)"] = spent["generate"]
    timings["  of which inserting"] = spent["write"]
    phase = time.perf_counter()
    writer.recreate(saved)
    timings[f"indexes + constraints ({len(saved)})"] = time.perf_counter() - phase
    phase = time.perf_counter()
    writer.finish(tables)
    timings["analyze"] = time.perf_counter() - phase
    timings["total"] = time.perf_counter() - started
    connection.connect()
    with connection.cursor() as cursor:
        if vendor == "sqlite":
            cursor.execute("SELECT page_count * page_size FROM pragma_page_count, pragma_page_size")
        else:
            cursor.execute("SELECT pg_database_size(current_database())")
        size = cursor.fetchone()[0]
    connection.close()
    return {
        "db": args.db,
        "database_url": args.database_url or "",
        "rows": counts,
        "dealers": len(dealers),
        "id_share": args.id_share,
        "seed": args.seed,
        "machine": info,
        "timings_s": {k: round(v, 1) for k, v in timings.items()},
        "size_mb": round(size / 2**20) if size else None,
        "generated_at": datetime.datetime.now().isoformat(timespec="seconds"),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], required=True)
    parser.add_argument("--database-url", help="an empty PostgreSQL database of your own")
    parser.add_argument("--vehicles", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=800_000)
    parser.add_argument("--dealers", type=int, default=60)
    parser.add_argument("--id-share", type=float, default=0.3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    if args.customers > args.vehicles:
        parser.error("--customers must not exceed --vehicles (each customer owns a car)")
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    started_server = False
    if args.db == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        args.url = f"sqlite:///{SQLITE_PATH}"
    elif args.database_url:
        args.url = args.database_url
    else:
        args.url = pg_start(fresh=True)
        started_server = True
    try:
        setup_django(args.url)
        result = generate(args)
    finally:
        if started_server:
            pg_stop()
    info_path(args.db).write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
