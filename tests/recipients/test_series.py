"""A recurring need: each period a need of its own, the next made only once the site's contact
person (or staff) confirms it is still needed, in the current period's last week, once."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from donations import services as donation_services
from needs import services
from needs.models import AidType, Need, NeedSeries

pytestmark = pytest.mark.django_db


@pytest.fixture
def series(site, province_staff):
    """350 food packages every month, its first month ending in three days."""
    start = timezone.localdate() - datetime.timedelta(days=27)
    return services.start_series(
        by=province_staff,
        site=site,
        aid_type=AidType.objects.get(category__slug="pangan", name="Paket sembako"),
        title="Paket sembako bulanan RW 01",
        quantity_needed=350,
        beneficiaries=350,
        start=start,
    )


def test_each_period_is_a_need_of_its_own(series, donor, contact, client, url):
    first = series.periods.get()
    assert first.period_end - first.period_start < datetime.timedelta(days=31)
    donation_services.pledge(need=first, collaborator=donor, quantity=100)

    page = client.get(url).content.decode()
    assert "Paket sembako bulanan RW 01" in page
    response = client.post(f"{url}berulang/{series.pk}/")
    assert response.status_code == 303 and "berulang=" in response["Location"]
    second = series.periods.order_by("period_start").last()
    assert second.pk != first.pk
    assert second.period_start == first.period_end + datetime.timedelta(days=1)
    assert second.quantity_needed == 350 and second.quantity_pledged == 0
    assert second.confirmed_by_contact and second.confirmed_at
    assert Need.objects.get(pk=first.pk).quantity_pledged == 100  # the first month's stay its own
    assert "the recipient" in second.history.first().history_change_reason or "penerima" in (
        second.history.first().history_change_reason
    )

    # Once: the new period is not near its end yet.
    again = client.post(f"{url}berulang/{series.pk}/")
    assert "berulang=gagal" in again["Location"]
    assert series.periods.count() == 2


def test_too_early_is_refused(site, province_staff):
    series = services.start_series(
        by=province_staff,
        site=site,
        aid_type=AidType.objects.first(),
        title="Buku tulis",
        quantity_needed=10,
    )
    with pytest.raises(services.NeedError):
        services.continue_series(series, by=province_staff)


def test_an_ended_series_offers_no_next_period(series, province_staff):
    services.set_series_active(series, False)
    with pytest.raises(services.NeedError):
        services.continue_series(series, by=province_staff)


def test_the_database_holds_one_need_per_series_period(series):
    first = series.periods.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Need.objects.create(
            site=first.site,
            aid_type=first.aid_type,
            title="Duplikat",
            quantity_needed=1,
            period_start=first.period_start,
            series=series,
        )


def test_another_sites_series_is_out_of_reach(client, url, province_staff):
    from tests import factories

    other = services.start_series(
        by=province_staff,
        site=factories.SiteFactory(name="RW 09"),
        aid_type=AidType.objects.first(),
        title="Lain",
        quantity_needed=5,
        start=timezone.localdate() - datetime.timedelta(days=28),
    )
    assert client.post(f"{url}berulang/{other.pk}/").status_code == 404
    assert other.periods.count() == 1


def test_staff_start_a_series_and_continue_it_in_the_admin(staff_client, site):
    aid_type = AidType.objects.first()
    response = staff_client.post(
        "/admin/needs/needseries/add/",
        {
            "site": site.pk,
            "aid_type": aid_type.pk,
            "title": "Makan siang sekolah",
            "quantity_needed": 120,
            "beneficiaries": 120,
            "first_period_start": (timezone.localdate() - datetime.timedelta(days=26)).isoformat(),
        },
    )
    assert response.status_code == 302
    series = NeedSeries.objects.get()
    assert series.periods.count() == 1
    staff_client.post(
        "/admin/needs/needseries/", {"action": "continue_series", "_selected_action": [series.pk]}
    )
    assert series.periods.count() == 2
    assert not series.periods.order_by("period_start").last().confirmed_by_contact


@pytest.mark.parametrize("quantity", ["0", "-5", "banyak", ""])
def test_a_bad_quantity_in_the_admin_is_the_forms_error(staff_client, site, quantity):
    response = staff_client.post(
        "/admin/needs/needseries/add/",
        {
            "site": site.pk,
            "aid_type": AidType.objects.first().pk,
            "title": "Makan siang sekolah",
            "quantity_needed": quantity,
            "beneficiaries": 0,
        },
    )
    assert response.status_code == 200 and response.context["adminform"].form.errors
    assert not NeedSeries.objects.exists() and not Need.objects.exists()


def test_months_end_on_their_last_day():
    assert services.period_after(datetime.date(2026, 1, 31), None) == (
        datetime.date(2026, 2, 28),
        datetime.date(2026, 3, 27),
    )
    assert services.period_after(datetime.date(2026, 12, 1), datetime.date(2026, 12, 31)) == (
        datetime.date(2027, 1, 1),
        datetime.date(2027, 1, 31),
    )


def test_a_lapsed_series_starts_again_today(site, province_staff):
    series = services.start_series(
        by=province_staff,
        site=site,
        aid_type=AidType.objects.first(),
        title="Beras",
        quantity_needed=10,
        start=datetime.date(2020, 10, 1),
    )
    need = services.continue_series(series, by=province_staff)
    assert need.period_start == timezone.localdate()
