"""Access-matrix declarations of complaint management, imported by
``autodiscover_modules("matrix")``: the pages, the API and the reports, each in its own
module beside this one."""

from aftersales.complaints import matrix_api, matrix_pages, matrix_reports  # noqa: F401
