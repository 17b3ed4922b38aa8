"""The map's needs layer: every matching need as one GeoJSON document, built by PostgreSQL, gzipped
once and served from a snapshot (ksbb.lib.snapshots) to every visitor asking for the same filters."""

import dataclasses
import datetime
import gzip
import hashlib
import re

from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date, quote_etag

from ksbb.lib import snapshots
from ksbb.lib.geojson import feature_collection
from needs.caching import data_version

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


def response(request: HttpRequest, needs: QuerySet, filters: tuple) -> HttpResponse:
    """The layer for `filters` (the request's filter parameters, which key the snapshot), gzipped
    for a client that accepts it, or 304 Not Modified when the client's copy is still current."""
    layer = snapshots.snapshot("needs-layer", filters, lambda: build(needs))
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
