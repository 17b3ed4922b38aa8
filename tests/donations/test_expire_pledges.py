"""`manage.py expire_pledges`: pledges past their deadline expire through donations.services, freeing
their quantity at once, with a history row naming the rule, a kind mail to the donor and a note to
the area's staff. Idempotent; the freed quantity shows on the need and in the cached API at once."""

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.utils import timezone

from donations import services
from donations.models import OutboundMail, Pledge, PledgeEvent
from donations.models import PledgeStatus as S
from needs.models import Need
from tests import factories
from tests.donations.conftest import JAKARTA, START
from tests.helpers import schedule
from transparency import figures

DAY = datetime.timedelta(days=1)
MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def pledges(clock, need, donor, anonymous_donor):
    """On the need of 100: PT Maju Bersama's 30 (in English, due at START + 3 days) and Budi's 20,
    pledged a day later (due at START + 4 days)."""
    first = services.pledge(need=need, collaborator=donor, quantity=30)
    first.language = "en"
    first.save(update_fields=["language"])
    clock.advance(days=1)
    second = services.pledge(need=need, collaborator=anonymous_donor, quantity=20)
    clock.advance(days=-1)
    OutboundMail.objects.all().delete()
    return first, second


def _state():
    pledges = list(Pledge.objects.order_by("pk").values_list("pk", "status", "hold_until"))
    needs = list(Need.objects.order_by("pk").values_list("pk", "quantity_pledged"))
    return pledges, needs, PledgeEvent.objects.count(), OutboundMail.objects.count()


def _held(need) -> int:
    return Pledge.objects.holding().filter(need=need).aggregate(n=Sum("quantity"))["n"] or 0


def test_a_pledge_past_its_deadline_expires_and_frees_its_quantity(pledges, need):
    first, second = pledges
    run = services.run_holds(now=START + 3 * DAY)
    assert (run.expired, run.freed, run.busy) == (1, 30, 0)
    first.refresh_from_db()
    need.refresh_from_db()
    assert first.status == S.EXPIRED and first.closed_at == START + 3 * DAY
    assert Pledge.objects.get(pk=second.pk).status == S.SUBMITTED
    assert need.quantity_pledged == _held(need) == 20
    assert not services.counter_mismatches().exists()


def test_the_history_names_the_rule_that_expired_it(pledges, settings):
    settings.LANGUAGE_CODE = "en"
    first, _ = pledges
    services.run_holds(now=START + 3 * DAY + MINUTE)
    event = PledgeEvent.objects.filter(pledge=first).last()
    assert (event.from_status, event.to_status, event.actor_label) == (
        "submitted",
        "expired",
        "system",
    )
    assert event.reason == "The hold of 3 days for Pangan passed on 5 June 2025, 09:00."
    assert Pledge.objects.get(pk=first.pk).status_reason == event.reason


def test_the_rule_of_a_scheduled_pledge_names_its_date_and_grace(pledges, province_staff, settings):
    settings.LANGUAGE_CODE = "en"
    first, _ = pledges
    schedule(first, by=province_staff, on=datetime.date(2025, 6, 10))
    services.extend_hold(first)
    services.run_holds(now=datetime.datetime(2025, 6, 15, tzinfo=JAKARTA))
    reason = PledgeEvent.objects.filter(pledge=first).last().reason
    assert reason == (
        "The grace of 2 days after the delivery date 10 June 2025 for Pangan passed on "
        "14 June 2025, 23:59. It had been extended once."
    )


def test_the_donor_is_told_kindly_in_their_language_and_the_areas_staff_of_the_freed_quantity(
    pledges, kelurahan_officer, other_area_officer
):
    first, _ = pledges
    services.run_holds(now=START + 3 * DAY)
    donor_mail = OutboundMail.objects.get(to="csr@majubersama.test")
    assert donor_mail.subject == f"Your pledge for “{first.need.title}” has ended"
    assert "Thank you for wanting to help" in donor_mail.body
    assert "its 30 paket are open to other donors again" in donor_mail.body
    assert "The hold of 3 days for Pangan passed on 5 June 2025, 09:00." in donor_mail.body
    assert f"/kebutuhan/{first.need.pk}/" in donor_mail.body

    staff_mail = OutboundMail.objects.get(to=kelurahan_officer.email)
    assert "30" in staff_mail.subject and "Gambir" in staff_mail.subject
    # Staff mail is in the portal's language, Indonesian.
    assert "masih dibutuhkan 80 paket" in staff_mail.body  # Budi's 20 still hold
    assert f"/admin/needs/need/{first.need.pk}/" in staff_mail.body
    assert not OutboundMail.objects.filter(to=other_area_officer.email).exists()


