"""Staff record a delivery against a scheduled pledge on its admin page: quantity at most what is
outstanding, a date, the facilitating OPD, a real photo, a note. Partial deliveries are allowed."""

import io
from datetime import date

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from PIL import Image

from donations.models import Delivery, Pledge
from tests import factories
from tests.helpers import schedule
from tests.ksbb.test_photos import assert_only_pixels, phone_jpeg


def _image(fmt: str, name: str, size=(8, 8)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "green").save(buffer, fmt)
    return SimpleUploadedFile(name, buffer.getvalue())


def _deliver(client, pledge, quantity, evidence=None, **extra):
    data = {
        "quantity": quantity,
        "delivered_on": "2020-10-30",
        "opd": factories.OpdFactory().pk,
        "note": "Diterima Ketua RW",
        **extra,
    }
    if evidence is not None:
        data["evidence"] = evidence
    return client.post(reverse("admin:donations_pledge_deliver", args=[pledge.pk]), data)


@pytest.fixture
def scheduled(need, donor, province_staff):
    """PT Maju Bersama's 40 packages, scheduled."""
    from donations import services

    return schedule(services.pledge(need=need, collaborator=donor, quantity=40), by=province_staff)


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def staff_client(staff_client):
    """The bureau, reading the admin in English."""
    staff_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return staff_client


def test_a_partial_delivery_keeps_the_pledge_scheduled_and_moves_the_counters(
    staff_client, scheduled
):
    response = _deliver(staff_client, scheduled, 15, _image("PNG", "foto.png"))
    assert response.status_code == 302
    pledge = Pledge.objects.select_related("need").get(pk=scheduled.pk)
    assert (pledge.status, pledge.quantity_delivered, pledge.need.quantity_delivered) == (
        "scheduled",
        15,
        15,
    )
    delivery = Delivery.objects.get()
    assert delivery.evidence.name.endswith(".png") and "foto" not in delivery.evidence.name
    assert delivery.recorded_by.username == "provinsi"


def test_delivering_the_rest_makes_the_pledge_delivered(staff_client, scheduled):
    _deliver(staff_client, scheduled, 15)
    _deliver(staff_client, scheduled, 25, _image("JPEG", "foto.jpg"))
    assert Pledge.objects.get(pk=scheduled.pk).status == "delivered"


def test_more_than_is_outstanding_is_refused(staff_client, scheduled):
    _deliver(staff_client, scheduled, 30)
    response = _deliver(staff_client, scheduled, 11)
    assert response.status_code == 200
    assert "quantity" in response.context["form"].errors
    assert Pledge.objects.get(pk=scheduled.pk).quantity_delivered == 30


def test_a_pledge_that_is_not_scheduled_cannot_be_delivered(staff_client, need, donor):
    from donations import services

    pledge = services.pledge(need=need, collaborator=donor, quantity=5)
    response = _deliver(staff_client, pledge, 5)
    assert "only a scheduled pledge can be delivered" in str(response.context["form"].errors)
    assert not Delivery.objects.exists()


@pytest.mark.parametrize(
    "evidence",
    [
        pytest.param(lambda: _image("GIF", "foto.png"), id="a GIF disguised as PNG"),
        pytest.param(lambda: _image("BMP", "foto.jpg"), id="a bitmap disguised as JPEG"),
        pytest.param(
            lambda: SimpleUploadedFile("foto.jpg", b"%PDF-1.4 not a photo"), id="not an image"
        ),
        pytest.param(
            lambda: SimpleUploadedFile("foto.png", _image("PNG", "x.png").read()[:40]),
            id="a truncated image",
        ),
    ],
)
def test_a_bad_photo_is_refused_and_nothing_is_recorded(staff_client, scheduled, evidence):
    response = _deliver(staff_client, scheduled, 5, evidence())
    assert response.status_code == 200
    assert "evidence" in response.context["form"].errors
    assert not Delivery.objects.exists()


def test_a_photo_over_the_size_limit_is_refused(staff_client, scheduled):
    with override_settings(KSBB_EVIDENCE_MAX_BYTES=100):
        response = _deliver(staff_client, scheduled, 5, _image("PNG", "foto.png", (64, 64)))
    assert "too large" in str(response.context["form"].errors["evidence"])
    assert not Delivery.objects.exists()


def test_a_decompression_bomb_is_refused(staff_client, scheduled, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)
    response = _deliver(staff_client, scheduled, 5, _image("PNG", "foto.png", (8, 8)))
    assert "too many pixels" in str(response.context["form"].errors["evidence"])
    assert not Delivery.objects.exists()


def test_an_auditor_cannot_open_the_delivery_page(client, scheduled):
    from django.contrib.auth.models import Group

    auditor = factories.UserFactory(username="auditor", is_staff=True)
    auditor.groups.add(Group.objects.get(name="Auditor"))
    client.force_login(auditor)
    assert _deliver(client, scheduled, 5).status_code == 403
    assert not Delivery.objects.exists()


def test_the_stored_photo_has_no_gps_serial_or_other_metadata(
    staff_client, scheduled, tmp_path, settings
):
    """A phone photo of the hand-over, taken at the recipient's home: what is stored is its pixels
    only, upright and at most KSBB_EVIDENCE_MAX_SIDE a side; the upload itself is nowhere on disk."""
    settings.KSBB_EVIDENCE_MAX_SIDE = 100
    upload = phone_jpeg(size=(400, 200), orientation=6)
    response = _deliver(staff_client, scheduled, 5, SimpleUploadedFile("IMG_0042.jpg", upload))
    assert response.status_code == 302
    stored = Delivery.objects.get().evidence
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert [p.name for p in files] == [stored.name.rsplit("/", 1)[-1]]
    data = files[0].read_bytes()
    assert data != upload
    assert assert_only_pixels(data, "JPEG").size == (50, 100)


def test_a_photo_the_service_cannot_decode_records_nothing(
    scheduled, province_staff, tmp_path, english
):
    """The service checks again what the form checked: a caller without the form (a script, an
    import) cannot store a file that is not a photo."""
    from donations import services

    with pytest.raises(services.PledgeError, match="JPEG, PNG or WebP"):
        services.record_delivery(
            scheduled,
            quantity=5,
            delivered_on=date(2020, 10, 30),
            opd=factories.OpdFactory(),
            actor=services.Actor.staff(province_staff),
            evidence=SimpleUploadedFile("foto.jpg", b"<svg onload=alert(1)>"),
        )
    assert not Delivery.objects.exists()
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
