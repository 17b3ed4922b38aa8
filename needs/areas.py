"""The map's "unmet need" areas (needs.coverage per kelurahan) for a set of filters, as a snapshot
(ksbb.lib.snapshots) rebuilt by the background worker when the needs' figures change, like the
markers' layer (needs.layer) beside it."""

from django.db import connections, router

from ksbb.lib import snapshots
from locations.models import Site
from needs import coverage
from needs.filters import NeedFilter, filters_query
from needs.models import AidType, Need


def build_for(filters: list) -> list[dict]:
    """The areas for `filters`, the request's [name, [values]] pairs (validated by the view)."""
    filterset = NeedFilter(filters_query(filters), queryset=Need.objects.published())
    if not filterset.is_valid():  # stored filters that no longer validate (a region removed)
        raise ValueError(f"needs coverage: filters no longer valid: {filterset.errors.as_json()}")
    return coverage.by_kelurahan(filterset.qs)


def version() -> str:
    """What the areas read, in one query: each published need's figures and place, the sites' and
    the aid types' (their reference values) last change. Unlike the markers, a pledge changes it."""
    need, site = Need._meta.db_table, Site._meta.db_table
    aid_type_history = AidType.history.model._meta.db_table
    with connections[router.db_for_read(Need)].cursor() as cursor:
        cursor.execute(
            f"""SELECT md5(string_agg(concat_ws(':', id, status, quantity_needed, quantity_pledged,
                                                beneficiaries, aid_type_id, site_id, md5(title)),
                                      ',' ORDER BY id)),
                       (SELECT max(updated_at) FROM {site}),
                       (SELECT max(history_id) FROM {aid_type_history})
                  FROM {need} WHERE published"""
        )
        return "|".join(str(part) for part in cursor.fetchone())


snapshots.register(
    "needs-coverage", build_for, version=version, revision=1, period=snapshots.PUBLIC_PERIOD
)
