"""Contact persons are told, by the worker and once only, of a hand-over scheduled at their site,
and reminded a few days before a need of theirs awaits reconfirmation, with a new private link."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from donations import services as donation_services
from needs import services as need_services
from needs.models import Need
from recipients import notices, services
from recipients.messaging import LocmemBackend
from recipients.models import ContactLink, ContactNotice, OutboundMessage
from tests.helpers import schedule

pytestmark = pytest.mark.django_db


def _sent(capture):
    with capture(execute=True):
        return notices.tell_contacts()


def test_a_scheduled_hand_over_is_told_once(
    contact, need, donor, province_staff, django_capture_on_commit_callbacks
):
    pledge = schedule(
        donation_services.pledge(need=need, collaborator=donor, quantity=40),
        province_staff,
        on=timezone.localdate() + datetime.timedelta(days=2),
    )
    told = _sent(django_capture_on_commit_callbacks)
    assert told.handovers >= 1
    mine = [m for m in LocmemBackend.outbox if m["to"] == "+6281211112222"]
    assert len(mine) == 1 and "PT Maju Bersama" in mine[0]["body"] and "40" in mine[0]["body"]
    assert ContactNotice.objects.get(contact=contact, pledge=pledge).message.sent_at
    assert _sent(django_capture_on_commit_callbacks).handovers == 0  # once
    assert len([m for m in LocmemBackend.outbox if m["to"] == "+6281211112222"]) == 1


def test_a_rescheduled_hand_over_is_told_again_with_its_opd(
    contact, need, donor, province_staff, django_capture_on_commit_callbacks
):
    from tests import factories

    soon = timezone.localdate() + datetime.timedelta(days=2)
    pledge = schedule(
        donation_services.pledge(need=need, collaborator=donor, quantity=40),
        province_staff,
        on=soon,
    )
    first = _sent(django_capture_on_commit_callbacks).handovers  # one per verified contact
    opd = factories.OpdFactory(name="Kelurahan Gambir")
    donation_services.transition(
        pledge,
        "scheduled",
        actor=donation_services.Actor.staff(province_staff),
        scheduled_for=soon + datetime.timedelta(days=1),
        scheduled_opd=opd,
    )
    assert _sent(django_capture_on_commit_callbacks).handovers == first
    mine = [m["body"] for m in LocmemBackend.outbox if m["to"] == "+6281211112222"]
    assert len(mine) == 2 and "Kelurahan Gambir" in mine[1] and "Kelurahan Gambir" not in mine[0]
    assert ContactNotice.objects.filter(contact=contact, pledge=pledge).count() == 2
    assert _sent(django_capture_on_commit_callbacks).handovers == 0


def test_a_past_hand_over_is_not_told(contact, need, donor, province_staff):
    schedule(donation_services.pledge(need=need, collaborator=donor, quantity=40), province_staff)
    assert notices.tell_contacts().handovers == 0  # scheduled for 2020


def test_a_reminder_comes_a_few_days_before_with_a_new_link(
    contact, need, settings, django_capture_on_commit_callbacks
):
    settings.KSBB_RECONFIRM_REMINDER_DAYS = 3
    assert _sent(django_capture_on_commit_callbacks).reminders == 0  # Pangan: 30 days away
    Need.objects.filter(pk=need.pk).update(created_at=timezone.now() - datetime.timedelta(days=28))
    assert _sent(django_capture_on_commit_callbacks).reminders == 1
    [message] = [m for m in LocmemBackend.outbox if "/narahubung/" in m["body"]]
    assert "1 kebutuhan" in message["body"] or "1 need" in message["body"]
    link = ContactLink.objects.get(contact=contact, revoked_at=None)
    assert link.messages.get().body == message["body"]
    assert _sent(django_capture_on_commit_callbacks).reminders == 0  # once per round

    # Confirmed again, the need starts a new round, 30 days later.
    need_services.confirm(need, by_contact=True)
    assert _sent(django_capture_on_commit_callbacks).reminders == 0


def test_an_unverified_contact_is_not_reminded(site, need):
    from tests import factories

    factories.ContactFactory(site=site)
    Need.objects.filter(pk=need.pk).update(created_at=timezone.now() - datetime.timedelta(days=60))
    assert notices.tell_contacts().reminders == 0
    assert not OutboundMessage.objects.exists()


def test_the_command_does_what_the_worker_does(contact, need):
    Need.objects.filter(pk=need.pk).update(created_at=timezone.now() - datetime.timedelta(days=60))
    out = StringIO()
    call_command("tell_contacts", stdout=out)
    assert out.getvalue().strip() == "0 hand-overs told, 1 reminders sent."
    call_command("tell_contacts", stdout=out)
    assert out.getvalue().strip().endswith("0 hand-overs told, 0 reminders sent.")


def test_a_reminder_replaces_the_link_the_contact_had(contact, need, province_staff, client):
    _, old = services.send_link(contact, by=province_staff)
    Need.objects.filter(pk=need.pk).update(created_at=timezone.now() - datetime.timedelta(days=60))
    notices.tell_contacts()
    assert client.get(f"/narahubung/{old}/").status_code == 410
