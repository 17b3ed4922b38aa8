"""`manage.py import_regions FILE` loads boundaries, matched by code or name, and refuses a bad file whole."""

import json
import os
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from locations.models import Region
from tests.conftest import FIXTURES

BOUNDARIES = FIXTURES / "boundaries.geojson"


def _run(*args) -> str:
    out = StringIO()
    call_command("import_regions", *args, stdout=out)
    return out.getvalue()


def test_import_matches_by_code_and_by_name_and_reports_the_rest(db):
    output = _run(str(BOUNDARIES), "--level", "kelurahan")
    assert "2 matched (1 by code, 1 by name; 0 unchanged), 1 unmatched" in output
    assert "Atlantis (no region with this code or name)" in output
    gambir = Region.objects.get(code="31.71.01.1001")
    assert gambir.boundary.geom_type == "MultiPolygon" and gambir.boundary.srid == 4326
    assert Region.objects.get(code="31.71.01.1002").boundary is not None  # Cideng, by name


def test_import_twice_changes_nothing(db):
    _run(str(BOUNDARIES), "--level", "kelurahan")
    before = Region.objects.get(code="31.71.01.1001").boundary.wkt
    output = _run(str(BOUNDARIES), "--level", "kelurahan")
    assert "2 unchanged" in output
    assert Region.objects.get(code="31.71.01.1001").boundary.wkt == before


def test_parents_without_boundary_get_their_childrens_union_once_all_have_one(db):
    _run(str(BOUNDARIES), "--level", "kelurahan")
    # Four of Gambir's six kelurahan still lack a boundary, so the kecamatan is left alone.
    assert Region.objects.get(code="31.71.01").boundary is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not a GeoJSON file"),
        (json.dumps({"type": "Feature"}), "expected a GeoJSON FeatureCollection"),
        (json.dumps({"type": "FeatureCollection", "features": []}), "has no features"),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "properties": {"kode": "31.71.01.1001"},
                            "geometry": {"type": "Point", "coordinates": [106.8, -6.2]},
                        }
                    ],
                }
            ),
            r"is not a \(Multi\)Polygon",
        ),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "properties": {"kode": "31.71.01.1001"},
                            "geometry": {
                                "type": "Polygon",
                                "coordinates": [
                                    [
                                        [700000, 9300000],
                                        [700100, 9300000],
                                        [700100, 9300100],
                                        [700000, 9300000],
                                    ]
                                ],
                            },
                        }
                    ],
                }
            ),
            "is not a longitude/latitude",
        ),
    ],
)
def test_a_bad_file_is_refused_whole_and_changes_nothing(db, tmp_path, content, message):
    _run(str(BOUNDARIES), "--level", "kelurahan")
    before = Region.objects.get(code="31.71.01.1001").boundary.wkt
    bad = tmp_path / "bad.geojson"
    bad.write_text(content)
    with pytest.raises(CommandError, match=message):
        _run(str(bad))
    assert Region.objects.get(code="31.71.01.1001").boundary.wkt == before


def test_a_missing_file_is_a_clear_error(db, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        _run(str(tmp_path / "missing.geojson"))


def _shared_boundaries() -> Path | None:
    configured = os.environ.get("KSBB_BOUNDARIES", "").split(os.pathsep)[0]
    beside = Path(__file__).resolve().parents[3] / "shared/data/jakarta/kelurahan.geojson"
    for candidate in (configured, beside):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


@pytest.mark.skipif(
    _shared_boundaries() is None, reason="the real Jakarta boundaries are not beside this checkout"
)
def test_real_jakarta_boundaries_match_every_kelurahan_and_dissolve_the_parents(db):
    output = _run(str(_shared_boundaries()))
    assert "267 matched (267 by code" in output
    assert "0 unmatched" in output
    assert not Region.objects.filter(boundary__isnull=True).exists()
    gambir = Region.objects.get(code="31.71.01")
    assert gambir.boundary.contains(
        Region.objects.get(code="31.71.01.1001").boundary.point_on_surface
    )
