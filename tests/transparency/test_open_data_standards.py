"""The downloads as humanitarian and GIS tools read them: every CSV passes the HXL core schema of
libhxl (the reference HXL library), every column tagged; every GeoJSON download is valid by the
`geojson` library's checks. Generated from opendata.DATASETS, so a new dataset or column is
validated without a new test. The data set includes aid types with and without a reference value,
an anonymous collaborator and deliveries, so empty and filled cells of every column are read."""

import datetime
import io
import json

import geojson
import hxl
import pytest
from django.urls import reverse
from django.utils import timezone

from ledger import services as ledger_services
from needs.models import AidType
from tests.transparency.test_transparency_figures import fixed_set
from transparency import opendata


@pytest.fixture
def data(jakarta, province_staff):
    AidType.objects.filter(name="Paket sembako").update(
        unit_value=250_000,
        unit_value_source="Harga pasar",
        unit_value_set_on=datetime.date(2020, 5, 1),
    )
    made = fixed_set(province_staff)
    # Yesterday's checkpoint, as if the day had ended: the checkpoints' download has a row.
    ledger_services.record_checkpoints(today=timezone.localdate() + datetime.timedelta(days=1))
    return made


def _csv(client, name: str) -> str:
    response = client.get(reverse("transparency:open_data", args=[name, "csv"]))
    return b"".join(response.streaming_content).decode("utf-8")


def _read(text: str):
    return hxl.data(hxl.input.make_input(io.BytesIO(text.encode("utf-8"))))


def _core_schema_errors(text: str) -> list[str]:
    """What libhxl's built-in (core) schema reports as errors; its warnings (rare values, spelling)
    are for a human reading real data."""
    errors = []

    def report(e):
        if e.rule.severity == "error":
            errors.append(f"{e.message}: {e.value!r} in {e.column.display_tag}")

    hxl.schema(None, report).validate(_read(text))
    return errors


@pytest.mark.parametrize("name", list(opendata.DATASETS))
def test_every_csv_passes_the_hxl_core_schema(client, data, name):
    text = _csv(client, name)
    source = _read(text)
    tags = [column.display_tag for column in source.columns]
    assert len(tags) == len(opendata.DATASETS[name].columns) and all(tags), tags
    assert list(source), f"{name}: no rows to validate"
    assert _core_schema_errors(text) == []


def test_the_hxl_check_would_catch_a_kind_in_a_count(client, data):
    """The failure issue 15 found: a beneficiary kind tagged #affected, which HXL holds numeric."""
    text = _csv(client, "needs").replace("#beneficiary+type", "#affected+type", 1)
    assert _core_schema_errors(text)


@pytest.mark.parametrize("name", [n for n, d in opendata.DATASETS.items() if d.geo is not None])
def test_every_geojson_download_is_valid(client, data, name):
    response = client.get(reverse("transparency:open_data", args=[name, "geojson"]))
    collection = geojson.loads(response.content)
    assert collection.is_valid, collection.errors()
    assert collection["type"] == "FeatureCollection" and collection["features"]
    for feature in collection["features"]:
        assert feature.is_valid, feature.errors()
        lon, lat = feature["geometry"]["coordinates"]
        assert 106 < lon < 107.5 and -7 < lat < -5  # RFC 7946: longitude first
    assert json.loads(response.content)["type"] == "FeatureCollection"
