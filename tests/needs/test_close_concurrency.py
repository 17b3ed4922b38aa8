"""A need closed while a donor pledges, on real connections (one per thread): the need's row lock
settles it. Exactly one order happens, the loser is told why, and the counters stay exact."""

import pytest

from donations import services as pledges
from donations.models import OutboundMail, Pledge
from donations.models import PledgeStatus as S
from locations.registry import load_regions
from needs import services
from needs.models import Need, NeedStatus
from tests import factories
from tests.concurrency import Pause, Worker, wait_until_someone_waits_for_a_lock

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def need(transactional_db):
    load_regions()
    factories.seed_categories()
    return factories.NeedFactory(quantity_needed=100)


@pytest.fixture
def staff(transactional_db):
    return pledges.Actor.staff(factories.UserFactory(username="provinsi", is_staff=True))


def _close(need, staff):
    return pledges.close_need(need, actor=staff, reason="Periode selesai", keep_scheduled=False)


def test_closed_first_the_pledge_waiting_on_the_lock_is_refused(need, staff, monkeypatch):
    donor = factories.CollaboratorFactory()
    pause = Pause(monkeypatch, services, "_attribute")  # close holds the need's lock here
    closing = pause.start(Worker(lambda: _close(need, staff)))
    pledging = Worker(lambda: pledges.pledge(need=need, collaborator=donor, quantity=10))
    pledging.start()
    wait_until_someone_waits_for_a_lock()
    pause.release.set()
    closing.finish(), pledging.finish()

    assert pledging.error is not None
    assert pledging.error.message == "This need no longer accepts pledges."
    assert not Pledge.objects.exists()
    need.refresh_from_db()
    assert (need.status, need.quantity_pledged) == (NeedStatus.CLOSED, 0)
    assert not pledges.counter_mismatches().exists()


def test_pledged_first_the_closing_waits_and_then_cancels_that_pledge_too(need, staff, monkeypatch):
    donor = factories.CollaboratorFactory()
    pause = Pause(monkeypatch, pledges, "_record")  # the pledge holds the need's lock here
    pledging = pause.start(
        Worker(lambda: pledges.pledge(need=need, collaborator=donor, quantity=10))
    )
    closing = Worker(lambda: _close(need, staff))
    closing.start()
    wait_until_someone_waits_for_a_lock()
    pause.release.set()
    pledging.finish(), closing.finish()

    assert pledging.error is None and closing.error is None
    pledge = Pledge.objects.get()
    assert pledge.status == S.CANCELLED
    assert [p.pk for p in closing.result] == [pledge.pk]
    told = OutboundMail.objects.get(to=donor.email)  # the donor is told kindly, once
    assert need.title in told.subject and "Periode selesai" in told.body
    need.refresh_from_db()
    assert (need.status, need.quantity_pledged) == (NeedStatus.CLOSED, 0)
    assert not pledges.counter_mismatches().exists()


def test_a_quantity_lowered_while_a_donor_pledges_never_undercuts_the_pledge(
    need, staff, monkeypatch
):
    donor = factories.CollaboratorFactory()
    pause = Pause(monkeypatch, pledges, "_record")
    pledging = pause.start(
        Worker(lambda: pledges.pledge(need=need, collaborator=donor, quantity=60))
    )
    lowering = Worker(lambda: services.update(need, by=staff.user, quantity_needed=50))
    lowering.start()
    wait_until_someone_waits_for_a_lock()
    pause.release.set()
    pledging.finish(), lowering.finish()

    assert lowering.error is not None and "60 are already pledged" in lowering.error.message
    assert Need.objects.get(pk=need.pk).quantity_needed == 100
    assert not pledges.counter_mismatches().exists()
