"""A need's page version (needs.caching.need_version, kept by the triggers of needs migration 0011
and donations migration 0018): it moves whenever anything the need's page, popup or card shows
changes, and only then, so the page cache never serves a page from before a change."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from donations import services
from donations.models import Collaborator, Delivery, Opd, Pledge, Receipt
from locations.models import Region, Site
from needs.caching import need_version, prune_page_touches
from needs.models import AidType, Category, Need
from tests import factories

# The tables the database keeps page versions with, read from the triggers themselves.
TRIGGERS_SQL = """
    SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE NOT t.tgisinternal AND t.tgname LIKE '%page_version'"""
# Tables a need's public answers read that hold nothing they show.
NOT_SHOWN = {
    "needs_page_touch": "the versions themselves",
    "django_session": "the session middleware's (none for a visitor)",
}


@pytest.fixture
def world(need, donor):
    """A need with a pledge, a delivery of part of it and the recipients' word on that delivery,
    and a second need elsewhere with a pledge of its own."""
    pledge = services.pledge(need=need, collaborator=donor, quantity=30)
    delivery = Delivery.objects.create(
        pledge=pledge,
        quantity=10,
        delivered_on=datetime.date(2025, 6, 2),
        opd=factories.OpdFactory(),
    )
    receipt = Receipt.objects.create(delivery=delivery, outcome="received", quantity_received=10)
    other = factories.NeedFactory(
        site=factories.SiteFactory(kelurahan=Region.objects.get(code="31.72.01.1001"))
    )
    other_donor = factories.CollaboratorFactory(public_name="CV Lain")
    other_pledge = services.pledge(need=other, collaborator=other_donor, quantity=5)
    return {
        "need": need,
        "pledge": pledge,
        "delivery": delivery,
        "receipt": receipt,
        "other": other,
        "other_pledge": other_pledge,
    }


def _kelurahan(need):
    return need.site.kelurahan


SHOWN_CHANGES = {
    "the need's own row": lambda w: Need.objects.filter(pk=w["need"].pk).update(title="Baru"),
    "its site": lambda w: Site.objects.filter(pk=w["need"].site_id).update(name="RW 09"),
    "its kelurahan's name": lambda w: Region.objects.filter(pk=_kelurahan(w["need"]).pk).update(
        name="Gambir Baru"
    ),
    "its kecamatan's name": lambda w: Region.objects.filter(
        pk=_kelurahan(w["need"]).parent_id
    ).update(name="Kecamatan Baru"),
    "its kota's name": lambda w: Region.objects.filter(
        pk=_kelurahan(w["need"]).parent.parent_id
    ).update(name="Kota Baru"),
    "its aid type": lambda w: AidType.objects.filter(pk=w["need"].aid_type_id).update(unit="kotak"),
    "its category": lambda w: Category.objects.filter(pk=w["need"].aid_type.category_id).update(
        name="Pangan Baru"
    ),
    "a new pledge": lambda w: services.pledge(
        need=w["need"], collaborator=factories.CollaboratorFactory(), quantity=1
    ),
    "a pledge's status": lambda w: Pledge.objects.filter(pk=w["pledge"].pk).update(
        status="confirmed"
    ),
    "a pledge moved away": lambda w: Pledge.objects.filter(pk=w["pledge"].pk).update(
        need=w["other"]
    ),
    "a pledge's collaborator's public name": lambda w: Collaborator.objects.filter(
        pk=w["pledge"].collaborator_id
    ).update(public_name="PT Ganti Nama"),
    "a pledge's collaborator's anonymity": lambda w: Collaborator.objects.filter(
        pk=w["pledge"].collaborator_id
    ).update(is_anonymous=True),
    "a new delivery": lambda w: Delivery.objects.create(
        pledge=w["pledge"],
        quantity=1,
        delivered_on=datetime.date(2025, 6, 3),
        opd=w["delivery"].opd,
    ),
    "a delivery's date": lambda w: Delivery.objects.filter(pk=w["delivery"].pk).update(
        delivered_on=datetime.date(2025, 6, 1)
    ),
    "a delivery's OPD's name": lambda w: Opd.objects.filter(pk=w["delivery"].opd_id).update(
        name="Dinas Sosial"
    ),
    "the recipients' word": lambda w: Receipt.objects.filter(pk=w["receipt"].pk).update(
        outcome="less", quantity_received=8
    ),
    "the recipients' word withdrawn": lambda w: Receipt.objects.filter(pk=w["receipt"].pk).delete(),
}

UNSHOWN_CHANGES = {
    "another need's pledge": lambda w: Pledge.objects.filter(pk=w["other_pledge"].pk).update(
        status="confirmed"
    ),
    "another need's site": lambda w: Site.objects.filter(pk=w["other"].site_id).update(name="X"),
    "a region's boundary loaded again": lambda w: Region.objects.filter(
        pk=_kelurahan(w["need"]).pk
    ).update(name=_kelurahan(w["need"]).name),
    "another collaborator": lambda w: Collaborator.objects.filter(
        pk=w["other_pledge"].collaborator_id
    ).update(public_name="CV Lain Lagi"),
}


@pytest.mark.parametrize("change", SHOWN_CHANGES, ids=str)
def test_a_change_the_page_shows_moves_the_version(world, change):
    before = need_version(world["need"].pk)
    SHOWN_CHANGES[change](world)
    assert need_version(world["need"].pk) != before


@pytest.mark.parametrize("change", UNSHOWN_CHANGES, ids=str)
def test_a_change_elsewhere_leaves_it(world, change):
    before = need_version(world["need"].pk)
    UNSHOWN_CHANGES[change](world)
    assert need_version(world["need"].pk) == before


def test_time_alone_moves_it_at_a_reconfirmation_deadline(need):
    """Freshness (Need.freshness) changes with no row changing: the version reads it too."""
    before = need_version(need.pk)
    days = need.aid_type.category.reconfirm_days
    with connection.cursor() as cursor:  # back-date the need without firing its triggers
        cursor.execute("SET LOCAL session_replication_role = replica")
        Need.objects.filter(pk=need.pk).update(
            created_at=need.created_at - datetime.timedelta(days=days + 1)
        )
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    assert need_version(need.pk) != before


def test_no_version_for_a_need_nobody_may_see(need):
    Need.objects.filter(pk=need.pk).update(published=False)
    assert need_version(need.pk) is None
    assert need_version(2**63) is None and need_version("x") is None


def test_pruning_keeps_every_version(world):
    for change in ("a pledge's status", "the need's own row", "its site"):
        SHOWN_CHANGES[change](world)
    versions = {pk: need_version(pk) for pk in (world["need"].pk, world["other"].pk)}
    Need.objects.filter(pk=factories.NeedFactory().pk).delete()  # its rows go too
    assert prune_page_touches() > 0
    assert {pk: need_version(pk) for pk in versions} == versions
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT need_id) FROM needs_page_touch")
        rows, needs = cursor.fetchone()
    assert rows == needs == Need.objects.count()
    SHOWN_CHANGES["a new pledge"](world)  # and it moves on after pruning
    assert need_version(world["need"].pk) != versions[world["need"].pk]


def _tables(queries) -> set[str]:
    return {
        name for query in queries for name in re.findall(r'(?:FROM|JOIN)\s+"(\w+)"', query["sql"])
    }


def test_every_table_a_need_page_reads_keeps_the_version(client, world):
    """Read from what the pages really query (the need page, its popup, its card), so a table
    added to them without a trigger fails here."""
    need = world["need"]
    with CaptureQueriesContext(connection) as queries:
        for url in (
            f"/kebutuhan/{need.pk}/",
            f"/api/v1/needs/{need.pk}/",
            f"/kebutuhan/{need.pk}/kartu-id.png",
        ):
            assert client.get(url).status_code == 200, url
    with connection.cursor() as cursor:
        cursor.execute(TRIGGERS_SQL)
        kept = {row[0] for row in cursor.fetchall()}
    read = _tables(queries.captured_queries) - set(NOT_SHOWN)
    assert {"needs_need", "donations_pledge", "donations_receipt"} <= read
    assert read - kept == set()


def test_writing_what_a_need_already_holds_leaves_it(need):
    before = need_version(need.pk)
    Need.objects.filter(pk=need.pk).update(title=need.title, created_at=need.created_at)
    assert need_version(need.pk) == before
