"""The map page's server-rendered list and filters: they work without JavaScript."""

import pytest

from tests import factories

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture(autouse=True)
def _english_client(client):
    client.cookies["django_language"] = "en"


def test_the_map_page_lists_open_needs_and_offers_the_filters(client, spread):
    response = client.get("/peta/")
    assert response.status_code == 200
    html = response.content.decode()
    for title in ("Sembako warga RW 01", "Gawai untuk murid", "Drainase kampung", "Makan siang"):
        assert title in html
    assert "Sembako lansia" not in html  # fully pledged: hidden unless asked for
    assert 'id="need-map"' in html and "/api/v1/needs/layer/" in html
    assert "4 needs" in html
    for label in (
        "Category",
        "Aid type",
        "Status",
        "Kota",
        "Kecamatan",
        "Kelurahan",
        "Site kind",
        "Search",
    ):
        assert f">{label}<" in html


def test_filters_narrow_the_list_and_travel_to_the_layer_url(client, spread):
    response = client.get("/peta/", {"category": "pangan", "kota": "31.71"})
    html = response.content.decode()
    assert "Sembako warga RW 01" in html and "Makan siang" in html
    assert "Gawai untuk murid" not in html and "Drainase kampung" not in html
    assert "/api/v1/needs/layer/?category=pangan&amp;kota=31.71" in html


def test_a_bad_filter_is_explained_on_the_page(client, spread):
    response = client.get("/peta/", {"category": "sandang", "kota": "99"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Select a valid choice" in html
    assert "Correct the filters above" in html


def test_a_page_out_of_range_says_so_and_shows_the_first(client, spread):
    response = client.get("/peta/", {"page": "42"})
    assert response.status_code == 200
    assert b"Page 42 does not exist; showing page 1 of 1." in response.content
    assert b"Sembako warga RW 01" in response.content


def test_pagination_keeps_the_filters(client, spread):
    for i in range(25):
        factories.NeedFactory(site=spread["sembako_gambir"].site, title=f"Kebutuhan tambahan {i}")
    html = client.get("/peta/", {"kota": "31.71"}).content.decode()
    assert "?kota=31.71&amp;page=2" in html


def test_the_list_makes_a_fixed_number_of_queries(client, spread, django_assert_max_num_queries):
    for _ in range(30):
        factories.NeedFactory(site=spread["sembako_gambir"].site)
    # count, page of needs, and one per select that lists choices (category, aid type, kota,
    # kecamatan, kelurahan); the same for a page of 4 or of 20.
    with django_assert_max_num_queries(9):
        client.get("/peta/")


def test_the_map_says_when_sites_are_placed_approximately(client, spread):
    assert b"approximate location" not in client.get("/peta/").content
    spread["drainase_akuarium"].site.__class__.objects.filter(
        pk=spread["drainase_akuarium"].site_id
    ).update(location_is_approximate=True)
    assert b"approximate location" in client.get("/peta/").content
