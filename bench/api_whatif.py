"""What the proposed fixes to the audit API would save, measured in-process.

    .venv/bin/python bench/api_whatif.py [--db sqlite|postgresql|both] [--records 10000]

Builds the same database as ``api_baseline.py`` and measures, with Django's test client in
one process, the CPU time per request (``time.process_time``, best of 3 rounds) of
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
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import api_baseline as base  # noqa: E402

ROUNDS, PER_ROUND = 3, 40


def internal_run(out: str) -> None:
    base._django()
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token

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

    def measure():
        row = {}
        for name, path in paths.items():
            for _ in range(5):
                client.get(path, **auth)
            best = float("inf")
            for _ in range(ROUNDS):
                t0 = time.process_time()
                for _ in range(PER_ROUND):
                    client.get(path, **auth)
                best = min(best, (time.process_time() - t0) / PER_ROUND * 1000)
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(path, **auth)
            row[name] = {
                "ms": best,
                "queries": len(ctx.captured_queries),
                "status": response.status_code,
                "body": response.content.decode(),
            }
        return row

    results = [("as is", measure())]

    # A: the detail view's get_object() runs filter_queryset(); access is already in
    # get_queryset() (restrict), so the filter form is pure overhead there.
    mixin = core_api.RestrictedViewSetMixin

    def filter_queryset_a(self, queryset):
        if self.action == "retrieve":
            return queryset
        return super(mixin, self).filter_queryset(queryset)

    mixin.filter_queryset = filter_queryset_a
    results.append(("+A retrieve: no filter backends", measure()))

    # B: no filter parameter, no filter form.
    from django_filters.rest_framework import DjangoFilterBackend

    original_filter = DjangoFilterBackend.filter_queryset

    def filter_queryset_b(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not (
            set(request.query_params) & set(filterset_class.base_filters)
        ):
            return queryset
        return original_filter(self, request, queryset, view)

    DjangoFilterBackend.filter_queryset = filter_queryset_b
    results.append(("+B list: filter form only with filter params", measure()))

    # C: a plain serializer for a read-only, high-volume list.
    from rest_framework import serializers
    from rest_framework.fields import DateTimeField

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

    api_views.AuditLogViewSet.serializer_class = AuditLogRowSerializer
    api_views.AuditLogViewSet.queryset = AuditLog.objects.all()
    results.append(("+C plain row serializer, cached content types", measure()))

    # D: the scope (role assignments, the region's dealers) cached across requests.
    cache = {}
    compute = getattr(access, "_compute_scope", None)
    if compute is not None:

        def cached_scope(user, permission):
            key = (user.pk, permission)
            if key not in cache:
                cache[key] = compute(user, permission)
            return cache[key]

        access._compute_scope = cached_scope
        results.append(("+D access scope cached across requests", measure()))

    # E: persistent SQLite connections.
    if connection.vendor == "sqlite":
        connection.close()
        connection.settings_dict["CONN_MAX_AGE"] = 60
        results.append(("+E SQLite connection kept open", measure()))

    reference = results[0][1]
    rows = []
    for label, row in results:
        rows.append(
            {
                "variant": label,
                "endpoints": {
                    name: {
                        "ms": r["ms"],
                        "queries": r["queries"],
                        "status": r["status"],
                        "same_body": r["body"] == reference[name]["body"],
                    }
                    for name, r in row.items()
                },
            }
        )
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
    print("CPU ms per request in-process (best of 3), north-rm, cumulative fixes; q = SQL queries")
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
