"""complaints API routes on the shared router: /api/complaints/..."""


def register(router):
    from aftersales.complaints.api import reports

    reports.register(router)
