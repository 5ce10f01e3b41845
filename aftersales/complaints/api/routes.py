"""complaints API routes on the shared router: /api/complaints/..., the reports, and the
owner's /api/owner/complaints/."""


def register(router):
    from aftersales.complaints.api import complaints, owner, reports

    reports.register(router)  # "complaints/reports/…" before "complaints/<id>/"
    complaints.register(router)
    owner.register(router)
