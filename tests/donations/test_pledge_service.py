"""donations.services: pledging, the lifecycle table, deliveries, and the counters that follow."""

import datetime

import pytest

from donations import services
from donations.models import PledgeStatus as S
from locations.services import verify_contact
from needs.models import Need
from tests import factories


def _need(need) -> Need:
    return Need.objects.get(pk=need.pk)


pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def staff(province_staff):
    return services.Actor.staff(province_staff)


@pytest.fixture
def verified_site(site, province_staff):
    verify_contact(factories.ContactFactory(site=site), "verified", by=province_staff)
    return site


def test_a_pledge_holds_its_quantity_on_the_need(need, donor):
    pledge = services.pledge(need=need, collaborator=donor, quantity=30)
    assert pledge.status == S.SUBMITTED
    assert _need(need).quantity_pledged == 30
    assert _need(need).quantity_remaining == 70
    assert [(e.from_status, e.to_status, e.actor_label) for e in pledge.events.all()] == [
        ("", "submitted", "donor")
    ]


def test_a_pledge_beyond_what_remains_is_refused_with_the_remaining_quantity(need, donor):
    services.pledge(need=need, collaborator=donor, quantity=80)
    with pytest.raises(services.PledgeError) as refused:
        services.pledge(need=need, collaborator=donor, quantity=21)
    assert refused.value.remaining == 20 and refused.value.field == "quantity"
    assert _need(need).quantity_pledged == 80


@pytest.mark.parametrize("quantity", [0, -5])
def test_a_non_positive_quantity_is_refused(need, donor, quantity):
    with pytest.raises(services.PledgeError):
        services.pledge(need=need, collaborator=donor, quantity=quantity)
    assert _need(need).quantity_pledged == 0


def test_an_unpublished_or_closed_need_takes_no_pledge(need, donor):
    Need.objects.filter(pk=need.pk).update(published=False)
    with pytest.raises(services.PledgeError):
        services.pledge(need=need, collaborator=donor, quantity=1)
    Need.objects.filter(pk=need.pk).update(published=True, is_closed=True)
    with pytest.raises(services.PledgeError):
        services.pledge(need=need, collaborator=donor, quantity=1)


def test_cancelling_frees_the_quantity_at_once(need, donor):
    pledge = services.pledge(need=need, collaborator=donor, quantity=30)
    services.cancel(pledge, reason="Berubah rencana")
    pledge.refresh_from_db()
    assert pledge.status == S.CANCELLED and pledge.closed_at is not None
    assert _need(need).quantity_pledged == 0
    assert pledge.events.last().reason == "Berubah rencana"


def test_the_lifecycle_through_partial_and_full_delivery(need, donor, verified_site, staff):
    pledge = services.pledge(need=need, collaborator=donor, quantity=30)
    services.transition(pledge, S.CONFIRMED, actor=staff)
    services.transition(pledge, S.SCHEDULED, actor=staff, scheduled_for=datetime.date(2020, 10, 26))
    opd = factories.OpdFactory()
    services.record_delivery(
        pledge, quantity=10, delivered_on=datetime.date(2020, 10, 26), opd=opd, actor=staff
    )
    pledge.refresh_from_db()
    assert pledge.status == S.SCHEDULED and pledge.quantity_delivered == 10
    services.record_delivery(
        pledge, quantity=20, delivered_on=datetime.date(2020, 10, 27), opd=opd, actor=staff
    )
    pledge.refresh_from_db()
    assert pledge.status == S.DELIVERED and pledge.delivered_at is not None
    need = _need(need)
    assert (need.quantity_pledged, need.quantity_delivered) == (30, 30)
    assert [e.to_status for e in pledge.events.all()] == [
        "submitted",
        "confirmed",
        "scheduled",
        "scheduled",
        "delivered",
    ]


