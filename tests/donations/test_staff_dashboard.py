"""The staff dashboard: pledges waiting per status, overdue, deliveries this week, and sites with
open pledges but no verified contact, within the staff member's areas."""

import datetime

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from donations import services
from donations.models import Pledge
from needs.models import Need
from tests import factories
from tests.helpers import schedule

DASHBOARD = reverse("admin:donations_pledge_dashboard")


def test_the_dashboard_counts_what_waits_in_the_officers_area(
    need, donor, province_staff, kelurahan_officer, other_area_officer
):
    old = services.pledge(need=need, collaborator=donor, quantity=10)
    Pledge.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=9))
    services.pledge(need=need, collaborator=factories.CollaboratorFactory(), quantity=10)
    delivered = schedule(
        services.pledge(need=need, collaborator=factories.CollaboratorFactory(), quantity=5),
        by=province_staff,
    )
    services.record_delivery(
        delivered,
        quantity=2,
        delivered_on=timezone.localdate(),
        opd=factories.OpdFactory(),
        actor=services.Actor.staff(province_staff),
    )
    unverified = factories.NeedFactory(site=factories.SiteFactory(name="RW 03"))
    services.pledge(need=unverified, collaborator=donor, quantity=1)

    officer = Client()
    officer.force_login(kelurahan_officer)
    ctx = officer.get(DASHBOARD).context
    assert [(s.value, n) for s, n in ctx["waiting"]] == [
        ("submitted", 3),
        ("confirmed", 0),
        ("scheduled", 1),
    ]
    assert ctx["overdue"] == 1
    assert ctx["deliveries_this_week"] == 1
    assert [s.name for s in ctx["unverified_sites"]] == ["RW 03"]
    assert ctx["deliveries_awaiting"] == 1 and ctx["deliveries_unconfirmed"] == 0
    assert ctx["needs_awaiting"] == ctx["needs_paused"] == ctx["open_disputes"] == 0

    # The recipients' side: a stale need, a paused one, a dispute.
    Need.objects.filter(pk=unverified.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=31)
    )
    Need.objects.filter(pk=need.pk).update(created_at=timezone.now() - datetime.timedelta(days=90))
    services.record_receipt(
        delivered.deliveries.get(), contact=None, outcome="not_received", note="Belum datang"
    )
    ctx = officer.get(DASHBOARD).context
    assert (ctx["needs_awaiting"], ctx["needs_paused"], ctx["open_disputes"]) == (1, 1, 1)
    assert ctx["deliveries_awaiting"] == 0

    outsider = Client()
    outsider.force_login(other_area_officer)
    ctx = outsider.get(DASHBOARD).context
    assert ctx["overdue"] == 0 and list(ctx["unverified_sites"]) == []
    assert (ctx["needs_awaiting"], ctx["needs_paused"], ctx["open_disputes"]) == (0, 0, 0)


def test_the_admin_index_links_to_the_dashboard(staff_client):
    assert DASHBOARD in staff_client.get("/admin/").content.decode()
