"""Snapshots of the public aggregates (ksbb.lib.snapshots): the map layer, the transparency figures and
the home page's counts lag the database by at most KSBB_PUBLIC_SNAPSHOT_SECONDS, while what a donor
acts on (the need page, its API popup, the pledge) is always current."""

import gzip
import json
import logging
import time

import pytest
from django.core.cache import cache

from donations import services
from ksbb.lib import snapshots
from tests import factories

SECONDS = 10


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


def test_a_snapshot_is_built_once_within_its_seconds_then_again(snapshots_on, later):
    built = []

    def build():
        built.append(1)
        return len(built)

    assert snapshots.snapshot("figures", ("a",), build) == 1
    later(SECONDS - 1)
    assert snapshots.snapshot("figures", ("a",), build) == 1
    assert snapshots.snapshot("figures", ("b",), build) == 2  # other parts, other snapshot
    later(SECONDS + 1)
    assert snapshots.snapshot("figures", ("a",), build) == 3


def test_zero_seconds_builds_every_time(settings):
    settings.KSBB_PUBLIC_SNAPSHOT_SECONDS = 0
    built = []
    for _ in range(3):
        snapshots.snapshot("figures", (), lambda: built.append(1))
    assert len(built) == 3


def test_an_unreachable_cache_costs_speed_not_the_page(snapshots_on, monkeypatch, caplog):
    def refuse(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(cache, "get", refuse)
    monkeypatch.setattr(cache, "set", refuse)
    with caplog.at_level(logging.WARNING, logger="ksbb.lib.snapshots"):
        assert snapshots.snapshot("figures", (), lambda: "built") == "built"
    assert "cache unreachable" in caplog.text


def test_the_public_pages_are_served_while_the_cache_is_unreachable(
    client, snapshots_on, monkeypatch, need, donor
):
    services.pledge(need=need, collaborator=donor, quantity=10)

    def refuse(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(cache, "get", refuse)
    monkeypatch.setattr(cache, "set", refuse)
    assert client.get("/").context["needs_open"] == 1
    assert client.get("/transparansi/").context["figures"]["collaborators"] == 1
    assert statuses(layer(client))[need.pk] == "partly_pledged"


def test_the_key_hashes_whatever_a_visitor_sent():
    key = snapshots.key("needs-layer", [("q", ["<script>" * 100])])
    assert key.startswith("snapshot:needs-layer:") and len(key) == len("snapshot:needs-layer:") + 32


# The map layer


def test_the_layer_lags_by_at_most_the_snapshot_seconds(client, snapshots_on, later, need, donor):
    first = layer(client)
    assert statuses(first)[need.pk] == "open"
    services.pledge(need=need, collaborator=donor, quantity=10)

    later(SECONDS - 1)
    still = layer(client)
    assert statuses(still)[need.pk] == "open"
    assert layer(client, **{}).get("ETag") == first["ETag"]
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

    later(SECONDS + 1)
    fresh = layer(client)
    assert statuses(fresh)[need.pk] == "partly_pledged"
    assert fresh["ETag"] != first["ETag"]


def test_a_rebuilt_layer_showing_the_same_markers_keeps_its_etag(
    client, snapshots_on, later, need, donor
):
    services.pledge(need=need, collaborator=donor, quantity=10)
    first = layer(client)
    services.pledge(need=need, collaborator=donor, quantity=10)  # still partly pledged
    later(SECONDS + 1)
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
    kept = [k for k in cache._cache if "snapshot:needs-layer" in k]  # noqa: SLF001
    assert len(kept) == 2


def test_a_bad_filter_is_refused_even_with_a_snapshot_kept(client, snapshots_on, need):
    layer(client)
    refused = client.get("/api/v1/needs/layer/", {"bbox": "1,2,3"})
    assert refused.status_code == 400
    assert "bbox" in refused.json()


# The pages


def test_the_home_and_transparency_figures_lag_then_follow(
    client, snapshots_on, later, need, donor
):
    assert client.get("/").context["needs_open"] == 1
    assert client.get("/transparansi/").context["figures"]["collaborators"] == 0
    services.pledge(need=need, collaborator=donor, quantity=100)  # fully pledged

    later(SECONDS - 1)
    assert client.get("/").context["needs_open"] == 1
    assert client.get("/transparansi/").context["figures"]["collaborators"] == 0
    assert client.get(f"/kebutuhan/{need.pk}/").context["need"].quantity_remaining == 0

    later(SECONDS + 1)
    assert client.get("/").context["needs_open"] == 0
    assert client.get("/transparansi/").context["figures"]["collaborators"] == 1


def test_a_snapshot_keeps_the_pages_language_neutral(client, snapshots_on, need):
    indonesian = client.get("/", HTTP_ACCEPT_LANGUAGE="id").content.decode()
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="id"' in indonesian and 'lang="en"' in english
    assert "1 kebutuhan terbuka" in indonesian and "1 open need" in english
