"""A donor's receipt (donations.receipts): a PDF once something was delivered, in Indonesian or
English, naming the collaborator in full and as the public sees them, what was pledged and
delivered, where, when, by which OPD, what the recipients said, and a link and QR code to the
pledge's public record (transparency.pledge_record), which shows public fields only."""

import datetime

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from donations import receipts, services
from ledger import services as ledger_services
from tests import factories, pdfs
from tests.helpers import schedule
from transparency import pledge_record

BASE = "https://ksbb.jakarta.test"


@pytest.fixture
def delivered(need, donor, province_staff):
    """60 of PT Maju Bersama's packages pledged, 40 handed over at RW 01 Gambir."""
    pledge = schedule(services.pledge(need=need, collaborator=donor, quantity=60), province_staff)
    services.record_delivery(
        pledge,
        quantity=40,
        delivered_on=datetime.date(2020, 10, 26),
        opd=factories.OpdFactory(),
        actor=services.Actor.staff(province_staff),
    )
    pledge.refresh_from_db()
    return pledge


def _receipt(client, pledge, lang="id"):
    return client.get(reverse("donations:pledge_receipt", args=[pledge.token]), {"lang": lang})


@override_settings(KSBB_BASE_URL=BASE)
def test_the_receipt_says_what_was_pledged_and_delivered_where_and_by_whom(client, delivered):
    response = _receipt(client, delivered)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"ksbb-receipt-{delivered.pk}-id.pdf" in response["Content-Disposition"]
    text = pdfs.text(response.content)
    for expected in [
        "Tanda terima bantuan yang disalurkan",
        "PT Maju Bersama",
        "Paket sembako RW 01 Gambir",
        "RW 01",
        "Gambir",
        "60 paket",
        "40 paket",
        "26 Oktober 2020",
        "Satpol PP Jakarta Pusat",
        "Tidak dikonfirmasi oleh penerima",
        f"{BASE}/transparansi/komitmen/{delivered.pk}/",
    ]:
        assert expected in text, expected
    assert pdfs.qr_codes(response.content) == [f"{BASE}/transparansi/komitmen/{delivered.pk}/"]
    assert pdfs.info(response.content)["/Title"] == f"Kuitansi KSBB, komitmen no. {delivered.pk}"


def test_in_english_on_request(client, delivered):
    text = pdfs.text(_receipt(client, delivered, "en").content)
    assert "Receipt of aid delivered" in text
    assert "26 October 2020" in text
    assert "Not confirmed by the recipient" in text


def test_the_fonts_travel_with_the_file(client, delivered):
    used = pdfs.fonts(_receipt(client, delivered).content)
    assert used and all(embedded for _, embedded in used), used


def test_the_recipients_word_and_the_second_check_are_on_it(client, delivered, kelurahan_officer):
    delivery = delivered.deliveries.get()
    services.check_delivery(delivery, by=kelurahan_officer)
    assert "diperiksa oleh petugas kedua" in pdfs.text(_receipt(client, delivered).content)


def test_an_anonymous_donor_sees_their_name_and_how_the_public_sees_them(
    client, need, anonymous_donor, province_staff
):
    pledge = schedule(
        services.pledge(need=need, collaborator=anonymous_donor, quantity=5), province_staff
    )
    services.record_delivery(
        pledge,
        quantity=5,
        delivered_on=datetime.date(2020, 10, 27),
        opd=factories.OpdFactory(),
        actor=services.Actor.staff(province_staff),
    )
    text = pdfs.text(_receipt(client, pledge).content)
    assert "Budi Santoso" in text
    assert "Anonim" in text


def test_nothing_delivered_no_receipt(client, need, donor):
    pledge = services.pledge(need=need, collaborator=donor, quantity=5)
    assert _receipt(client, pledge).status_code == 404
    assert client.get("/komitmen/" + "x" * 43 + "/kuitansi.pdf").status_code == 404


def test_a_strangers_name_cannot_break_the_file(client, delivered):
    """Markup, an emoji and letters the font lacks: escaped, or drawn as their base letter."""
    donor = delivered.collaborator
    donor.public_name = "<b>Yayasan Ő & Co</b> 😀 Ἀ"
    services.save_collaborator(donor, changed=["public_name"])
    text = pdfs.text(_receipt(client, delivered).content)
    assert "<b>Yayasan O & Co</b> ? Α" in text or "<b>Yayasan O & Co</b> ?" in text


def test_the_receipt_is_private(client, delivered):
    response = _receipt(client, delivered)
    assert "no-store" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_the_donors_page_offers_it_once_something_was_delivered(client, need, donor, delivered):
    page = client.get(delivered.private_url())
    assert reverse("donations:pledge_receipt", args=[delivered.token]) in page.text
    assert reverse("transparency:pledge_record", args=[delivered.pk]) in page.text
    other = services.pledge(need=need, collaborator=donor, quantity=1)
    assert "kuitansi.pdf" not in client.get(other.private_url()).text


# The public record the receipt links to.


def test_the_public_record_shows_public_fields_only(delivered, anonymous_donor):
    delivered.collaborator.is_anonymous = True
    services.save_collaborator(delivered.collaborator, changed=["is_anonymous"])
    ledger_services.seal()
    page = Client().get(reverse("transparency:pledge_record", args=[delivered.pk]))
    assert page.status_code == 200
    html = page.text
    assert "Anonim" in html and "PT Maju Bersama" not in html
    for private in ["csr@majubersama.test", delivered.token, delivered.collaborator.phone or "@"]:
        assert private not in html
    assert "Satpol PP Jakarta Pusat" in html
    assert 'data-testid="record-delivery"' in html
    hashes = page.context["entries"]
    kinds = [e.kind for e in hashes]
    assert kinds.count("pledge") >= 3 and "delivery" in kinds, kinds
    for entry in hashes:
        assert entry.hash in html


def test_no_record_for_a_need_that_is_not_public(client, delivered, province_staff):
    from needs import services as needs_services

    needs_services.unpublish(delivered.need, by=province_staff, allow_held=True)
    url = reverse("transparency:pledge_record", args=[delivered.pk])
    assert client.get(url).status_code == 404
    assert client.get(reverse("transparency:pledge_record", args=[999999])).status_code == 404


def test_the_public_record_is_kept_by_shared_caches(client, delivered):
    response = client.get(reverse("transparency:pledge_record", args=[delivered.pk]))
    assert "public" in response["Cache-Control"]


def test_the_record_url_is_the_portals_public_address(delivered):
    with override_settings(KSBB_BASE_URL=BASE + "/"):
        assert receipts.record_url(delivered) == f"{BASE}/transparansi/komitmen/{delivered.pk}/"
    assert receipts.record_url(delivered).startswith(settings.KSBB_BASE_URL.rstrip("/"))


def test_the_record_reads_the_ledger_by_index(delivered):
    """The ledger grows with every change: a record must not scan it (ledger migration 0002)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    deliveries = [d.pk for d in delivered.deliveries.all()]
    plan = pledge_record.ledger_entries(delivered, deliveries).explain()
    assert "ledger_entry_kind_id_idx" in plan and "ledger_delivery_pledge_idx" in plan, plan
