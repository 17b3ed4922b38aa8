"""needs.services: every change of a need, under its row lock, in its history with who and why; and
donations.services.close_need, which decides for the pledges still holding quantity of a need."""

import datetime

import pytest

from donations import services as pledges
from donations.models import Opd, OutboundMail, Pledge
from donations.models import PledgeStatus as S
from needs import services
from needs.models import Need, NeedStatus
from tests import factories
from tests.helpers import schedule

pytestmark = pytest.mark.usefixtures("english")


def _latest(need):
    return need.history.latest()


def test_update_writes_only_what_changed_and_records_who_and_why(need, province_staff):
    services.update(
        need, by=province_staff, reason="Warga bertambah", quantity_needed=120, title=need.title
    )
    need.refresh_from_db()
    assert need.quantity_needed == 120
    row = _latest(need)
    assert (row.history_user, row.history_change_reason) == (province_staff, "Warga bertambah")
    assert row.prev_record.quantity_needed == 100


def test_update_without_a_change_writes_no_history(need, province_staff):
    before = need.history.count()
    services.update(need, by=province_staff, reason="x", quantity_needed=100)
    assert need.history.count() == before


def test_the_quantity_needed_never_goes_below_what_is_pledged(need, donor, province_staff):
    pledges.pledge(need=need, collaborator=donor, quantity=60)
    with pytest.raises(services.NeedError) as refused:
        services.update(need, by=province_staff, quantity_needed=59)
    assert refused.value.field == "quantity_needed"
    assert "60 are already pledged" in refused.value.message
    assert Need.objects.get(pk=need.pk).quantity_needed == 100
    services.update(need, by=province_staff, quantity_needed=60)
    assert Need.objects.get(pk=need.pk).status == NeedStatus.FULLY_PLEDGED


def test_the_services_refuse_fields_that_are_not_theirs(need):
    for field in ("quantity_pledged", "quantity_delivered", "is_closed", "published", "status"):
        with pytest.raises(TypeError):
            services.update(need, **{field: 1})


def test_publish_unpublish_close_and_reopen_are_each_in_the_history(need, province_staff):
    steps = [
        (services.unpublish, "Data ganda", ("published", False)),
        (services.publish, "Diperiksa", ("published", True)),
        (services.close, "Periode selesai", ("is_closed", True)),
        (services.reopen, "Diperpanjang", ("is_closed", False)),
    ]
    for change, reason, (field, value) in steps:
        change(need, by=province_staff, reason=reason)
        row = _latest(need)
        assert getattr(row, field) == value
        assert (row.history_user, row.history_change_reason) == (province_staff, reason)
    assert Need.objects.get(pk=need.pk).status == NeedStatus.OPEN


def test_a_closed_need_accepts_no_pledge(need, donor, province_staff):
    services.close(need, by=province_staff, reason="Selesai")
    with pytest.raises(pledges.PledgeError, match="no longer accepts pledges"):
        pledges.pledge(need=need, collaborator=donor, quantity=1)


@pytest.mark.parametrize("change", [services.close, services.unpublish])
def test_closing_alone_is_refused_while_pledges_hold_quantity(need, donor, province_staff, change):
    pledges.pledge(need=need, collaborator=donor, quantity=10)
    with pytest.raises(services.NeedError, match="Pledges still hold 10"):
        change(need, by=province_staff, reason="Selesai")
    need.refresh_from_db()
    assert need.published and not need.is_closed


@pytest.fixture
def three_pledges(need, province_staff):
    """A submitted, a confirmed and a scheduled pledge of 10, 20 and 30, from three donors, one of
    them English-speaking."""
    staff = pledges.Actor.staff(province_staff)
    submitted = pledges.pledge(need=need, collaborator=factories.CollaboratorFactory(), quantity=10)
    confirmed = pledges.pledge(need=need, collaborator=factories.CollaboratorFactory(), quantity=20)
    Pledge.objects.filter(pk=confirmed.pk).update(language="en")
    pledges.transition(confirmed, S.CONFIRMED, actor=staff)
    scheduled = schedule(
        pledges.pledge(need=need, collaborator=factories.CollaboratorFactory(), quantity=30),
        province_staff,
    )
    OutboundMail.objects.all().delete()
    return submitted, confirmed, scheduled


def _status(pledge):
    return Pledge.objects.get(pk=pledge.pk).status


