"""Validators (ETag, Last-Modified) for public need data, so a repeated request costs one small query."""

import hashlib
import time

from django.db import connections, router
from django.db.models import Count, Max
from django.utils.translation import get_language
from django.views.decorators.http import condition

from ksbb.lib.http_cache import release
from locations.models import Region, Site
from needs.models import AidType, Category, Need


def data_version() -> dict:
    """The newest change to needs or their sites, and the number of needs (catches deletions):
    two aggregate queries."""
    needs = Need.objects.aggregate(last=Max("updated_at"), count=Count("id"))
    sites = Site.objects.aggregate(last=Max("updated_at"))
    stamps = [t for t in (needs["last"], sites["last"]) if t is not None]
    return {"last": max(stamps) if stamps else None, "count": needs["count"]}


def _version(request) -> dict:
    """data_version(), once per request: shared by the ETag and Last-Modified."""
    if not hasattr(request, "_ksbb_needs_version"):
        request._ksbb_needs_version = data_version()
    return request._ksbb_needs_version


def _etag(request, *args, **kwargs) -> str:
    version = _version(request)
    # The hour: a need's freshness (Need.freshness) moves with time alone, no row changing.
    hour = int(time.time() // 3600)
    key = f"{version['last']}|{version['count']}|{hour}|{request.get_full_path()}|{get_language()}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _last_modified(request, *args, **kwargs):
    return _version(request)["last"]


needs_conditional = condition(etag_func=_etag, last_modified_func=_last_modified)


# How many of its category's reconfirmation deadlines an unconfirmed need has passed (Need.freshness):
# time alone moves it, with no row changing, so a digest without it would keep a stale page.
FRESHNESS_SQL = """(
    (now() - coalesce(n.confirmed_at, n.created_at) >= make_interval(days => c.reconfirm_days))::int
    + (now() - coalesce(n.confirmed_at, n.created_at)
       >= make_interval(days => c.reconfirm_days + c.reconfirm_grace_days))::int)"""


def need_digest(pk, *, also: str = "", also_params: tuple = ()) -> str | None:
    """A digest of everything public about the published need `pk` (None: no such need): its row
    (counters included), its site, the names of its kelurahan, kecamatan and kota, its aid type and
    category. One indexed query, no ORM. `also`: an SQL expression over the need `n` to digest with
    it (the need page adds its public pledges). Read where the page itself is read (a replica for an
    anonymous visitor), so a digest is never newer than the page it stands for."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    if not 0 < pk < 2**63:  # beyond a bigint: no such need (PostgreSQL would refuse the number)
        return None
    region = Region._meta.db_table
    sql = f"""
        SELECT md5(concat_ws('|', n::text, s::text, a::text, c::text,
                   ROW(k.code, k.name, d.code, d.name, t.code, t.name)::text, {FRESHNESS_SQL},
                   {also or "''"}))
        FROM {Need._meta.db_table} n
        JOIN {Site._meta.db_table} s ON s.id = n.site_id
        JOIN {region} k ON k.id = s.kelurahan_id
        LEFT JOIN {region} d ON d.id = k.parent_id
        LEFT JOIN {region} t ON t.id = d.parent_id
        JOIN {AidType._meta.db_table} a ON a.id = n.aid_type_id
        JOIN {Category._meta.db_table} c ON c.id = a.category_id
        WHERE n.id = %s AND n.published"""
    with connections[router.db_for_read(Need)].cursor() as cursor:
        cursor.execute(sql, [*also_params, pk])
        row = cursor.fetchone()
    return row[0] if row else None


def _need_etag(request, *args, pk=None, **kwargs) -> str | None:
    """One need's ETag (the API's popup): its digest, so a 304 only while nothing it shows changed,
    and never from the two aggregates over every need that lists need."""
    digest = need_digest(pk)
    if digest is None:
        return None  # no such need: the view answers 404
    key = "|".join(
        (
            digest,
            request.get_full_path(),
            get_language(),
            request.headers.get("Accept", ""),
            release(),
        )
    )
    return hashlib.sha256(key.encode()).hexdigest()[:32]


need_conditional = condition(etag_func=_need_etag)