def test_leaving_the_flow_after_a_partial_delivery_frees_only_the_rest(
    need, donor, verified_site, staff
):
    pledge = services.pledge(need=need, collaborator=donor, quantity=30)
    services.transition(pledge, S.CONFIRMED, actor=staff)
    services.transition(pledge, S.SCHEDULED, actor=staff, scheduled_for=datetime.date(2020, 10, 26))
    services.record_delivery(
        pledge,
        quantity=10,
        delivered_on=datetime.date(2020, 10, 26),
        opd=factories.OpdFactory(),
        actor=staff,
    )
    services.transition(pledge, S.REJECTED, actor=staff, reason="Donatur tidak melanjutkan")
    need = _need(need)
    assert (need.quantity_pledged, need.quantity_delivered) == (10, 10)
    assert not services.counter_mismatches().exists()


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ([], S.SCHEDULED),
        ([S.CANCELLED], S.CONFIRMED),
        ([S.REJECTED], S.CANCELLED),
        ([S.CONFIRMED], S.SUBMITTED),
        ([S.EXPIRED], S.EXPIRED),
    ],
)
def test_an_illegal_transition_is_refused_naming_the_pledge(
    need, donor, verified_site, staff, path, illegal
):
    pledge = services.pledge(need=need, collaborator=donor, quantity=5)
    for step in path:
        services.transition(pledge, step, actor=staff)
    before = _need(need).quantity_pledged
    with pytest.raises(services.PledgeError, match=f"#{pledge.pk}"):
        services.transition(pledge, illegal, actor=staff, scheduled_for=datetime.date(2020, 11, 1))
    assert _need(need).quantity_pledged == before


def test_delivering_a_cancelled_pledge_is_refused(need, donor, staff):
    pledge = services.pledge(need=need, collaborator=donor, quantity=5)
    services.cancel(pledge)
    with pytest.raises(services.PledgeError, match=f"#{pledge.pk}"):
        services.record_delivery(
            pledge,
            quantity=5,
            delivered_on=datetime.date(2020, 10, 26),
            opd=factories.OpdFactory(),
            actor=staff,
        )


def test_scheduling_needs_a_verified_contact_at_the_site(need, donor, staff):
    pledge = services.pledge(need=need, collaborator=donor, quantity=5)
    services.transition(pledge, S.CONFIRMED, actor=staff)
    with pytest.raises(services.PledgeError, match="verified contact"):
        services.transition(
            pledge, S.SCHEDULED, actor=staff, scheduled_for=datetime.date(2020, 10, 26)
        )


def test_over_delivery_is_refused(need, donor, verified_site, staff):
    pledge = services.pledge(need=need, collaborator=donor, quantity=5)
    services.transition(pledge, S.CONFIRMED, actor=staff)
    services.transition(pledge, S.SCHEDULED, actor=staff, scheduled_for=datetime.date(2020, 10, 26))
    with pytest.raises(services.PledgeError):
        services.record_delivery(
            pledge,
            quantity=6,
            delivered_on=datetime.date(2020, 10, 26),
            opd=factories.OpdFactory(),
            actor=staff,
        )
    assert _need(need).quantity_delivered == 0


def test_the_counters_reconcile_with_the_pledges(need, donor, anonymous_donor, staff):
    a = services.pledge(need=need, collaborator=donor, quantity=30)
    services.pledge(need=need, collaborator=anonymous_donor, quantity=20)
    services.cancel(a)
    assert not services.counter_mismatches().exists()
    Need.objects.filter(pk=need.pk).update(quantity_pledged=50)  # a write that skipped the services
    assert list(services.counter_mismatches().values_list("pk", flat=True)) == [need.pk]


def test_a_pledge_reads_its_category_with_the_locked_row(need, donor):
    """Freshness and the hold rule read the category: it comes joined to the locked need's row, so
    no query more runs while concurrent pledges wait for that lock."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        services.pledge(need=need, collaborator=donor, quantity=1)
    sqls = [q["sql"] for q in captured.captured_queries]
    locked = next(i for i, sql in enumerate(sqls) if "FOR UPDATE" in sql)
    assert '"needs_category"' in sqls[locked]
    assert not [
        sql
        for sql in sqls[locked + 1 :]
        if 'FROM "needs_category"' in sql or 'FROM "needs_aidtype"' in sql
    ]
