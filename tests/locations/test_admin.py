"""The staff side of locations: every page opens, and verification is not edited by hand."""

import pytest

from locations.models import ContactPerson, Region, Site, StaffArea
from tests import factories
from tests.helpers import admin_url

MODELS = [Region, Site, ContactPerson, StaffArea]


@pytest.fixture
def contact(site, province_staff):
    """Gambir's RW 01 head, not yet called; the bureau is assigned Jakarta Pusat."""
    StaffArea.objects.create(user=province_staff, region=Region.objects.get(code="31.71"))
    return factories.ContactFactory(site=site, name="Pak Rahmat")


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.model_name)
def test_changelist_change_and_add_pages_open(staff_client, contact, model):
    obj = model.objects.first()
    assert staff_client.get(admin_url(model, "changelist")).status_code == 200
    assert staff_client.get(admin_url(model, "change", obj.pk)).status_code == 200
    assert staff_client.get(admin_url(model, "add")).status_code == 200


def test_a_regions_registry_fields_are_read_only_once_it_exists(staff_client, jakarta):
    gambir = Region.objects.get(code="31.71.01.1001")
    change = staff_client.get(admin_url(Region, "change", gambir.pk)).context["adminform"].form
    assert set(change.fields) == {"name", "boundary"}
    add = staff_client.get(admin_url(Region, "add")).context["adminform"].form
    assert {"code", "level", "parent"} <= set(add.fields)


def test_sites_filter_by_kota_through_the_code_prefix(staff_client, site):
    factories.SiteFactory(name="RW 05", kelurahan=factories.kelurahan("31.72.01.1001"))
    url = admin_url(Site, "changelist")
    pusat = staff_client.get(url, {"kota": "31.71"}).context["cl"].result_list
    utara = staff_client.get(url, {"kota": "31.72"}).context["cl"].result_list
    assert [s.name for s in pusat] == ["RW 01"]
    assert [s.name for s in utara] == ["RW 05"]


def test_a_sites_kelurahan_is_chosen_among_kelurahan_only(staff_client, jakarta):
    # Gambir is the name of a kecamatan and of one of its kelurahan.
    response = staff_client.get(
        "/admin/autocomplete/",
        {
            "app_label": "locations",
            "model_name": "site",
            "field_name": "kelurahan",
            "term": "Gambir",
        },
    )
    kelurahan = Region.objects.get(code="31.71.01.1001")
    assert [r["id"] for r in response.json()["results"]] == [str(kelurahan.pk)]


def test_the_site_page_shows_but_does_not_edit_its_contacts_verification(staff_client, contact):
    response = staff_client.get(admin_url(Site, "change", contact.site.pk))
    (contacts,) = response.context["inline_admin_formsets"]
    assert {"name", "role", "phone", "note"} <= set(contacts.formset.forms[0].fields)
    assert "verification_status" not in contacts.formset.forms[0].fields
    assert "Belum diverifikasi" in response.content.decode()


def test_posting_a_verification_status_to_a_contact_changes_only_the_editable_fields(
    staff_client, contact
):
    response = staff_client.post(
        admin_url(ContactPerson, "change", contact.pk),
        {
            "site": contact.site.pk,
            "name": "Pak Rahmat Hidayat",
            "role": contact.role,
            "phone": contact.phone,
            "channel": contact.channel,
            "note": "",
            "verification_status": ContactPerson.Verification.VERIFIED,
            "verified_at": "2020-10-26 10:00",
        },
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.name == "Pak Rahmat Hidayat"
    assert contact.verification_status == ContactPerson.Verification.UNVERIFIED
    assert contact.verified_at is None
