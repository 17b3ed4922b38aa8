"""Hostile text in mails: the portal's mails are plain text, so a name, title or reason reaches the
reader exactly as typed (never HTML-escaped into "&lt;…", never rendered), there is no HTML part to
run it in, and no text can add a header."""

import datetime

import pytest
from django.core import mail as django_mail

from donations import mail, services
from donations.models import OutboundMail, Pledge
from locations.models import Site
from needs.models import AidType, Need
from tests import factories
from tests.helpers import schedule
from tests.security.markup import ALL_IN_ONE

HTML_ENTITIES = ("&lt;", "&gt;", "&quot;", "&#x27;", "&#39;", "&amp;")


@pytest.fixture
def every_mail(need, kelurahan_officer, province_staff, settings, client):
    """Each of the portal's mails, about a need, site, aid type and OPD whose names are hostile,
    for a donor whose name and message are, with a hostile reason where staff give one."""
    settings.KSBB_PLEDGE_RATE_PER_ADDRESS = "1000/h"
    Need.objects.filter(pk=need.pk).update(title=ALL_IN_ONE)
    Site.objects.filter(pk=need.site_id).update(name=ALL_IN_ONE, address=ALL_IN_ONE)
    AidType.objects.filter(pk=need.aid_type_id).update(unit=ALL_IN_ONE[:30])
    factories.OpdFactory(name=ALL_IN_ONE)
    for n, email in enumerate(["a@donor.test", "b@donor.test", "c@donor.test"]):
        client.post(
            f"/kebutuhan/{need.pk}/dukung/",
            {
                "public_name": f"{ALL_IN_ONE} {n}",
                "kind": "individual",
                "email": email,
                "quantity": 10,
                "message": ALL_IN_ONE,
                "show_name": "on",
            },
        )
    delivered, handed_over, reminded = Pledge.objects.order_by("pk")
    schedule(delivered, by=province_staff)
    services.record_delivery(
        delivered,
        quantity=10,
        delivered_on=datetime.date(2020, 10, 30),
        opd=factories.OpdFactory(name=ALL_IN_ONE),
        actor=services.Actor.staff(province_staff),
        note=ALL_IN_ONE,
    )
    services.expire_early(
        handed_over, actor=services.Actor.staff(province_staff), reason=ALL_IN_ONE
    )
    services.run_holds(
        now=Pledge.objects.get(pk=reminded.pk).hold_until - datetime.timedelta(hours=1)
    )
    return OutboundMail.objects.order_by("pk")


def test_every_mail_carries_the_text_as_typed(every_mail):
    # Three pledges mailed to donor and area staff, then scheduled, delivered, handed over (donor
    # and staff told) and reminded: every template the portal has.
    assert every_mail.count() == 11
    for message in every_mail:
        text = message.subject + "\n" + message.body
        assert ALL_IN_ONE in message.body or ALL_IN_ONE[:30] in message.body, message.subject
        for entity in HTML_ENTITIES:
            assert entity not in text, (message.subject, entity)
        assert "\n" not in message.subject and "\r" not in message.subject


def test_a_subject_shows_the_title_as_typed(every_mail):
    donor_mails = every_mail.exclude(to__endswith="@example.test")
    assert donor_mails.exists()
    for message in donor_mails:
        assert ALL_IN_ONE in message.subject, message.subject


def test_the_mails_sent_are_plain_text_only(every_mail, mailoutbox):
    sent, failed = mail.deliver_queued(due_only=False)
    assert (sent, failed) == (len(every_mail), 0)
    for message in django_mail.outbox:
        assert message.content_subtype == "plain"
        assert getattr(message, "alternatives", []) == []
        assert message.message().get_content_type() == "text/plain"


def test_a_title_cannot_add_a_header(need, donor, mailoutbox):
    Need.objects.filter(pk=need.pk).update(title="Sembako\r\nBcc: evil@attacker.test\r\n\r\nhi")
    pledge = services.pledge(need=need, collaborator=donor, quantity=5)
    mail.queue(donor.email, "pledge_created", {"pledge": pledge}, pledge=pledge)
    mail.deliver_queued(due_only=False)
    (message,) = django_mail.outbox
    sent = message.message()
    assert sent["Bcc"] is None
    assert "\n" not in message.subject and "\r" not in message.subject
    assert message.recipients() == [donor.email]
