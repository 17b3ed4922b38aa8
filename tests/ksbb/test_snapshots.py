"""Snapshots of the public aggregates (ksbb.lib.snapshots): the map layer, the transparency figures and
the home page's counts are served from their last complete version while the background worker
rebuilds them when their data changed; what a donor acts on (the need page, its API popup, the
pledge) is always current."""

import gzip
import json
import logging
import re
import time

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from donations import services
from ksbb.lib import snapshots
from needs import layer as needs_layer
from tests import factories

SECONDS = 10
# The map layer is checked every snapshots.PUBLIC_PERIOD periods, with a version read at most
# REUSE seconds before.
LAYER = SECONDS * snapshots.PUBLIC_PERIOD
REUSE = LAYER / 2
# The transparency and home figures are checked as often.
FIGURES = SECONDS * snapshots.PUBLIC_PERIOD


@pytest.fixture
def snapshots_on(settings):
    settings.KSBB_PUBLIC_SNAPSHOT_SECONDS = SECONDS


@pytest.fixture
def later(monkeypatch):
    """Moves the cache's clock forward (the in-memory cache reads time.time for expiry)."""
    start = time.time()

    def move(seconds: float) -> None:
        monkeypatch.setattr(time, "time", lambda: start + seconds)

    return move


def layer(client, **params):
    return client.get("/api/v1/needs/layer/", params, HTTP_ACCEPT_ENCODING="gzip")


def statuses(response) -> dict[int, str]:
    body = json.loads(gzip.decompress(response.content))
    return {f["id"]: f["properties"]["status"] for f in body["features"]}


# The rule, alone


@pytest.fixture
def aggregates(monkeypatch, db):
    """Two aggregates of a test's own: one cheap, one expensive, over a version the test moves."""
    state = {"version": "1", "builds": []}

    def build(parts):
        state["builds"].append(parts)
        return f"{parts}@{state['version']}"

    monkeypatch.setattr(snapshots, "REGISTRY", dict(snapshots.REGISTRY))
    snapshots.register("cheap", build, version=lambda: state["version"])
    snapshots.register("costly", build, version=lambda: state["version"], expensive=True)
    return state


@pytest.fixture
def worker(django_capture_on_commit_callbacks):
    """Runs what a read asked of the background worker (the suite's jobs are eager: they run
    after the commit). Returns how many jobs were asked for."""

    def run(read):
        with django_capture_on_commit_callbacks(execute=True) as asked:
            result = read()
        return result, len(asked)

    return run


def test_a_cheap_aggregate_is_built_once_then_served_while_the_worker_checks_it(
    snapshots_on, later, aggregates, worker
):
    value, asked = worker(lambda: snapshots.snapshot("cheap", ["a"]))
    assert value == "['a']@1" and asked == 1 and len(aggregates["builds"]) == 2
    # The check it asked for found the data unchanged since: nothing built again.
    aggregates["version"] = "2"
    later(SECONDS - 1)
    value, asked = worker(lambda: snapshots.snapshot("cheap", ["a"]))
    assert value == "['a']@1" and asked == 0  # asked at most once per SECONDS
    later(2 * SECONDS)
    value, asked = worker(lambda: snapshots.snapshot("cheap", ["a"]))
    assert value == "['a']@1" and asked == 1  # the last complete value, while the worker builds
    assert snapshots.snapshot("cheap", ["a"]) == "['a']@2"
    assert snapshots.snapshot("cheap", ["b"]) == "['b']@2"  # other parts, other snapshot


def test_the_worker_builds_only_when_the_data_changed(snapshots_on, aggregates):
    assert snapshots.rebuild("cheap", ["a"]) is True
    assert snapshots.rebuild("cheap", ["a"]) is False
    aggregates["version"] = "2"
    assert snapshots.rebuild("cheap", ["a"]) is True
    assert len(aggregates["builds"]) == 2


def test_an_expensive_aggregate_is_never_built_in_a_request(snapshots_on, aggregates, worker):
    with pytest.raises(snapshots.NotReady):
        worker(lambda: snapshots.snapshot("costly", ["a"]))
    # The worker built it meanwhile (eager here): the next read is served.
    assert snapshots.snapshot("costly", ["a"]) == "['a']@1"
    assert len(aggregates["builds"]) == 1


def test_zero_seconds_builds_every_time(settings, aggregates):
    settings.KSBB_PUBLIC_SNAPSHOT_SECONDS = 0
    for _ in range(3):
        snapshots.snapshot("costly", [])
    assert len(aggregates["builds"]) == 3


def test_built_values_outlive_the_shared_cache(snapshots_on, aggregates):
    """Kept in PostgreSQL too: a Redis flush or outage, or a restart, finds them there."""
    snapshots.rebuild("costly", ["a"])
    cache.clear()
    assert snapshots.snapshot("costly", ["a"]) == "['a']@1"
    assert len(aggregates["builds"]) == 1


