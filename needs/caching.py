"""Validators (ETag, Last-Modified) for public need data, so a repeated request costs one small query."""

import hashlib
import time

from django.conf import settings
from django.db import connections, router
from django.db.models import Count, Max
from django.utils.translation import get_language
from django.views.decorators.http import condition

from locations.models import Site
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


def need_version(pk) -> str | None:
    """The version of everything public about the published need `pk` (None: no such need): what
    its page, popup and card show. One index probe: the database appends a new number for a need
    whenever its row, its site, regions, aid type or category, or (through donations' triggers) its
    pledges, their collaborators, its deliveries, their OPDs and receipts change (needs migration
    0011, `needs_page_touch`). Beside it, what time alone changes: how many reconfirmation deadlines
    the need has passed, and the day (a delivery's receipt becomes overdue at midnight). Read where
    the page itself is read (a replica for an anonymous visitor), so a version is never newer than
    the page it stands for."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    if not 0 < pk < 2**63:  # beyond a bigint: no such need (PostgreSQL would refuse the number)
        return None
    sql = f"""
        SELECT (SELECT max(t.version) FROM needs_page_touch t WHERE t.need_id = n.id),
               {FRESHNESS_SQL}, (now() AT TIME ZONE %s)::date
        FROM {Need._meta.db_table} n
        JOIN {AidType._meta.db_table} a ON a.id = n.aid_type_id
        JOIN {Category._meta.db_table} c ON c.id = a.category_id
        WHERE n.id = %s AND n.published"""
    with connections[router.db_for_read(Need)].cursor() as cursor:
        cursor.execute(sql, [settings.TIME_ZONE, pk])
        row = cursor.fetchone()
    return "{}.{}.{:%Y%m%d}".format(*row) if row else None


def prune_page_touches() -> int:
    """Delete what no version is read from any more: every need's older numbers, and those of needs
    deleted. A number appended meanwhile is newer than any deleted, so no version moves back.
    Returns the rows deleted."""
    with connections[router.db_for_write(Need)].cursor() as cursor:
        cursor.execute(
            f"""
            DELETE FROM needs_page_touch t
            USING (SELECT need_id, max(version) AS last FROM needs_page_touch GROUP BY need_id) m
            WHERE t.need_id = m.need_id
              AND (t.version < m.last
                   OR NOT EXISTS (SELECT 1 FROM {Need._meta.db_table} n WHERE n.id = t.need_id))"""
        )
        return cursor.rowcount
