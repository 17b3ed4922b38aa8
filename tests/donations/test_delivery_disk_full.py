"""Disk full for uploads: a delivery whose photo cannot be written fails with a clear message and
leaves nothing half-done: no delivery row, counters and history unchanged, no file on the disk.
And a photo already written is removed again when anything after it fails."""

import errno
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from donations import services
from donations.models import Delivery, OutboundMail, Pledge, PledgeEvent
from tests import factories
from tests.helpers import schedule

FULL_DISK = {
    "default": {"BACKEND": "tests.donations.full_disk.FullDiskStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


def _photo() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buffer, "PNG")
    return SimpleUploadedFile("foto.png", buffer.getvalue())


def _files(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def scheduled(need, donor, province_staff):
    return schedule(services.pledge(need=need, collaborator=donor, quantity=40), by=province_staff)


def _state(pledge):
    pledge = Pledge.objects.select_related("need").get(pk=pledge.pk)
    return (
        pledge.status,
        pledge.quantity_delivered,
        pledge.need.quantity_pledged,
        pledge.need.quantity_delivered,
        PledgeEvent.objects.filter(pledge=pledge).count(),
        OutboundMail.objects.filter(pledge=pledge).count(),
    )


def test_the_admin_says_why_and_records_nothing_when_the_disk_is_full(
    staff_client, scheduled, media, settings
):
    settings.STORAGES = FULL_DISK
    staff_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    before = _state(scheduled)
    response = staff_client.post(
        reverse("admin:donations_pledge_deliver", args=[scheduled.pk]),
        {
            "quantity": 15,
            "delivered_on": "2020-10-30",
            "opd": factories.OpdFactory().pk,
            "evidence": _photo(),
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["evidence"]
    assert "The photo could not be stored" in errors[0]
    assert "nothing was recorded" in errors[0]
    assert not Delivery.objects.exists()
    assert _state(scheduled) == before
    assert _files(media) == []


def _deliver_with_photo(pledge, staff):
    return services.record_delivery(
        pledge,
        quantity=5,
        delivered_on="2020-10-30",
        opd=factories.OpdFactory(),
        actor=services.Actor.staff(staff),
        evidence=_photo(),
    )


def test_the_refusal_comes_from_a_real_enospc(scheduled, media, settings, province_staff):
    settings.STORAGES = FULL_DISK
    with pytest.raises(services.PledgeError) as refused:
        _deliver_with_photo(scheduled, province_staff)
    assert refused.value.field == "evidence"
    assert isinstance(refused.value.__cause__, OSError)
    assert refused.value.__cause__.errno == errno.ENOSPC
    assert _files(media) == []


def test_a_written_photo_is_removed_when_the_delivery_fails_after_it(
    scheduled, media, province_staff, monkeypatch
):
    written = []
    real_create = Delivery.objects.create

    def create_then_fail(**fields):
        written.append(fields["evidence"])
        assert (media / fields["evidence"]).is_file()  # the photo is on the disk before its row
        real_create(**fields)
        raise RuntimeError("the database went away before the commit")

    monkeypatch.setattr(Delivery.objects, "create", create_then_fail)
    before = _state(scheduled)
    with pytest.raises(RuntimeError):
        _deliver_with_photo(scheduled, province_staff)
    assert written and written[0].startswith("evidence/")
    assert not Delivery.objects.exists()
    assert _state(scheduled) == before
    assert _files(media) == []


def test_a_refused_delivery_writes_no_photo(need, donor, media, province_staff):
    submitted = services.pledge(need=need, collaborator=donor, quantity=5)  # not scheduled
    with pytest.raises(services.PledgeError):
        services.record_delivery(
            submitted,
            quantity=5,
            delivered_on="2020-10-30",
            opd=factories.OpdFactory(),
            actor=services.Actor.staff(province_staff),
            evidence=_photo(),
        )
    assert _files(media) == []


def test_a_delivery_on_a_working_disk_keeps_its_photo(scheduled, media, province_staff):
    delivery = services.record_delivery(
        scheduled,
        quantity=5,
        delivered_on="2020-10-30",
        opd=factories.OpdFactory(),
        actor=services.Actor.staff(province_staff),
        evidence=_photo(),
    )
    assert _files(media) == [media / delivery.evidence.name]
    assert delivery.evidence.read().startswith(b"\x89PNG")
