from django.db import migrations

from aftersales.claims.codes import CAUSES, SYMPTOMS


def load(apps, schema_editor):
    for name, rows in (("SymptomCode", SYMPTOMS), ("CauseCode", CAUSES)):
        model = apps.get_model("claims", name)
        have = set(model.objects.values_list("code", flat=True))
        model.objects.bulk_create(
            [model(code=c, name=n, name_en=e) for c, n, e in rows if c not in have]
        )


class Migration(migrations.Migration):
    dependencies = [("claims", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
