"""The map's "unmet need" areas (needs.coverage per kelurahan) for a set of filters, as a snapshot
(ksbb.lib.snapshots) rebuilt by the background worker when the needs' figures change, like the
markers' layer (needs.layer) beside it."""

import contextlib

from django.core.cache import cache
from django.db import connections, router

from ksbb.lib import snapshots
from locations.models import RwArea, Site
from needs import coverage
from needs.filters import NeedFilter, filters_query
from needs.models import AidType, Need

# How long a process trusts its answer to "are RW areas loaded?" (they change with an import).
RW_LOADED_SECONDS = 60
RW_LOADED_KEY = "needs:rw-loaded"


def rw_loaded() -> bool:
    """Whether any RW area is loaded (the map then offers RW shading), asked once a minute."""
    try:
        loaded = cache.get(RW_LOADED_KEY)
    except Exception:  # a cache backend's own errors (Redis down): ask the database
        loaded = None
    if loaded is None:
        loaded = RwArea.objects.exists()
        with contextlib.suppress(Exception):
            cache.set(RW_LOADED_KEY, loaded, RW_LOADED_SECONDS)
    return loaded


def areas(level: str, filters: tuple) -> list[dict]:
    """The areas of `level` (kelurahan or rw) for the request's filters (validated by the view):
    the snapshot every visitor asking for the same is served."""
    return snapshots.snapshot("needs-coverage", [level, filters])


def build_for(parts: list) -> list[dict]:
    """The areas for [level, filters], the filters the request's [name, [values]] pairs."""
    level, filters = parts
    filterset = NeedFilter(filters_query(filters), queryset=Need.objects.published())
    if not filterset.is_valid():  # stored filters that no longer validate (a region removed)
        raise ValueError(f"needs coverage: filters no longer valid: {filterset.errors.as_json()}")
    if level == "rw":
        return coverage.by_rw(filterset.qs, shapes=True)
    return coverage.by_kelurahan(filterset.qs)


def version() -> str:
    """What the areas read, in one query: each published need's figures and place, the sites' and
    the aid types' (their reference values) last change, the RW areas'. Unlike the markers, a
    pledge changes it."""
    need, site, rw = Need._meta.db_table, Site._meta.db_table, RwArea._meta.db_table
    aid_type_history = AidType.history.model._meta.db_table
    with connections[router.db_for_read(Need)].cursor() as cursor:
        cursor.execute(
            f"""SELECT md5(string_agg(concat_ws(':', id, status, quantity_needed, quantity_pledged,
                                                beneficiaries, aid_type_id, site_id, md5(title)),
                                      ',' ORDER BY id)),
                       (SELECT max(updated_at) FROM {site}),
                       (SELECT max(history_id) FROM {aid_type_history}),
                       (SELECT concat(count(*), ':', max(id)) FROM {rw})
                  FROM {need} WHERE published"""
        )
        return "|".join(str(part) for part in cursor.fetchone())


snapshots.register(
    "needs-coverage", build_for, version=version, revision=2, period=snapshots.PUBLIC_PERIOD
)
