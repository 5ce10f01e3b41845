"""Indexes the search box and the duplicate check need at 1,000,000 vehicles and 800,000
customers (bench/crm_search.py, docs/performance.md), written as SQL because the model
state cannot say them portably (``makemigrations`` stays clean):

* SQLite: Django's ``startswith`` is ``LIKE 'x%' ESCAPE '\\'``, which SQLite answers from an
  index only when the index collates NOCASE; without one, every plate search (it also
  lists plates that start with the query) and every name search reads the whole table;
* PostgreSQL: ``LIKE 'x%'`` uses a btree index only under the C collation or with
  ``varchar_pattern_ops``; the plate has Django's own ``_like`` index, the name has not;
* both: ``phone2``, looked up by the duplicate check on every customer 360 page.
"""

from django.db import migrations

BOTH = [
    (
        "crm_customer_phone2_lookup",
        'CREATE INDEX IF NOT EXISTS "crm_customer_phone2_lookup" ON "crm_customer" ("phone2")',
    ),
]
BY_VENDOR = {
    "sqlite": [
        (
            "crm_vehicle_plate_prefix",
            'CREATE INDEX IF NOT EXISTS "crm_vehicle_plate_prefix" '
            'ON "crm_vehicle" ("plate" COLLATE NOCASE)',
        ),
        (
            "crm_customer_name_prefix",
            'CREATE INDEX IF NOT EXISTS "crm_customer_name_prefix" '
            'ON "crm_customer" ("name" COLLATE NOCASE)',
        ),
    ],
    "postgresql": [
        (
            "crm_customer_name_prefix",
            'CREATE INDEX IF NOT EXISTS "crm_customer_name_prefix" '
            'ON "crm_customer" ("name" varchar_pattern_ops)',
        ),
    ],
}


def _indexes(schema_editor):
    return BOTH + BY_VENDOR.get(schema_editor.connection.vendor, [])


def create(apps, schema_editor):
    for _name, sql in _indexes(schema_editor):
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    for name, _sql in _indexes(schema_editor):
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
