"""Anchor figure for issue 4: the parts issue/receipt/transfer workload done with Tryton's
stock module (trytond + trytond_stock 7.0 LTS) on PostgreSQL, for comparison with
``bench/parts_concurrency.py``.

    .venv/bin/python bench/parts_tryton.py [--processes 8] [--ops 500] [--products 20]
        [--opening 100] [--max-qty 10] [--seed 2026] [--fresh] [--keep-server]

What it does (everything lives in ``var/bench/tryton/``, which is gitignored):

* Tryton in a virtualenv of its own, ``var/bench/tryton/venv`` (created and filled from PyPI
  when missing: trytond and trytond_stock 7.0.x with their dependencies and psycopg2); the
  script then re-executes itself with that venv's python. The project's ``.venv`` is never
  touched.
* A throwaway PostgreSQL server: ``initdb`` in ``var/bench/tryton/pg`` (kept between runs),
  started on 127.0.0.1 on a free port like ``bench/crm_generate.py`` does, stopped at the end.
* A template database ``tryton_base`` (made once, ``--fresh`` remakes it): ``trytond-admin``
  activates ``stock`` and its dependencies, then a company, ``--products`` goods products,
  two storage locations (Shelf A, Shelf B under the warehouse's storage zone) and the
  opening stock (done supplier -> shelf moves of ``--opening`` units per product and shelf).
  Each run copies it to ``tryton_run`` (``CREATE DATABASE ... TEMPLATE``), so every run starts
  from the same state.
* The workload: ``--processes`` processes x ``--ops`` random operations on the same products,
  Tryton's API used in-process (``Pool`` + ``Transaction``; one transaction per operation,
  retried on ``DatabaseOperationalError``, i.e. Tryton's lock ``NOWAIT`` refusals and
  PostgreSQL serialisation failures under REPEATABLE READ):
    - issue    = shelf -> customer:   ``stock.move`` create, ``assign_try``, ``do``
    - receipt  = supplier -> shelf:   create, ``do``
    - transfer = shelf -> other shelf: create, ``assign_try``, ``do``
  ``assign_try`` is Tryton's own "is there stock" step (it locks the product's moves in the
  location with ``SELECT ... FOR UPDATE NOWAIT`` and reads ``products_by_location``); when
  it cannot assign the whole quantity the transaction is rolled back and the operation is
  counted as refused.
* The check: Tryton's ``Product.products_by_location`` per shelf and product (none may be
  negative), compared with an independent SQL sum over the done moves and with the workers'
  own tally of what they committed (opening + receipts - issues +- transfers).

Prints machine, versions, data size and figures; writes ``var/bench/tryton/result.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TDIR = ROOT / "var" / "bench" / "tryton"
VENV = TDIR / "venv"
VENV_PY = VENV / "bin" / "python"
PG_DIR = TDIR / "pg"
CONF = TDIR / "trytond.conf"
BASE_INFO = TDIR / "base.json"
RESULT = TDIR / "result.json"
BASE_DB, RUN_DB = "tryton_base", "tryton_run"
PG_USER = "tryton"
PINS = ["trytond>=7.0,<7.1", "trytond_stock>=7.0,<7.1", "psycopg2-binary"]
# Same kind of server settings as the other benchmarks (bench/crm_generate.py): a throwaway
# database, no durability.
PG_OPTIONS = (
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60 "
    "-c shared_buffers=256MB -c effective_cache_size=2GB -c random_page_cost=1.1"
)
MAX_ATTEMPTS = 100


# ---------------------------------------------------------------- virtualenv


def in_tryton_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def ensure_venv():
    if not VENV_PY.exists():
        base = getattr(sys, "_base_executable", None) or shutil.which("python3")
        print(f"creating {VENV} ...", flush=True)
        subprocess.run([base, "-m", "venv", str(VENV)], check=True)
    ok = subprocess.run(
        [str(VENV_PY), "-c", "import trytond, trytond.modules.stock, psycopg2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    ).returncode == 0  # fmt: skip
    if not ok:
        print(f"installing {' '.join(PINS)} into {VENV} ...", flush=True)
        subprocess.run([str(VENV_PY), "-m", "pip", "install", "-q", *PINS], check=True)


# ---------------------------------------------------------------- PostgreSQL server


def _as_postgres(cmd):
    # initdb and postgres refuse to run as root: drop to the postgres account when root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _pg_bin(name):
    for d in ["/usr/lib/postgresql/15/bin", *sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                                                     reverse=True)]:  # fmt: skip
        p = Path(d) / name
        if p.exists():
            return str(p)
    return shutil.which(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_stop():
    data = PG_DIR / "data"
    if (data / "postmaster.pid").exists():
        subprocess.run(
            _as_postgres([_pg_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip


def pg_start() -> int:
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        raise SystemExit("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    data = PG_DIR / "data"
    if not (data / "PG_VERSION").exists():
        shutil.rmtree(PG_DIR, ignore_errors=True)
        PG_DIR.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(PG_DIR, "postgres", "postgres")
        subprocess.run(
            _as_postgres([initdb, "-D", str(data), "-A", "trust", "-U", PG_USER, "-E", "UTF8",
                          "--locale=C.UTF-8"]),
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        BASE_INFO.unlink(missing_ok=True)
    pg_stop()
    port = _free_port()
    subprocess.run(
        _as_postgres([pg_ctl, "-D", str(data), "-o", f"-h 127.0.0.1 -p {port} -k {PG_DIR} "
                      + PG_OPTIONS, "-l", str(PG_DIR / "log"), "-w", "-t", "120", "start"]),
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    (PG_DIR / "port").write_text(str(port))
    CONF.write_text(
        f"[database]\nuri = postgresql://{PG_USER}@127.0.0.1:{port}/\npath = {TDIR / 'filestore'}\n"
    )
    return port


def pg_connect(port, db="postgres"):
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", port=port, user=PG_USER, dbname=db)
    conn.autocommit = True
    return conn


def db_exists(port, name) -> bool:
    with pg_connect(port) as conn, conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        return cur.fetchone() is not None


def db_recreate(port, name, template=None):
    conn = pg_connect(port)
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    conn.close()


# ---------------------------------------------------------------- Tryton in-process


def tryton_pool(db):
    import warnings

    with warnings.catch_warnings():  # passlib imports the deprecated crypt module
        warnings.simplefilter("ignore", DeprecationWarning)
        import passlib.utils  # noqa: F401
    from trytond.config import config

    config.update_etc(str(CONF))
    from trytond.pool import Pool

    Pool.start()
    pool = Pool(db)
    pool.init()
    return pool


def setup_base(args_d, port, out_q):
    """Runs in a process of its own: company, products, shelves, opening stock."""
    from decimal import Decimal

    pool = tryton_pool(BASE_DB)
    from trytond.transaction import Transaction

    with Transaction().start(BASE_DB, 0) as transaction:
        ModelData = pool.get("ir.model.data")
        User = pool.get("res.user")
        Currency = pool.get("currency.currency")
        Party = pool.get("party.party")
        Company = pool.get("company.company")

        (currency,) = Currency.create([{"name": "Renminbi", "code": "CNY", "symbol": "¥",
                                        "rounding": Decimal("0.01"), "digits": 2}])  # fmt: skip
        (party,) = Party.create([{"name": "Bench Motors Ltd"}])
        (company,) = Company.create([{"party": party.id, "currency": currency.id}])
        (admin,) = User.search([("login", "=", "admin")])
        User.write([admin], {"companies": [("add", [company.id])], "company": company.id})
        transaction.commit()
        ids = {"company": company.id, "currency": currency.id, "user": admin.id}

    ctx = {"company": ids["company"]}
    with Transaction().start(BASE_DB, ids["user"], context=ctx) as transaction:
        ModelData = pool.get("ir.model.data")
        Template = pool.get("product.template")
        Location = pool.get("stock.location")
        Move = pool.get("stock.move")

        unit = ModelData.get_id("product", "uom_unit")
        templates = Template.create([{
            "name": f"Part {i + 1:03d}", "type": "goods", "default_uom": unit,
            "list_price": Decimal("100"), "cost_price_method": "fixed",
            "products": [("create", [{"suffix_code": f"P{i + 1:05d}",
                                      "cost_price": Decimal("60")}])],
        } for i in range(args_d["products"])])  # fmt: skip
        products = [p.id for t in templates for p in t.products]
        storage = ModelData.get_id("stock", "location_storage")
        shelf_a, shelf_b = Location.create([
            {"name": "Shelf A", "type": "storage", "parent": storage},
            {"name": "Shelf B", "type": "storage", "parent": storage},
        ])  # fmt: skip
        ids.update(
            products=products, unit=unit, shelves=[shelf_a.id, shelf_b.id], storage=storage,
            supplier=ModelData.get_id("stock", "location_supplier"),
            customer=ModelData.get_id("stock", "location_customer"),
            opening=args_d["opening"],
        )  # fmt: skip
        moves = Move.create([{
            "product": p, "unit": unit, "quantity": args_d["opening"],
            "from_location": ids["supplier"], "to_location": s, "company": ids["company"],
            "unit_price": Decimal("60"), "currency": ids["currency"],
        } for p in products for s in ids["shelves"]])  # fmt: skip
        Move.do(moves)
        transaction.commit()
    out_q.put(ids)


class Refused(Exception):
    pass


def worker(n, args_d, ids, ready, start, out_q):
    from decimal import Decimal

    pool = tryton_pool(RUN_DB)
    from trytond.backend import DatabaseOperationalError
    from trytond.transaction import Transaction

    Move = pool.get("stock.move")
    ctx = {"company": ids["company"]}
    with Transaction().start(RUN_DB, ids["user"], context=ctx):  # warm caches
        Move.search([], limit=1)
        assert pool.get("product.product").browse(ids["products"])[0].rec_name

    rng = random.Random(args_d["seed"] * 1000 + n)
    shelves = ids["shelves"]
    stats = {"issue": 0, "receipt": 0, "transfer": 0, "refused_issue": 0,
             "refused_transfer": 0, "retries": 0, "failed": 0, "errors": {}}  # fmt: skip
    delta = {}  # (location, product) -> committed quantity change
    latencies = []
    ready.put(n)
    start.wait()
    t0 = time.perf_counter()
    for _ in range(args_d["ops"]):
        kind = rng.choices(("issue", "receipt", "transfer"), weights=args_d["mix"])[0]
        product = rng.choice(ids["products"])
        qty = rng.randint(1, args_d["max_qty"])
        shelf = rng.choice(shelves)
        if kind == "issue":
            frm, to = shelf, ids["customer"]
        elif kind == "receipt":
            frm, to = ids["supplier"], shelf
        else:
            frm, to = shelf, shelves[1 - shelves.index(shelf)]
        values = {
            "product": product,
            "unit": ids["unit"],
            "quantity": qty,
            "from_location": frm,
            "to_location": to,
            "company": ids["company"],
        }
        if kind != "transfer":
            values.update(unit_price=Decimal("60"), currency=ids["currency"])
        started = time.perf_counter()
        for attempt in range(MAX_ATTEMPTS):
            try:
                with Transaction().start(RUN_DB, ids["user"], context=ctx):
                    (move,) = Move.create([values])
                    if kind != "receipt" and not Move.assign_try([move]):
                        raise Refused
                    Move.do([move])
                stats[kind] += 1
                for loc, sign in ((frm, -1), (to, 1)):
                    if loc in shelves:
                        delta[f"{loc}:{product}"] = delta.get(f"{loc}:{product}", 0) + sign * qty
                break
            except Refused:
                stats[f"refused_{kind}"] += 1
                break
            except DatabaseOperationalError as e:
                stats["retries"] += 1
                name = type(e).__name__
                stats["errors"][name] = stats["errors"].get(name, 0) + 1
                time.sleep(rng.uniform(0, 0.002 * min(attempt + 1, 10)))
        else:
            stats["failed"] += 1
        latencies.append(time.perf_counter() - started)
    stats["elapsed"] = time.perf_counter() - t0
    stats["latencies"] = latencies
    stats["delta"] = delta
    out_q.put(stats)


def verify(port, ids):
    pool = tryton_pool(RUN_DB)
    from trytond.transaction import Transaction

    Product = pool.get("product.product")
    Date = pool.get("ir.date")
    ctx = {"company": ids["company"]}
    with Transaction().start(RUN_DB, ids["user"], context=ctx, readonly=True):
        with Transaction().set_context(stock_date_end=Date.today()):
            pbl = Product.products_by_location(
                ids["shelves"] + [ids["storage"]], with_childs=True,
                grouping_filter=(ids["products"],))  # fmt: skip
    tryton = {f"{loc}:{prod}": q for (loc, prod), q in pbl.items()}
    with pg_connect(port, RUN_DB) as conn, conn.cursor() as cur:
        cur.execute(
            """SELECT loc, product, sum(q) FROM (
                 SELECT to_location AS loc, product, internal_quantity AS q
                   FROM stock_move WHERE state = 'done'
                 UNION ALL
                 SELECT from_location, product, -internal_quantity
                   FROM stock_move WHERE state = 'done') m
               WHERE loc = ANY(%s) GROUP BY loc, product""",
            (ids["shelves"],),
        )
        sql = {f"{loc}:{prod}": float(q) for loc, prod, q in cur.fetchall()}
        cur.execute("SELECT state, count(*) FROM stock_move GROUP BY state ORDER BY 1")
        states = dict(cur.fetchall())
        cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cur.fetchone()[0]
        cur.execute("SHOW server_version")
        server = cur.fetchone()[0]
    return tryton, sql, states, size, server


# ---------------------------------------------------------------- main


def collect(q, procs, n):
    """n results from q; fails as soon as a child died without giving its result."""
    import queue

    got = []
    while len(got) < n:
        try:
            got.append(q.get(timeout=1))
        except queue.Empty:
            if any(p.exitcode not in (None, 0) for p in procs):
                for p in procs:
                    p.kill()
                raise SystemExit("a child process failed (see its traceback above)") from None
    return got


def machine():
    model, mem_kb = "?", 0
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    return f"{model}, {os.cpu_count()} CPUs, {mem_kb / 1024 / 1024:.0f} GiB, " + platform.platform()


def run(args):
    import multiprocessing
    from importlib.metadata import version

    mp = multiprocessing.get_context("spawn")
    args_d = {"products": args.products, "opening": args.opening, "ops": args.ops,
              "max_qty": args.max_qty, "seed": args.seed, "mix": args.mix}  # fmt: skip
    if args.fresh:
        pg_stop()
        shutil.rmtree(PG_DIR, ignore_errors=True)
        BASE_INFO.unlink(missing_ok=True)
    port = pg_start()
    try:
        info = json.loads(BASE_INFO.read_text()) if BASE_INFO.exists() else None
        wanted = {"products": args.products, "opening": args.opening}
        if not (info and info.get("wanted") == wanted and db_exists(port, BASE_DB)):
            print(f"making template database {BASE_DB} (trytond-admin: ~1 min) ...", flush=True)
            t = time.perf_counter()
            db_recreate(port, BASE_DB)
            passfile = TDIR / "admin.pass"
            passfile.write_text("admin\n")
            with open(TDIR / "trytond-admin.log", "w") as log:
                subprocess.run(
                    [str(VENV / "bin" / "trytond-admin"), "-c", str(CONF), "-d", BASE_DB,
                     "-u", "stock", "--activate-dependencies", "--email", "admin@example.com"],
                    check=True, stdout=log, stderr=subprocess.STDOUT,
                    env={**os.environ, "TRYTONPASSFILE": str(passfile)},
                )  # fmt: skip
            q = mp.Queue()
            p = mp.Process(target=setup_base, args=(args_d, port, q))
            p.start()
            (ids,) = collect(q, [p], 1)
            p.join()
            if p.exitcode:
                raise SystemExit("setting up the template database failed")
            info = {"wanted": wanted, "ids": ids}
            BASE_INFO.write_text(json.dumps(info))
            print(f"  done in {time.perf_counter() - t:.0f} s", flush=True)
        ids = info["ids"]
        db_recreate(port, RUN_DB, template=BASE_DB)

        ready, start, q = mp.Queue(), mp.Event(), mp.Queue()
        procs = [mp.Process(target=worker, args=(n, args_d, ids, ready, start, q))
                 for n in range(args.processes)]  # fmt: skip
        for p in procs:
            p.start()
        collect(ready, procs, len(procs))  # every worker has its pool loaded and warm
        start.set()
        load_before = os.getloadavg()
        t0 = time.perf_counter()
        results = collect(q, procs, len(procs))
        elapsed = time.perf_counter() - t0
        load_after = os.getloadavg()
        for p in procs:
            p.join()

        tryton, sql, states, size, server = verify(port, ids)
    finally:
        if not args.keep_server:
            pg_stop()

    total = {k: sum(r[k] for r in results) for k in
             ("issue", "receipt", "transfer", "refused_issue", "refused_transfer", "retries",
              "failed")}  # fmt: skip
    errors = {}
    for r in results:
        for k, v in r["errors"].items():
            errors[k] = errors.get(k, 0) + v
    expected = {f"{s}:{p}": float(ids["opening"]) for s in ids["shelves"] for p in ids["products"]}
    for r in results:
        for k, v in r["delta"].items():
            expected[k] += v
    shelf_keys = sorted(expected)
    negative = {k: tryton.get(k, 0) for k in shelf_keys if tryton.get(k, 0) < 0}
    mismatch_sql = [k for k in shelf_keys if abs(tryton.get(k, 0) - sql.get(k, 0)) > 1e-9]
    mismatch_tally = [k for k in shelf_keys if abs(tryton.get(k, 0) - expected[k]) > 1e-9]
    done_ops = total["issue"] + total["receipt"] + total["transfer"]
    lat = sorted(x for r in results for x in r["latencies"])
    pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000  # noqa: E731
    ops_total = args.processes * args.ops

    out = {
        "machine": machine(),
        "python": platform.python_version(),
        "trytond": version("trytond"),
        "trytond_stock": version("trytond_stock"),
        "psycopg2": version("psycopg2-binary"),
        "postgresql": server,
        "pg_options": PG_OPTIONS,
        "loadavg_1min_before_after": [load_before[0], load_after[0]],
        "workload": {
            **args_d,
            "processes": args.processes,
            "shelves": 2,
            "operations": ops_total,
        },  # fmt: skip
        "elapsed_s": round(elapsed, 2),
        "moves_done": done_ops,
        "moves_per_s": round(done_ops / elapsed, 1),
        "operations_per_s": round(ops_total / elapsed, 1),
        "latency_ms": {
            "p50": round(pct(0.5), 1),
            "p95": round(pct(0.95), 1),
            "p99": round(pct(0.99), 1),
            "max": round(lat[-1] * 1000, 1),
        },
        **total,
        "retry_errors": errors,
        "move_states": states,
        "database_size": size,
        "negative_balances": negative,
        "tryton_vs_sql_mismatches": len(mismatch_sql),
        "tryton_vs_tally_mismatches": len(mismatch_tally),
        "on_hand_total": sum(tryton.get(k, 0) for k in shelf_keys),
        "min_on_hand": min(tryton.get(k, 0) for k in shelf_keys),
    }
    RESULT.write_text(json.dumps(out, indent=2))

    print(f"machine     {out['machine']}")
    print(
        f"software    Python {out['python']}, trytond {out['trytond']}, trytond_stock "
        f"{out['trytond_stock']}, psycopg2 {out['psycopg2']}, PostgreSQL {server}"
    )
    print(f"server      {PG_OPTIONS}")
    print(
        f"load        1-min load average {load_before[0]:.1f} before, {load_after[0]:.1f} after"
        " (the machine is shared: other work running shows here)"
    )
    print(
        f"data        {args.products} products x 2 shelves, opening {args.opening} each; "
        f"{sum(states.values())} stock moves at the end ({size})"
    )
    print(
        f"workload    {args.processes} processes x {args.ops} operations, mix "
        f"issue/receipt/transfer = {'/'.join(map(str, args.mix))}, 1..{args.max_qty} units"
    )
    print(f"elapsed     {elapsed:.1f} s")
    print(
        f"throughput  {out['moves_per_s']} moves/s done "
        f"({out['operations_per_s']} operations/s incl. refusals)"
    )
    print(
        f"latency     per operation incl. retries: p50 {out['latency_ms']['p50']} ms, "
        f"p95 {out['latency_ms']['p95']} ms, p99 {out['latency_ms']['p99']} ms, "
        f"max {out['latency_ms']['max']} ms"
    )
    print(
        f"done        issues {total['issue']}, receipts {total['receipt']}, "
        f"transfers {total['transfer']}"
    )
    print(
        f"refused     issues {total['refused_issue']}, transfers {total['refused_transfer']}"
        " (assign_try could not assign the quantity)"
    )
    print(
        f"retries     {total['retries']} {errors or ''}; gave up after {MAX_ATTEMPTS} "
        f"attempts: {total['failed']}"
    )
    print(
        f"check       negative balances (products_by_location): {len(negative)}; "
        f"min on hand {out['min_on_hand']}; Tryton vs SQL sum of done moves: "
        f"{len(mismatch_sql)} mismatches; vs workers' tally: {len(mismatch_tally)} mismatches"
    )
    print(f"result      {RESULT.relative_to(ROOT)}")
    ok = not negative and not mismatch_sql and not mismatch_tally and not total["failed"]
    print("OK" if ok else "CHECK FAILED")
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--ops", type=int, default=500)
    parser.add_argument("--products", type=int, default=20)
    parser.add_argument(
        "--opening", type=int, default=100, help="opening quantity per product and shelf"
    )
    parser.add_argument("--max-qty", type=int, default=10)
    parser.add_argument(
        "--mix",
        type=int,
        nargs=3,
        default=[40, 30, 30],
        metavar=("ISSUE", "RECEIPT", "TRANSFER"),
        help="weights",
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="remake the PostgreSQL cluster and the template database",
    )
    parser.add_argument(
        "--keep-server", action="store_true", help="leave the PostgreSQL server running at the end"
    )
    args = parser.parse_args()
    if not in_tryton_venv():
        TDIR.mkdir(parents=True, exist_ok=True)
        ensure_venv()
        os.environ.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning")  # passlib/crypt
        os.execv(str(VENV_PY), [str(VENV_PY), str(Path(__file__).resolve()), *sys.argv[1:]])
    sys.exit(run(args))


if __name__ == "__main__":
    main()
