"""Which needs a subscription is about (docs/alerts.md), and when each need was published.

A need matches when it is published and open (or partly pledged), its site's kelurahan is one of
the subscription's regions or lies under one (regions nest by code: 31.71 › 31.71.01 ›
31.71.01.1001, StaffArea's rule), and its category is one of the subscription's, or the
subscription names none."""

import datetime
from collections.abc import Iterable

from django.db import connection
from django.db.models import QuerySet

from locations.scoping import in_area, within
from needs.models import Need


def matches(
    region_codes: Iterable[str],
    category_ids: Iterable[int],
    kelurahan_code: str,
    category_id: int,
) -> bool:
    """The rule on plain values: in one of the regions, and of one of the categories (if any)."""
    categories = set(category_ids)
    if categories and category_id not in categories:
        return False
    return in_area(kelurahan_code, list(region_codes))


def needs_for(region_codes: Iterable[str], category_ids: Iterable[int]) -> QuerySet:
    """The open, published needs a subscription with these regions and categories is about."""
    needs = Need.objects.open().published().filter(within("site__kelurahan__code", region_codes))
    categories = list(category_ids)
    if categories:
        needs = needs.filter(aid_type__category__in=categories)
    return needs


# When each need last became published, read from its history (simple_history writes a row with
# every save and every bulk create): a row that is published where the need's row before it was not,
# or that is its first. The needs considered are those with a history row since `since`.
PUBLISHED_SQL = """
    SELECT id, max(history_date) FROM (
        SELECT id, history_date, published,
               lag(published) OVER (PARTITION BY id ORDER BY history_date, history_id) AS before
        FROM {table}
        WHERE id IN (SELECT id FROM {table} WHERE history_date >= %s {only})
    ) h
    WHERE published AND before IS NOT TRUE AND history_date >= %s
    GROUP BY id
"""


def published_since(since: datetime.datetime, need_ids=None) -> dict[int, datetime.datetime]:
    """{need id: when it was published} for the needs published at or after `since` (and still
    or again published now or not: the caller reads the needs themselves)."""
    only, params = "", [since]
    if need_ids is not None:
        only, params = "AND id = ANY(%s)", [since, list(need_ids)]
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(Need.history.model._meta.db_table)
        cursor.execute(PUBLISHED_SQL.format(table=table, only=only), [*params, since])
        return dict(cursor.fetchall())
