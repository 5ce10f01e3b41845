"""Access-matrix declarations of service reminders, imported by
``autodiscover_modules("matrix")``: the worklist API, the pages, the statistics and the
messages, each in its own module beside this one."""

from aftersales.reminders import (  # noqa: F401
    matrix_api,
    matrix_messages,
    matrix_pages,
    matrix_reports,
)
