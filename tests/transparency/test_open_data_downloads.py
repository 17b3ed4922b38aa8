"""Open-data downloads parse: CSV with its HXL row, JSON, valid GeoJSON; formula cells neutralised."""

import csv
import io
import json

import pytest
from django.urls import reverse

from tests import factories
from tests.transparency.test_transparency_figures import fixed_set
from transparency import opendata


def url(name: str, fmt: str) -> str:
    return reverse("transparency:open_data", args=[name, fmt])


def read_csv(client, name: str, **params) -> tuple[list[str], list[str], list[dict]]:
    response = client.get(url(name, "csv"), params)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    header, hxl = rows[0], rows[1]
    return header, hxl, [dict(zip(header, r, strict=True)) for r in rows[2:]]


@pytest.fixture
def data(jakarta, province_staff):
    return fixed_set(province_staff)


@pytest.mark.parametrize("name", list(opendata.DATASETS))
def test_every_csv_has_its_documented_header_and_an_hxl_row(client, data, name):
    header, hxl, _rows = read_csv(client, name)
    assert header == [c.name for c in opendata.DATASETS[name].columns]
    assert all(tag.startswith("#") for tag in hxl)


def test_the_needs_csv_speaks_hxl_for_places_and_numbers(client, data):
    header, hxl, rows = read_csv(client, "needs")
    tags = dict(zip(header, hxl, strict=True))
    assert tags["kota_name"] == "#adm2+name" and tags["kecamatan_name"] == "#adm3+name"
    assert tags["lat"] == "#geo+lat" and tags["lon"] == "#geo+lon"
    # #targeted counts people or households; the kind of beneficiary is not a number.
    assert (
        tags["beneficiaries"] == "#targeted+num" and tags["beneficiary_kind"] == "#beneficiary+type"
    )
    assert tags["quantity_needed"] == "#output+needed+num" and tags["category"].startswith(
        "#sector"
    )
    assert len(rows) == 3
    assert {r["kota_code"] for r in rows} == {"31.71", "31.72"}
    assert all(-7 < float(r["lat"]) < -5 for r in rows)


@pytest.mark.parametrize("name", list(opendata.DATASETS))
def test_every_json_parses_with_its_columns_and_licence(client, data, name):
    body = json.loads(client.get(url(name, "json")).content)
    assert body["licence"] == "ODbL-1.0"
    assert body["columns"] == [c.name for c in opendata.DATASETS[name].columns]
    assert all(set(row) == set(body["columns"]) for row in body["rows"])


@pytest.mark.parametrize("name", ["needs", "sites"])
def test_needs_and_sites_are_valid_geojson(client, data, name):
    response = client.get(url(name, "geojson"))
    assert response["Content-Type"] == "application/geo+json"
    body = json.loads(response.content)
    assert body["type"] == "FeatureCollection"
    assert body["features"]
    for feature in body["features"]:
        assert feature["type"] == "Feature" and isinstance(feature["id"], int)
        assert feature["geometry"]["type"] == "Point"
        lon, lat = feature["geometry"]["coordinates"]
        assert 106 < lon < 107.5 and -7 < lat < -5
        assert isinstance(feature["properties"], dict)


def test_unknown_datasets_and_formats_are_not_found(client, db):
    assert client.get(url("pledges", "geojson")).status_code == 404
    assert client.get(url("contacts", "csv")).status_code == 404
    assert client.get(url("needs", "xlsx")).status_code == 404


def test_a_bad_as_of_is_a_400_with_the_reason(client, db):
    response = client.get(url("totals", "csv"), {"as_of": "yesterday"})
    assert response.status_code == 400
    assert b"YYYY-MM-DD" in response.content


@pytest.mark.parametrize("value", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\r=1"])
def test_a_cell_that_starts_like_a_formula_is_neutralised(value):
    assert opendata.safe_cell(value) == "'" + value


def test_numbers_and_plain_text_stay_as_they_are():
    assert opendata.safe_cell(-6.17) == -6.17
    assert opendata.safe_cell("Paket sembako") == "Paket sembako"
    assert opendata.safe_cell(None) == ""


def test_a_hostile_name_reaches_the_csv_neutralised(client, jakarta):
    need = factories.NeedFactory(title='=HYPERLINK("http://evil.test","x")')
    header, _hxl, rows = read_csv(client, "needs")
    assert rows[0]["title"] == '\'=HYPERLINK("http://evil.test","x")'
    assert need.pk == int(rows[0]["need_id"])