def test_closing_and_cancelling_all_releases_every_held_quantity_and_tells_each_donor(
    need, province_staff, three_pledges
):
    cancelled = pledges.close_need(
        need,
        actor=pledges.Actor.staff(province_staff),
        reason="Warga sudah dibantu Dinsos",
        keep_scheduled=False,
    )
    assert sorted(p.pk for p in cancelled) == sorted(p.pk for p in three_pledges)
    assert {_status(p) for p in three_pledges} == {S.CANCELLED}
    need.refresh_from_db()
    assert (need.is_closed, need.status, need.quantity_pledged) == (True, NeedStatus.CLOSED, 0)
    assert _latest(need).history_change_reason == "Warga sudah dibantu Dinsos"
    mails = {m.to: m for m in OutboundMail.objects.filter(subject__contains=need.title)}
    assert set(mails) == {p.collaborator.email for p in three_pledges}
    english = mails[three_pledges[1].collaborator.email]
    assert "Staff have closed this need" in english.body
    assert "Warga sudah dibantu Dinsos" in english.body
    indonesian = mails[three_pledges[0].collaborator.email]
    assert "Staff have closed this need" not in indonesian.body
    assert not pledges.counter_mismatches().exists()


def test_closing_may_keep_the_scheduled_pledges_to_delivery(need, province_staff, three_pledges):
    submitted, confirmed, scheduled = three_pledges
    staff = pledges.Actor.staff(province_staff)
    pledges.close_need(need, actor=staff, reason="Periode selesai", keep_scheduled=True)
    assert [_status(p) for p in three_pledges] == [S.CANCELLED, S.CANCELLED, S.SCHEDULED]
    need.refresh_from_db()
    assert (need.status, need.quantity_pledged) == (NeedStatus.CLOSED, 30)

    # The scheduled one may be rescheduled and delivered; nothing else moves forward.
    pledges.transition(
        scheduled, S.SCHEDULED, actor=staff, scheduled_for=datetime.date(2020, 11, 2)
    )
    pledges.record_delivery(
        scheduled,
        quantity=30,
        delivered_on=datetime.date(2020, 11, 2),
        opd=Opd.objects.create(name="Dinas Sosial"),
        actor=staff,
    )
    assert _status(scheduled) == S.DELIVERED
    assert not pledges.counter_mismatches().exists()


def test_staff_cannot_move_a_pledge_forward_on_a_closed_need(need, donor, province_staff):
    pledge = pledges.pledge(need=need, collaborator=donor, quantity=10)
    staff = pledges.Actor.staff(province_staff)
    # A pledge kept by mistake (the database, say): the transition still reads the closure.
    Need.objects.filter(pk=need.pk).update(is_closed=True)
    with pytest.raises(pledges.PledgeError, match="its need is closed or unpublished"):
        pledges.transition(pledge, S.CONFIRMED, actor=staff)
    pledges.transition(pledge, S.REJECTED, actor=staff, reason="Kebutuhan ditutup")
    assert _status(pledge) == S.REJECTED


def test_closing_needs_a_reason(need, province_staff):
    with pytest.raises(pledges.PledgeError, match="Say why"):
        pledges.close_need(
            need, actor=pledges.Actor.staff(province_staff), reason=" ", keep_scheduled=True
        )
    assert not Need.objects.get(pk=need.pk).is_closed


def test_unpublishing_through_close_need_hides_the_need_and_cancels_its_pledges(
    need, province_staff, three_pledges
):
    pledges.close_need(
        need,
        actor=pledges.Actor.staff(province_staff),
        reason="Data ganda",
        keep_scheduled=False,
        unpublish=True,
    )
    need.refresh_from_db()
    assert (need.published, need.is_closed, need.quantity_pledged) == (False, False, 0)


def test_create_many_writes_a_first_history_row_for_each(site, province_staff):
    aid_type = factories.AidTypeFactory()
    made = services.create_many(
        [
            Need(
                site=site,
                aid_type=aid_type,
                title=f"N{i}",
                quantity_needed=5,
                period_start="2020-10-01",
            )
            for i in range(3)
        ],
        by=province_staff,
        reason="Impor",
    )
    rows = Need.history.filter(id__in=[n.pk for n in made])
    assert [(r.history_user, r.history_change_reason) for r in rows] == [
        (province_staff, "Impor")
    ] * 3
