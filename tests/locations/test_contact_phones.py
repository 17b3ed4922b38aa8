"""A contact person's phone is stored in E.164 on every path that writes it (the services, the contact's
page, the site's page, the migration of the numbers written before), and a contact gets an optional
e-mail, personal data like the phone, and the channel messages reach them by (issue 17)."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client

from ksbb.lib.phones import display
from locations import services
from locations.models import ContactPerson, PersonalDataView, Region, StaffArea
from locations.scoping import AUDITOR_GROUP
from tests import factories
from tests.helpers import admin_url

pytestmark = pytest.mark.usefixtures("english")
migration = importlib.import_module("locations.migrations.0004_contact_phone_e164_email_channel")


@pytest.fixture
def contact(site):
    return factories.ContactFactory(site=site, name="Pak Darto", phone="+62 812 1111 2222")


def _login(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


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
    data = {
        "kind": site.kind,
        "name": site.name,
        "kelurahan": site.kelurahan_id,
        "point": site.point.geojson,
        "address": site.address,
        "external_ref": site.external_ref or "",
        "contacts-TOTAL_FORMS": "1",
        "contacts-INITIAL_FORMS": "1",
        "contacts-0-id": contact.pk,
        "contacts-0-site": site.pk,
        "contacts-0-name": contact.name,
        "contacts-0-role": contact.role,
        "contacts-0-phone": contact.phone,
        "contacts-0-email": contact.email,
        "contacts-0-channel": contact.channel,
        "contacts-0-note": contact.note,
        "_save": "Save",
    }
    data.update({f"contacts-0-{k}": v for k, v in changes.items()})
    return data


# The services


def test_the_service_saves_the_phone_in_e164(contact):
    assert contact.phone == "+6281211112222"  # the factory's, as the services store it
    services.save_contact(contact, phone="0813 4444 5555")
    contact.refresh_from_db()
    assert contact.phone == "+6281344445555"


def test_the_service_refuses_what_is_no_phone_number_and_saves_nothing(contact):
    with pytest.raises(ValidationError) as refused:
        services.save_contact(contact, phone="call me")
    assert list(refused.value.message_dict) == ["phone"]
    assert "digits, spaces, dashes and dots only" in refused.value.message_dict["phone"][0]
    contact.refresh_from_db()
    assert contact.phone == "+6281211112222"


def test_the_same_number_written_otherwise_keeps_the_verification(contact, province_staff):
    services.verify_contact(contact, "verified", by=province_staff)
    contact.refresh_from_db()
    services.save_contact(contact, phone="0812-1111-2222", by=province_staff)
    contact.refresh_from_db()
    assert contact.verification_status == "verified"


def test_messages_by_email_need_an_email(contact):
    with pytest.raises(ValidationError) as refused:
        services.save_contact(contact, channel="email")
    assert list(refused.value.message_dict) == ["channel"]
    services.save_contact(contact, channel="email", email="darto@warga.test")
    contact.refresh_from_db()
    assert (contact.channel, contact.email) == ("email", "darto@warga.test")


def test_a_new_contact_is_reached_by_whatsapp_unless_told_otherwise(site):
    contact = services.save_contact(
        ContactPerson(site=site, name="Bu Sari", role="other", phone="0857 1234 5678")
    )
    assert (contact.channel, contact.email, contact.phone) == ("whatsapp", "", "+6285712345678")


def test_contacts_created_together_are_saved_in_e164(site):
    services.create_contacts(
        [
            ContactPerson(site=site, name="A", role="other", phone="0812-3456-7890"),
            ContactPerson(site=site, name="B", role="other", phone="+62 21 5555 1234"),
        ],
        reason="test",
    )
    assert sorted(ContactPerson.objects.values_list("phone", flat=True)) == [
        "+622155551234",
        "+6281234567890",
    ]
    assert {h.phone for h in ContactPerson.history.all()} == {"+622155551234", "+6281234567890"}


def test_contacts_created_together_refuse_a_bad_number(site):
    with pytest.raises(ValidationError):
        services.create_contacts(
            [ContactPerson(site=site, name="A", role="other", phone="0812")], reason="test"
        )
    assert not ContactPerson.objects.exists()


# The admin


def test_the_contacts_page_saves_the_phone_in_e164_and_shows_it_internationally(
    staff_client, contact
):
    url = admin_url(ContactPerson, "change", contact.pk)
    response = staff_client.post(url, _contact_form(contact, phone="0813-4444-5555"))
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.phone == "+6281344445555"
    assert 'value="+62 813-4444-5555"' in staff_client.get(url).content.decode()


@pytest.mark.parametrize(
    ("phone", "error"),
    [
        ("call me", "digits, spaces, dashes and dots only"),
        ("0812", "No phone number has these digits"),
        ("0812 3456 7890 1234 5678", "No phone number has these digits"),
        ("", "This field is required."),
    ],
)
def test_the_contacts_page_shows_a_bad_number_as_the_fields_error(
    staff_client, contact, phone, error
):
    staff_client.cookies["django_language"] = "en"
    response = staff_client.post(
        admin_url(ContactPerson, "change", contact.pk), _contact_form(contact, phone=phone)
    )
    assert response.status_code == 200
    assert error in " ".join(response.context["adminform"].form.errors["phone"])
    contact.refresh_from_db()
    assert contact.phone == "+6281211112222"


def test_the_contacts_page_asks_for_an_email_before_messages_go_by_email(staff_client, contact):
    staff_client.cookies["django_language"] = "en"
    url = admin_url(ContactPerson, "change", contact.pk)
    response = staff_client.post(url, _contact_form(contact, channel="email"))
    assert response.status_code == 200
    assert "an e-mail address" in " ".join(response.context["adminform"].form.errors["channel"])
    response = staff_client.post(
        url, _contact_form(contact, channel="email", email="darto@warga.test")
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.channel, contact.email) == ("email", "darto@warga.test")


def test_the_sites_page_saves_its_contacts_phones_in_e164(staff_client, contact):
    site = contact.site
    response = staff_client.post(
        admin_url(type(site), "change", site.pk), _site_form(site, contact, phone="0813 4444 5555")
    )
    assert response.status_code == 302, response.context and response.context["errors"]
    contact.refresh_from_db()
    assert contact.phone == "+6281344445555"


def test_the_sites_page_shows_a_bad_number_as_the_contacts_error(staff_client, contact):
    staff_client.cookies["django_language"] = "en"
    site = contact.site
    response = staff_client.post(
        admin_url(type(site), "change", site.pk), _site_form(site, contact, phone="0812-CALL-NOW")
    )
    assert response.status_code == 200
    (formset,) = response.context["inline_admin_formsets"]
    assert "digits, spaces, dashes and dots only" in str(formset.formset.errors[0]["phone"])
    contact.refresh_from_db()
    assert contact.phone == "+6281211112222"


def test_staff_who_may_not_see_the_email_cannot_send_messages_to_no_email(contact):
    """The e-mail field leaves the form of staff without the personal-data right; choosing the
    e-mail channel for a contact without one is the channel's error, not a server error."""
    user = factories.UserFactory(username="tanpa.data.pribadi", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="locations",
            codename__in=["view_contactperson", "change_contactperson", "view_site"],
        )
    )
    StaffArea.objects.create(user=user, region=Region.objects.get(code="31.71.01.1001"))
    client = _login(user)
    url = admin_url(ContactPerson, "change", contact.pk)
    form = client.get(url).context["adminform"].form
    assert "email" not in form.fields and "phone" not in form.fields
    data = {k: v for k, v in _contact_form(contact, channel="email").items() if k != "phone"}
    response = client.post(url, data)
    assert response.status_code == 200
    assert "an e-mail address" in " ".join(response.context["adminform"].form.errors["channel"])
    contact.refresh_from_db()
    assert contact.channel == "whatsapp"


