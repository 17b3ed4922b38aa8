"""Hand-over: staff end a stalled pledge's hold early, with a reason, so another collaborator can take
its quantity. Through donations.services.expire_early, audited, limited to the staff member's areas,
announced to the donor and the area's staff. And the queue shows each hold's deadline."""

import datetime

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from donations import services
from donations.models import OutboundMail, Pledge, PledgeEvent
from donations.models import PledgeStatus as S
from needs.models import Need
from tests import factories
from tests.helpers import admin_url, schedule

CHANGELIST = admin_url(Pledge, "changelist")
DASHBOARD = "/admin/donations/pledge/dashboard/"
REASON = "Donatur tidak bisa dihubungi sejak seminggu; kebutuhan diserahkan ke donatur lain."


def _english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _hand_over(client, pledges, **data):
    return client.post(
        CHANGELIST,
        {"action": "hand_over_pledges", "_selected_action": [p.pk for p in pledges], **data},
        follow=True,
    )


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)] or [
        str(m) for m in response.context["messages"]
    ]


@pytest.fixture
def stalled(need, donor):
    """PT Maju Bersama's 60 packages for the Gambir need, pledged and then silence."""
    return services.pledge(need=need, collaborator=donor, quantity=60)


@pytest.fixture
def officer(client, kelurahan_officer):
    client.force_login(kelurahan_officer)
    return _english(client)


def test_the_action_asks_for_a_reason_first(officer, stalled):
    response = _hand_over(officer, [stalled])
    assert response.templates[0].name == "admin/ksbb_action_form.html"
    assert response.context["form"].fields["reason"].required


@pytest.mark.parametrize("reason", ["", "   "])
def test_without_a_reason_nothing_changes(officer, stalled, reason):
    response = _hand_over(officer, [stalled], apply="1", reason=reason)
    assert response.templates[0].name == "admin/ksbb_action_form.html"
    assert response.context["form"].errors["reason"]
    assert Pledge.objects.get(pk=stalled.pk).status == S.SUBMITTED
    assert Need.objects.get(pk=stalled.need_id).quantity_pledged == 60


def test_the_area_officer_hands_over_a_stalled_pledge_and_it_is_audited(
    officer, kelurahan_officer, stalled
):
    OutboundMail.objects.all().delete()
    response = _hand_over(officer, [stalled], apply="1", reason=REASON)
    assert f"1 pledge is now Expired: #{stalled.pk}." in _messages(response)

    pledge = Pledge.objects.get(pk=stalled.pk)
    assert (pledge.status, pledge.status_reason) == (S.EXPIRED, REASON)
    event = PledgeEvent.objects.filter(pledge=pledge).last()
    assert (event.from_status, event.to_status, event.actor, event.actor_label, event.reason) == (
        "submitted",
        "expired",
        kelurahan_officer,
        "staff",
        REASON,
    )
    need = Need.objects.get(pk=stalled.need_id)
    assert need.quantity_pledged == 0
    last = need.history.first()  # django-simple-history: who moved the counter, and why
    assert last.history_user == kelurahan_officer
    assert last.history_change_reason.startswith(f"Pledge #{pledge.pk} handed over")
    assert not services.counter_mismatches().exists()


def test_the_donor_and_the_areas_staff_are_told(officer, kelurahan_officer, stalled):
    OutboundMail.objects.all().delete()
    _hand_over(officer, [stalled], apply="1", reason=REASON)
    donor_mail = OutboundMail.objects.get(to="csr@majubersama.test")
    assert REASON in donor_mail.body and f"/kebutuhan/{stalled.need_id}/" in donor_mail.body
    staff_mail = OutboundMail.objects.get(to=kelurahan_officer.email)
    assert "petugas.gambir" in staff_mail.body  # who handed it over
    assert REASON in staff_mail.body and "60 paket" in staff_mail.body


def test_another_areas_officer_cannot_hand_it_over(client, other_area_officer, stalled):
    client.force_login(other_area_officer)
    _hand_over(_english(client), [stalled], apply="1", reason=REASON)
    assert Pledge.objects.get(pk=stalled.pk).status == S.SUBMITTED
    assert Need.objects.get(pk=stalled.need_id).quantity_pledged == 60
    assert not PledgeEvent.objects.filter(pledge=stalled, to_status=S.EXPIRED).exists()


