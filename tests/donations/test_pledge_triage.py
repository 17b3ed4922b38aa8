"""Staff triage pledges in the admin: confirm, schedule with a date, reject with a reason, one by one
or in bulk, always through donations.services.transition."""

import datetime

import pytest
from django.conf import settings
from django.contrib.messages import get_messages

from donations import services
from donations.models import Pledge, PledgeEvent
from locations.services import verify_contact
from tests import factories
from tests.helpers import admin_url

CHANGELIST = admin_url(Pledge, "changelist")


@pytest.fixture
def staff_client(staff_client):
    """The bureau, reading the admin in English (the messages are asserted in English)."""
    staff_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return staff_client


def _act(client, action, pledges, **data):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [p.pk for p in pledges], **data},
        follow=True,
    )


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)] or [
        str(m) for m in response.context["messages"]
    ]


@pytest.fixture
def pledges(need, donor, anonymous_donor):
    """Two submitted pledges on the Gambir need: 30 from PT Maju Bersama, 20 from Budi."""
    return [
        services.pledge(need=need, collaborator=donor, quantity=30),
        services.pledge(need=need, collaborator=anonymous_donor, quantity=20),
    ]


def _statuses(pledges):
    return [Pledge.objects.get(pk=p.pk).status for p in pledges]


def test_confirming_in_bulk_moves_every_selected_pledge_and_says_so(staff_client, pledges, english):
    response = _act(staff_client, "confirm_pledges", pledges)
    assert _statuses(pledges) == ["confirmed", "confirmed"]
    assert any("2 pledges are now Confirmed" in m for m in _messages(response))
    event = PledgeEvent.objects.filter(pledge=pledges[0]).last()
    assert (event.to_status, event.actor_label, event.actor.username) == (
        "confirmed",
        "staff",
        "provinsi",
    )


def test_an_illegal_transition_is_refused_by_name_and_the_others_still_proceed(
    staff_client, pledges, english
):
    services.cancel(pledges[0])
    response = _act(staff_client, "confirm_pledges", pledges)
    assert _statuses(pledges) == ["cancelled", "confirmed"]
    messages = _messages(response)
    assert f"Pledge #{pledges[0].pk} is Cancelled and cannot become Confirmed." in messages
    assert f"1 pledge is now Confirmed: #{pledges[1].pk}." in messages
    assert f"1 pledge was refused: #{pledges[0].pk}." in messages


def test_scheduling_asks_for_a_date_first(staff_client, pledges, english):
    response = _act(staff_client, "schedule_pledges", pledges)
    assert response.templates[0].name == "admin/ksbb_action_form.html"
    assert "scheduled_for" in response.context["form"].fields
    assert _statuses(pledges) == ["submitted", "submitted"]


def test_scheduling_without_a_verified_contact_is_refused_with_the_reason(
    staff_client, pledges, english
):
    _act(staff_client, "confirm_pledges", pledges)
    response = _act(
        staff_client, "schedule_pledges", pledges, apply="1", scheduled_for="2020-10-30"
    )
    assert _statuses(pledges) == ["confirmed", "confirmed"]
    assert (
        f"Pledge #{pledges[0].pk} cannot be scheduled yet: the site has no verified contact person."
        in _messages(response)
    )


def test_scheduling_with_a_verified_contact_sets_the_date(
    staff_client, pledges, province_staff, english
):
    contact = factories.ContactFactory(site=pledges[0].need.site)
    verify_contact(contact, "verified", by=province_staff)
    _act(staff_client, "confirm_pledges", pledges)
    response = _act(
        staff_client, "schedule_pledges", pledges, apply="1", scheduled_for="2020-10-30"
    )
    assert _statuses(pledges) == ["scheduled", "scheduled"]
    assert Pledge.objects.get(pk=pledges[0].pk).scheduled_for == datetime.date(2020, 10, 30)
    assert any("2 pledges are now Scheduled" in m for m in _messages(response))


def test_the_planned_opd_is_kept_and_fills_in_the_delivery_form(
    staff_client, pledges, province_staff, english
):
    from django.urls import reverse

    verify_contact(
        factories.ContactFactory(site=pledges[0].need.site), "verified", by=province_staff
    )
    opd = factories.OpdFactory(name="Sudin Sosial Jakarta Pusat")
    _act(staff_client, "confirm_pledges", pledges[:1])
    _act(
        staff_client,
        "schedule_pledges",
        pledges[:1],
        apply="1",
        scheduled_for="2020-10-30",
        opd=opd.pk,
    )
    assert Pledge.objects.get(pk=pledges[0].pk).scheduled_opd == opd
    form = staff_client.get(reverse("admin:donations_pledge_deliver", args=[pledges[0].pk]))
    assert form.context["form"].initial["opd"] == opd.pk
    response = _act(
        staff_client,
        "schedule_pledges",
        pledges[1:],
        apply="1",
        scheduled_for="2020-10-30",
        opd="x",
    )
    assert "Select a valid choice" in str(response.context["form"].errors["opd"])
    assert _statuses(pledges) == ["scheduled", "submitted"]


def test_rejecting_needs_a_reason_and_frees_the_quantity(staff_client, pledges, need, english):
    form = _act(staff_client, "reject_pledges", pledges[:1], apply="1", reason="")
    assert form.context["form"].errors["reason"]
    assert _statuses(pledges) == ["submitted", "submitted"]
    _act(staff_client, "reject_pledges", pledges[:1], apply="1", reason="Duplikat")
    rejected = Pledge.objects.get(pk=pledges[0].pk)
    assert (rejected.status, rejected.status_reason) == ("rejected", "Duplikat")
    need.refresh_from_db()
    assert need.quantity_pledged == 20


def test_a_single_pledge_is_confirmed_from_its_page_and_staff_return_there(staff_client, pledges):
    pledge = pledges[0]
    page = staff_client.get(admin_url(Pledge, "change", pledge.pk)).content.decode()
    assert 'value="confirm_pledges"' in page
    response = staff_client.post(
        CHANGELIST,
        {"action": "confirm_pledges", "_selected_action": pledge.pk, "_from_change": pledge.pk},
    )
    assert response.status_code == 302
    assert response.url == admin_url(Pledge, "change", pledge.pk)
    assert _statuses(pledges) == ["confirmed", "submitted"]


def test_the_pledge_page_shows_the_site_contacts_other_pledges_and_overlap(
    staff_client, pledges, province_staff
):
    contact = factories.ContactFactory(site=pledges[0].need.site, name="Pak Rahmat")
    verify_contact(contact, "verified", by=province_staff)
    similar = factories.NeedFactory(site=pledges[0].need.site, title="Sembako tahap 2")
    services.pledge(need=similar, collaborator=factories.CollaboratorFactory(), quantity=5)
    page = staff_client.get(admin_url(Pledge, "change", pledges[0].pk)).content.decode()
    assert "Pak Rahmat" in page and "Verified" in page
    assert f"#{pledges[1].pk}" in page
    assert "Sembako tahap 2" in page  # the overlapping need at the same site


def test_an_auditor_sees_no_triage_actions(client, pledges):
    from django.contrib.auth.models import Group

    auditor = factories.UserFactory(username="auditor", is_staff=True)
    auditor.groups.add(Group.objects.get(name="Auditor"))
    client.force_login(auditor)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert not response.context["action_form"] or "confirm_pledges" not in str(
        response.context["action_form"]
    )
    _act(client, "confirm_pledges", pledges)
    assert _statuses(pledges) == ["submitted", "submitted"]
