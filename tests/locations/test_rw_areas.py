"""RW areas: imported from a GeoJSON file (all or nothing), kept true by the database, and the unmet
need the map shades per RW, found by PostGIS from each site's point."""

import json

import pytest
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction

from donations import services
from locations.models import Region, RwArea
from needs import coverage
from needs.models import Need
from tests import factories

GAMBIR = "31.71.01.1001"
# Gambir's test boundary runs from 106.8168 to 106.8369 east; RW 01 its western half, RW 02 the
# eastern, both from -6.1833 to -6.1672.
WEST = [[106.8168, -6.1833], [106.8268, -6.1833], [106.8268, -6.1672], [106.8168, -6.1672]]
EAST = [[106.8268, -6.1833], [106.8369, -6.1833], [106.8369, -6.1672], [106.8268, -6.1672]]


def _feature(kelurahan, number, ring):
    return {
        "type": "Feature",
        "properties": {"kelurahan_kode": kelurahan, "rw_no": number, "nama": f"RW {number:02d}"},
        "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
    }


def _file(tmp_path, features, name="rw.geojson"):
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


@pytest.fixture
def rw_file(tmp_path):
    return _file(tmp_path, [_feature(GAMBIR, 1, WEST), _feature(GAMBIR, 2, EAST)])


def test_importing_creates_the_areas_once(jakarta, rw_file, capsys):
    call_command("import_rw_areas", str(rw_file), "--source", "Uji 2012")
    assert "2 RW areas created" in capsys.readouterr().out
    areas = {a.code: a for a in RwArea.objects.all()}
    assert set(areas) == {f"{GAMBIR}-RW01", f"{GAMBIR}-RW02"}
    assert areas[f"{GAMBIR}-RW01"].kelurahan.code == GAMBIR
    assert areas[f"{GAMBIR}-RW01"].source == "Uji 2012"
    assert str(areas[f"{GAMBIR}-RW02"]) == "RW 02"
    call_command("import_rw_areas", str(rw_file), "--source", "Uji 2012")
    assert "0 RW areas created, 0 updated, 2 unchanged" in capsys.readouterr().out


def test_an_unknown_kelurahan_is_reported_not_imported(jakarta, tmp_path, capsys):
    path = _file(tmp_path, [_feature(GAMBIR, 1, WEST), _feature("31.79.99.9999", 1, EAST)])
    call_command("import_rw_areas", str(path))
    out = capsys.readouterr().out
    assert "1 RW areas created" in out and "no kelurahan with this code" in out


@pytest.mark.parametrize(
    ("features", "message"),
    [
        ([_feature(GAMBIR, 1, WEST), _feature(GAMBIR, 1, EAST)], "a second feature"),
        ([_feature(GAMBIR, 0, WEST)], "whole number from 1"),
        (
            [{**_feature(GAMBIR, 3, WEST), "geometry": {"type": "Point", "coordinates": [1, 2]}}],
            "not a (Multi)Polygon",
        ),
        ([_feature(GAMBIR, 4, [[500, 1], [2, 3], [4, 5]])], "longitude/latitude"),
    ],
)
def test_a_bad_file_changes_nothing(jakarta, tmp_path, features, message):
    path = _file(tmp_path, [_feature(GAMBIR, 9, EAST), *features])
    with pytest.raises(CommandError, match="Nothing was changed") as error:
        call_command("import_rw_areas", str(path))
    assert message in str(error.value)
    assert not RwArea.objects.exists()


def test_the_database_refuses_what_no_rw_is(jakarta):
    gambir = Region.objects.get(code=GAMBIR)
    shape = MultiPolygon(Polygon([(*p,) for p in [*WEST, WEST[0]]]), srid=4326)
    RwArea.objects.create(code=f"{GAMBIR}-RW01", kelurahan=gambir, number=1, boundary=shape)
    for code, number in ((f"{GAMBIR}-RW01b", 2), (f"{GAMBIR}-RW05", 0), (f"{GAMBIR}-RW07", 1)):
        with pytest.raises(IntegrityError), transaction.atomic():
            RwArea.objects.create(code=code, kelurahan=gambir, number=number, boundary=shape)


@pytest.fixture
def rw_needs(jakarta, rw_file, donor):
    """Two needs in RW 01 (west), one in RW 02 (east), one at a site outside both (Cideng)."""
    call_command("import_rw_areas", str(rw_file), stdout=None)
    west = factories.SiteFactory(name="RW 01", point=Point(106.82, -6.175, srid=4326))
    east = factories.SiteFactory(name="RW 02", point=Point(106.83, -6.175, srid=4326))
    cideng = factories.SiteFactory(
        name="RW 09",
        kelurahan=Region.objects.get(code="31.71.01.1002"),
        point=Point(106.81, -6.175),
    )
    first = factories.NeedFactory(site=west, beneficiaries=100, quantity_needed=10)
    factories.NeedFactory(site=west, beneficiaries=30)
    factories.NeedFactory(site=east, beneficiaries=50)
    factories.NeedFactory(site=cideng, beneficiaries=70)
    services.pledge(need=first, collaborator=donor, quantity=5)


def test_each_need_counts_in_the_rw_its_site_lies_in(rw_needs):
    areas = {a["code"]: a for a in coverage.by_rw(Need.objects.published())}
    assert set(areas) == {f"{GAMBIR}-RW01", f"{GAMBIR}-RW02"}  # Cideng's site: in no RW loaded
    west = areas[f"{GAMBIR}-RW01"]
    assert (west["name"], west["kelurahan_code"], west["kelurahan"]) == ("RW 01", GAMBIR, "Gambir")
    assert (west["needs_open"], west["beneficiaries_uncovered"]) == (2, 50 + 30)
    assert areas[f"{GAMBIR}-RW02"]["beneficiaries_uncovered"] == 50
    # The RWs' sums never exceed their kelurahan's; here they are all of it.
    kelurahan = {a["code"]: a for a in coverage.by_kelurahan(Need.objects.published())}
    assert kelurahan[GAMBIR]["beneficiaries_uncovered"] == 130


def test_the_api_and_the_open_data_give_the_rw_figures(client, rw_needs):
    body = client.get("/api/v1/needs/coverage/", {"level": "rw"}).json()
    assert body["level"] == "rw"
    first = body["areas"][0]
    assert first["code"] == f"{GAMBIR}-RW01" and first["beneficiaries_uncovered"] == 80
    assert first["geometry"]["type"] in ("Polygon", "MultiPolygon")  # simplified, for the map
    rows = client.get("/transparansi/data/unmet_need.json").json()["rows"]
    rw = {r["rw_code"]: r for r in rows if r["area_level"] == "rw"}
    assert rw[f"{GAMBIR}-RW01"]["beneficiaries_uncovered"] == 80
    assert rw[f"{GAMBIR}-RW01"]["kota_code"] == "31.71"
    assert client.get("/api/v1/needs/coverage/", {"level": "rt"}).status_code == 400


def test_the_coverage_page_lists_rws_when_loaded(client, rw_needs):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    html = client.get("/peta/cakupan/", {"level": "rw"}).content.decode()
    assert f'data-code="{GAMBIR}-RW01"' in html and "Per kelurahan" in html
    assert (
        'data-rw-coverage-url="/api/v1/needs/coverage/?level=rw"'
        in client.get("/peta/").content.decode()
    )
