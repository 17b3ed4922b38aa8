"""The table behind the "snapshots" cache (ksbb.lib.snapshots): the public aggregates' last complete
values. What `manage.py createcachetable ksbb_snapshots` does, run by `migrate`."""

from django.core.management import call_command
from django.db import migrations

TABLE = "ksbb_snapshots"  # settings.CACHES["snapshots"]["LOCATION"], frozen here as migrations are


def create_table(apps, schema_editor):
    call_command("createcachetable", TABLE, database=schema_editor.connection.alias, verbosity=0)


def drop_table(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("ksbb", "0001_failover_cache_table")]

    operations = [migrations.RunPython(create_table, drop_table)]
