"""Access-matrix declarations (see aftersales/testing/matrix.py) of the customer/vehicle
import and the list exports.

Imports are dealer records: the list, detail and error report are scoped (another
dealer's user gets 404 / an empty list). The template, the upload form and the exports
are declared ``detail=True`` with no URL arguments and ``scoped=False``: they are not one
dealer's record (the exports are scoped row by row, which crm/tests/test_exports.py
checks). The API upload is multipart; the matrix posts JSON, which the endpoint refuses
with 400 once the permission check has let the user through, so ``ok_status=400`` there
(the real upload is tested in crm/tests/test_imports.py).
"""

import itertools

from aftersales.testing.matrix import Endpoint, declare

_NO_KWARGS = lambda record: {}  # noqa: E731 - a URL reversed without arguments
_seq = itertools.count()


def _job(dealer, *, with_report=False):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from aftersales.crm.choices import ImportMode, ImportStatus
    from aftersales.crm.models import ImportJob
    from aftersales.org.models import User

    uploader = User.objects.create(username=f"matrix-importer-{next(_seq)}", dealer=dealer)
    job = ImportJob(
        dealer=dealer,
        created_by=uploader,
        file=f"crm/imports/matrix-{dealer.code}.csv",
        original_name="customers.csv",
        mode=ImportMode.VALID_ROWS,
        status=ImportStatus.DONE if with_report else ImportStatus.QUEUED,
    )
    if with_report:  # one small file under MEDIA_ROOT, reused by every run
        name = "crm/import-errors/matrix-errors.xlsx"
        if not default_storage.exists(name):
            default_storage.save(name, ContentFile(b"PK"))
        job.error_report.name = name
    job.save()
    return job


def _job_with_report(dealer):
    return _job(dealer, with_report=True)


declare(
    # pages
    Endpoint("import-list", "page", "crm.view_importjob", make=_job),
    Endpoint("import-detail", "page", "crm.view_importjob", make=_job, detail=True),
    Endpoint("import-errors", "page", "crm.view_importjob", make=_job_with_report, detail=True),
    Endpoint(
        "import-create",
        "page",
        "crm.import_customer",
        make=lambda dealer: dealer,
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,
    ),
    Endpoint(
        "import-template",
        "page",
        "crm.import_customer",
        make=lambda dealer: dealer,
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,
    ),
    Endpoint(
        "customer-export",
        "page",
        "crm.export_customer",
        make=lambda dealer: dealer,
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,
    ),
    Endpoint(
        "vehicle-export",
        "page",
        "crm.export_customer",
        make=lambda dealer: dealer,
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,
    ),
    # API
    Endpoint("api:importjob-list", "api", "crm.view_importjob", make=_job),
    Endpoint("api:importjob-detail", "api", "crm.view_importjob", make=_job, detail=True),
    Endpoint(
        "api:importjob-errors", "api", "crm.view_importjob", make=_job_with_report, detail=True
    ),
    Endpoint(
        "api:importjob-list",
        "api",
        "crm.import_customer",
        make=lambda dealer: dealer,
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        data=lambda dealer: {"mode": "valid_rows"},
        ok_status=400,
        scoped=False,
    ),
)
