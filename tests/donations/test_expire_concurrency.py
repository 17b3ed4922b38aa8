"""Expiry under concurrency, with real connections (one per thread): two runs of the job never expire
or mail a pledge twice, and an expiry racing a staff confirmation or a donor's extension is settled
by the row lock: exactly one wins and the other is told why."""

import threading

import pytest
from django.db.models import Count
from django.utils import timezone

from donations import holds, services
from donations.models import OutboundMail, Pledge, PledgeEvent
from donations.models import PledgeStatus as S
from locations.registry import load_regions
from needs.models import Need
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
    return factories.UserFactory(username="provinsi", is_staff=True, is_superuser=True)


def _pledge(need, quantity=10, **hold) -> Pledge:
    """A pledge whose hold ended a minute ago (or as `hold` says, relative to now)."""
    pledge = services.pledge(
        need=need, collaborator=factories.CollaboratorFactory(), quantity=quantity
    )
    delta = hold.get("delta", -timezone.timedelta(minutes=1))
    Pledge.objects.filter(pk=pledge.pk).update(hold_until=timezone.now() + delta)
    return Pledge.objects.get(pk=pledge.pk)


def _expiries(pledge) -> int:
    return PledgeEvent.objects.filter(pledge=pledge, to_status=S.EXPIRED).count()


def _assert_counters_hold():
    assert not services.counter_mismatches().exists()


def test_two_overlapping_runs_expire_and_mail_each_pledge_once(need, monkeypatch):
    other_needs = [factories.NeedFactory(site=need.site, quantity_needed=50) for _ in range(2)]
    pledges = [_pledge(n) for n in (need, need, *other_needs, *other_needs)]
    OutboundMail.objects.all().delete()
    now = timezone.now()
    pause = Pause(monkeypatch, holds, "rule_text")
    first = pause.start(Worker(lambda: services.run_holds(now=now)))  # holds the need's lock
    second = Worker(lambda: services.run_holds(now=now))
    second.start()
    second.finish()
    pause.release.set()
    first.finish()

    assert second.result.busy >= 1  # it met the first run's locks and passed them by
    assert first.result.expired + second.result.expired == len(pledges)
    assert all(_expiries(p) == 1 for p in pledges)
    per_donor = (
        OutboundMail.objects.filter(to__startswith="donor").values("to").annotate(n=Count("pk"))
    )
    assert sorted(row["n"] for row in per_donor) == [1] * len(pledges)
    assert Need.objects.filter(quantity_pledged__gt=0).count() == 0
    _assert_counters_hold()


def test_three_runs_started_together_expire_each_pledge_once(need):
    pledges = [_pledge(need, quantity=2) for _ in range(20)]
    OutboundMail.objects.all().delete()
    start = threading.Barrier(3)
    now = timezone.now()

    def run():
        start.wait()
        return services.run_holds(now=now)

    workers = [Worker(run) for _ in range(3)]
    for w in workers:
        w.start()
    runs = [w.finish().result for w in workers]
    # A run that met another's lock skipped it; the next minute's run would look again.
    services.run_holds(now=now)
    assert all(_expiries(p) == 1 for p in pledges)
    assert sum(r.expired for r in runs) <= len(pledges)
    assert OutboundMail.objects.filter(to__startswith="donor").count() == len(pledges)
    _assert_counters_hold()


def test_expiry_first_then_the_staff_confirmation_is_refused_with_the_reason(
    need, staff, monkeypatch
):
    pledge = _pledge(need, quantity=40)
    pause = Pause(monkeypatch, holds, "rule_text")
    job = pause.start(Worker(lambda: services.run_holds(now=timezone.now())))
    confirm = Worker(
        lambda: services.transition(pledge, S.CONFIRMED, actor=services.Actor.staff(staff))
    )
    confirm.start()
    wait_until_someone_waits_for_a_lock()
    pause.release.set()
    job.finish(), confirm.finish()

    assert job.result.expired == 1
    assert confirm.error is not None
    assert f"Pledge #{pledge.pk} expired on" in confirm.error.message
    assert "can no longer become Confirmed" in confirm.error.message
    pledge.refresh_from_db()
    assert pledge.status == S.EXPIRED and not pledge.events.filter(to_status=S.CONFIRMED).exists()
    assert Need.objects.get(pk=need.pk).quantity_pledged == 0
    _assert_counters_hold()


def test_staff_confirmation_first_then_the_job_leaves_the_pledge_alone(need, staff, monkeypatch):
    pledge = _pledge(need, quantity=40)
    pause = Pause(monkeypatch, holds, "deadline")  # transition sets the new deadline under lock
    confirm = pause.start(
        Worker(lambda: services.transition(pledge, S.CONFIRMED, actor=services.Actor.staff(staff)))
    )
    during = services.run_holds(now=timezone.now())
    pause.release.set()
    confirm.finish()
    after = services.run_holds(now=timezone.now())

    assert (during.busy, during.expired) == (1, 0)  # it did not wait: it came back next run
    assert confirm.error is None and confirm.result.status == S.CONFIRMED
    assert after.expired == 0  # confirming set a new deadline
    pledge.refresh_from_db()
    assert pledge.status == S.CONFIRMED and _expiries(pledge) == 0
    assert Need.objects.get(pk=need.pk).quantity_pledged == 40
    _assert_counters_hold()


def test_expiry_first_then_the_donors_extension_is_refused_kindly(need, monkeypatch):
    # The donor's clock says the hold still runs for an hour; the job runs with a later moment.
    pledge = _pledge(need, delta=timezone.timedelta(hours=1))
    later = timezone.now() + timezone.timedelta(hours=2)
    pause = Pause(monkeypatch, holds, "rule_text")
    job = pause.start(Worker(lambda: services.run_holds(now=later)))
    extend = Worker(lambda: services.extend_hold(pledge))
    extend.start()
    wait_until_someone_waits_for_a_lock()
    pause.release.set()
    job.finish(), extend.finish()

    assert job.result.expired == 1
    assert "Your pledge expired on" in extend.error.message
    assert "pledge again" in extend.error.message
    assert Pledge.objects.get(pk=pledge.pk).extended_at is None
    _assert_counters_hold()


@pytest.mark.parametrize("attempt", range(4))
def test_expiry_and_confirmation_started_together_have_exactly_one_winner(need, staff, attempt):
    pledge = _pledge(need, quantity=10)
    start = threading.Barrier(2)

    def expire():
        start.wait()
        return services.run_holds(now=timezone.now())

    def confirm():
        start.wait()
        return services.transition(pledge, S.CONFIRMED, actor=services.Actor.staff(staff))

    job, staff_action = Worker(expire), Worker(confirm)
    job.start(), staff_action.start()
    job.finish(), staff_action.finish()

    expired, confirmed = job.result.expired == 1, staff_action.error is None
    assert expired != confirmed  # exactly one won
    status = Pledge.objects.get(pk=pledge.pk).status
    if expired:
        assert (
            status == S.EXPIRED and "can no longer become Confirmed" in staff_action.error.message
        )
    else:
        assert status == S.CONFIRMED and _expiries(pledge) == 0
    _assert_counters_hold()
