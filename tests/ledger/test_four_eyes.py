"""No one validates their own work: staff who recorded a delivery are not its second check, staff who
created or last changed a contact person do not verify them. A superuser is held to it too, and may
set it aside only with a reason, which the public ledger records."""

import datetime
import json

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from donations import services
from donations.models import Delivery
from ledger import services as ledger_services
from ledger import verifier
from ledger.models import Entry
from locations import services as location_services
from locations.models import ContactPerson
from tests import factories
from tests.helpers import admin_url, schedule
from transparency import figures, opendata

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def _staff(username: str):
    user = factories.UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name="Provincial staff"))
    return user


@pytest.fixture
def ani():
    return _staff("ani")


@pytest.fixture
def budi():
    return _staff("budi")


@pytest.fixture
def delivery(need, donor, province_staff, ani) -> Delivery:
    pledge = schedule(services.pledge(need=need, collaborator=donor, quantity=30), province_staff)
    return services.record_delivery(
        pledge,
        quantity=30,
        delivered_on=timezone.localdate(),
        opd=factories.OpdFactory(),
        actor=services.Actor.staff(ani),
    )


def _verified(need) -> int:
    [row] = [r for r in figures.compute()["by_aid_type"] if r["aid_type"] == need.aid_type.name]
    return row["quantity_verified"]


def _overrides() -> list[dict]:
    ledger_services.seal()
    return [e.data for e in Entry.objects.filter(kind="override")]


# Deliveries ----------------------------------------------------------------------------------


def test_who_recorded_a_delivery_is_not_its_second_check(delivery, ani, budi, need):
    assert _verified(need) == 0
    with pytest.raises(services.PledgeError, match="You recorded delivery"):
        services.check_delivery(delivery, by=ani)
    with pytest.raises(services.PledgeError, match="You recorded delivery"):
        services.check_delivery(delivery, by=ani, override_reason="saya yakin")  # not a superuser
    checked = services.check_delivery(delivery, by=budi)
    assert (checked.checked_by, checked.check_override_reason) == (budi, "")
    assert _verified(need) == 30
    with pytest.raises(services.PledgeError, match="already checked"):
        services.check_delivery(delivery, by=ani)
    ledger_services.seal()
    last = Entry.objects.filter(kind="delivery").order_by("-seq").first()
    assert last.data["checked"] is True and not _overrides()
    [row] = [r for r in opendata.DATASETS["deliveries"].rows() if r["delivery_id"] == delivery.pk]
    assert (row["second_check"], row["verified"]) == (True, True)


def test_the_recipients_confirmation_verifies_a_delivery_too(delivery, need):
    services.record_receipt(
        delivery, contact=None, outcome="received", quantity_received=30, received_by="Bu Wati"
    )
    assert _verified(need) == 30
    [row] = [r for r in opendata.DATASETS["deliveries"].rows() if r["delivery_id"] == delivery.pk]
    assert (row["second_check"], row["verified"]) == (False, True)


def test_a_disputed_delivery_is_recorded_not_verified(delivery, need):
    services.record_receipt(delivery, contact=None, outcome="not_received", note="belum tiba")
    assert _verified(need) == 0
    assert figures.compute(timezone.localdate())["by_aid_type"][0]["quantity_delivered"] == 30


def test_a_superuser_is_held_to_it_and_overrides_only_with_a_reason_the_ledger_records(
    need, donor, province_staff
):
    pledge = schedule(services.pledge(need=need, collaborator=donor, quantity=5), province_staff)
    own = services.record_delivery(
        pledge,
        quantity=5,
        delivered_on=timezone.localdate(),
        opd=factories.OpdFactory(),
        actor=services.Actor.staff(province_staff),
    )
    with pytest.raises(services.PledgeError, match="You recorded delivery"):
        services.check_delivery(own, by=province_staff)
    checked = services.check_delivery(own, by=province_staff, override_reason="Petugas lain cuti")
    assert checked.check_override_reason == "Petugas lain cuti"
    [override] = _overrides()
    assert override == {
        "id": f"second_check_own_delivery:{own.pk}",
        "rule": "second_check_own_delivery",
        "subject": own.pk,
        "staff": province_staff.pk,
    }
    assert "Petugas" not in json.dumps([e.as_public() for e in Entry.objects.all()])


def test_the_database_refuses_a_self_check_without_a_reason(delivery, ani):
    with (
        pytest.raises(IntegrityError, match="delivery_second_check_by_another"),
        transaction.atomic(),
    ):
        Delivery.objects.filter(pk=delivery.pk).update(checked_by=ani, checked_at=timezone.now())


