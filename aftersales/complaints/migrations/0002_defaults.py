"""The OEM's default complaint rules and goodwill authorization matrix (changeable on the
settings page): up to 2,000 CNY the dealer's service manager decides, up to 20,000 the
region manager, above that the OEM."""

from decimal import Decimal

from django.db import migrations


def defaults(apps, schema_editor):
    settings_model = apps.get_model("complaints", "ComplaintSettings")
    level = apps.get_model("complaints", "GoodwillLevel")
    if not settings_model.objects.exists():
        settings_model.objects.create()
    if not level.objects.exists():
        level.objects.bulk_create(
            [
                level(
                    min_amount=Decimal("0"),
                    max_amount=Decimal("2000"),
                    role="service_manager",
                    level=1,
                ),
                level(
                    min_amount=Decimal("2000"),
                    max_amount=Decimal("20000"),
                    role="region_manager",
                    level=2,
                ),
                level(min_amount=Decimal("20000"), max_amount=None, role="oem_admin", level=3),
            ]
        )


class Migration(migrations.Migration):
    dependencies = [("complaints", "0001_initial")]

    operations = [migrations.RunPython(defaults, migrations.RunPython.noop)]
