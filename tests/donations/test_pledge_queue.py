"""The pledge queue: filters that let staff find what needs them, and a cost that does not grow."""

import datetime

import pytest
from django.test import override_settings
from django.utils import timezone

from donations import services
from donations.models import Pledge
from tests import factories
from tests.helpers import admin_url

CHANGELIST = admin_url(Pledge, "changelist")
# As for the bureau (tests/donations/test_admin.py), plus the officer's own and group permissions
# (the actions check them) and the officer's groups and assigned areas (locations.scoping).
OFFICER_PLEDGE_CHANGELIST_QUERIES = 11


def _listed(client, **params):
    return sorted(p.pk for p in client.get(CHANGELIST, params).context["cl"].result_list)


@pytest.fixture
def queue(need, donor, anonymous_donor):
    """An old submitted pledge in Gambir, and a fresh one in Jakarta Utara."""
    old = services.pledge(need=need, collaborator=donor, quantity=10)
    Pledge.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=10))
    utara = factories.NeedFactory(
        site=factories.SiteFactory(kelurahan=factories.kelurahan("31.72.01.1001"), name="RW 07")
    )
    fresh = services.pledge(need=utara, collaborator=anonymous_donor, quantity=5)
    return old, fresh


def test_overdue_lists_pledges_waiting_longer_than_the_setting(staff_client, queue):
    old, fresh = queue
    assert _listed(staff_client, overdue="yes") == [old.pk]
    with override_settings(KSBB_PLEDGE_OVERDUE_DAYS=30):
        assert _listed(staff_client, overdue="yes") == []


def test_the_queue_filters_by_kota_kecamatan_kelurahan_kind_and_age(staff_client, queue):
    old, fresh = queue
    assert _listed(staff_client, kota="31.71") == [old.pk]
    assert _listed(staff_client, kecamatan="31.72.01") == [fresh.pk]
    assert _listed(staff_client, kelurahan="31.71.01.1001") == [old.pk]
    assert _listed(staff_client, collaborator__kind__exact="individual") == [fresh.pk]
    assert _listed(staff_client, age="7+") == [old.pk]
    assert _listed(staff_client, age="1") == [fresh.pk]


def test_the_kecamatan_filter_offers_choices_once_a_kota_is_chosen(staff_client, queue):
    def titles(params):
        return [
            f.title
            for f in staff_client.get(CHANGELIST, params).context["cl"].filter_specs
            if f.has_output()
        ]

    assert "kecamatan" not in titles({})
    assert "kecamatan" in titles({"kota": "31.71"})


def test_the_queue_is_searched_by_site(staff_client, queue):
    old, fresh = queue
    assert _listed(staff_client, q="RW 07") == [fresh.pk]


def test_the_officers_queue_costs_the_same_for_any_number_of_pledges(
    client, kelurahan_officer, need, django_assert_max_num_queries
):
    client.force_login(kelurahan_officer)
    for _ in range(15):
        services.pledge(need=need, collaborator=factories.CollaboratorFactory(), quantity=2)
    with django_assert_max_num_queries(OFFICER_PLEDGE_CHANGELIST_QUERIES):
        response = client.get(CHANGELIST)
    assert len(response.context["cl"].result_list) == 15
