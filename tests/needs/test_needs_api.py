"""The read API: GeoJSON needs filtered like the map, the layer, regions, categories, validators."""

import pytest

from tests import factories


def assert_rfc7946(collection: dict) -> None:
    """The GeoJSON shape clients rely on: a FeatureCollection of Features with [lon, lat] points."""
    assert collection["type"] == "FeatureCollection"
    assert isinstance(collection["features"], list)
    for feature in collection["features"]:
        assert feature["type"] == "Feature"
        assert isinstance(feature["id"], int)
        assert isinstance(feature["properties"], dict)
        geometry = feature["geometry"]
        assert geometry["type"] == "Point"
        lon, lat = geometry["coordinates"]
        # Jakarta: longitude about 106.7–107, latitude about -6.1 – -6.4 (never swapped).
        assert 106 < lon < 107.5 and -7 < lat < -5


def test_needs_list_is_geojson_with_the_same_filters(client, spread):
    response = client.get("/api/v1/needs/", {"kota": "31.71"})
    assert response.status_code == 200
    body = response.json()
    assert_rfc7946(body)
    assert body["count"] == 3
    titles = {f["properties"]["title"] for f in body["features"]}
    assert titles == {"Sembako warga RW 01", "Gawai untuk murid", "Makan siang"}
    feature = next(f for f in body["features"] if f["properties"]["title"] == "Makan siang")
    assert feature["properties"]["quantity_remaining"] == 6
    assert feature["properties"]["status"] == "partly_pledged"
    assert feature["properties"]["kota"] == "Jakarta Pusat"
    assert feature["properties"]["url"] == f"/kebutuhan/{feature['id']}/"


def test_needs_list_never_carries_personal_data(client, spread):
    body = client.get(
        "/api/v1/needs/", {"status": ["open", "partly_pledged", "fully_pledged"]}
    ).content.decode()
    assert "@" not in body and "csr@majubersama.test" not in body


def test_layer_is_the_whole_filtered_set_built_by_postgresql(client, spread):
    response = client.get("/api/v1/needs/layer/", {"category": "pangan"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    body = response.json()
    assert_rfc7946(body)
    assert {f["properties"]["status"] for f in body["features"]} == {"open", "partly_pledged"}
    assert {f["properties"]["category"] for f in body["features"]} == {"pangan"}
    assert len(body["features"]) == 2


def test_layer_of_nothing_is_an_empty_collection(client, spread):
    body = client.get("/api/v1/needs/layer/", {"q": "tidak ada"}).json()
    assert body == {"type": "FeatureCollection", "features": []}


def test_need_detail_shows_a_need_whatever_its_status(client, spread):
    full = spread["full_gambir"]
    response = client.get(f"/api/v1/needs/{full.pk}/")
    assert response.status_code == 200
    assert response.json()["properties"]["status"] == "fully_pledged"


def test_unpublished_need_is_not_found(client, spread):
    assert client.get(f"/api/v1/needs/{spread['hidden'].pk}/").status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"category": "sandang"}, "category"),
        ({"kota": "31.71.01.1001"}, "kota"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"page": "999"}, "page"),
        ({"page": "x"}, "page"),
    ],
)
def test_bad_input_is_a_400_with_a_reason(client, spread, query, field):
    response = client.get("/api/v1/needs/", query, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert field in response.json()


def test_bad_filter_on_the_layer_is_a_400_too(client, spread):
    assert client.get("/api/v1/needs/layer/", {"kota": "xx"}).status_code == 400


def test_list_makes_a_fixed_number_of_queries_whatever_the_page_size(
    client, spread, django_assert_num_queries
):
    # version (needs, sites) for the ETag, count, page — the same for 1 row or 40.
    with django_assert_num_queries(4):
        client.get("/api/v1/needs/", {"page_size": 1})
    for _ in range(40):
        factories.NeedFactory(site=spread["sembako_gambir"].site)
    with django_assert_num_queries(4):
        client.get("/api/v1/needs/", {"page_size": 40})


def test_a_repeated_request_with_its_etag_gets_304(client, spread):
    first = client.get("/api/v1/needs/", {"kota": "31.71"})
    assert first.has_header("ETag") and first.has_header("Last-Modified")
    again = client.get("/api/v1/needs/", {"kota": "31.71"}, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    other_filter = client.get("/api/v1/needs/", {"kota": "31.72"}, HTTP_IF_NONE_MATCH=first["ETag"])
    assert other_filter.status_code == 200


def test_a_change_to_the_needs_invalidates_the_etag(client, spread, donor):
    from donations import services

    first = client.get("/api/v1/needs/layer/")
    services.pledge(need=spread["sembako_gambir"], collaborator=donor, quantity=1)
    again = client.get("/api/v1/needs/layer/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200


def test_if_modified_since_gets_304(client, spread):
    first = client.get("/api/v1/needs/layer/")
    again = client.get("/api/v1/needs/layer/", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert again.status_code == 304


def test_categories_and_aid_types(client, db):
    categories = client.get("/api/v1/categories/").json()
    assert [c["slug"] for c in categories] == ["pangan", "umkm", "pendidikan", "permukiman"]
    aid_types = client.get("/api/v1/aid-types/", {"category__slug": "umkm"}).json()
    assert {a["category"] for a in aid_types} == {"umkm"}
    assert len(aid_types) == 4


def test_regions_plain_and_with_boundaries(client, jakarta):
    from django.core.management import call_command

    from tests.conftest import FIXTURES

    call_command(
        "import_regions", str(FIXTURES / "boundaries.geojson"), "--level", "kelurahan", stdout=None
    )
    plain = client.get("/api/v1/regions/", {"level": "kecamatan", "parent": "31.71"}).json()
    assert len(plain) == 8 and plain[0] == {
        "code": "31.71.01",
        "name": "Gambir",
        "level": "kecamatan",
        "parent": "31.71",
    }
    shapes = client.get("/api/v1/regions/", {"level": "kelurahan", "boundary": "1"}).json()
    assert shapes["type"] == "FeatureCollection"
    assert {f["properties"]["code"] for f in shapes["features"]} == {
        "31.71.01.1001",
        "31.71.01.1002",
    }
    assert shapes["features"][0]["geometry"]["type"] == "MultiPolygon"


def test_openapi_schema_and_docs_are_served_without_a_cdn(client, db):
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/needs/layer/" in schema.content
    docs = client.get("/api/v1/docs/").content.decode()
    assert "cdn." not in docs and "unpkg" not in docs and "jsdelivr" not in docs
