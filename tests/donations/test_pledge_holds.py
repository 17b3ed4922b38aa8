"""A pledge holds its quantity until a deadline set by its category's rule; the donor sees it, is
reminded once before it, and may extend it once from their private page (POST only)."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone, translation
from django.utils.formats import date_format

from donations import holds, services
from donations.models import OutboundMail, Pledge, PledgeEvent
from donations.models import PledgeStatus as S
from needs.models import AidType, Category
from tests import factories
from tests.donations.conftest import JAKARTA, START
from tests.helpers import schedule

DAY = datetime.timedelta(days=1)


def _formatted(moment: datetime.datetime, language: str) -> str:
    with translation.override(language):
        return date_format(timezone.localtime(moment), "j F Y, H:i")


def _need_in(slug: str, **kwargs):
    return factories.NeedFactory(
        aid_type=AidType.objects.filter(category__slug=slug).first(), **kwargs
    )


@pytest.fixture
def pledge(clock, need, donor):
    """PT Maju Bersama's 30 food packages, pledged at START in English."""
    p = services.pledge(need=need, collaborator=donor, quantity=30)
    p.language = "en"
    p.save(update_fields=["language"])
    return p


# The rule


def test_the_seeded_categories_hold_for_their_days(db):
    holds_by_slug = dict(
        (slug, (hold, grace))
        for slug, hold, grace in Category.objects.values_list("slug", "hold_days", "grace_days")
    )
    assert holds_by_slug == {
        "pangan": (3, 2),
        "umkm": (14, 7),
        "pendidikan": (7, 3),
        "permukiman": (14, 7),
    }


@pytest.mark.parametrize(
    ("slug", "days"), [("pangan", 3), ("umkm", 14), ("pendidikan", 7), ("permukiman", 14)]
)
def test_a_submitted_pledge_holds_for_its_categorys_days(clock, site, donor, slug, days):
    pledge = services.pledge(need=_need_in(slug, site=site), collaborator=donor, quantity=1)
    assert pledge.hold_until == START + days * DAY
    assert Pledge.objects.get(pk=pledge.pk).hold_until == START + days * DAY


def test_confirming_holds_the_category_days_again_from_the_confirmation(
    clock, pledge, province_staff
):
    services.extend_hold(pledge)
    clock.advance(days=2)
    confirmed = services.transition(pledge, S.CONFIRMED, actor=services.Actor.staff(province_staff))
    assert confirmed.hold_until == clock.now + 3 * DAY
    # A new deadline comes with its own reminder and its own extension.
    assert confirmed.extended_at is None and confirmed.reminded_at is None


def test_scheduling_holds_through_the_delivery_date_plus_the_grace(clock, pledge, province_staff):
    scheduled = schedule(pledge, by=province_staff, on=datetime.date(2025, 6, 10))
    assert scheduled.hold_until == datetime.datetime(2025, 6, 12, 23, 59, tzinfo=JAKARTA)


def test_a_delivery_date_already_past_counts_from_the_day_it_is_scheduled(
    clock, pledge, province_staff
):
    # Staff scheduling a hand-over that already happened keep the grace to record it.
    scheduled = schedule(pledge, by=province_staff, on=datetime.date(2025, 5, 1))
    assert scheduled.hold_until == datetime.datetime(2025, 6, 4, 23, 59, tzinfo=JAKARTA)


def test_a_holding_pledge_must_have_a_deadline(pledge):
    with pytest.raises(IntegrityError), transaction.atomic():
        Pledge.objects.filter(pk=pledge.pk).update(hold_until=None)


def test_a_closed_pledge_keeps_its_last_deadline_and_needs_none(pledge):
    services.cancel(pledge)
    Pledge.objects.filter(pk=pledge.pk).update(hold_until=None)  # allowed once it no longer holds


def test_an_extension_belongs_to_a_deadline(pledge):
    services.cancel(pledge)
    with pytest.raises(IntegrityError), transaction.atomic():
        Pledge.objects.filter(pk=pledge.pk).update(hold_until=None, extended_at=START)


@pytest.mark.parametrize("field", ["hold_days", "grace_days"])
def test_a_categorys_hold_and_grace_are_at_least_a_day(db, field):
    with pytest.raises(IntegrityError), transaction.atomic():
        Category.objects.filter(slug="pangan").update(**{field: 0})


