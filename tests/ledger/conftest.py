"""A history made the way the portal makes it (through the services), for the ledger to record."""

import datetime
import random

import pytest
from django.utils import timezone

from donations import services
from donations.models import PledgeStatus
from ledger import services as ledger_services
from needs import services as need_services
from tests import factories
from tests.helpers import schedule


def random_history(seed: int, staff, *, needs: int = 4, pledges: int = 12) -> None:
    """Needs published, changed, closed; pledges made, moved along, delivered; recipients' word."""
    rng = random.Random(seed)
    actor = services.Actor.staff(staff)
    site = factories.SiteFactory()
    aid_type = factories.AidTypeFactory()
    made = [
        need_services.create(
            site=site,
            aid_type=aid_type,
            title=f"Kebutuhan {i}",
            quantity_needed=rng.randint(50, 200),
            beneficiaries=rng.randint(10, 90),
            period_start=datetime.date(2020, 10, 1),
            published=rng.random() > 0.2,
            by=staff,
        )
        for i in range(needs)
    ]
    donors = [factories.CollaboratorFactory() for _ in range(5)]
    opd = factories.OpdFactory()
    for _ in range(pledges):
        need = rng.choice(made)
        need.refresh_from_db()
        if not need.published or need.quantity_remaining < 1:
            continue
        pledge = services.pledge(
            need=need,
            collaborator=rng.choice(donors),
            quantity=rng.randint(1, need.quantity_remaining),
        )
        fate = rng.choice(["stay", "cancel", "deliver", "deliver", "partly"])
        if fate == "cancel":
            services.cancel(pledge, reason="berubah pikiran")
        elif fate in ("deliver", "partly"):
            pledge = schedule(pledge, staff)
            quantity = pledge.quantity if fate == "deliver" else max(1, pledge.quantity // 2)
            delivery = services.record_delivery(
                pledge,
                quantity=quantity,
                delivered_on=timezone.localdate() - datetime.timedelta(days=1),
                opd=opd,
                actor=actor,
            )
            answer = rng.choice([None, "received", "not_received"])
            if answer == "received":
                services.record_receipt(
                    delivery,
                    contact=None,
                    outcome="received",
                    quantity_received=quantity,
                    received_by="Bu Wati",
                )
            elif answer:
                receipt = services.record_receipt(
                    delivery, contact=None, outcome=answer, note="belum sampai"
                )
                services.resolve_dispute(receipt, by=staff, resolution="diantar ulang")
    for need in made:
        need.refresh_from_db()
        if need.published and not need.quantity_pledged and rng.random() > 0.5:
            need_services.update(need, quantity_needed=need.quantity_needed + 10, by=staff)
            need_services.close(need, by=staff)
    ledger_services.seal()


@pytest.fixture
def history(jakarta, province_staff):
    random_history(17, province_staff)
    assert PledgeStatus  # the statuses the history walks through are the services' own
