"""GeoJSON built by PostgreSQL itself, for layers too large to serialise feature by feature in Python."""

from django.db import connections
from django.db.models import QuerySet


def _feature(queryset: QuerySet, geometry: str, properties: list[str], precision: int):
    """The SQL of one row of `queryset` as a GeoJSON Feature (over its rows, aliased `rows`), the
    queryset's own SQL to select them from, and its parameters."""
    inner, params = queryset.order_by().query.sql_with_params()
    pairs = ", ".join(f"'{name}', rows.\"{name}\"" for name in properties)
    feature = f"""json_build_object(
        'type', 'Feature',
        'id', rows.id,
        'geometry', ST_AsGeoJSON(rows."{geometry}", {int(precision)})::json,
        'properties', json_build_object({pairs})
    )"""
    return feature, inner, params


def feature_collection(
    queryset: QuerySet, *, geometry: str, properties: list[str], precision: int = 6
) -> bytes:
    """One GeoJSON FeatureCollection (RFC 7946) for every row of `queryset`, as UTF-8 bytes.

    `queryset` must be a `.values()` queryset with an `id` column, the `geometry` column (SRID 4326)
    and the `properties` columns. PostgreSQL builds the whole document in one query (json_agg), so
    the cost stays in the database whatever the number of rows.
    """
    feature, inner, params = _feature(queryset, geometry, properties, precision)
    sql = f"""
        SELECT json_build_object(
            'type', 'FeatureCollection',
            'features', COALESCE(json_agg({feature}), '[]'::json)
        )::text
        FROM ({inner}) AS rows
    """
    # The queryset's own database: a public layer is read where the router sends it (a replica).
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0].encode()


def features(
    queryset: QuerySet, *, geometry: str, properties: list[str], precision: int = 6
) -> dict[int, bytes]:
    """Each row of `queryset` (as for feature_collection) as one GeoJSON Feature, UTF-8 bytes built
    by PostgreSQL, by its id: the parts that collection() puts together for any subset of the rows."""
    feature, inner, params = _feature(queryset, geometry, properties, precision)
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"SELECT rows.id, {feature}::text FROM ({inner}) AS rows", params)
        return {pk: text.encode() for pk, text in cursor.fetchall()}


def collection(parts) -> bytes:
    """One FeatureCollection of Features made by features()."""
    return b'{"type": "FeatureCollection", "features": [' + b", ".join(parts) + b"]}"
