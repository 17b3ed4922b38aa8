"""The map's needs layer: every matching need as one GeoJSON document, built by PostgreSQL, gzipped
once and served from a snapshot (ksbb.lib.snapshots, rebuilt by the background worker when needs
change) to every visitor asking for the same filters."""

import dataclasses
import datetime
import gzip
import hashlib
import re

from django.db import connections, router
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date, quote_etag

from ksbb.lib import snapshots
from ksbb.lib.geojson import feature_collection
from locations.models import Site
from needs.caching import data_version
from needs.filters import NeedFilter
from needs.models import AidType, Need

ACCEPTS_GZIP = re.compile(r"\bgzip\b")
CONTENT_TYPE = "application/geo+json"
# Built once per snapshot, sent to every phone: the smaller file wins over the faster compression.
GZIP_LEVEL = 6


@dataclasses.dataclass(frozen=True)
class Layer:
    gzipped: bytes
    # Of the content, so that a rebuild showing the same markers still answers revalidations 304.
    etag: str
    last_modified: datetime.datetime | None


def build(needs: QuerySet) -> Layer:
    """The layer of `needs` (a filtered queryset of published needs)."""
    last_modified = data_version()["last"]  # before the body: never newer than what it shows
    rows = needs.values(
        "id", "status", category=F("aid_type__category__slug"), point=F("site__point")
    )
    body = feature_collection(rows, geometry="point", properties=["status", "category"])
    return Layer(
        gzipped=gzip.compress(body, compresslevel=GZIP_LEVEL),
        etag=hashlib.sha256(body).hexdigest()[:32],
        last_modified=last_modified,
    )


def build_for(filters: list) -> Layer:
    """The layer for `filters`, the API request's [name, [values]] pairs (validated by the view)."""
    data = QueryDict(mutable=True)
    for name, values in filters:
        data.setlist(name, values)
    filterset = NeedFilter(data, queryset=Need.objects.published())
    if not filterset.is_valid():  # stored filters that no longer validate (a region removed)
        raise ValueError(f"needs layer: filters no longer valid: {filterset.errors.as_json()}")
    return build(filterset.qs)


def _version() -> str:
    """What a layer shows and what its filters read, in one query: each published need's id,
    status, aid type, site and title, the sites' last change and the aid types' (their category).
    Not the counters: a pledge that leaves a need's status as it was changes no marker, so it
    costs no rebuild (a full rebuild at 50,000 needs is half a second of a core; this, a tenth)."""
    need, site = Need._meta.db_table, Site._meta.db_table
    aid_type_history = AidType.history.model._meta.db_table
    with connections[router.db_for_read(Need)].cursor() as cursor:
        cursor.execute(
            f"""SELECT md5(string_agg(concat_ws(':', id, status, aid_type_id, site_id, md5(title)),
                                      ',' ORDER BY id)),
                       (SELECT max(updated_at) FROM {site}),
                       (SELECT max(history_id) FROM {aid_type_history})
                  FROM {need} WHERE published"""
        )
        needs, sites, aid_types = cursor.fetchone()
    return f"{needs}|{sites}|{aid_types}"


def response(request: HttpRequest, filters: tuple) -> HttpResponse:
    """The layer for `filters` (the request's filter parameters, which key the snapshot), gzipped
    for a client that accepts it, or 304 Not Modified when the client's copy is still current."""
    layer = snapshots.snapshot("needs-layer", filters)
    if ACCEPTS_GZIP.search(request.headers.get("Accept-Encoding", "")):
        answer = HttpResponse(layer.gzipped, content_type=CONTENT_TYPE)
        answer["Content-Encoding"] = "gzip"
    else:
        answer = HttpResponse(gzip.decompress(layer.gzipped), content_type=CONTENT_TYPE)
    patch_vary_headers(answer, ["Accept-Encoding"])
    answer["ETag"] = quote_etag(layer.etag)
    modified = int(layer.last_modified.timestamp()) if layer.last_modified else None
    if modified is not None:
        answer["Last-Modified"] = http_date(modified)
    return get_conditional_response(
        request, etag=answer["ETag"], last_modified=modified, response=answer
    )


# Cheap enough (a second at 50,000 needs) to build in the request that first asks for a filter.
snapshots.register("needs-layer", build_for, version=_version, revision=2)