# The reminder


def test_the_donor_is_reminded_once_in_their_language_with_the_deadline_and_link(clock, pledge):
    OutboundMail.objects.all().delete()
    assert services.run_holds(now=START + DAY).reminded == 0  # two days left: too early
    clock.advance(days=2, hours=1)
    assert services.run_holds(now=clock.now).reminded == 1
    assert services.run_holds(now=clock.now + datetime.timedelta(hours=1)).reminded == 0

    (reminder,) = OutboundMail.objects.all()
    assert reminder.to == "csr@majubersama.test"
    deadline = _formatted(pledge.hold_until, "en")
    assert reminder.subject.startswith("Still on it?") and deadline in reminder.subject
    assert f"is held for you until {deadline}" in reminder.body
    extended = _formatted(pledge.hold_until + 3 * DAY, "en")
    assert f"keeps it until {extended} (once)" in reminder.body
    assert f"/komitmen/{pledge.token}/" in reminder.body
    assert Pledge.objects.get(pk=pledge.pk).reminded_at == clock.now


def test_a_donor_who_pledged_in_indonesian_is_reminded_in_indonesian(clock, need, donor):
    pledge = services.pledge(need=need, collaborator=donor, quantity=5)
    OutboundMail.objects.all().delete()
    services.run_holds(now=START + 2 * DAY + datetime.timedelta(hours=1))
    reminder = OutboundMail.objects.get()
    assert reminder.body.startswith("Halo PT Maju Bersama,")
    assert _formatted(pledge.hold_until, "id") in reminder.body


def test_a_short_hold_is_reminded_half_way_rather_than_at_once(clock, site, donor):
    urgent = Category.objects.create(name="Darurat", slug="darurat", hold_days=1, grace_days=1)
    aid = AidType.objects.create(category=urgent, name="Air bersih", unit="liter")
    pledge = services.pledge(
        need=factories.NeedFactory(site=site, aid_type=aid), collaborator=donor, quantity=5
    )
    assert services.run_holds(now=START + datetime.timedelta(hours=11)).reminded == 0
    assert services.run_holds(now=START + datetime.timedelta(hours=12)).reminded == 1
    assert OutboundMail.objects.filter(pledge=pledge).count() == 1


def test_an_extended_hold_is_reminded_that_it_cannot_be_extended_again(clock, pledge):
    services.extend_hold(pledge)
    OutboundMail.objects.all().delete()
    services.run_holds(now=START + 5 * DAY + datetime.timedelta(hours=1))
    reminder = OutboundMail.objects.get()
    assert "cannot be extended again" in reminder.body


# The extension


def test_the_hold_is_extended_once_by_the_same_rule(clock, pledge, english):
    clock.advance(days=2, hours=6)
    extended = services.extend_hold(pledge)
    assert extended.hold_until == START + 6 * DAY and extended.extended_at == clock.now
    event = PledgeEvent.objects.filter(pledge=pledge).last()
    assert (event.from_status, event.to_status, event.actor_label) == (
        "submitted",
        "submitted",
        "donor",
    )

    with pytest.raises(services.PledgeError) as refused:
        services.extend_hold(pledge)
    assert "already extended once" in refused.value.message
    assert Pledge.objects.get(pk=pledge.pk).hold_until == START + 6 * DAY


def test_a_scheduled_pledge_is_extended_by_its_grace(clock, pledge, province_staff):
    schedule(pledge, by=province_staff, on=datetime.date(2025, 6, 10))
    extended = services.extend_hold(pledge)
    assert extended.hold_until == datetime.datetime(2025, 6, 14, 23, 59, tzinfo=JAKARTA)


def test_a_hold_that_has_passed_is_not_extended(clock, pledge, english):
    clock.advance(days=3, minutes=1)
    with pytest.raises(services.PledgeError) as refused:
        services.extend_hold(pledge)
    assert "can no longer be extended" in refused.value.message
    assert Pledge.objects.get(pk=pledge.pk).extended_at is None


def test_a_pledge_that_no_longer_holds_is_not_extended(clock, pledge, english):
    services.cancel(pledge)
    with pytest.raises(services.PledgeError) as refused:
        services.extend_hold(pledge)
    assert "only a pledge that still holds its quantity" in refused.value.message


