"""The map's needs layer: every matching need as one GeoJSON document, gzipped once and served from
a snapshot (ksbb.lib.snapshots, rebuilt by the background worker when needs change) to every
visitor asking for the same filters.

The layers of all the filters are made from one set of parts: each published need's GeoJSON
Feature, built by PostgreSQL once per version of the data and kept in the process. A filter's
layer then costs the query of its needs' ids, a join and the compression. When a marker changes,
the worker rebuilds the layer of every filter visitors ask for (dozens), and the data's version,
read for each, is read once for them all (`_version`). So that this stays a small part of a core
while donors pledge every second, a layer is checked every snapshots.PUBLIC_PERIOD ×
KSBB_PUBLIC_SNAPSHOT_SECONDS (30 s): a marker shows a need's new status within about a minute, while its popup and its page
are always current."""

import dataclasses
import datetime
import gzip
import hashlib
import re
import threading
import time

from django.conf import settings
from django.db import connections, router
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date, quote_etag

from ksbb.lib import snapshots
from ksbb.lib.geojson import collection, features
from locations.models import Site
from needs.caching import data_version
from needs.filters import NeedFilter, filters_query
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


# The version last read and the Features built for a version, in this process.
_shared: dict = {"version": None, "read_at": float("-inf"), "parts_version": None, "parts": None}
_lock = threading.Lock()


def forget() -> None:
    """Drop this process's version and Features (the tests start each test without them)."""
    with _lock:
        _shared.update(version=None, read_at=float("-inf"), parts_version=None, parts=None)


def _parts(version: str) -> tuple[datetime.datetime | None, dict[int, bytes]]:
    """The needs' last change and each published need's Feature, as of `version`."""
    with _lock:
        if _shared["parts_version"] == version:
            return _shared["parts"]
    last_modified = data_version()["last"]  # before the Features: never newer than they are
    rows = Need.objects.published().values(
        "id", "status", category=F("aid_type__category__slug"), point=F("site__point")
    )
    parts = last_modified, features(rows, geometry="point", properties=["status", "category"])
    with _lock:
        _shared.update(parts_version=version, parts=parts)
    return parts


def build(needs: QuerySet) -> Layer:
    """The layer of `needs` (a filtered queryset of published needs)."""
    last_modified, parts = _parts(_version())
    # A need changed since that version shows as it was then (a new status), or not at all (just
    # published): the change moved the version, so the layer is checked, and rebuilt, again.
    ids = needs.order_by("id").values_list("id", flat=True)
    body = collection(parts[pk] for pk in ids if pk in parts)
    return Layer(
        gzipped=gzip.compress(body, compresslevel=GZIP_LEVEL),
        etag=hashlib.sha256(body).hexdigest()[:32],
        last_modified=last_modified,
    )


def build_for(filters: list) -> Layer:
    """The layer for `filters`, the API request's [name, [values]] pairs (validated by the view)."""
    filterset = NeedFilter(filters_query(filters), queryset=Need.objects.published())
    if not filterset.is_valid():  # stored filters that no longer validate (a region removed)
        raise ValueError(f"needs layer: filters no longer valid: {filterset.errors.as_json()}")
    return build(filterset.qs)


def version_reuse_seconds() -> float:
    """A layer is checked every PUBLIC_PERIOD periods, with a version read at most half that ago."""
    return settings.KSBB_PUBLIC_SNAPSHOT_SECONDS * snapshots.PUBLIC_PERIOD / 2


def _version() -> str:
    """The data's version (`_read_version`), read again only after version_reuse_seconds() (15 s):
    the worker checks every filter's layer, and they would each read the same thing. A layer
    checked with a version that old is at most that much later to show a change; it is never
    built from data older than its version says."""
    now = time.time()  # not monotonic: the tests move this clock
    with _lock:
        fresh = now - _shared["read_at"] < version_reuse_seconds()
        if fresh and _shared["version"] is not None:
            return _shared["version"]
    version = _read_version()
    with _lock:
        _shared.update(version=version, read_at=now)
    return version


def _read_version() -> str:
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
snapshots.register(
    "needs-layer", build_for, version=_version, revision=2, period=snapshots.PUBLIC_PERIOD
)
