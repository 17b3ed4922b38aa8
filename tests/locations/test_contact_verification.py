"""Staff record what they found when they called a contact person: verified, unreachable, or
replaced by another contact at the same site; who, when and a note, with a history row each time."""

import pytest
from django.test import Client

from locations.models import ContactPerson
from tests import factories
from tests.helpers import admin_url

CHANGELIST = admin_url(ContactPerson, "changelist")


@pytest.fixture
def contacts(site):
    """Pak Rahmat, the RW head, and Bu Sari, his deputy, neither called yet."""
    return (
        factories.ContactFactory(site=site, name="Pak Rahmat"),
        factories.ContactFactory(site=site, name="Bu Sari"),
    )


@pytest.fixture
def officer(kelurahan_officer):
    client = Client()
    client.force_login(kelurahan_officer)
    return client


def _act(client, action, contacts, **data):
    return client.post(
        CHANGELIST, {"action": action, "_selected_action": [c.pk for c in contacts], **data}
    )


def test_verifying_asks_for_a_note_then_records_who_when_and_the_note(
    officer, contacts, kelurahan_officer
):
    page = _act(officer, "mark_verified", contacts[:1])
    assert page.templates[0].name == "admin/ksbb_action_form.html"
    _act(officer, "mark_verified", contacts[:1], apply="1", note="Dihubungi, benar Ketua RW")
    rahmat = ContactPerson.objects.get(pk=contacts[0].pk)
    assert rahmat.verification_status == "verified"
    assert rahmat.verified_by == kelurahan_officer and rahmat.verified_at is not None
    assert rahmat.note == "Dihubungi, benar Ketua RW"
    last = rahmat.history.latest()
    assert (last.verification_status, last.history_user, last.history_change_reason) == (
        "verified",
        kelurahan_officer,
        "Dihubungi, benar Ketua RW",
    )
    assert last.prev_record.verification_status == "unverified"


def test_marking_unreachable_in_bulk(officer, contacts):
    _act(officer, "mark_unreachable", contacts, apply="1")
    assert {c.verification_status for c in ContactPerson.objects.all()} == {"unreachable"}


def test_a_contact_is_replaced_only_by_another_at_the_same_site(officer, contacts, jakarta):
    rahmat, sari = contacts
    elsewhere = factories.ContactFactory(name="Pak Joko")
    form = _act(officer, "mark_replaced", [rahmat]).context["form"]
    assert list(form.fields["replaced_by"].queryset) == [sari]
    refused = _act(officer, "mark_replaced", [rahmat], apply="1", replaced_by=elsewhere.pk)
    assert "replaced_by" in refused.context["form"].errors
    _act(officer, "mark_replaced", [rahmat], apply="1", replaced_by=sari.pk)
    rahmat.refresh_from_db()
    assert (rahmat.verification_status, rahmat.replaced_by) == ("replaced", sari)


def test_the_contacts_history_page_lists_its_changes(officer, contacts):
    _act(officer, "mark_verified", contacts[:1], apply="1", note="ok")
    response = officer.get(admin_url(ContactPerson, "history", contacts[0].pk))
    assert response.status_code == 200
    assert "petugas.gambir" in response.content.decode()
