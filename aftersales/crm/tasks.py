"""CRM jobs: thin wrappers that call services."""

from celery import shared_task


@shared_task(name="aftersales.crm.tasks.run_imports")
def run_imports():
    from aftersales.crm.imports import run_queued_imports

    return run_queued_imports()


@shared_task(name="aftersales.crm.tasks.recompute_segments")
def recompute_segments():
    from aftersales.crm.segments import segments_recompute

    return segments_recompute()


@shared_task(name="aftersales.crm.tasks.purge_import_files")
def purge_import_files():
    from aftersales.crm.imports import purge_old_import_files

    return purge_old_import_files()
