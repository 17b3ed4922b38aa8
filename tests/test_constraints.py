"""The database itself refuses rows that break an invariant, even from code that skips the services."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from donations import services
from donations.models import Collaborator, Delivery, Pledge
from locations.models import ContactPerson, Region
from needs.models import Need
from tests import factories


def _refused(write) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        write()


def test_need_cannot_be_pledged_beyond_what_it_needs(need):
    _refused(lambda: Need.objects.filter(pk=need.pk).update(quantity_pledged=101))


def test_need_cannot_deliver_more_than_pledged(need):
    _refused(lambda: Need.objects.filter(pk=need.pk).update(quantity_delivered=1))


def test_need_quantity_must_be_positive(site):
    _refused(lambda: factories.NeedFactory(site=site, quantity_needed=0))


def test_need_period_cannot_end_before_it_starts(need):
    _refused(lambda: Need.objects.filter(pk=need.pk).update(period_end=F("period_start") - 1))


def test_region_codes_are_unique(jakarta):
    _refused(lambda: Region.objects.create(code="31.71", name="Duplikat", level="kota"))


def test_region_code_must_match_its_level(jakarta):
    gambir = Region.objects.get(code="31.71.01")
    _refused(
        lambda: Region.objects.create(code="31.71.99", name="X", level="kelurahan", parent=gambir)
    )


def test_pledge_quantity_must_be_positive(need, donor):
    pledge = services.pledge(need=need, collaborator=donor, quantity=10)
    _refused(lambda: Pledge.objects.filter(pk=pledge.pk).update(quantity=0))


def test_pledge_cannot_have_more_delivered_than_promised(need, donor):
    pledge = services.pledge(need=need, collaborator=donor, quantity=10)
    _refused(lambda: Pledge.objects.filter(pk=pledge.pk).update(quantity_delivered=11))


def test_pledge_delivered_status_needs_the_whole_quantity(need, donor):
    pledge = services.pledge(need=need, collaborator=donor, quantity=10)
    _refused(lambda: Pledge.objects.filter(pk=pledge.pk).update(status="delivered"))


def test_delivery_quantity_must_be_positive(need, donor):
    pledge = services.pledge(need=need, collaborator=donor, quantity=10)
    opd = factories.OpdFactory()
    _refused(
        lambda: Delivery.objects.create(
            pledge=pledge, quantity=0, delivered_on="2020-10-26", opd=opd
        )
    )


def test_collaborator_email_is_unique_whatever_its_case(donor):
    _refused(
        lambda: Collaborator.objects.create(
            public_name="Lain", kind="company", email=donor.email.upper()
        )
    )


def test_verified_contact_needs_a_verification_time(site):
    contact = factories.ContactFactory(site=site)
    _refused(
        lambda: ContactPerson.objects.filter(pk=contact.pk).update(verification_status="verified")
    )


@pytest.mark.parametrize(
    "phone",
    [
        "0812-3456-7890",
        "+62 812 3456 7890",
        "6281234567890",
        "+0812345678",
        "+62812",
        "+62" + "1" * 14,
    ],
)
def test_contact_phone_must_be_e164(site, phone):
    contact = factories.ContactFactory(site=site)
    _refused(lambda: ContactPerson.objects.filter(pk=contact.pk).update(phone=phone))


def test_contact_reached_by_email_needs_an_email(site):
    contact = factories.ContactFactory(site=site)
    _refused(lambda: ContactPerson.objects.filter(pk=contact.pk).update(channel="email"))
    ContactPerson.objects.filter(pk=contact.pk).update(email="pak.rt@warga.test", channel="email")
    _refused(lambda: ContactPerson.objects.filter(pk=contact.pk).update(email=""))


def test_need_status_is_derived_by_the_database(need, donor):
    assert need.status == "open"
    services.pledge(need=need, collaborator=donor, quantity=40)
    need.refresh_from_db()
    assert need.status == "partly_pledged"
    with connection.cursor() as cursor:
        cursor.execute("UPDATE needs_need SET is_closed = true WHERE id = %s", [need.pk])
    need.refresh_from_db()
    assert need.status == "closed"
