"""A need's public page: where, what, progress, and who supports it (public names only)."""

import pytest

from donations import services
from needs.models import Need

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture(autouse=True)
def _english_client(client):
    client.cookies["django_language"] = "en"


def test_the_need_page_shows_place_progress_and_supporters(client, need, donor, anonymous_donor):
    services.pledge(need=need, collaborator=donor, quantity=30)
    services.pledge(need=need, collaborator=anonymous_donor, quantity=20)
    response = client.get(f"/kebutuhan/{need.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "Paket sembako RW 01 Gambir",
        "RW 01",
        "Gambir",
        "Jakarta Pusat",
        "50% pledged",
        "Support this need",
    ):
        assert text in html
    assert "PT Maju Bersama" in html and "Anonymous" in html
    assert "Budi Santoso" not in html  # asked to be anonymous
    assert donor.email not in html and anonymous_donor.email not in html
    assert f"/kebutuhan/{need.pk}/dukung/" in html


def test_cancelled_pledges_are_not_listed(client, need, donor):
    services.cancel(services.pledge(need=need, collaborator=donor, quantity=30))
    assert "PT Maju Bersama" not in client.get(f"/kebutuhan/{need.pk}/").content.decode()


def test_a_fully_pledged_need_says_so_and_offers_no_pledge(client, need, donor):
    services.pledge(need=need, collaborator=donor, quantity=100)
    html = client.get(f"/kebutuhan/{need.pk}/").content.decode()
    assert "fully pledged" in html
    assert "Support this need" not in html


def test_an_unpublished_need_is_not_found(client, need):
    Need.objects.filter(pk=need.pk).update(published=False)
    assert client.get(f"/kebutuhan/{need.pk}/").status_code == 404


def test_a_missing_need_is_not_found(client, db):
    assert client.get("/kebutuhan/999999/").status_code == 404


def test_the_need_page_makes_a_fixed_number_of_queries(
    client, need, donor, django_assert_max_num_queries
):
    for _ in range(5):
        services.pledge(need=need, collaborator=donor, quantity=1)
    # need with its site, regions and aid type; its pledges with collaborators; the ancestors walk
    # is served by the select_related chain.
    with django_assert_max_num_queries(4):
        client.get(f"/kebutuhan/{need.pk}/")
