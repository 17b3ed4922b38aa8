"""The table where the rate limits are counted while Redis is down (ksbb.lib.failover_cache).

What `manage.py createcachetable ksbb_failover_cache` does (Django's DatabaseCache table: cache_key,
value, expires), run by `migrate` so no deployment step can be forgotten; a table already made by
hand is kept. Reversed by dropping it.
"""

from django.core.management import call_command
from django.db import migrations

TABLE = "ksbb_failover_cache"  # ksbb.lib.failover_cache.TABLE, frozen here as migrations are


def create_table(apps, schema_editor):
    call_command("createcachetable", TABLE, database=schema_editor.connection.alias, verbosity=0)


def drop_table(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = []

    operations = [migrations.RunPython(create_table, drop_table)]
