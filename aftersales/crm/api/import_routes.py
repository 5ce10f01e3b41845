from aftersales.crm.api.import_views import ImportJobViewSet


def register(router):
    router.register("crm/imports", ImportJobViewSet, basename="importjob")