def test_an_expired_pledge_is_not_extended_and_the_donor_is_told_why(clock, pledge, english):
    services.run_holds(now=START + 3 * DAY)
    with pytest.raises(services.PledgeError) as refused:
        services.extend_hold(pledge)
    assert "expired on" in refused.value.message and "pledge again" in refused.value.message


# The donor's page


@pytest.fixture
def en_client(client):
    client.cookies["django_language"] = "en"
    return client


def test_the_donors_page_shows_the_deadline_and_one_button_to_extend(clock, en_client, pledge):
    html = en_client.get(f"/komitmen/{pledge.token}/").content.decode()
    assert _formatted(pledge.hold_until, "en") in html
    assert f'action="/komitmen/{pledge.token}/perpanjang/"' in html
    assert f"keep it until {_formatted(pledge.hold_until + 3 * DAY, 'en')}" in html


def test_extending_from_the_page_is_a_post_and_happens_once(clock, en_client, pledge):
    url = f"/komitmen/{pledge.token}/perpanjang/"
    response = en_client.post(url, follow=True)
    assert Pledge.objects.get(pk=pledge.pk).hold_until == START + 6 * DAY
    html = response.content.decode()
    assert f"held for you until {_formatted(START + 6 * DAY, 'en')}" in html
    assert "extended once" in html and url not in html  # no second button

    response = en_client.post(url, follow=True)
    assert "already extended once" in response.content.decode()
    assert Pledge.objects.get(pk=pledge.pk).hold_until == START + 6 * DAY


def test_opening_the_links_never_changes_the_pledge(clock, en_client, pledge):
    # Mail scanners prefetch every link in a mail.
    before = Pledge.objects.filter(pk=pledge.pk).values().get()
    assert en_client.get(f"/komitmen/{pledge.token}/").status_code == 200
    assert en_client.get(f"/komitmen/{pledge.token}/perpanjang/").status_code == 405
    assert en_client.head(f"/komitmen/{pledge.token}/perpanjang/").status_code == 405
    assert Pledge.objects.filter(pk=pledge.pk).values().get() == before


def test_extending_needs_the_csrf_token(clock, pledge):
    response = Client(enforce_csrf_checks=True).post(f"/komitmen/{pledge.token}/perpanjang/")
    assert response.status_code == 403
    assert Pledge.objects.get(pk=pledge.pk).extended_at is None


def test_a_closed_pledges_page_shows_no_deadline(en_client, pledge):
    services.cancel(pledge)
    html = en_client.get(f"/komitmen/{pledge.token}/").content.decode()
    assert 'data-testid="hold-until"' not in html and "/perpanjang/" not in html


def test_the_mails_tell_the_donor_the_deadline(clock, need, province_staff):
    pledge = services.pledge_from_donor(
        need,
        details=services.DonorDetails(public_name="Ibu Sari", kind="individual", email="s@x.test"),
        quantity=5,
        language="en",
    )
    created = OutboundMail.objects.get(to="s@x.test")
    assert f"reserved until {_formatted(START + 3 * DAY, 'en')}" in created.body
    schedule(pledge, by=province_staff, on=datetime.date(2025, 6, 10))
    scheduled = OutboundMail.objects.filter(to="s@x.test").order_by("pk").last()
    deadline = _formatted(datetime.datetime(2025, 6, 12, 23, 59, tzinfo=JAKARTA), "en")
    assert f"reserved for this hand-over until {deadline}" in scheduled.body


def test_the_api_shows_the_donor_the_deadline(clock, client, pledge):
    body = client.get(f"/api/v1/pledges/{pledge.token}/").json()
    assert datetime.datetime.fromisoformat(body["hold_until"]) == START + 3 * DAY


def test_reminder_lead_is_a_day_or_half_a_short_hold(db):
    pangan = Category.objects.get(slug="pangan")
    assert holds.reminder_lead(S.SUBMITTED, pangan) == DAY
    assert holds.reminder_lead(S.SCHEDULED, pangan) == DAY  # grace of 2 days
    pangan.grace_days = 1
    assert holds.reminder_lead(S.SCHEDULED, pangan) == DAY / 2
