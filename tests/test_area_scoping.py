"""Area officers see and change only what lies in their area: in the lists, on change and history
pages (a guessed URL is a 404), through actions (a crafted selection changes nothing) and in the
autocompletes. The rule lives in locations.scoping; the bureau sees everything."""

import pytest
from django.test import Client
from django.urls import reverse

from donations import services
from donations.models import Delivery, Pledge
from locations.models import ContactPerson, Site
from needs.models import Need
from tests import factories
from tests.helpers import admin_url, schedule


@pytest.fixture
def gambir(need, donor, province_staff):
    """In Gambir: a site with a contact, a need, a pledge scheduled with 5 delivered."""
    pledge = services.pledge(need=need, collaborator=donor, quantity=10)
    pledge = schedule(pledge, by=province_staff)
    services.record_delivery(
        pledge,
        quantity=5,
        delivered_on=pledge.scheduled_for,
        opd=factories.OpdFactory(),
        actor=services.Actor.staff(province_staff),
    )
    return {
        Pledge: pledge,
        Need: need,
        Site: need.site,
        ContactPerson: need.site.contacts.get(),
        Delivery: Delivery.objects.get(),
    }


@pytest.fixture
def officer(kelurahan_officer):
    """Gambir's officer, logged in."""
    client = Client()
    client.force_login(kelurahan_officer)
    return client


@pytest.fixture
def outsider(other_area_officer):
    """Jakarta Utara's officer, logged in."""
    client = Client()
    client.force_login(other_area_officer)
    return client


MODELS = [Pledge, Need, Site, ContactPerson, Delivery]
ids = [m._meta.model_name for m in MODELS]


@pytest.mark.parametrize("model", MODELS, ids=ids)
def test_the_officer_lists_and_opens_what_lies_in_their_kelurahan(officer, gambir, model):
    listed = officer.get(admin_url(model, "changelist")).context["cl"].result_list
    assert list(listed) == [gambir[model]]
    assert officer.get(admin_url(model, "change", gambir[model].pk)).status_code == 200


@pytest.mark.parametrize("model", MODELS, ids=ids)
def test_another_areas_officer_neither_lists_nor_opens_it(outsider, gambir, model):
    assert list(outsider.get(admin_url(model, "changelist")).context["cl"].result_list) == []
    obj = gambir[model]
    assert outsider.get(admin_url(model, "change", obj.pk)).status_code == 404
    if model is not Pledge:
        assert outsider.get(admin_url(model, "history", obj.pk)).status_code == 404


def test_another_areas_officer_cannot_change_a_pledge_by_a_crafted_selection(outsider, gambir):
    pledge = gambir[Pledge]
    outsider.post(
        admin_url(Pledge, "changelist"),
        {"action": "reject_pledges", "_selected_action": [pledge.pk], "apply": "1", "reason": "x"},
    )
    assert Pledge.objects.get(pk=pledge.pk).status == "scheduled"


def test_another_areas_officer_cannot_verify_a_contact_by_a_crafted_selection(outsider, gambir):
    contact = gambir[ContactPerson]
    outsider.post(
        admin_url(ContactPerson, "changelist"),
        {"action": "mark_unreachable", "_selected_action": [contact.pk], "apply": "1"},
    )
    assert ContactPerson.objects.get(pk=contact.pk).verification_status == "verified"


def test_another_areas_officer_cannot_record_a_delivery_or_post_a_change(outsider, gambir):
    pledge, need = gambir[Pledge], gambir[Need]
    url = reverse("admin:donations_pledge_deliver", args=[pledge.pk])
    assert outsider.get(url).status_code == 404
    assert outsider.post(admin_url(Need, "change", need.pk), {"title": "x"}).status_code == 404
    assert Need.objects.get(pk=need.pk).title == need.title


def test_the_site_autocomplete_offers_only_the_officers_sites(officer, outsider, gambir):
    factories.SiteFactory(name="RW 09", kelurahan=factories.kelurahan("31.72.01.1001"))
    params = {"app_label": "needs", "model_name": "need", "field_name": "site", "term": "RW"}

    def found(client):
        return [r["text"] for r in client.get("/admin/autocomplete/", params).json()["results"]]

    assert found(officer) == [str(gambir[Site])]
    assert found(outsider) == ["RW 09 (Penjaringan)"]


def test_a_need_cannot_be_moved_to_a_site_outside_the_area(officer, gambir):
    need = gambir[Need]
    utara = factories.SiteFactory(name="RW 09", kelurahan=factories.kelurahan("31.72.01.1001"))
    response = officer.post(
        admin_url(Need, "change", need.pk),
        {
            "site": utara.pk,
            "aid_type": need.aid_type_id,
            "title": need.title,
            "quantity_needed": need.quantity_needed,
            "beneficiaries": need.beneficiaries,
            "beneficiary_kind": need.beneficiary_kind,
            "period_start": need.period_start.isoformat(),
            "published": "on",
        },
    )
    assert response.status_code == 200
    assert "site" in response.context["adminform"].form.errors
    assert Need.objects.get(pk=need.pk).site_id == gambir[Site].pk


def test_the_bureau_sees_every_area(staff_client, gambir):
    listed = staff_client.get(admin_url(Pledge, "changelist")).context["cl"].result_list
    assert list(listed) == [gambir[Pledge]]


def test_staff_without_an_area_or_a_provincial_group_see_nothing(client, gambir):
    from django.contrib.auth.models import Group

    user = factories.UserFactory(username="tanpa.wilayah", is_staff=True)
    user.groups.add(Group.objects.get(name="Area officer"))
    client.force_login(user)
    assert list(client.get(admin_url(Pledge, "changelist")).context["cl"].result_list) == []


def test_provincial_staff_see_everything_without_an_area(client, gambir):
    from django.contrib.auth.models import Group

    user = factories.UserFactory(username="biro", is_staff=True)
    user.groups.add(Group.objects.get(name="Provincial staff"))
    client.force_login(user)
    assert client.get(admin_url(Pledge, "change", gambir[Pledge].pk)).status_code == 200
