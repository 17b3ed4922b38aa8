"""What the map draws first when its layer is large (needs.summary): the needs counted per kelurahan,
in the map page itself; the same needs as the layer, for the same filters, and as fresh."""

import json
import re
import time
from collections import Counter

import pytest

from donations import services
from ksbb.lib import snapshots
from needs import summary
from needs.filters import canonical_filters
from needs.models import Need, NeedStatus

pytestmark = pytest.mark.django_db


def layer_counts(client, query: dict) -> Counter:
    """The layer's needs for `query`, counted per kelurahan."""
    body = client.get("/api/v1/needs/layer/", query).json()
    ids = [feature["id"] for feature in body["features"]]
    codes = Need.objects.filter(pk__in=ids).values_list("site__kelurahan__code", flat=True)
    return Counter(codes)


def summary_of(client, query: dict) -> dict | None:
    html = client.get("/peta/", query).content.decode()
    found = re.search(r'<script id="map-summary" type="application/json">(.*?)</script>', html)
    return json.loads(found.group(1)) if found else None


QUERIES = [
    {},
    {"category": "pangan"},
    {"kota": "31.71"},
    {"status": ["open", "fully_pledged"]},
    {"q": "tidak ada"},
]


@pytest.mark.parametrize("query", QUERIES)
def test_the_counts_are_the_layers_needs_per_kelurahan(client, spread, settings, query):
    settings.KSBB_MAP_SUMMARY_ABOVE = -1  # always sent
    found = summary_of(client, query)
    expected = layer_counts(client, query)
    assert found["total"] == sum(expected.values())
    assert sorted(area[2] for area in found["areas"]) == sorted(expected.values())
    assert [area[2] for area in found["areas"]] == sorted(
        (area[2] for area in found["areas"]), reverse=True
    )


def test_each_count_stands_where_its_needs_are(client, spread, settings):
    settings.KSBB_MAP_SUMMARY_ABOVE = -1
    found = summary_of(client, {"kota": "31.72"})
    assert found == {"total": 1, "areas": [[106.8075, -6.1255, 1]]}  # Kampung Akuarium


def test_a_small_layer_is_sent_whole_without_counts(client, spread, settings):
    settings.KSBB_MAP_SUMMARY_ABOVE = 4
    assert summary_of(client, {}) is None  # four needs: the layer at once, as before
    assert summary_of(client, {"status": list(NeedStatus.values)})["total"] == 5
    html = client.get("/peta/").content.decode()
    assert 'data-detail-zoom="14"' in html


def test_the_order_and_the_page_share_the_layers_counts(client, spread, settings):
    settings.KSBB_MAP_SUMMARY_ABOVE = -1
    plain = summary_of(client, {"category": "pangan"})
    assert summary_of(client, {"category": "pangan", "sort": "least_covered"}) == plain
    assert summary_of(client, {"category": "pangan", "page": "1"}) == plain


def test_a_bad_filter_sends_no_counts(client, spread, settings):
    settings.KSBB_MAP_SUMMARY_ABOVE = -1
    assert summary_of(client, {"kota": "99.99"}) is None


def test_the_counts_follow_the_layers_version(spread, settings, monkeypatch, donor):
    """A snapshot like the layer's, checked with the layer's version: a pledge that changes a
    marker's status moves the counts of a status filter at the next check."""
    settings.KSBB_PUBLIC_SNAPSHOT_SECONDS = 10
    start = time.time()
    filters = canonical_filters_of({"status": "open"})
    assert summary.summary(filters)["total"] == 3
    assert snapshots.rebuild("needs-summary", filters) is True  # built in the request: unversioned
    assert snapshots.rebuild("needs-summary", filters) is False  # nothing changed
    services.pledge(need=spread["sembako_gambir"], collaborator=donor, quantity=1)  # partly
    monkeypatch.setattr(time, "time", lambda: start + 10 * snapshots.PUBLIC_PERIOD)
    assert summary.summary(filters)["total"] == 3  # served from the snapshot until the check
    assert snapshots.rebuild("needs-summary", filters) is True
    assert summary.summary(filters)["total"] == 2


def canonical_filters_of(query: dict) -> tuple:
    from django.http import QueryDict

    data = QueryDict(mutable=True)
    for name, value in query.items():
        data.setlist(name, value if isinstance(value, list) else [value])
    return canonical_filters(data)


def test_a_small_layer_costs_the_page_no_counting(client, spread, settings, monkeypatch):
    built = []
    monkeypatch.setattr(
        summary, "build", lambda needs: built.append(needs) or {"total": 0, "areas": []}
    )
    client.get("/peta/", {"category": "pangan"})
    assert built == []  # the list's count said: two needs, below KSBB_MAP_SUMMARY_ABOVE
    client.get("/peta/", {"category": "pangan", "bbox": "106.7,-6.4,107.0,-6.0"})
    assert len(built) == 1  # a bbox cuts the list, not the layer: counted to know
