"""After staff record a delivery, the site's contact person says what arrived, through their link:
received (all, or less), nothing, or the wrong items. The public sees which, per delivery and in the
figures; a problem is a dispute in the staff queue until staff record its resolution."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from donations import services
from donations.models import Delivery, OutboundMail, Receipt, ReceiptState
from tests import factories
from tests.helpers import schedule
from tests.ksbb.test_photos import SECRETS, assert_only_pixels, phone_jpeg

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def delivery(need, donor, province_staff, contact) -> Delivery:
    """40 packages from PT Maju Bersama, handed over yesterday."""
    pledge = schedule(services.pledge(need=need, collaborator=donor, quantity=40), province_staff)
    return services.record_delivery(
        pledge,
        quantity=40,
        delivered_on=timezone.localdate() - datetime.timedelta(days=1),
        opd=factories.OpdFactory(name="Satpol PP Gambir"),
        actor=services.Actor.staff(province_staff),
    )


def _answer(client, url, delivery, **data):
    fields = {f"d{delivery.pk}-{k}": v for k, v in data.items()}
    return client.post(f"{url}penyaluran/{delivery.pk}/", fields)


def test_the_contact_confirms_what_arrived_and_the_public_sees_it(client, url, delivery, need):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = _answer(
        client, url, delivery, outcome="received", quantity_received=40, received_by="Bu Wati"
    )
    assert response.status_code == 303 and "diterima=" in response["Location"]
    receipt = Receipt.objects.get()
    assert receipt.outcome == "received" and receipt.quantity_received == 40
    assert receipt.contact.name == "Pak Darto"
    assert delivery.receipt_state() == ReceiptState.CONFIRMED

    page = Client(headers={"accept-language": "en"}).get(need.get_absolute_url()).content.decode()
    assert "Confirmed by the recipient" in page
    assert "Bu Wati" not in page  # who received it stays private
    api = client.get(f"/api/v1/needs/{need.pk}/").content.decode()
    assert "Bu Wati" not in api


def test_less_than_recorded_is_a_dispute_for_staff(
    client, url, delivery, need, staff_client, kelurahan_officer
):
    kelurahan_officer.email = "petugas@gambir.test"
    kelurahan_officer.save()
    _answer(
        client,
        url,
        delivery,
        outcome="received",
        quantity_received=35,
        received_by="Bu Wati",
        note="Lima paket rusak",
    )
    receipt = Receipt.objects.get()
    assert receipt.outcome == "less" and receipt.is_dispute
    assert OutboundMail.objects.filter(to="petugas@gambir.test").exists()

    queue = staff_client.get("/admin/donations/pledge/").content.decode()
    assert "disputed by the recipients" in queue or "dipersoalkan" in queue
    assert receipt in Receipt.objects.open_disputes()

    staff_client.post(
        "/admin/donations/receipt/",
        {
            "action": "resolve_disputes",
            "_selected_action": [receipt.pk],
            "apply": "1",
            "resolution": "Lima paket diganti oleh donatur",
        },
    )
    receipt.refresh_from_db()
    assert receipt.resolved_at and receipt.resolution == "Lima paket diganti oleh donatur"
    assert receipt not in Receipt.objects.open_disputes()
    page = Client(headers={"accept-language": "en"}).get(need.get_absolute_url()).content.decode()
    assert "Disputed by the recipient" in page and "resolved by staff" in page
    assert "35 paket received" in page


def test_a_problem_needs_a_few_words(client, url, delivery):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = _answer(client, url, delivery, outcome="not_received")
    assert response.status_code == 400
    assert b"Say what went wrong" in response.content
    assert not Receipt.objects.exists()
    response = _answer(client, url, delivery, outcome="not_received", note="Tidak ada yang datang")
    assert response.status_code == 303
    assert Receipt.objects.get().quantity_received is None


@pytest.mark.parametrize(
    "data",
    [
        {"outcome": "received", "quantity_received": 41, "received_by": "Bu Wati"},
        {"outcome": "received", "quantity_received": -1, "received_by": "Bu Wati"},
        {"outcome": "received", "quantity_received": "banyak", "received_by": "Bu Wati"},
        {"outcome": "received", "quantity_received": 40, "received_by": ""},
        {"outcome": "stolen", "note": "?"},
        {"outcome": "received", "quantity_received": 40, "received_by": "x" * 151},
        {"outcome": "wrong_items", "note": "x" * 1001},
    ],
)
def test_bad_answers_change_nothing(client, url, delivery, data):
    response = _answer(client, url, delivery, **data)
    assert response.status_code == 400
    assert not Receipt.objects.exists()


def test_a_photo_keeps_no_location_and_is_public_only_if_chosen(
    client, url, delivery, need, staff_client, tmp_path
):
    upload = SimpleUploadedFile("IMG_0042.jpg", phone_jpeg(size=(40, 20), orientation=6))
    fields = {
        "outcome": "received",
        "quantity_received": 40,
        "received_by": "Bu Wati",
        "photo": upload,
        "photo_public": "on",
    }
    response = client.post(
        f"{url}penyaluran/{delivery.pk}/", {f"d{delivery.pk}-{k}": v for k, v in fields.items()}
    )
    assert response.status_code == 303
    receipt = Receipt.objects.get()
    stored = (tmp_path / receipt.photo.name).read_bytes()
    assert_only_pixels(stored, "JPEG")  # no GPS, camera serial, comment, XMP or profile
    public = Client().get(f"/kebutuhan/{need.pk}/foto/{receipt.pk}/")
    assert public.status_code == 200 and "public" in public["Cache-Control"]
    body = b"".join(public.streaming_content)
    assert not any(secret in body for secret in SECRETS)

    Receipt.objects.filter(pk=receipt.pk).update(photo_public=False)
    assert Client().get(f"/kebutuhan/{need.pk}/foto/{receipt.pk}/").status_code == 404
    staff = staff_client.get(f"/admin/donations/receipt/{receipt.pk}/photo/")
    assert staff.status_code == 200 and "private" in staff["Cache-Control"]


def test_a_file_that_is_no_photo_is_refused(client, url, delivery):
    fields = {
        "outcome": "received",
        "quantity_received": 40,
        "received_by": "Bu Wati",
        "photo": SimpleUploadedFile("foto.jpg", b"<?php echo 1; ?>"),
    }
    response = client.post(
        f"{url}penyaluran/{delivery.pk}/", {f"d{delivery.pk}-{k}": v for k, v in fields.items()}
    )
    assert response.status_code == 400 and not Receipt.objects.exists()


def test_another_sites_delivery_is_out_of_reach(client, url, delivery, donor, province_staff):
    other_need = factories.NeedFactory(title="Seragam sekolah")
    pledge = schedule(
        services.pledge(need=other_need, collaborator=donor, quantity=5), province_staff
    )
    other = services.record_delivery(
        pledge,
        quantity=5,
        delivered_on=timezone.localdate(),
        opd=factories.OpdFactory(),
        actor=services.Actor.staff(province_staff),
    )
    response = _answer(client, url, other, outcome="received", quantity_received=5, received_by="X")
    assert response.status_code == 404 and not Receipt.objects.exists()
    assert other_need.title not in client.get(url).content.decode()


def test_answering_twice_keeps_the_first_answer(client, url, delivery):
    _answer(client, url, delivery, outcome="received", quantity_received=40, received_by="Bu Wati")
    response = _answer(client, url, delivery, outcome="not_received", note="salah tekan")
    assert response.status_code == 303
    assert Receipt.objects.get().outcome == "received"
    with pytest.raises(services.PledgeError):
        services.record_receipt(delivery, contact=None, outcome="not_received", note="lagi")


def test_the_collaborator_list_says_how_much_the_recipients_confirmed(
    delivery, need, donor, province_staff
):
    from transparency import figures

    other = schedule(services.pledge(need=need, collaborator=donor, quantity=10), province_staff)
    disputed = services.record_delivery(
        other,
        quantity=10,
        delivered_on=timezone.localdate(),
        opd=factories.OpdFactory(),
        actor=services.Actor.staff(province_staff),
    )
    services.record_receipt(
        delivery, contact=None, outcome="received", quantity_received=40, received_by="Bu Wati"
    )
    services.record_receipt(disputed, contact=None, outcome="wrong_items", note="beras, bukan mi")
    [row] = figures.collaborator_details([donor])[donor.pk]
    assert (row["quantity_delivered"], row["quantity_confirmed"], row["quantity_disputed"]) == (
        50,
        40,
        10,
    )
    page = Client(headers={"accept-language": "en"}).get("/transparansi/").content.decode()
    assert "40 confirmed by the recipient, 10 disputed" in page


def test_without_an_answer_it_awaits_then_counts_as_unconfirmed(delivery, settings):
    settings.KSBB_RECEIPT_DAYS = 14
    assert delivery.receipt_state() == ReceiptState.AWAITING
    later = delivery.delivered_on + datetime.timedelta(days=15)
    assert delivery.receipt_state(today=later) == ReceiptState.UNCONFIRMED


def test_the_figures_count_delivered_quantities_by_what_recipients_said(
    delivery, need, donor, province_staff, settings
):
    from transparency import figures, opendata

    old = schedule(services.pledge(need=need, collaborator=donor, quantity=10), province_staff)
    services.record_delivery(
        old,
        quantity=10,
        delivered_on=timezone.localdate() - datetime.timedelta(days=settings.KSBB_RECEIPT_DAYS + 1),
        opd=factories.OpdFactory(),
        actor=services.Actor.staff(province_staff),
    )
    services.record_receipt(
        delivery, contact=None, outcome="less", quantity_received=30, received_by="Bu Wati"
    )
    f = figures.compute()
    states = {r["state"]: r["quantity"] for r in f["by_receipt"]}
    assert states == {"disputed": 40, "unconfirmed": 10}
    assert f["deliveries_by_receipt"] == {
        "confirmed": 0,
        "disputed": 1,
        "awaiting": 0,
        "unconfirmed": 1,
    }
    rows = {r["delivery_id"]: r for r in opendata.DATASETS["deliveries"].rows()}
    assert rows[delivery.pk]["recipients"] == "disputed"
    assert rows[delivery.pk]["quantity_received"] == 30
    assert "Bu Wati" not in str(rows)
    # As of yesterday nobody had said anything yet, and the older delivery had waited 14 days.
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    then = {r["state"]: r["quantity"] for r in figures.compute(yesterday)["by_receipt"]}
    assert then == {"awaiting": 50}


def test_the_contacts_page_offers_the_form_until_answered(client, url, delivery):
    page = client.get(url).content.decode()
    assert f'name="d{delivery.pk}-outcome"' in page
    _answer(client, url, delivery, outcome="received", quantity_received=40, received_by="Bu Wati")
    page = client.get(url).content.decode()
    assert f'name="d{delivery.pk}-outcome"' not in page


def test_the_database_counts_each_delivery_as_its_page_shows_it(
    delivery, need, donor, province_staff, settings
):
    from donations.models import receipt_state_sql

    today = timezone.localdate()
    made = [delivery]
    for days, answer in [
        (settings.KSBB_RECEIPT_DAYS, None),
        (settings.KSBB_RECEIPT_DAYS + 1, None),
        (3, "received"),
        (3, "wrong_items"),
    ]:
        pledge = schedule(
            services.pledge(need=need, collaborator=donor, quantity=1), province_staff
        )
        d = services.record_delivery(
            pledge,
            quantity=1,
            delivered_on=today - datetime.timedelta(days=days),
            opd=factories.OpdFactory(),
            actor=services.Actor.staff(province_staff),
        )
        if answer:
            services.record_receipt(d, contact=None, outcome=answer, received_by="X", note="n")
        made.append(d)
    rows = Delivery.objects.filter(pk__in=[d.pk for d in made]).select_related("receipt")
    in_sql = dict(rows.annotate(state=receipt_state_sql()).values_list("pk", "state"))
    assert {d.pk: d.receipt_state() for d in rows} == in_sql
    assert set(in_sql.values()) == set(ReceiptState.values)