def test_an_unreachable_cache_costs_speed_not_the_page(
    snapshots_on, monkeypatch, caplog, aggregates
):
    snapshots.rebuild("costly", ["a"])

    def refuse(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    for method in ("get", "set", "add"):
        monkeypatch.setattr(cache, method, refuse)
    with caplog.at_level(logging.WARNING, logger="ksbb.lib.snapshots"):
        assert snapshots.snapshot("costly", ["a"]) == "['a']@1"
        assert snapshots.snapshot("cheap", ["b"]) == "['b']@1"
    assert "cache unreachable" in caplog.text


def test_the_public_pages_are_served_while_the_cache_is_unreachable(
    client, snapshots_on, monkeypatch, need, donor, worker
):
    services.pledge(need=need, collaborator=donor, quantity=10)
    worker(lambda: client.get("/"))  # a first start: the worker counts the figures

    def refuse(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    for method in ("get", "set", "add"):
        monkeypatch.setattr(cache, method, refuse)
    assert client.get("/").context["needs_open"] == 1
    assert client.get("/transparansi/").context["figures"]["collaborators"] == 1
    assert statuses(layer(client))[need.pk] == "partly_pledged"


def test_the_key_hashes_whatever_a_visitor_sent():
    key = snapshots.key("needs-layer", [("q", ["<script>" * 100])])
    assert key.startswith("snapshot:needs-layer:r2:")
    assert len(key) == len("snapshot:needs-layer:r2:") + 32


# The map layer


def test_the_layer_lags_until_the_worker_rebuilt_it(
    client, snapshots_on, later, need, donor, worker
):
    first, _ = worker(lambda: layer(client))
    assert statuses(first)[need.pk] == "open"
    services.pledge(need=need, collaborator=donor, quantity=10)

    later(LAYER - 1)
    still, asked = worker(lambda: layer(client))
    assert statuses(still)[need.pk] == "open" and asked == 0
    assert (
        client.get(
            "/api/v1/needs/layer/", HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=first["ETag"]
        ).status_code
        == 304
    )
    # What a donor acts on is current meanwhile: the popup's API and the need's page.
    popup = client.get(f"/api/v1/needs/{need.pk}/").json()["properties"]
    assert popup["quantity_pledged"] == 10 and popup["status"] == "partly_pledged"
    assert client.get(f"/kebutuhan/{need.pk}/").context["need"].quantity_remaining == 90

    later(2 * LAYER)
    served, asked = worker(lambda: layer(client))
    assert statuses(served)[need.pk] == "open" and asked == 1  # no reader waits for the rebuild
    fresh = layer(client)
    assert statuses(fresh)[need.pk] == "partly_pledged"
    assert fresh["ETag"] != first["ETag"]


def test_a_rebuilt_layer_showing_the_same_markers_keeps_its_etag(
    client, snapshots_on, later, need, donor, worker
):
    services.pledge(need=need, collaborator=donor, quantity=10)
    first, _ = worker(lambda: layer(client))
    services.pledge(need=need, collaborator=donor, quantity=10)  # still partly pledged
    later(2 * LAYER)
    worker(lambda: layer(client))
    again = client.get(
        "/api/v1/needs/layer/", HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=first["ETag"]
    )
    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]


def test_the_layer_is_gzipped_once_and_plain_for_a_client_without_gzip(client, snapshots_on, need):
    zipped = layer(client)
    assert zipped["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped["Vary"]
    assert zipped["Content-Type"] == "application/geo+json"
    plain = client.get("/api/v1/needs/layer/")
    assert not plain.has_header("Content-Encoding")
    assert json.loads(plain.content) == json.loads(gzip.decompress(zipped.content))
    assert plain["ETag"] == zipped["ETag"]


def test_filters_key_the_snapshot_and_unknown_parameters_do_not(client, snapshots_on, jakarta):
    pusat = factories.NeedFactory(site=factories.SiteFactory(name="RW 02"))
    everywhere = statuses(layer(client))
    elsewhere = statuses(layer(client, kota="31.72"))
    assert pusat.pk in everywhere and pusat.pk not in elsewhere
    # Junk parameters cannot fill the cache with copies of the same layer.
    layer(client, utm_source="x")
    layer(client, utm_source="y")
    kept = [
        k
        for k in cache._cache  # noqa: SLF001
        if "snapshot:needs-layer" in k and not k.endswith(":asked")
    ]
    assert len(kept) == 2


def test_a_bad_filter_is_refused_even_with_a_snapshot_kept(client, snapshots_on, need):
    layer(client)
    refused = client.get("/api/v1/needs/layer/", {"bbox": "1,2,3"})
    assert refused.status_code == 400
    assert "bbox" in refused.json()


# The pages


def test_on_a_first_start_the_pages_say_the_figures_are_being_counted(
    client, snapshots_on, need, worker
):
    home, asked = worker(lambda: client.get("/"))
    assert home.status_code == 200 and home.context["figures_pending"] and asked
    assert "sedang dihitung" in home.content.decode()
    page, _ = worker(lambda: client.get("/transparansi/?as_of=2026-01-01"))
    assert page.status_code == 503 and page["Retry-After"] == "15"
    totals, _ = worker(lambda: client.get("/transparansi/data/totals.csv?as_of=2026-01-02"))
    assert totals.status_code == 503
    # Meanwhile the worker counted them.
    assert client.get("/").context["needs_open"] == 1
    assert client.get("/transparansi/?as_of=2026-01-01").status_code == 200


def test_the_home_and_transparency_figures_lag_then_follow(
    client, snapshots_on, later, need, donor, worker
):
    worker(lambda: client.get("/"))
    assert client.get("/").context["needs_open"] == 1
    assert client.get("/transparansi/").context["figures"]["collaborators"] == 0
    services.pledge(need=need, collaborator=donor, quantity=100)  # fully pledged

    later(FIGURES - 1)
    assert client.get("/").context["needs_open"] == 1
    assert client.get("/transparansi/").context["figures"]["collaborators"] == 0
    assert client.get(f"/kebutuhan/{need.pk}/").context["need"].quantity_remaining == 0

    later(FIGURES + 1)
    worker(lambda: (client.get("/"), client.get("/transparansi/")))
    assert client.get("/").context["needs_open"] == 0
    assert client.get("/transparansi/").context["figures"]["collaborators"] == 1


def test_a_snapshot_keeps_the_pages_language_neutral(client, snapshots_on, need, worker):
    worker(lambda: client.get("/"))
    indonesian = client.get("/", HTTP_ACCEPT_LANGUAGE="id").content.decode()
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="id"' in indonesian and 'lang="en"' in english
    assert "1 kebutuhan terbuka" in indonesian and "1 open need" in english


def test_a_pledge_that_changes_no_marker_costs_the_layer_no_rebuild(
    snapshots_on, later, need, donor
):
    services.pledge(need=need, collaborator=donor, quantity=10)  # open → partly pledged
    assert snapshots.rebuild("needs-layer", []) is True
    services.pledge(need=need, collaborator=donor, quantity=10)  # still partly pledged
    later(REUSE + 1)  # a version read anew, the same
    assert snapshots.rebuild("needs-layer", []) is False
    services.pledge(need=need, collaborator=donor, quantity=80)  # fully pledged: a new marker
    later(2 * REUSE + 2)
    assert snapshots.rebuild("needs-layer", []) is True
    need.site.name = "RW 01 Baru"  # what the search filter reads
    need.site.save()
    later(4 * REUSE)
    assert snapshots.rebuild("needs-layer", []) is True


def test_the_layers_of_every_filter_share_one_version_and_one_set_of_features(
    snapshots_on, later, jakarta, need, donor
):
    """The worker checks the layer of each filter in a row: the data's version is read once for
    them all (within half the layer's period), the needs' Features built once per version,
    and each layer then costs only the query of its needs' ids."""
    assert snapshots.rebuild("needs-layer", []) is True  # version, last change, Features, ids
    for filters in ([["kota", ["31.71"]]], [["status", ["open"]]]):
        with CaptureQueriesContext(connection) as queries:
            assert snapshots.rebuild("needs-layer", filters) is True
        # Beside the snapshot store's own: the filter's region (or none) and its needs' ids.
        data = [q["sql"] for q in queries if not re.search("ksbb_snapshots|SAVEPOINT", q["sql"])]
        assert len(data) <= 2 and "needs_need" in data[-1]
        assert not any("md5" in sql or "ST_AsGeoJSON" in sql for sql in data)
    services.pledge(need=need, collaborator=donor, quantity=100)  # fully pledged
    # Within the window the change is not seen yet; once it passed, the next check sees it.
    later(REUSE - 1)
    assert snapshots.rebuild("needs-layer", []) is False
    later(REUSE + 1)
    assert snapshots.rebuild("needs-layer", []) is True
    full = needs_layer.build_for([["status", ["fully_pledged"]]])
    body = json.loads(gzip.decompress(full.gzipped))
    assert {f["id"]: f["properties"]["status"] for f in body["features"]} == {
        need.pk: "fully_pledged"
    }


def test_the_same_statuses_in_another_order_share_one_layer(
    client, snapshots_on, need, monkeypatch
):
    built = []
    real = snapshots.REGISTRY["needs-layer"]
    monkeypatch.setitem(
        snapshots.REGISTRY,
        "needs-layer",
        snapshots.Aggregate(
            real.name,
            lambda parts: built.append(parts) or real.build(parts),
            real.version,
            real.expensive,
            real.revision,
            real.period,
        ),
    )
    one = client.get("/api/v1/needs/layer/?status=open&status=delivered")
    two = client.get("/api/v1/needs/layer/?status=delivered&status=open&status=open")
    assert one.status_code == two.status_code == 200 and one["ETag"] == two["ETag"]
    assert built == [[["status", ["delivered", "open"]]]]  # built once, for both
    # A single-choice filter keeps its values as given: the last one counts, as on the map page.
    kota = client.get("/api/v1/needs/layer/?kota=31.75&kota=31.71")
    assert kota.status_code == 200 and built[-1] == [["kota", ["31.75", "31.71"]]]
