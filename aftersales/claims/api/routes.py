"""claims API routes on the shared router: /api/claims/ and /api/claims/reports/..."""


def register(router):
    from aftersales.claims.api.claims import ClaimReportViewSet, ClaimViewSet

    # the reports first: "claims/reports/ageing/" must not be read as a claim id
    router.register("claims/reports", ClaimReportViewSet, basename="claim-report")
    router.register("claims", ClaimViewSet, basename="claim")
