"""Import region boundaries from a GeoJSON file the operator supplies.

Geometry is built with GEOS from coordinates checked here, not handed to GDAL: the file is
untrusted input and Debian 12's GDAL cannot be told to refuse file or network access.
"""

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.gis.geos import GEOSException, LinearRing, MultiPolygon, Polygon
from django.db import connection, transaction

from locations.models import Region

CODE_KEYS = ("kode", "code", "kode_wilayah", "kemendagri_code")
NAME_KEYS = ("nama", "name", "NAME", "NAMOBJ")
LEVEL_BY_CODE = {
    Region.Level.KOTA: re.compile(r"^\d{2}\.\d{2}$"),
    Region.Level.KECAMATAN: re.compile(r"^\d{2}\.\d{2}\.\d{2}$"),
    Region.Level.KELURAHAN: re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$"),
}
NAME_PREFIXES = (
    "kota administrasi ",
    "kabupaten administrasi ",
    "kota ",
    "kabupaten ",
    "kelurahan ",
    "kecamatan ",
)


class BoundaryFileError(Exception):
    """The file cannot be used at all; nothing was written."""


@dataclass
class ImportReport:
    by_code: int = 0
    by_name: int = 0
    unchanged: int = 0
    unmatched: list[str] = field(default_factory=list)
    dissolved: int = 0

    @property
    def matched(self) -> int:
        return self.by_code + self.by_name


