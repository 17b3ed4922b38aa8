"""Import RW areas (rukun warga boundaries) from a GeoJSON file the operator supplies, such as the
2012 RW polygons of BPBD DKI in the shared reference data (`rw_2012.geojson`, ODbL 1.0).

Each feature names its kelurahan by Kemendagri code (`kelurahan_kode`, `kelurahan_code` or
`kode_kelurahan`) and its RW number (`rw_no`, `rw`, `nomor`); its code is the kelurahan's and the
number ("31.71.01.1001-RW01"). The whole file is read and checked before anything is written, so
a bad file changes nothing; importing it again changes only what differs.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from locations.boundaries import BoundaryFileError, _first, parse_geometry, read_features
from locations.models import Region, RwArea

KELURAHAN_KEYS = ("kelurahan_kode", "kelurahan_code", "kode_kelurahan")
NUMBER_KEYS = ("rw_no", "rw", "nomor")
RW_NUMBER = re.compile(r"^(?:RW\s*)?0*([1-9][0-9]{0,2})$", re.IGNORECASE)


@dataclass
class RwReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    unmatched: list[str] = field(default_factory=list)


def rw_code(kelurahan_code: str, number: int) -> str:
    return f"{kelurahan_code}-RW{number:02d}"


@transaction.atomic
def import_rw_areas(path: Path, *, source: str = "") -> RwReport:
    """Create or update the RW areas the file describes. A feature whose kelurahan is unknown is
    reported, not imported; a malformed feature refuses the whole file (BoundaryFileError)."""
    features = read_features(path)
    kelurahan = {r.code: r for r in Region.objects.kelurahan().defer("boundary")}
    report = RwReport()
    found: dict[str, tuple[Region, int, object]] = {}
    for index, feature in enumerate(features, start=1):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise BoundaryFileError(f"{Path(path).name}: item {index} is not a GeoJSON Feature.")
        properties = feature.get("properties") or {}
        code = _first(properties, KELURAHAN_KEYS)
        number_text = _first(properties, NUMBER_KEYS)
        match = RW_NUMBER.match(number_text)
        where = f"{Path(path).name} feature {index} ({code or '?'} RW {number_text or '?'})"
        if not match:
            raise BoundaryFileError(f"{where}: the RW number must be a whole number from 1.")
        geometry = parse_geometry(feature.get("geometry"), where)
        region = kelurahan.get(code)
        if region is None:
            report.unmatched.append(f"{where}: no kelurahan with this code")
            continue
        number = int(match.group(1))
        key = rw_code(code, number)
        if key in found:
            raise BoundaryFileError(f"{where}: a second feature for {key}.")
        found[key] = (region, number, geometry)

    existing = {a.code: a for a in RwArea.objects.filter(code__in=found)}
    for key, (region, number, geometry) in found.items():
        area = existing.get(key)
        if area is None:
            RwArea.objects.create(
                code=key, kelurahan=region, number=number, boundary=geometry, source=source
            )
            report.created += 1
        elif area.boundary.equals_exact(geometry, tolerance=1e-9) and area.source == source:
            report.unchanged += 1
        else:
            area.boundary, area.source = geometry, source
            area.save(update_fields=["boundary", "source"])
            report.updated += 1
    return report
