"""The page /transparansi/: figures, the as_of form, the collaborator list, cache, queries."""

import datetime

import pytest
from django.urls import reverse

from donations import services
from tests import factories
from tests.helpers import schedule
from tests.transparency.test_transparency_figures import fixed_set

URL = reverse("transparency:transparency")


@pytest.fixture
def en(client):
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def data(jakarta, province_staff):
    return fixed_set(province_staff)


def test_the_page_shows_the_headline_figures_and_when_they_were_computed(en, data):
    response = en.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="collaborators-total">3<' in html
    assert "Computed at" in html
    assert 'lang="en"' in html
    assert "PT Dua Kategori" in html and "Human Initiative" in html


def test_every_page_links_to_it(en, db):
    assert f'href="{URL}"' in en.get(reverse("home")).content.decode()


def test_an_anonymous_collaborator_is_anonymous_and_cannot_be_searched_for(
    en, data, province_staff
):
    services.pledge(need=data["needs"]["a"], collaborator=data["collaborators"]["anon"], quantity=5)
    html = en.get(URL).content.decode()
    assert "Budi" not in html and "Anonymous" in html
    found = en.get(URL, {"q": "Budi"}).content.decode()
    assert "No collaborator with a public name matches" in found


def test_search_finds_a_named_collaborator(en, data):
    html = en.get(URL, {"q": "dua kat"}).content.decode()
    assert "PT Dua Kategori" in html and "Human Initiative" not in html


@pytest.mark.parametrize("value", ["26-10-2020", "2020-13-01", "x" * 50, "9999-01-01"])
def test_a_bad_date_gets_a_message_not_an_error(en, data, value):
    response = en.get(URL, {"as_of": value})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()


def test_as_of_is_stamped_on_the_page(en, data):
    html = en.get(URL, {"as_of": "2020-10-26"}).content.decode()
    assert "Figures as of the end of 26 October 2020" in html
    assert "as_of=2020-10-26" in html  # the downloads follow the date


def test_a_new_delivery_shows_at_once(en, jakarta, province_staff):
    need = factories.NeedFactory(quantity_needed=10)
    pledge = services.pledge(need=need, collaborator=factories.CollaboratorFactory(), quantity=10)
    schedule(pledge, province_staff)
    assert "Deliveries done</dt><dd>0<" in en.get(URL).content.decode()
    services.record_delivery(
        pledge,
        quantity=4,
        delivered_on=datetime.date(2020, 10, 27),
        opd=factories.OpdFactory(),
        actor=services.Actor.staff(province_staff),
    )
    assert "Deliveries done</dt><dd>1<" in en.get(URL).content.decode()


def test_the_figures_come_from_their_snapshot_as_served(
    en, data, settings, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    settings.KSBB_PUBLIC_SNAPSHOT_SECONDS = 10
    with django_capture_on_commit_callbacks(execute=True):  # the worker builds them (eager)
        assert en.get(URL).status_code == 503
    # Then only the collaborator page: count, rows, their per-aid-type details and what the
    # recipients said of those deliveries; and the ledger's head and last checkpoints.
    with django_assert_max_num_queries(6):
        assert en.get(URL).status_code == 200


def test_the_uncached_page_runs_a_fixed_number_of_queries(en, data, django_assert_max_num_queries):
    for _ in range(30):  # more collaborators than one page
        services.pledge(
            need=data["needs"]["a"], collaborator=factories.CollaboratorFactory(), quantity=1
        )
    # version, ~20 aggregates (totals, per category, per status, per kind, per region, timeline,
    # verified deliveries),
    # the categories, then the collaborator page (count, rows, details, receipts), the ledger's
    # head and checkpoints: none per row.
    with django_assert_max_num_queries(28):
        response = en.get(URL)
    assert 'rel="next"' in response.content.decode()