# The e-mail is personal data, as the phone is


def test_a_contacts_email_is_shown_only_to_who_may_see_it_and_each_showing_recorded(
    kelurahan_officer, site
):
    contact = factories.ContactFactory(site=site, email="darto.rahasia@warga.test")
    contact.email = "darto.baru@warga.test"
    contact.save()
    version = contact.history.order_by("history_id").first()
    from django.urls import reverse

    pages = [
        admin_url(ContactPerson, "change", contact.pk),
        admin_url(type(site), "change", site.pk),
        admin_url(ContactPerson, "history", contact.pk),
        reverse(
            "admin:locations_contactperson_simple_history", args=[contact.pk, version.history_id]
        ),
    ]
    auditor = factories.UserFactory(username="auditor.gambir", is_staff=True)
    auditor.groups.add(Group.objects.get(name=AUDITOR_GROUP))
    StaffArea.objects.create(user=auditor, region=Region.objects.get(code="31.71.01.1001"))
    for url in [*pages, admin_url(ContactPerson, "changelist")]:
        html = _login(auditor).get(url).content.decode()
        assert "darto." not in html and display(contact.phone) not in html, url
    assert not PersonalDataView.objects.exists()

    officer = _login(kelurahan_officer)
    assert "darto.baru@warga.test" in officer.get(pages[0]).content.decode()
    assert "darto.baru@warga.test" in officer.get(pages[1]).content.decode()
    assert "darto.rahasia@warga.test" in officer.get(pages[3]).content.decode()
    assert "darto." not in officer.get(admin_url(ContactPerson, "changelist")).content.decode()
    # The contact's page, the site's page, the version: one each.
    assert PersonalDataView.objects.filter(object_id=str(contact.pk)).count() == 3


