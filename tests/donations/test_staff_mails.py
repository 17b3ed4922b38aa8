"""The donor is mailed (through the outbox), in the language they pledged in, when their pledge is scheduled and at each
delivery: donations.services queues the mails, so every caller sends them."""

import datetime

from donations import services
from donations.models import OutboundMail
from tests import factories
from tests.helpers import schedule


def test_the_donor_is_mailed_at_schedule_and_at_each_delivery(need, donor, province_staff):
    pledge = services.pledge(need=need, collaborator=donor, quantity=40)
    pledge.language = "en"
    pledge.save(update_fields=["language"])
    OutboundMail.objects.all().delete()
    schedule(pledge, by=province_staff, on=datetime.date(2020, 10, 30))
    (scheduled,) = OutboundMail.objects.order_by("pk")
    assert scheduled.to == "csr@majubersama.test"
    assert "is scheduled" in scheduled.subject
    assert f"/komitmen/{pledge.token}/" in scheduled.body

    staff = services.Actor.staff(province_staff)
    opd = factories.OpdFactory()
    on = datetime.date(2020, 10, 30)
    services.record_delivery(pledge, quantity=10, delivered_on=on, opd=opd, actor=staff)
    services.record_delivery(pledge, quantity=30, delivered_on=on, opd=opd, actor=staff)
    partial, full = OutboundMail.objects.order_by("pk")[1:]
    assert "was delivered" in partial.subject
    assert "So far 10 of 40 are delivered." in partial.body
    assert "Satpol PP Jakarta Pusat" in partial.body
    assert "Your whole pledge is now delivered." in full.body


def test_a_donor_who_pledged_in_indonesian_is_mailed_in_indonesian(need, donor, province_staff):
    pledge = services.pledge(need=need, collaborator=donor, quantity=40)
    OutboundMail.objects.all().delete()
    schedule(pledge, by=province_staff)
    assert "dijadwalkan" in OutboundMail.objects.get().subject
