# The ledger names a collaborator by a random public id (docs/ledger.md): given to every existing
# collaborator first, then required and unique.

import secrets

from django.db import migrations, models

import donations.models


def give_public_ids(apps, schema_editor):
    Collaborator = apps.get_model("donations", "Collaborator")
    for collaborator in Collaborator.objects.filter(public_id=None).only("pk").iterator():
        Collaborator.objects.filter(pk=collaborator.pk).update(
            public_id="k" + secrets.token_hex(8)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0011_scheduled_opd"),
    ]

    operations = [
        migrations.AddField(
            model_name="collaborator",
            name="public_id",
            field=models.CharField(max_length=17, null=True, editable=False),
        ),
        migrations.RunPython(give_public_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="collaborator",
            name="public_id",
            field=models.CharField(
                default=donations.models.new_public_id,
                editable=False,
                max_length=17,
                unique=True,
                verbose_name="public id",
            ),
        ),
    ]
