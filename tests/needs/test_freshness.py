"""A need stays true only while someone says so: after its category's `reconfirm_days` without a
confirmation it awaits reconfirmation (shown on its page), a grace later it takes no new pledges
until its contact person or staff confirm it; pledges already made keep their holds."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from donations import services as donation_services
from needs import services as need_services
from needs.models import Freshness, Need
from tests import factories

pytestmark = pytest.mark.django_db


def _aged(need: Need, days: float) -> Need:
    """`need` as if published `days` ago and never confirmed since."""
    Need.objects.filter(pk=need.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=days)
    )
    return Need.objects.with_places().get(pk=need.pk)


@pytest.mark.parametrize(
    "days, expected",
    [
        (0, Freshness.CONFIRMED),
        (29.9, Freshness.CONFIRMED),
        (30.1, Freshness.AWAITING),  # Pangan: 30 days
        (36.9, Freshness.AWAITING),  # and 7 of grace
        (37.1, Freshness.PAUSED),
    ],
)
def test_a_pangan_need_goes_stale_by_its_categorys_days(need, days, expected):
    assert need.aid_type.category.slug == "pangan"
    assert _aged(need, days).freshness == expected


def test_only_an_open_need_goes_stale(need, donor):
    donation_services.pledge(need=need, collaborator=donor, quantity=100)
    assert _aged(need, 400).freshness == Freshness.CONFIRMED  # fully pledged: nothing to ask


def test_a_paused_need_refuses_new_pledges_and_keeps_the_old_ones(need, donor, english):
    held = donation_services.pledge(need=need, collaborator=donor, quantity=10)
    paused = _aged(need, 60)
    assert paused.freshness == Freshness.PAUSED and not paused.is_pledgeable
    with pytest.raises(donation_services.PledgeError, match="paused until its recipients"):
        donation_services.pledge(need=paused, collaborator=donor, quantity=5)
    held.refresh_from_db()
    assert held.status == "submitted" and Need.objects.get(pk=need.pk).quantity_pledged == 10


def test_confirming_resumes_it(need, donor, province_staff):
    paused = _aged(need, 60)
    need_services.confirm(paused, by=province_staff)
    fresh = Need.objects.with_places().get(pk=need.pk)
    assert fresh.freshness == Freshness.CONFIRMED and not fresh.confirmed_by_contact
    assert fresh.history.first().history_user == province_staff
    donation_services.pledge(need=fresh, collaborator=donor, quantity=5)


def test_a_closed_need_cannot_be_confirmed(need, province_staff):
    need_services.close(need, by=province_staff, reason="done")
    with pytest.raises(need_services.NeedError):
        need_services.confirm(need, by=province_staff)


def test_the_need_page_says_so(client, need):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.get(need.get_absolute_url())
    assert b"not confirmed since" in response.content
    assert b'data-testid="freshness"' not in response.content

    _aged(need, 31)
    response = client.get(need.get_absolute_url())
    assert b"Awaiting reconfirmation" in response.content
    assert b"Support this need" in response.content

    _aged(need, 60)
    response = client.get(need.get_absolute_url())
    assert b"Paused until reconfirmed" in response.content
    assert b"Support this need" not in response.content
    form = client.get(f"/kebutuhan/{need.pk}/dukung/")
    assert form.status_code == 302  # back to the need's page, which says why


def test_time_alone_changes_the_pages_validator(client, need):
    first = client.get(need.get_absolute_url())["ETag"]
    assert client.get(need.get_absolute_url(), headers={"if-none-match": first}).status_code == 304
    # 31 days pass: the row stays as it is (no trigger moves the page's version), but a deadline
    # passed, and the version reads that too (needs.caching.need_version).
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        _aged(need, 31)
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    assert client.get(need.get_absolute_url(), headers={"if-none-match": first}).status_code == 200


def test_each_category_has_its_own_days(site):
    for slug, days in [("umkm", 60), ("permukiman", 90)]:
        aid_type = factories.AidTypeFactory(category=factories.CategoryFactory(slug=slug))
        need = factories.NeedFactory(site=site, aid_type=aid_type)
        assert _aged(need, days - 1).freshness == Freshness.CONFIRMED
        assert _aged(need, days + 1).freshness == Freshness.AWAITING


def test_the_database_query_agrees_with_each_need(site):
    ages = [0, 29, 31, 36, 38, 400]
    needs = [_aged(factories.NeedFactory(site=site), age) for age in ages]
    for state in Freshness.values:
        expected = {n.pk for n in needs if n.freshness == state}
        assert set(Need.objects.by_freshness(state).values_list("pk", flat=True)) == expected
    assert {n.freshness for n in needs} == set(Freshness.values)


def test_staff_find_stale_needs_and_confirm_them(staff_client, need, province_staff):
    _aged(need, 31)
    changelist = "/admin/needs/need/"
    assert need.title in staff_client.get(f"{changelist}?freshness=awaiting").content.decode()
    assert need.title not in staff_client.get(f"{changelist}?freshness=paused").content.decode()
    response = staff_client.post(
        changelist, {"action": "confirm_needs", "_selected_action": [need.pk]}
    )
    assert response.status_code == 302
    need.refresh_from_db()
    assert need.confirmed_at is not None and not need.confirmed_by_contact
    assert need.title in staff_client.get(f"{changelist}?freshness=confirmed").content.decode()


def test_the_popup_and_the_api_say_it(client, need):
    _aged(need, 31)
    data = client.get(f"/api/v1/needs/{need.pk}/").json()["properties"]
    assert data["freshness"] == "awaiting" and data["confirmed_by"] is None
    assert data["last_confirmed"]