def test_an_auditor_cannot_hand_over(client, jakarta, stalled):
    from django.contrib.auth.models import Group

    auditor = factories.UserFactory(username="auditor", is_staff=True)
    auditor.groups.add(Group.objects.get(name="Auditor"))
    client.force_login(auditor)
    _hand_over(_english(client), [stalled], apply="1", reason=REASON)
    assert Pledge.objects.get(pk=stalled.pk).status == S.SUBMITTED


def test_a_delivered_pledge_is_refused_by_name_and_the_others_proceed(
    staff_client, province_staff, need, stalled
):
    other = services.pledge(need=need, collaborator=factories.CollaboratorFactory(), quantity=5)
    schedule(other, by=province_staff)
    services.record_delivery(
        other,
        quantity=5,
        delivered_on=datetime.date(2020, 10, 26),
        opd=factories.OpdFactory(),
        actor=services.Actor.staff(province_staff),
    )
    response = _hand_over(_english(staff_client), [stalled, other], apply="1", reason=REASON)
    messages = _messages(response)
    assert (
        f"Pledge #{other.pk} is Delivered: only a pledge that holds its quantity is handed over."
        in messages
    )
    assert f"1 pledge is now Expired: #{stalled.pk}." in messages
    assert Pledge.objects.get(pk=other.pk).status == S.DELIVERED


def test_the_service_refuses_a_blank_reason(stalled, province_staff):
    with pytest.raises(services.PledgeError):
        services.expire_early(stalled, actor=services.Actor.staff(province_staff), reason=" ")
    assert Pledge.objects.get(pk=stalled.pk).status == S.SUBMITTED


def test_the_pledges_page_offers_the_hand_over_while_it_holds(staff_client, stalled):
    page = staff_client.get(admin_url(Pledge, "change", stalled.pk)).content.decode()
    assert 'value="hand_over_pledges"' in page
    services.cancel(stalled)
    page = staff_client.get(admin_url(Pledge, "change", stalled.pk)).content.decode()
    assert 'value="hand_over_pledges"' not in page


# The queue: each hold's deadline, a filter by it, and the dashboard's count


@pytest.fixture
def deadlines(need, donor):
    """Three pledges whose holds ended an hour ago, end in two hours, and end in three days."""
    now = timezone.now()
    made = {}
    for name, delta in [
        ("past", -datetime.timedelta(hours=1)),
        ("soon", datetime.timedelta(hours=2)),
        ("later", datetime.timedelta(days=3)),
    ]:
        p = services.pledge(need=need, collaborator=factories.CollaboratorFactory(), quantity=5)
        Pledge.objects.filter(pk=p.pk).update(hold_until=now + delta)
        made[name] = p.pk
    return made


def _listed(client, **params):
    return sorted(p.pk for p in client.get(CHANGELIST, params).context["cl"].result_list)


@pytest.mark.parametrize(
    ("window", "name"), [("past", "past"), ("24h", "soon"), ("later", "later")]
)
def test_the_queue_filters_by_deadline(staff_client, deadlines, window, name):
    assert _listed(staff_client, deadline=window) == [deadlines[name]]


def test_a_closed_pledge_is_in_no_deadline_window(staff_client, deadlines):
    services.cancel(Pledge.objects.get(pk=deadlines["past"]))
    assert _listed(staff_client, deadline="past") == []


def test_the_queue_shows_the_deadline_and_flags_it(staff_client, deadlines):
    html = _english(staff_client).get(CHANGELIST).content.decode()
    assert "held until" in html.lower()  # the column
    soon = Pledge.objects.get(pk=deadlines["soon"])
    assert timezone.localtime(soon.hold_until).strftime("%Y-%m-%d %H:%M") in html
    assert "past deadline" in html and "deadline within 24 h" in html


def test_the_dashboard_counts_holds_ending_within_a_day_in_the_area(
    deadlines, kelurahan_officer, other_area_officer
):
    officer = Client()
    officer.force_login(kelurahan_officer)
    assert officer.get(DASHBOARD).context["due_soon"] == 1
    outsider = Client()
    outsider.force_login(other_area_officer)
    assert outsider.get(DASHBOARD).context["due_soon"] == 0
