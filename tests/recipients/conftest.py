"""A verified RW head at the test site, and the private link staff send them."""

import pytest

from locations import services as location_services
from locations.models import ContactPerson
from recipients import services
from tests import factories


def verified_contact(site, by, **fields) -> ContactPerson:
    contact = factories.ContactFactory(site=site, **fields)
    return location_services.verify_contact(
        contact, ContactPerson.Verification.VERIFIED, by=by, note="called back"
    )


@pytest.fixture
def contact(site, province_staff):
    """Pak Darto, the verified RW head of the test site, reached by WhatsApp."""
    return verified_contact(site, province_staff, name="Pak Darto", phone="0812 1111 2222")


@pytest.fixture
def link(contact, province_staff, django_capture_on_commit_callbacks):
    """(link, token): the private link staff sent Pak Darto, its message sent by the worker."""
    with django_capture_on_commit_callbacks(execute=True):
        return services.send_link(contact, by=province_staff)


@pytest.fixture
def url(link):
    return f"/narahubung/{link[1]}/"
