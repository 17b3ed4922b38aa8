"""A contact person changes only through locations.services.save_contact: a new name, phone or e-mail for a
verified contact makes it unverified again, on every path (the contact's page, the site's page, the
sites import), with who and why in the history; other changes keep the verification."""

import pytest
from django.test import Client

from locations import services
from locations.models import ContactPerson
from tests import factories
from tests.helpers import admin_url
from tests.locations.test_import_sites import ROW, run, write_csv

pytestmark = pytest.mark.usefixtures("english")
NEW_PHONE = "0813-4444-5555"  # as staff or a file write it, saved as
NEW_E164 = "+6281344445555"


@pytest.fixture
def verified(gambir, province_staff):
    """Pak Darto, RW head of RW 01 Gambir, verified by the bureau (as the sites import made him)."""
    site = factories.SiteFactory(name="RW 01", external_ref="RW-GAMBIR-01")
    contact = factories.ContactFactory(site=site, name="Pak Darto", phone="+62 812 1111 2222")
    return services.verify_contact(contact, "verified", by=province_staff)


def _contact_form(contact, **changes) -> dict:
    data = {
        "site": contact.site_id,
        "name": contact.name,
        "role": contact.role,
        "phone": contact.phone,
        "email": contact.email,
        "channel": contact.channel,
        "note": contact.note,
        "_save": "Save",
    }
    return {**data, **changes}


def _site_form(site, contact, **changes) -> dict:
    prefix = "contacts"
    data = {
        "kind": site.kind,
        "name": site.name,
        "kelurahan": site.kelurahan_id,
        "point": site.point.geojson,
        "address": site.address,
        "external_ref": site.external_ref,
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "1",
        f"{prefix}-0-id": contact.pk,
        f"{prefix}-0-site": site.pk,
        f"{prefix}-0-name": contact.name,
        f"{prefix}-0-role": contact.role,
        f"{prefix}-0-phone": contact.phone,
        f"{prefix}-0-email": contact.email,
        f"{prefix}-0-channel": contact.channel,
        f"{prefix}-0-note": contact.note,
        "_save": "Save",
    }
    data.update({f"{prefix}-0-{k}": v for k, v in changes.items()})
    return data


def _staff(province_staff) -> Client:
    client = Client()
    client.force_login(province_staff)
    client.cookies["django_language"] = "en"
    return client


def _assert_reopened(contact, by, reason_part: str):
    contact.refresh_from_db()
    assert contact.phone == NEW_E164
    assert (contact.verification_status, contact.verified_at, contact.verified_by) == (
        "unverified",
        None,
        None,
    )
    last = contact.history.order_by("-history_id").first()
    assert last.history_user == by and reason_part in (last.history_change_reason or "")


def test_a_new_phone_through_the_service_makes_the_contact_unverified(verified, province_staff):
    services.save_contact(verified, phone=NEW_PHONE, by=province_staff)
    _assert_reopened(verified, province_staff, "verified again")


def test_a_new_phone_on_the_contacts_page_makes_it_unverified(verified, province_staff):
    response = _staff(province_staff).post(
        admin_url(ContactPerson, "change", verified.pk), _contact_form(verified, phone=NEW_PHONE)
    )
    assert response.status_code == 302
    _assert_reopened(verified, province_staff, "verified again")


def test_a_new_phone_on_the_sites_page_makes_it_unverified(verified, province_staff):
    site = verified.site
    response = _staff(province_staff).post(
        admin_url(type(site), "change", site.pk), _site_form(site, verified, phone=NEW_PHONE)
    )
    assert response.status_code == 302, response.context and response.context["errors"]
    _assert_reopened(verified, province_staff, "verified again")


def test_a_new_phone_in_the_sites_import_makes_it_unverified(verified, tmp_path):
    run(write_csv(tmp_path / "s.csv", [{**ROW, "contact_phone": NEW_PHONE}]))
    _assert_reopened(verified, None, "import")


def test_a_new_name_makes_it_unverified_too(verified, province_staff):
    services.save_contact(verified, name="Pak Darto Wibowo", by=province_staff)
    verified.refresh_from_db()
    assert verified.verification_status == "unverified"


def test_a_new_email_makes_it_unverified_too_since_a_link_may_go_there(verified, province_staff):
    services.save_contact(verified, email="darto.baru@example.org", by=province_staff)
    verified.refresh_from_db()
    assert verified.verification_status == "unverified"


def test_a_note_or_a_role_keeps_the_verification(verified, province_staff):
    services.save_contact(verified, note="Rumah di gang 3", role="other", by=province_staff)
    verified.refresh_from_db()
    assert (verified.verification_status, verified.note) == ("verified", "Rumah di gang 3")
