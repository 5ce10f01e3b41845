"""The database itself refuses UPDATE and DELETE on the stock ledger."""

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER parts_stockmove_no_update BEFORE UPDATE ON parts_stockmove
       BEGIN SELECT RAISE(ABORT, 'stock movements are append-only'); END""",
    """CREATE TRIGGER parts_stockmove_no_delete BEFORE DELETE ON parts_stockmove
       BEGIN SELECT RAISE(ABORT, 'stock movements are append-only'); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS parts_stockmove_no_update",
    "DROP TRIGGER IF EXISTS parts_stockmove_no_delete",
]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION parts_stockmove_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'stock movements are append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER parts_stockmove_append_only BEFORE UPDATE OR DELETE ON parts_stockmove
       FOR EACH ROW EXECUTE FUNCTION parts_stockmove_append_only()""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS parts_stockmove_append_only ON parts_stockmove",
    "DROP FUNCTION IF EXISTS parts_stockmove_append_only()",
]


def forwards(apps, schema_editor):
    statements = POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE
    for sql in statements:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    statements = (
        POSTGRES_REVERSE if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE
    )
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("parts", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
