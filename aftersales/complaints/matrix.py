"""Access-matrix declarations of complaint management, imported by
``autodiscover_modules("matrix")``: the pages here; the API and the reports in their own
modules beside this one."""

from aftersales.complaints import matrix_pages  # noqa: F401
