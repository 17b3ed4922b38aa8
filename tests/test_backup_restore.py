"""`make backup` / `make restore`: the demo survives a round trip through pg_dump and pg_restore."""

import hashlib
import os
import subprocess

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import F, Value
from django.db.models.functions import Concat

from donations.models import Delivery, Pledge, Receipt
from ksbb.demo import load_demo
from needs.models import Need
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def _database_url() -> str:
    db = settings.DATABASES["default"]
    return f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def _backup(*args) -> subprocess.CompletedProcess:
    connection.close()  # pg_restore --clean needs no session holding the tables
    return subprocess.run(
        ["scripts/backup.sh", *args],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": _database_url()},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _fingerprint() -> tuple:
    pledges = Pledge.objects.order_by("pk").values_list(
        "pk", "need_id", "collaborator_id", "quantity", "quantity_delivered", "status", "token"
    )
    digest = hashlib.sha256(repr(list(pledges)).encode()).hexdigest()
    counts = [m.objects.count() for m in (Need, Pledge, Delivery, Receipt)]
    return *counts, digest


def test_the_demo_round_trips_through_backup_and_restore(tmp_path, settings):
    settings.KSBB_BOUNDARIES = ""
    settings.KSBB_RW_POINTS = ""
    factories.seed_categories()  # an earlier transactional test may have flushed the migration's rows
    load_demo()
    before = _fingerprint()
    assert before[1] > 500

    made = _backup("backup", str(tmp_path))
    assert made.returncode == 0, made.stderr
    dump = made.stdout.strip()
    assert dump.endswith(".dump") and os.path.getsize(dump) > 10_000

    # Lose something, as an operator might (the recipients' receipts protect their deliveries).
    Receipt.objects.all().delete()
    Delivery.objects.all().delete()
    Pledge.objects.filter(pk__in=Pledge.objects.values("pk")[:100]).update(
        token=Concat(F("token"), Value("x"))
    )
    assert _fingerprint() != before

    restored = _backup("restore", dump)
    assert restored.returncode == 0, restored.stderr
    assert _fingerprint() == before


def test_restoring_something_that_is_not_a_backup_changes_nothing(tmp_path):
    bogus = tmp_path / "bogus.dump"
    bogus.write_text("not a dump")
    result = _backup("restore", str(bogus))
    assert result.returncode != 0
    assert "not a pg_dump custom-format backup" in result.stderr