def test_a_contacts_email_is_exported_only_with_the_right(province_staff, kelurahan_officer, site):
    factories.ContactFactory(site=site, email="darto@warga.test")
    data = {
        "action": "export_csv",
        "_selected_action": list(ContactPerson.objects.values_list("pk", flat=True)),
    }
    url = admin_url(ContactPerson, "changelist")
    with_right = b"".join(_login(province_staff).post(url, data).streaming_content).decode()
    assert "darto@warga.test" in with_right and "channel" in with_right.splitlines()[0]
    without = b"".join(_login(kelurahan_officer).post(url, data).streaming_content).decode()
    assert "darto@warga.test" not in without and "email" not in without.splitlines()[0]


# The numbers written before


@pytest.mark.parametrize(
    ("written", "e164"),
    [
        ("+62 812 1111 2222", "+6281211112222"),  # the old pattern's usual form
        ("0812-1111-2222", "+6281211112222"),
        ("0812.1111.2222", "+6281211112222"),
        ("62 812 1111 2222", "+6281211112222"),
        ("+62 21 5555 1234", "+622155551234"),
        ("+1 202 555 0123", "+12025550123"),
        # Numbers the library does not know keep their digits.
        ("0899 0000 0000", "+6289900000000"),
        ("+62 899 0000 0000", "+6289900000000"),
        ("62 899 0000 0000", "+6289900000000"),
        ("+999 1234567", "+9991234567"),
        ("0812345", "+62812345"),
        # Nothing to make a number of.
        ("12", None),
        ("0" * 20, None),
        ("+62 812 3456 7890 1234 5678", None),
    ],
)
def test_the_migration_normalises_the_numbers_written_before(written, e164):
    assert migration.normalised(written) == e164


def _without_the_e164_constraint():
    # Rolled back with the test: PostgreSQL's DDL is transactional. The factories' rows are checked
    # first (their foreign keys' checks wait for the commit, and no table alters while they wait).
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE locations_contactperson DROP CONSTRAINT contact_phone_e164")


def _set_phone(contact, phone):
    ContactPerson.objects.filter(pk=contact.pk).update(phone=phone)


def test_the_migration_rewrites_every_contacts_phone(site):
    a, b, c = (factories.ContactFactory(site=site) for _ in range(3))
    _without_the_e164_constraint()
    _set_phone(a, "0812-1111-2222")
    _set_phone(b, "+62 899 0000 0000")
    migration.normalise_phones(apps, None)
    phones = dict(ContactPerson.objects.values_list("pk", "phone"))
    assert phones == {a.pk: "+6281211112222", b.pk: "+6289900000000", c.pk: c.phone}


def test_the_migration_names_the_contacts_whose_phone_is_no_number(site):
    a, b = factories.ContactFactory(site=site), factories.ContactFactory(site=site)
    _without_the_e164_constraint()
    _set_phone(a, "12")
    _set_phone(b, "0812-1111-2222")
    with pytest.raises(RuntimeError, match=f"contact ids {a.pk}"):
        migration.normalise_phones(apps, None)