def test_running_the_job_twice_changes_nothing_the_second_time(pledges):
    services.run_holds(now=START + 3 * DAY)
    after_first = _state()
    run = services.run_holds(now=START + 3 * DAY)
    assert (run.expired, run.reminded, run.freed) == (0, 0, 0)
    assert _state() == after_first
    assert OutboundMail.objects.filter(to="csr@majubersama.test").count() == 1


def test_a_partly_delivered_pledge_frees_only_what_was_not_delivered(pledges, need, province_staff):
    first, _ = pledges
    schedule(first, by=province_staff, on=datetime.date(2025, 6, 3))
    services.record_delivery(
        first,
        quantity=10,
        delivered_on=datetime.date(2025, 6, 3),
        opd=factories.OpdFactory(),
        actor=services.Actor.staff(province_staff),
    )
    run = services.run_holds(now=datetime.datetime(2025, 6, 6, tzinfo=JAKARTA))
    assert run.freed == 20
    need.refresh_from_db()
    assert (need.quantity_pledged, need.quantity_delivered) == (30, 10)  # Budi's 20 + 10 delivered
    assert not services.counter_mismatches().exists()


def test_an_extended_hold_expires_at_its_new_deadline(pledges):
    first, _ = pledges
    services.extend_hold(first)
    assert services.run_holds(now=START + 3 * DAY).expired == 0
    assert services.run_holds(now=START + 6 * DAY).expired == 2  # and Budi's, due at START + 4 days


def test_staff_who_confirm_after_the_deadline_but_before_the_job_keep_the_pledge(
    clock, pledges, province_staff
):
    first, _ = pledges
    clock.advance(days=3, hours=1)
    services.transition(first, S.CONFIRMED, actor=services.Actor.staff(province_staff))
    run = services.run_holds(now=clock.now)
    assert Pledge.objects.get(pk=first.pk).status == S.CONFIRMED
    assert run.expired == 0


def test_the_command_prints_a_summary(pledges, settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("expire_pledges", "--now", "2025-06-05T09:00", stdout=out)
    assert out.getvalue().strip() == (
        "1 reminded, 1 expired (30 units freed), 0 busy (looked at again next run)."
    )  # Budi is reminded: his hold ends a day later


def test_the_command_refuses_a_made_up_moment_in_production(pledges, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="development only"):
        call_command("expire_pledges", "--now", "2030-01-01T00:00", stdout=StringIO())
    assert not Pledge.objects.filter(status=S.EXPIRED).exists()


def test_the_command_explains_a_bad_moment(db, settings):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="not a date and time"):
        call_command("expire_pledges", "--now", "tomorrow", stdout=StringIO())


def test_the_command_on_the_real_clock_leaves_running_holds_alone(need, donor):
    pledge = services.pledge(need=need, collaborator=donor, quantity=5)
    out = StringIO()
    call_command("expire_pledges", stdout=out)
    assert out.getvalue().startswith("0 reminded, 0 expired")
    assert Pledge.objects.get(pk=pledge.pk).status == S.SUBMITTED


def test_the_need_page_and_the_cached_api_show_the_freed_quantity_at_once(client, need, donor):
    # The real clock: the API's ETag keys on the newest need change, which expiry moves.
    pledge = services.pledge(need=need, collaborator=donor, quantity=40)
    cached = client.get(f"/api/v1/needs/{need.pk}/")
    assert cached.json()["properties"]["quantity_pledged"] == 40
    version = figures.data_version()
    Pledge.objects.filter(pk=pledge.pk).update(hold_until=timezone.now() - MINUTE)

    assert services.run_holds().expired == 1

    again = client.get(f"/api/v1/needs/{need.pk}/", HTTP_IF_NONE_MATCH=cached["ETag"])
    assert again.status_code == 200 and again.json()["properties"]["quantity_pledged"] == 0
    assert client.get(f"/kebutuhan/{need.pk}/").context["need"].quantity_remaining == 100
    assert figures.data_version() != version
