"""Part lookup latency on a big catalogue: 200,000 parts, 5,000 variants, ~1,000,000
fitment rows (issue 4 figure: lookup by VIN fitment and by number, p95 under 50 ms).

    .venv/bin/python bench/parts_lookup.py --db sqlite|postgresql|both [--samples 200]
        [--parts 200000] [--variants 5000] [--regenerate] [--check]

The data set is built once per database and reused (``--regenerate`` rebuilds it):

* SQLite: ``var/bench/parts.sqlite3``; PostgreSQL: a server of its own in
  ``var/bench/parts-pg/`` (``initdb``, started on a free loopback port for the run and
  stopped afterwards, like ``bench/crm_generate.py``).
* migrated as the application is, the demo organisation and catalogue loaded (the demo
  logins exist), then ``--variants`` bench variants on 500 bench models (5 engine lines of
  2 model years each per model; one VIN prefix per line), 2,000 registered vehicles, and
  ``--parts`` parts in the 12 demo categories with realistic names, numbers, prices,
  barcodes, ~5 % superseded, ~1 % universal; each part fits 1-20 models (60 %, with a
  model-year range for a third) or variants (40 %): ~1,000,000 fitment rows, written with
  ``COPY`` (PostgreSQL) or ``executemany`` (SQLite).

Then, as the BJ01 service advisor (``bj01-sa``), over ``--samples`` random keys, measures
p50 / p95 / max (ms) of:

* selectors: ``search_parts`` by exact number, by barcode, by a common name word, by a rare
  name; ``parts_for_vin`` for a registered vehicle and for a decoded (unknown) VIN, first
  page of 100 parts;
* API (Django test client, whole middleware stack): ``GET /api/parts/parts/?q=<number>``,
  ``?q=<name word>``, ``GET /api/parts/fitment/?vin=`` (registered, decoded).

Each answer is checked (the number found first; the VIN's parts listed). Prints the machine,
data size and figures, and writes them to ``var/bench/parts-lookup-<db>.json``.
``--check`` exits 1 when a number or VIN lookup misses the 50 ms p95 target.
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from crm_generate import (  # noqa: E402
    BENCH_DIR,
    PgWriter,
    SqliteWriter,
    machine,
    pg_start,
    pg_stop,
    setup_django,
)

SQLITE_PATH = BENCH_DIR / "parts.sqlite3"
PG_DIR = BENCH_DIR / "parts-pg"
TARGET_MS = 50
WARMUP = 20
CHUNK = 100_000
NAMES = [  # Chinese, English: the demo catalogue's kinds of parts
    ("机油滤清器", "Oil filter"), ("空气滤清器滤芯", "Air filter element"),
    ("空调滤清器滤芯", "Cabin air filter"), ("燃油滤清器", "Fuel filter"),
    ("前刹车片", "Front brake pads"), ("后刹车片", "Rear brake pads"),
    ("前刹车盘", "Front brake disc"), ("后刹车盘", "Rear brake disc"),
    ("制动卡钳总成", "Brake caliper"), ("铱金火花塞", "Iridium spark plug"),
    ("点火线圈", "Ignition coil"), ("氧传感器", "Oxygen sensor"),
    ("蓄电池", "Battery"), ("雨刮片", "Wiper blade"), ("大灯总成", "Headlamp assembly"),
    ("尾灯总成", "Tail lamp assembly"), ("发电机总成", "Alternator"), ("起动机", "Starter"),
    ("前减震器", "Front shock absorber"), ("后减震器", "Rear shock absorber"),
    ("下摆臂", "Lower control arm"), ("稳定杆连杆", "Stabiliser link"),
    ("轮毂轴承", "Wheel bearing"), ("前保险杠", "Front bumper"), ("后保险杠", "Rear bumper"),
    ("发动机盖", "Bonnet"), ("翼子板", "Wing"), ("外后视镜", "Door mirror"),
    ("前挡风玻璃", "Windscreen"), ("空调压缩机", "A/C compressor"), ("冷凝器", "Condenser"),
    ("鼓风机", "Blower motor"), ("水泵", "Water pump"), ("节温器", "Thermostat"),
    ("散热器", "Radiator"), ("电子风扇", "Cooling fan"), ("离合器片", "Clutch disc"),
    ("驱动轴", "Drive shaft"), ("防尘套", "CV boot"), ("发动机悬置", "Engine mount"),
    ("高压线束", "HV harness"), ("车载充电机", "On-board charger"),
    ("DC-DC 转换器", "DC-DC converter"), ("充电口总成", "Charging inlet"),
    ("电池冷却板", "Battery cooling plate"), ("BMS 模块", "BMS module"),
    ("脚垫", "Floor mats"), ("行李架", "Roof rack"), ("挡泥板", "Mud flaps"),
]  # fmt: skip
POSITIONS = ["", "左", "右", "前", "后", "左前", "右前", "左后", "右后", "上", "下", "内", "外"]
WORDS = ["总成", "组件", "支架", "密封圈", "垫片", "螺栓", "卡扣", "盖板", "线束", "传感器"]
CATEGORY_OF = [  # NAMES index ranges -> demo category code
    (0, 4, "FILTER"), (4, 9, "BRAKE"), (9, 12, "IGNITION"), (12, 18, "ELECTRIC"),
    (18, 23, "SUSPENSION"), (23, 29, "BODY"), (29, 32, "AC"), (32, 36, "COOLING"),
    (36, 40, "DRIVELINE"), (40, 46, "NEV"), (46, 49, "ACCESSORY"),
]  # fmt: skip


def info_path(db: str) -> Path:
    return BENCH_DIR / f"parts-{db}.json"


def progress(message):
    print(f"  {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- data set


def _ean13(twelve: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(twelve))
    return twelve + str((10 - total % 10) % 10)


def _catalogue(variant_target: int, rng):
    """Bench models and variants through the ORM (small); returns the variant rows."""
    from aftersales.catalogue.models import Brand, FuelType, Variant, VehicleModel

    brand, _ = Brand.objects.get_or_create(code="BENCH", defaults={"name": "基准"})
    lines_per_model, years = 5, (2024, 2025)
    n_models = max(1, variant_target // (lines_per_model * len(years)))
    models = VehicleModel.objects.bulk_create(
        [
            VehicleModel(brand=brand, code=f"B{i:04d}", name=f"基准车型 B{i:04d}")
            for i in range(n_models)
        ]
    )
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
    variants = []
    for m_index, model in enumerate(models):
        for line in range(lines_per_model):
            # WMI "LB" + a letter, VDS: 5 characters unique per (model, line)
            code = m_index * lines_per_model + line
            vds = "".join(letters[(code // len(letters) ** k) % len(letters)] for k in range(4))
            prefix = f"LB{letters[m_index % 7]}{vds}{letters[line]}"
            fuel = rng.choice([FuelType.PETROL, FuelType.PETROL, FuelType.PHEV, FuelType.BEV])
            for year in years:
                variants.append(
                    Variant(
                        vehicle_model=model,
                        code=f"{model.code}-{line}-{year}",
                        name=f"{year}款 {line + 1}.{line}T",
                        model_year=year,
                        engine=f"{1 + line * 0.5:.1f}T",
                        fuel_type=fuel,
                        vin_prefix=prefix,
                    )
                )
    Variant.objects.bulk_create(variants, batch_size=2000)
    return [
        (v.id, v.vehicle_model_id, v.model_year, v.vin_prefix)
        for v in Variant.objects.filter(vehicle_model__brand=brand).order_by("id")
    ]


def _vehicles(variants, count, rng):
    from aftersales.crm.models import Vehicle
    from aftersales.crm.validators import compose_vin

    rows = []
    for serial in range(count):
        vid, _model, year, prefix = rng.choice(variants)
        vin = compose_vin(prefix, year, "K", 500_000 + serial)
        rows.append(Vehicle(vin=vin, vin_last8=vin[-8:], vin_last6=vin[-6:], variant_id=vid))
    Vehicle.objects.bulk_create(rows, batch_size=2000)


def _part_rows(n_parts, categories, variants, first_id, rng, ts):
    """Parts and fitments in chunks: (part rows, fitment rows)."""
    by_model = {}
    for vid, model_id, year, _prefix in variants:
        by_model.setdefault(model_id, []).append((vid, year))
    model_ids = sorted(by_model)
    fitment_id = 1
    parts, fitments = [], []
    for i in range(n_parts):
        pid = first_id + i
        kind = rng.randrange(len(NAMES))
        zh, en = NAMES[kind]
        code = next(c for lo, hi, c in CATEGORY_OF if lo <= kind < hi)
        pos = rng.choice(POSITIONS)
        word = rng.choice(WORDS) if rng.random() < 0.3 else ""
        universal = rng.random() < 0.01
        price = Decimal(rng.randrange(800, 800_000)) / 100
        cost = (price * Decimal(rng.randrange(60, 76)) / 100).quantize(Decimal("0.01"))
        superseded = pid + rng.randrange(1, 50) if rng.random() < 0.05 else None
        if superseded is not None and superseded >= first_id + n_parts:
            superseded = None
        number = f"{rng.randrange(1, 10)}{i:07d}{rng.randrange(100):02d}"
        barcode = _ean13(f"69{pid:010d}") if rng.random() < 0.7 else None
        parts.append(
            (pid, number, f"{zh}{pos}{word} {i}", f"{en} {i}", categories[code], "pc", price,
             cost, barcode, 12, 0, kind in (4, 5, 13), superseded, universal, True, ts)
        )  # fmt: skip
        if not universal:
            for _ in range(rng.choice((1, 1, 2, 2, 3, 3, 4, 5, 6, 8, 10, 12, 15, 20))):
                model_id = rng.choice(model_ids)
                if rng.random() < 0.6:
                    year_from = rng.choice((None, None, 2025))
                    fitments.append((fitment_id, pid, model_id, None, year_from, None))
                else:
                    vid, _year = rng.choice(by_model[model_id])
                    fitments.append((fitment_id, pid, model_id, vid, None, None))
                fitment_id += 1
        if len(parts) >= CHUNK:
            yield parts, fitments
            parts, fitments = [], []
    if parts:
        yield parts, fitments


def generate(args, url: str, db: str) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from aftersales.parts.models import Fitment, Part

    started = time.perf_counter()
    timings = {}
    call_command("migrate", verbosity=0)
    from aftersales.catalogue.demo import load_catalogue_demo
    from aftersales.org.demo import load_org_demo
    from aftersales.parts.demo_catalogue import load_parts_catalogue_demo
    from aftersales.parts.models import PartCategory

    load_org_demo()
    load_catalogue_demo()
    load_parts_catalogue_demo()  # the demo parts and the 12 categories
    rng = random.Random(args.seed)
    variants = _catalogue(args.variants, rng)
    _vehicles(variants, 2000, rng)
    categories = dict(PartCategory.objects.values_list("code", "id"))
    first_id = (Part.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    timings["migrate + demo + catalogue"] = time.perf_counter() - started
    vendor = connection.vendor
    connection.close()
    ts = "2026-11-20 02:00:00" if vendor == "sqlite" else "2026-11-20 02:00:00+00"
    writer = SqliteWriter(SQLITE_PATH) if vendor == "sqlite" else PgWriter(url)
    part_table, fit_table = Part._meta.db_table, Fitment._meta.db_table
    part_cols = ["id", "number", "name", "name_en", "category_id", "unit", "list_price",
                 "dealer_cost", "barcode", "warranty_months", "warranty_km", "wear_part",
                 "superseded_by_id", "universal", "active", "updated_at"]  # fmt: skip
    fit_cols = ["id", "part_id", "vehicle_model_id", "variant_id", "year_from", "year_to"]
    # the demo's fitments hold ids 1..n: shift the bench ones past them
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{fit_table}"')
        fit_offset = cursor.fetchone()[0]
    connection.close()
    phase = time.perf_counter()
    counts = {"parts": 0, "fitments": 0}
    for parts, fitments in _part_rows(args.parts, categories, variants, first_id, rng, ts):
        # superseded_by points forward: load without it, link after (the FK is checked)
        writer.write(part_table, part_cols, (), [r[:12] + (None,) + r[13:] for r in parts])
        writer.write(fit_table, fit_cols, (), [(f[0] + fit_offset,) + f[1:] for f in fitments])
        writer.commit()
        counts["parts"] += len(parts)
        counts["fitments"] += len(fitments)
        links = [(r[12], r[0]) for r in parts if r[12] is not None]
        if links:
            _link(writer, part_table, links)
        progress(f"{counts['parts']:,} parts, {counts['fitments']:,} fitments")
    timings["load parts + fitments"] = time.perf_counter() - phase
    phase = time.perf_counter()
    writer.finish([part_table, fit_table, "crm_vehicle", "catalogue_variant"])
    timings["analyze"] = time.perf_counter() - phase
    timings["total"] = time.perf_counter() - started
    return {"db": db, "rows": counts, "timings_s": {k: round(v, 1) for k, v in timings.items()}}


def _link(writer, table, links):
    """Set superseded_by on loaded parts (links point within already-written chunks or
    to the same chunk: both are in the table now, except forward ones past the chunk)."""
    sql = f'UPDATE "{table}" SET superseded_by_id = %s WHERE id = %s AND EXISTS (SELECT 1 FROM "{table}" WHERE id = %s)'  # noqa: E501
    rows = [(new, old, new) for new, old in links]
    if isinstance(writer, SqliteWriter):
        writer.conn.executemany(sql.replace("%s", "?"), rows)
    else:
        with writer.conn.cursor() as cur:
            cur.executemany(sql, rows)
    writer.commit()


# ---------------------------------------------------------------- measuring


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def stats(values):
    return {
        "n": len(values),
        "p50": round(percentile(values, 50), 1),
        "p95": round(percentile(values, 95), 1),
        "max": round(max(values), 1) if values else None,
    }


def _keys(samples, rng):
    from aftersales.catalogue.models import Variant
    from aftersales.crm.models import Vehicle
    from aftersales.crm.validators import compose_vin
    from aftersales.parts.models import Part

    top = Part.objects.order_by("-id").values_list("id", flat=True).first()
    ids = rng.sample(range(1, top + 1), samples * 2)
    rows = list(
        Part.objects.filter(pk__in=ids).values_list("id", "number", "barcode", "name")[:samples]
    )
    vehicles = list(
        Vehicle.objects.filter(variant__vehicle_model__brand__code="BENCH")
        .order_by("?")
        .values_list("vin", flat=True)[:samples]
    )
    bench_variants = list(
        Variant.objects.filter(vehicle_model__brand__code="BENCH").values_list(
            "vin_prefix", "model_year"
        )
    )
    decoded = [compose_vin(*rng.choice(bench_variants), "Z", 900_000 + i) for i in range(samples)]
    return {
        "number": [(r[0], r[1]) for r in rows],
        "barcode": [(r[0], r[2]) for r in rows if r[2]],
        "name_word": [(None, rng.choice(NAMES)[0]) for _ in rows],
        "name_rare": [(r[0], r[3]) for r in rows],
        "vin_vehicle": vehicles,
        "vin_decoded": decoded,
    }


def _time(fn, items, check):
    times = []
    for n, item in enumerate(items):
        t0 = time.perf_counter()
        answer = fn(item)
        elapsed = (time.perf_counter() - t0) * 1000
        check(item, answer)
        if n >= WARMUP or len(items) <= WARMUP:
            times.append(elapsed)
    return stats(times)


def measure(samples: int, seed: int) -> dict:
    from django.test import Client

    from aftersales.org.models import User
    from aftersales.parts import lookup

    rng = random.Random(seed)
    user = User.objects.get(username="bj01-sa")
    keys = _keys(samples + WARMUP, rng)
    client = Client()
    client.force_login(user)

    def first_is(item, hits):
        assert hits and hits[0].part.pk == item[0], item

    def found_name(item, hits):
        assert hits, item

    def fits(_vin, result):
        assert result.count > 0 and result.parts

    def api_ok(_item, response):
        assert response.status_code == 200, response.content[:300]
        assert response.json()["results"]

    out = {"selectors": {}, "api": {}}
    sel = out["selectors"]
    progress("selectors")
    sel["number"] = _time(lambda k: lookup.search_parts(user, k[1]), keys["number"], first_is)
    sel["barcode"] = _time(lambda k: lookup.search_parts(user, k[1]), keys["barcode"], first_is)
    sel["name_word"] = _time(
        lambda k: lookup.search_parts(user, k[1]), keys["name_word"], found_name
    )
    sel["name_rare"] = _time(
        lambda k: lookup.search_parts(user, k[1]), keys["name_rare"], found_name
    )
    sel["vin_vehicle"] = _time(lambda v: lookup.parts_for_vin(user, v), keys["vin_vehicle"], fits)
    sel["vin_decoded"] = _time(lambda v: lookup.parts_for_vin(user, v), keys["vin_decoded"], fits)
    progress("API")
    api = out["api"]
    get = client.get
    api["number"] = _time(lambda k: get("/api/parts/parts/", {"q": k[1]}), keys["number"], api_ok)
    api["name_word"] = _time(
        lambda k: get("/api/parts/parts/", {"q": k[1]}), keys["name_word"], api_ok
    )
    api["vin_vehicle"] = _time(
        lambda v: get("/api/parts/fitment/", {"vin": v}), keys["vin_vehicle"], api_ok
    )
    api["vin_decoded"] = _time(
        lambda v: get("/api/parts/fitment/", {"vin": v}), keys["vin_decoded"], api_ok
    )
    sample = lookup.parts_for_vin(user, keys["vin_decoded"][0])
    out["parts_per_vin_example"] = sample.count
    return out


def _size(connection) -> int | None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT page_count * page_size FROM pragma_page_count, pragma_page_size")
        else:
            cursor.execute("SELECT pg_database_size(current_database())")
        return cursor.fetchone()[0]


def run(db: str, args) -> dict:
    import os

    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    cached = info_path(db)
    build = args.regenerate or not cached.exists()
    if db == "sqlite":
        build = build or not SQLITE_PATH.exists()
        if build:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{SQLITE_PATH}"
    else:
        build = build or not (PG_DIR / "data").exists()
        url = pg_start(PG_DIR, fresh=build)
    try:
        setup_django(url)
        from django.db import connection

        if build:
            progress(f"building the {db} data set")
            built = generate(args, url, db)
            cached.write_text(json.dumps(built, indent=2))
        built = json.loads(cached.read_text())
        connection.connect()
        from aftersales.catalogue.models import Variant
        from aftersales.parts.models import Fitment, Part

        result = {
            "db": db,
            "machine": machine(),
            "data": {
                "parts": Part.objects.count(),
                "variants": Variant.objects.count(),
                "fitments": Fitment.objects.count(),
                "size_mb": round((_size(connection) or 0) / 2**20),
                "build_s": built["timings_s"],
            },
            "ms": measure(args.samples, args.seed),
            "measured_at": datetime.datetime.now().isoformat(timespec="seconds"),
        }
        connection.close()
    finally:
        if db == "postgresql":
            pg_stop(PG_DIR)
    (BENCH_DIR / f"parts-lookup-{db}.json").write_text(
        json.dumps(result, indent=2, ensure_ascii=False)
    )
    return result


def report(result):
    m, d = result["machine"], result["data"]
    print(f"\n== {result['db']}: {m['database']} · {m['cpus']} CPU {m['cpu']} · {m['ram_gb']} GB")
    print(
        f"   {d['parts']:,} parts · {d['variants']:,} variants · {d['fitments']:,} fitments · "
        f"{d['size_mb']} MB · ~{result['ms']['parts_per_vin_example']} parts per VIN"
    )
    for layer in ("selectors", "api"):
        for name, s in result["ms"][layer].items():
            print(
                f"   {layer:9} {name:12} n={s['n']:<4} p50 {s['p50']:>6} ms  "
                f"p95 {s['p95']:>6} ms  max {s['max']:>6} ms"
            )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], required=True)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--parts", type=int, default=200_000)
    parser.add_argument("--variants", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    if len(dbs) > 1:  # Django is set up once per process: one child per database
        import subprocess

        rc = 0
        for db in dbs:
            rc |= subprocess.call([sys.executable, __file__, "--db", db, *_passthrough(argv)])
        return rc
    result = run(dbs[0], args)
    report(result)
    if args.check:
        gated = ("number", "barcode", "vin_vehicle", "vin_decoded")
        missed = [
            f"{layer}/{k}"
            for layer in ("selectors", "api")
            for k, s in result["ms"][layer].items()
            if k in gated and s["p95"] > TARGET_MS
        ]
        if missed:
            print(f"p95 over {TARGET_MS} ms: {', '.join(missed)}")
            return 1
    return 0


def _passthrough(argv):
    argv = list(sys.argv[1:] if argv is None else argv)
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--db":
            skip = True
            continue
        if arg.startswith("--db="):
            continue
        out.append(arg)
    return out


if __name__ == "__main__":
    sys.exit(main())