def normalise(name: str) -> str:
    """Compare names the way people mean them: no case, accents, prefixes or punctuation."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower().strip()
    for prefix in NAME_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return re.sub(r"[^a-z0-9]+", "", text)


def _ring(coords, where: str) -> LinearRing:
    if not isinstance(coords, list) or len(coords) < 4:
        raise BoundaryFileError(f"{where}: a ring needs at least four positions.")
    points = []
    for position in coords:
        if (
            not isinstance(position, list)
            or len(position) < 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in position[:2])
        ):
            raise BoundaryFileError(f"{where}: a position must be [longitude, latitude].")
        lon, lat = position[0], position[1]
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise BoundaryFileError(
                f"{where}: [{lon}, {lat}] is not a longitude/latitude (EPSG:4326)."
            )
        points.append((float(lon), float(lat)))
    if points[0] != points[-1]:
        raise BoundaryFileError(f"{where}: a ring must end where it starts.")
    return LinearRing(points)


def _polygon(rings, where: str) -> Polygon:
    if not isinstance(rings, list) or not rings:
        raise BoundaryFileError(f"{where}: a polygon needs at least one ring.")
    return Polygon(*[_ring(r, where) for r in rings])


def parse_geometry(geometry, where: str) -> MultiPolygon:
    if not isinstance(geometry, dict):
        raise BoundaryFileError(f"{where}: the feature has no geometry.")
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    try:
        if kind == "Polygon":
            multi = MultiPolygon(_polygon(coords, where))
        elif kind == "MultiPolygon":
            if not isinstance(coords, list) or not coords:
                raise BoundaryFileError(f"{where}: an empty MultiPolygon.")
            multi = MultiPolygon(*[_polygon(p, where) for p in coords])
        else:
            raise BoundaryFileError(f"{where}: geometry type {kind!r} is not a (Multi)Polygon.")
    except GEOSException as e:
        raise BoundaryFileError(f"{where}: {e}") from e
    multi.srid = 4326
    if not multi.valid:
        # Simplified official polygons sometimes self-touch; repair rather than refuse the file.
        polygons = _polygons(multi.make_valid())
        if not polygons:
            raise BoundaryFileError(f"{where}: the geometry is invalid and cannot be repaired.")
        multi = MultiPolygon(*polygons, srid=4326)
    return multi


def _polygons(geometry) -> list[Polygon]:
    if geometry.geom_type == "Polygon":
        return [geometry]
    if geometry.geom_type in ("MultiPolygon", "GeometryCollection"):
        return [p for part in geometry for p in _polygons(part)]
    return []


def read_features(path: Path) -> list[dict]:
    path = Path(path)
    if not path.is_file():
        raise BoundaryFileError(f"{path}: no such file.")
    try:
        with path.open(encoding="utf-8-sig") as f:
            data = json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BoundaryFileError(f"{path}: not a GeoJSON file ({e}).") from e
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise BoundaryFileError(f"{path}: expected a GeoJSON FeatureCollection.")
    features = data.get("features")
    if not isinstance(features, list) or not features:
        raise BoundaryFileError(f"{path}: the FeatureCollection has no features.")
    crs = (data.get("crs") or {}).get("properties", {}).get("name", "")
    if crs and not re.search(r"(4326|CRS84)$", crs):
        raise BoundaryFileError(f"{path}: coordinates must be EPSG:4326 (the file says {crs}).")
    return features


def _first(properties: dict, keys) -> str:
    for key in keys:
        value = properties.get(key)
        if isinstance(value, str | int) and str(value).strip():
            return str(value).strip()
    return ""


@transaction.atomic
def import_boundaries(
    path: Path, *, level: str | None = None, dissolve: bool = True
) -> ImportReport:
    """Set the boundaries of the regions the file's features name. Idempotent.

    A feature matches a region by its Kemendagri code (`kode`), or failing that by its normalised
    name, unique within `level` (or among all regions when no level is given). The whole file is
    parsed before anything is written, so a bad file changes nothing. With `dissolve`, kecamatan
    and kota still without a boundary get the union of their children's.
    """
    features = read_features(path)
    regions = list(Region.objects.all() if level is None else Region.objects.filter(level=level))
    by_code = {r.code: r for r in regions}
    by_name: dict[str, list[Region]] = {}
    for r in regions:
        by_name.setdefault(normalise(r.name), []).append(r)

    report = ImportReport()
    updates: dict[int, tuple[Region, MultiPolygon]] = {}
    for index, feature in enumerate(features, start=1):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise BoundaryFileError(f"{path}: item {index} is not a GeoJSON Feature.")
        properties = feature.get("properties") or {}
        code, name = _first(properties, CODE_KEYS), _first(properties, NAME_KEYS)
        label = code or name or f"#{index}"
        geometry = parse_geometry(feature.get("geometry"), f"{path.name} feature {label}")
        region = by_code.get(code)
        if region is not None:
            report.by_code += 1
        else:
            candidates = by_name.get(normalise(name), []) if name else []
            if len(candidates) != 1:
                why = "no region with this code or name" if not candidates else "name is ambiguous"
                report.unmatched.append(f"{label} ({why})")
                continue
            region = candidates[0]
            report.by_name += 1
        if region.pk in updates:
            report.unmatched.append(f"{label} (a second feature for {region.code})")
            continue
        updates[region.pk] = (region, geometry)

    for region, geometry in updates.values():
        if region.boundary is not None and region.boundary.equals_exact(geometry, tolerance=1e-9):
            report.unchanged += 1
            continue
        region.boundary = geometry
        region.save(update_fields=["boundary"])
    if dissolve:
        report.dissolved = dissolve_parents()
    return report


def dissolve_parents() -> int:
    """Give every kecamatan, then every kota, still without a boundary the union of its children's."""
    total = 0
    with connection.cursor() as cursor:
        for level in (Region.Level.KECAMATAN, Region.Level.KOTA):
            cursor.execute(
                """
                UPDATE locations_region AS parent
                   SET boundary = ST_Multi(ST_CollectionExtract(children.shape, 3))
                  FROM (SELECT parent_id, ST_Union(boundary) AS shape, bool_and(boundary IS NOT NULL) AS complete
                          FROM locations_region GROUP BY parent_id) AS children
                 WHERE children.parent_id = parent.id
                   AND children.complete
                   AND parent.level = %s
                   AND parent.boundary IS NULL
                """,
                [level],
            )
            total += cursor.rowcount
    return total
