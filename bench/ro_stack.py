"""What the HTTP stack alone costs on the repair-order lifecycle (issue 5's 4× target).

    .venv/bin/python bench/ro_stack.py --db sqlite|postgresql [--clients 10]
        [--lifecycles 150] [--workers 4] [--history 1000000]

The same data, server and clients as ``bench/ro_lifecycle.py`` (run that first: it prepares
the data), but each of the lifecycle's 16 requests is a ``POST /bench/floor-step/`` that
writes exactly the plain-SQL floor's rows for that request (``ro_lifecycle.Floor.do``)
through Django's connection: gunicorn, the application's settings and middleware, token
authentication, DRF's parsing and rendering, a transaction per request, and no business
logic (no guard, scope check, idempotency record, look-up or answer to build). Then the
floor itself with the same clients.

Prints lifecycles/s, the p95 per request and the CPU per lifecycle of the stack, the
floor's lifecycles/s and the ratio floor ÷ stack: the ratio an API on this stack cannot go
below, whatever its services do. Writes ``var/bench/ro-stack-<db>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from functools import partial
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import ro_lifecycle as rl  # noqa: E402
from crm_generate import BENCH_DIR, PG_DIR, machine, pg_stop  # noqa: E402

# who sends each request (the floor's rows name the same people)
SENDERS = {
    "dispatch": "bj01-foreman",
    "QC": "bj01-qc",
    "clock on": None,
    "clock off": None,
    "self-check": None,
}  # None: the job's technician; other steps: the service advisor


def stack_lifecycle(call, plan, vehicle, technician, operations, *, owners):
    state = {}
    for step, index in rl.STEPS:
        sender = SENDERS.get(step, "bj01-sa") or technician
        state = call(step, sender, "POST", "/bench/floor-step/", {
            "step": step, "index": index, "state": state, "vehicle": vehicle,
            "customer": owners.get(vehicle), "technician": plan["technicians"][technician],
        })["state"]  # fmt: skip
    return state["ro"]


def bench(db, args) -> dict:
    url = rl.database_url(db)
    try:
        rl._django(url)
        print(f"[{db}] preparing (as bench/ro_lifecycle.py)…", flush=True)
        prepared = rl.prepare(args.history, args.clients)
        plan = rl.lifecycle_plan(2 * args.lifecycles + 2)
        ids = rl.floor_ids(plan, prepared["operations"])
        from django.db import connections

        connections.close_all()
        env = rl.server_env(
            url,
            DJANGO_SETTINGS_MODULE="ro_stack_settings",
            PYTHONPATH=os.pathsep.join([str(rl.ROOT), str(BENCH)]),
            RO_STACK_IDS=json.dumps({k: v for k, v in ids.items() if k != "owners"}),
        )
        print(f"[{db}] stack: {args.lifecycles} lifecycles, {args.clients} clients…", flush=True)
        stack = rl.api_load(
            env,
            plan,
            prepared["operations"],
            args.clients,
            args.lifecycles,
            args.workers,
            lifecycle=partial(stack_lifecycle, owners=ids["owners"]),
        )
        plan["vehicles"] = plan["vehicles"][: -args.lifecycles - 1] or plan["vehicles"]
        print(f"[{db}] floor: the same writes in plain SQL…", flush=True)
        floor = rl.floor_load(url, ids, plan, args.clients, args.lifecycles)
        rl.floor_cleanup(url)  # the stack's orders are the floor's rows too
        info = machine()
    finally:
        if db == "postgresql":
            pg_stop(PG_DIR)
    return {
        "db": db,
        "machine": info,
        "orders_present": prepared["orders"],
        "clients": args.clients,
        "workers": args.workers,
        "stack": stack,
        "floor": floor,
        "ratio": round(floor["lifecycles_per_s"] / stack["lifecycles_per_s"], 2)
        if stack["lifecycles_per_s"]
        else None,
    }


def report(result):
    stack, floor, info = result["stack"], result["floor"], result["machine"]
    print(f"\n== {result['db']}: {result['orders_present']:,} repair orders present")
    print(f"machine: {info['cpus']} vCPU {info['cpu']}, {info['ram_gb']} GB RAM")
    print(
        f"stack (the floor's writes through gunicorn {result['workers']} workers, Django, DRF, "
        f"{result['clients']} clients): {stack['lifecycles']} lifecycles in {stack['seconds']} s"
        f" = {stack['lifecycles_per_s']}/s ({stack['requests_per_s']} requests/s); per request "
        f"p50 {stack['p50_ms']} ms, p95 {stack['p95_ms']} ms, max {stack['max_ms']} ms; errors "
        f"{stack['errors']} {stack['first_errors']}"
    )
    print(
        "  CPU per lifecycle: "
        + ", ".join(f"{name} {ms} ms" for name, ms in stack["cpu_ms_per_lifecycle"].items())
    )
    print(
        f"floor (plain SQL, {result['clients']} clients): {floor['lifecycles']} lifecycles in "
        f"{floor['seconds']} s = {floor['lifecycles_per_s']}/s; errors {floor['errors']}"
    )
    print(
        f"ratio floor/stack: {result['ratio']} (the lowest floor/API ratio this stack allows; "
        f"issue 5's target is < {rl.TARGET_RATIO})"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], required=True)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--lifecycles", type=int, default=150)
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args(argv)
    result = bench(args.db, args)
    (BENCH_DIR / f"ro-stack-{args.db}.json").write_text(json.dumps(result, indent=2))
    report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