def test_the_second_check_from_the_admin_names_a_refusal(delivery, ani, budi):
    for user, expected in ((ani, "You recorded delivery"), (budi, "Checked: #")):
        client = Client()
        client.force_login(user)
        client.cookies["django_language"] = "en"
        response = client.post(
            admin_url(Delivery, "changelist"),
            {"action": "check_deliveries", "_selected_action": [delivery.pk], "apply": "1"},
            follow=True,
        )
        assert expected in response.content.decode()
    assert Delivery.objects.get(pk=delivery.pk).checked_by == budi


def test_the_verifier_counts_verified_quantities_from_the_ledger(delivery, budi, need):
    from transparency.ledger_check import open_ledger

    services.check_delivery(delivery, by=budi)
    open_ledger()  # the fixture's need was written by a factory, not through a service
    ledger_services.seal()
    entries = [e.as_public() for e in Entry.objects.order_by("seq")]
    assert verifier.figures(verifier.replay(entries))["quantity_verified"] == 30


def test_as_of_yesterday_nothing_was_checked_yet(delivery, budi, need):
    Delivery.objects.filter(pk=delivery.pk).update(
        delivered_on=timezone.localdate() - datetime.timedelta(days=2)
    )
    services.check_delivery(delivery, by=budi)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    rows = figures.compute(yesterday)["by_aid_type"]
    assert sum(r["quantity_verified"] for r in rows) == 0


# Contact persons -----------------------------------------------------------------------------


def _new_contact(site, by) -> ContactPerson:
    contact = ContactPerson(site=site, name="Pak Darto", role="rw_head", phone="0812 1111 2222")
    return location_services.save_contact(contact, by=by, reason="baru")


def test_who_created_a_contact_does_not_verify_them(site, ani, budi):
    contact = _new_contact(site, ani)
    with pytest.raises(location_services.ContactError, match="You created this contact"):
        location_services.verify_contact(contact, "verified", by=ani)
    location_services.verify_contact(contact, "verified", by=budi)
    assert ContactPerson.objects.get(pk=contact.pk).verified_by == budi


def test_who_last_changed_the_details_does_not_verify_them_either(site, ani, budi, jakarta):
    contact = _new_contact(site, ani)
    location_services.verify_contact(contact, "verified", by=budi)
    location_services.save_contact(contact, phone="0813 4444 5555", by=budi)  # unverified again
    for author in (ani, budi):
        with pytest.raises(location_services.ContactError):
            location_services.verify_contact(contact, "verified", by=author)
    # A note or the verification itself is no authorship: a third colleague verifies.
    citra = _staff("citra")
    location_services.verify_contact(contact, "verified", by=citra, note="ditelepon")
    assert ContactPerson.objects.get(pk=contact.pk).verification_status == "verified"


def test_marking_a_contact_unreachable_is_no_verification(site, ani):
    contact = _new_contact(site, ani)
    location_services.verify_contact(contact, "unreachable", by=ani)


def test_an_imported_contact_may_be_verified_by_anyone(site, ani):
    contact = ContactPerson(site=site, name="Bu Sri", role="rw_head", phone="0812 3333 4444")
    location_services.save_contact(contact, reason="import")
    location_services.verify_contact(contact, "verified", by=ani)


def test_a_superuser_verifies_their_own_contact_only_with_a_reason_in_the_ledger(
    site, province_staff
):
    contact = _new_contact(site, province_staff)
    with pytest.raises(location_services.ContactError):
        location_services.verify_contact(contact, "verified", by=province_staff)
    location_services.verify_contact(
        contact, "verified", by=province_staff, override_reason="Satu-satunya petugas malam ini"
    )
    contact.refresh_from_db()
    assert "override" in contact.note and contact.verification_status == "verified"
    assert _overrides() == [
        {
            "id": f"verify_own_contact:{contact.pk}",
            "rule": "verify_own_contact",
            "subject": contact.pk,
            "staff": province_staff.pk,
        }
    ]


def test_the_admin_says_why_a_creator_cannot_verify(site, ani):
    contact = _new_contact(site, ani)
    client = Client()
    client.force_login(ani)
    client.cookies["django_language"] = "en"
    response = client.post(
        admin_url(ContactPerson, "changelist"),
        {"action": "mark_verified", "_selected_action": [contact.pk], "apply": "1"},
        follow=True,
    )
    assert "You created this contact person" in response.content.decode()
    assert ContactPerson.objects.get(pk=contact.pk).verification_status == "unverified"
