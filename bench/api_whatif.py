"""What the proposed fixes to the audit API would save, measured in-process.

    .venv/bin/python bench/api_whatif.py [--db sqlite|postgresql|both] [--records 10000]

Builds the same database as ``api_baseline.py`` and measures, with Django's test client in
one process, the CPU time per request (``time.thread_time``; median of 80 requests; the
variants interleaved request by request, because the machine's speed drifts) of
``GET /api/audit/<id>/`` and ``GET /api/audit/?page_size=50|200`` as ``north-rm``, first as
the application is, then with each fix of docs/performance.md patched in at run time,
cumulatively. Every variant's response body is compared with the unpatched one: a fix that
changes the answer is reported as such. It changes no application file.

The fixes:

  A  retrieve skips the filter backends (django-filter builds a form per request)
  B  list skips DjangoFilterBackend when no filter parameter is given
  C  audit rows serialised by a plain function; content type from ContentType's cache
     instead of select_related (no ModelSerializer field machinery, half the model objects)
  D  the user's access scope cached across requests (here: a dict; in the app: the cache,
     keyed by user and a role-assignment version)
  E  SQLite connections kept open (CONN_MAX_AGE 60 instead of 0)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import api_baseline as base  # noqa: E402

ROUNDS, PER_VISIT = 40, 2


def internal_run(out: str) -> None:
    base._django()
    from django.contrib.contenttypes.models import ContentType
    from django.db import close_old_connections, connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django_filters.rest_framework import DjangoFilterBackend
    from rest_framework import serializers
    from rest_framework.authtoken.models import Token
    from rest_framework.fields import DateTimeField

    from aftersales.core import access, api_views
    from aftersales.core import api as core_api
    from aftersales.core.models import AuditLog
    from aftersales.org.models import User

    user = User.objects.get(username="north-rm")
    token, _ = Token.objects.get_or_create(user=user)
    auth = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    client = Client(HTTP_HOST="127.0.0.1")
    some_id = (
        AuditLog.objects.restrict(user, "view").order_by("id").values_list("id", flat=True)[100]
    )
    paths = {
        "detail": f"/api/audit/{some_id}/",
        "list 50": "/api/audit/?page_size=50&page=3",
        "list 200": "/api/audit/?page_size=200&page=2",
        "list 50 filtered": "/api/audit/?page_size=50&action=update&channel=web",
    }

    # Each fix is a pair of functions: apply it, take it back.
    mixin = core_api.RestrictedViewSetMixin
    viewset = api_views.AuditLogViewSet
    original = {
        "mixin_filter": mixin.__dict__.get("filter_queryset"),
        "backend_filter": DjangoFilterBackend.filter_queryset,
        "serializer": viewset.serializer_class,
        "queryset": viewset.queryset,
        "compute_scope": getattr(access, "_compute_scope", None),
        "conn_max_age": connection.settings_dict["CONN_MAX_AGE"],
    }

    # A: the detail view's get_object() runs filter_queryset(); access is already in
    # get_queryset() (restrict), so the filter form is pure overhead there.
    def filter_queryset_a(self, queryset):
        if self.action == "retrieve":
            return queryset
        return super(mixin, self).filter_queryset(queryset)

    def a(on):
        if on:
            mixin.filter_queryset = filter_queryset_a
        elif original["mixin_filter"] is None:
            if "filter_queryset" in mixin.__dict__:
                del mixin.filter_queryset
        else:
            mixin.filter_queryset = original["mixin_filter"]

    # B: no filter parameter, no filter form.
    def filter_queryset_b(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not (
            set(request.query_params) & set(filterset_class.base_filters)
        ):
            return queryset
        return original["backend_filter"](self, request, queryset, view)

    def b(on):
        DjangoFilterBackend.filter_queryset = (
            filter_queryset_b if on else original["backend_filter"]
        )

    # C: a plain serializer for a read-only, high-volume list.
    at_field = DateTimeField()

    class AuditLogRowSerializer(serializers.BaseSerializer):
        def to_representation(self, entry):
            content_type = ContentType.objects.get_for_id(entry.content_type_id)
            return {
                "id": entry.id,
                "at": at_field.to_representation(entry.at),
                "actor": entry.actor_id,
                "actor_name": entry.actor_name,
                "channel": entry.channel,
                "action": entry.action,
                "app": content_type.app_label,
                "model": content_type.model,
                "object_id": entry.object_id,
                "object_repr": entry.object_repr,
                "changes": entry.changes,
                "dealer": entry.dealer_id,
            }

    def c(on):
        viewset.serializer_class = AuditLogRowSerializer if on else original["serializer"]
        viewset.queryset = AuditLog.objects.all() if on else original["queryset"]

    # D: the scope (role assignments, the region's dealers) cached across requests.
    scope_cache = {}

    def cached_scope(user, permission):
        key = (user.pk, permission)
        if key not in scope_cache:
            scope_cache[key] = original["compute_scope"](user, permission)
        return scope_cache[key]

    def d(on):
        if original["compute_scope"] is not None:
            access._compute_scope = cached_scope if on else original["compute_scope"]

    # E: persistent SQLite connections (PostgreSQL already keeps them: CONN_MAX_AGE 60).
    def e(on):
        if connection.vendor == "sqlite":
            connection.close()
            connection.settings_dict["CONN_MAX_AGE"] = 60 if on else original["conn_max_age"]

    fixes = [
        ("A", "retrieve: no filter backends", a),
        ("B", "list: filter form only with filter params", b),
        ("C", "plain row serializer, cached content types", c),
        ("D", "access scope cached across requests", d),
    ]
    if connection.vendor == "sqlite":
        fixes.append(("E", "SQLite connection kept open", e))
    variants = [("as is", set())]
    for i, (letter, label, _fn) in enumerate(fixes):
        variants.append((f"+{letter} {label}", {f[0] for f in fixes[: i + 1]}))

    def configure(letters):
        for letter, _label, fn in fixes:
            fn(letter in letters)

    def hit(path):
        # Django's test client keeps the database connection across requests; a server
        # closes it (or health-checks it) after each one, as request_finished does here.
        client.get(path, **auth)
        close_old_connections()

    # The machine's speed drifts (shared host), so the variants are interleaved request by
    # request, in a shuffled order each round, and each figure is the median of the samples.
    rng = random.Random(7)
    samples = {(v, name): [] for v, _ in variants for name in paths}
    for _round in range(ROUNDS):
        for name, path in paths.items():
            order = list(variants)
            rng.shuffle(order)
            for variant, letters in order:
                configure(letters)
                hit(path)  # settle (e.g. E reopens the connection)
                for _ in range(PER_VISIT):
                    t0 = time.thread_time()
                    hit(path)
                    samples[variant, name].append((time.thread_time() - t0) * 1000)
    best = {key: statistics.median(values) for key, values in samples.items()}

    rows, reference = [], {}
    for variant, letters in variants:
        configure(letters)
        cells = {}
        for name, path in paths.items():
            client.get(path, **auth)
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(path, **auth)
            body = response.content.decode()
            reference.setdefault(name, body)
            cells[name] = {
                "ms": best[variant, name],
                "queries": len(ctx.captured_queries),
                "status": response.status_code,
                "same_body": body == reference[name],
            }
        rows.append({"variant": variant, "endpoints": cells})
    Path(out).write_text(json.dumps({"vendor": connection.vendor, "rows": rows}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--wait-idle", type=float, default=0, metavar="SECONDS")
    args = parser.parse_args()
    databases = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    workdirs, reports = [], []
    try:
        for db in databases:
            workdir = Path(tempfile.mkdtemp(prefix=f"aftersales-whatif-{db}-"))
            workdirs.append(workdir)
            print(f"[{db}] preparing in {workdir}", flush=True)
            env, _db_pid, seed = base.prepare_database(db, args.records, workdir)
            if args.wait_idle:
                base.wait_until_quiet(args.wait_idle)
            out = workdir / "whatif.json"
            base.run([base.PYTHON, __file__, "_run", str(out)], env, 600, "measure variants")
            reports.append((seed, json.loads(out.read_text())))
    finally:
        if "aftersales.testing.servers" in sys.modules:
            started = sys.modules["aftersales.testing.servers"]._started
            while started:
                started.pop()()
        for workdir in workdirs:
            shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(
        "CPU ms per request in-process (median of 80, interleaved), north-rm, "
        "fixes added one by one; q = SQL queries"
    )
    for seed, report in reports:
        names = list(report["rows"][0]["endpoints"])
        print(f"\n--- {seed['db_version']}, {seed['records']} audit entries")
        print(f"{'variant':<48} " + " ".join(f"{n:>18}" for n in names))
        for row in report["rows"]:
            cells = []
            for name in names:
                cell = row["endpoints"][name]
                mark = "" if cell["same_body"] and cell["status"] == 200 else " !"
                cells.append(f"{cell['ms']:7.2f} ms q{cell['queries']}{mark}".rjust(18))
            print(f"{row['variant']:<48} " + " ".join(cells))
    print("\n'!' = the answer differs from the unpatched application (or is not 200).")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "_run":
        internal_run(sys.argv[2])
    else:
        os.environ.pop("AFTERSALES_TEST_DATABASE", None)
        sys.exit(main())
