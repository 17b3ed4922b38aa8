"""A shared Redis cache (CACHE_URL=redis://…): app servers behind one proxy share what the portal
keeps in its cache, so a limit counts every server's requests and a figure is computed once.

A real redis-server on a free port (no persistence), started here and stopped afterwards. Each
"app server" is its own cache client built from CACHE_URL as settings.py builds it, so nothing is
shared through this process's memory. With Redis down (a closed port), the rate limits are counted
in the database, still shared, and the snapshots kept in each server's memory.
"""

import base64
import pickle
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from unittest import mock

import environ
import pytest
import redis
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.db import connection, connections
from django.test import Client
from django.utils.module_loading import import_string

from bench.server import redis_server
from donations import ratelimit, services
from ksbb.lib import failover_cache
from ksbb.settings import _cache
from needs import layer
from transparency import figures as public_figures


@pytest.fixture(scope="module")
def redis_port():
    """A private redis-server: nothing saved to disk, killed when the module is done."""
    try:
        with redis_server() as port:
            yield port
    except RuntimeError as e:
        pytest.fail(str(e))


@pytest.fixture
def redis_url(redis_port):
    """An empty database 0 for each test."""
    redis.Redis(port=redis_port).flushdb()
    return f"redis://127.0.0.1:{redis_port}/0"


def app_server_cache(cache_url: str):
    """The cache client one app server makes from CACHE_URL (what Django's cache handler does)."""
    params = _cache(cache_url)
    return import_string(params.pop("BACKEND"))(params.pop("LOCATION", ""), params)


@contextmanager
def serving(cache):
    """Requests made inside the block are handled by the app server whose cache this is."""
    with mock.patch.object(caches._connections, "default", cache, create=True):
        yield


FAILOVER = "ksbb.lib.failover_cache.FailoverRedisCache"


def test_a_redis_cache_url_gives_djangos_own_redis_backend_with_failover():
    config = _cache("redis://127.0.0.1:6379/1?timeout=300&key_prefix=ksbb")
    assert config["BACKEND"] == FAILOVER
    assert issubclass(import_string(FAILOVER), RedisCache)
    assert config["LOCATION"] == "redis://127.0.0.1:6379/1"
    assert (config["TIMEOUT"], config["KEY_PREFIX"]) == (300, "ksbb")  # not lower-case, ignored
    assert _cache("rediscache://:secret@cache.internal:6380/2") == {
        "BACKEND": FAILOVER,
        "LOCATION": "redis://:secret@cache.internal:6380/2",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
    timeouts = _cache("redis://127.0.0.1:6379/1?socket_timeout=2")["OPTIONS"]
    assert timeouts == {"socket_connect_timeout": 0.5, "socket_timeout": 2}
    # Even where django-redis is installed (django-environ would then choose it).
    with mock.patch.dict(environ.Env.CACHE_SCHEMES, {"redis": "django_redis.cache.RedisCache"}):
        assert _cache("redis://127.0.0.1:6379/1")["BACKEND"] == FAILOVER
    assert _cache("locmemcache://ksbb")["BACKEND"].endswith("LocMemCache")


def test_the_pledge_rate_limit_counts_requests_on_every_app_server(
    redis_url, redis_port, need, settings
):
    settings.KSBB_PLEDGE_RATE_PER_ADDRESS = "3/h"
    one, two = app_server_cache(redis_url), app_server_cache(redis_url)
    assert isinstance(one, RedisCache) and one is not two
    answers = []
    for i, server in enumerate([one, two, one, two]):
        with serving(server):
            response = Client().post(
                f"/kebutuhan/{need.pk}/dukung/",
                {
                    "public_name": f"Donatur {i}",
                    "kind": "individual",
                    "email": f"donatur{i}@example.test",
                    "quantity": "1",
                },
            )
        answers.append(response.status_code)
    assert answers == [302, 302, 302, 429]  # the fourth from one address, on whichever server
    # One counter in Redis took all four, hashed (no address or e-mail in clear).
    store = redis.Redis(port=redis_port)
    (per_address,) = store.keys("*ratelimit:pledge-ip:*")
    assert int(store.get(per_address)) == 4
    assert not any(b"127.0.0.1" in k or b"@" in k for k in store.keys("*"))


def test_without_a_shared_cache_each_app_server_counts_alone(settings):
    # What CACHE_URL's in-process default would do with two servers: each allows the full rate.
    one, two = LocMemCache("server-one", {}), LocMemCache("server-two", {})
    allowed = []
    for server in [one, two, one, two]:
        with serving(server):
            allowed.append(ratelimit.allow("pledge-ip", "10.0.0.7", "2/h"))
    assert allowed == [True, True, True, True]


def test_the_transparency_figures_are_computed_once_for_every_app_server(
    redis_url, redis_port, need, donor, settings, django_capture_on_commit_callbacks
):
    """The worker builds them (eager here: after the commit); every server reads its result, and
    after a change only one check is asked for, whichever servers are read."""
    settings.KSBB_PUBLIC_SNAPSHOT_SECONDS = 10
    one, two = app_server_cache(redis_url), app_server_cache(redis_url)
    store = redis.Redis(port=redis_port)
    with mock.patch.object(public_figures, "compute", wraps=public_figures.compute) as compute:
        with django_capture_on_commit_callbacks(execute=True), serving(one):
            assert Client().get("/transparansi/").status_code == 503  # a first start
        for server in (two, one):
            with serving(server):
                assert Client().get("/transparansi/").status_code == 200
        assert compute.call_count == 1  # built once, by the worker, for both servers
        assert len([k for k in store.keys("*snapshot:transparency*") if b":asked" not in k]) == 1

        services.pledge(need=need, collaborator=donor, quantity=5)  # a new version of the data
        store.delete(*store.keys("*:asked"))  # the seconds have passed
        with django_capture_on_commit_callbacks(execute=True) as asked:
            for server in (two, one, two):
                with serving(server):
                    assert Client().get("/transparansi/").status_code == 200
        assert len(asked) == 1  # one check asked for, for every server
        assert compute.call_count == 2


def test_an_etag_from_one_app_server_is_honoured_by_another(redis_url, need):
    # The map layer's validators come from the data (needs.caching), not from a server's memory.
    one, two = app_server_cache(redis_url), app_server_cache(redis_url)
    with serving(one):
        first = Client().get("/api/v1/needs/layer/")
    with serving(two):
        again = Client().get("/api/v1/needs/layer/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert first.status_code == 200 and again.status_code == 304


def _closed_port() -> int:
    """A port on which nothing listens (as when Redis is down)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pledge(i: int, need):
    return Client().post(
        f"/kebutuhan/{need.pk}/dukung/",
        {
            "public_name": f"Donatur {i}",
            "kind": "individual",
            "email": f"donatur{i}@example.test",
            "quantity": "1",
        },
    )


def _down_server():
    """An app server's cache whose Redis is down (nothing listens on its port)."""
    return app_server_cache(f"redis://127.0.0.1:{_closed_port()}/0")


def _two_servers_with_redis_down():
    """Two app servers' caches, both pointing at one Redis, which is down."""
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    return app_server_cache(url), app_server_cache(url)


def _database_fallback() -> dict:
    """What the app servers counted in the database meanwhile: {cache key: value}."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT cache_key, value FROM {failover_cache.TABLE}")
        return {k: pickle.loads(base64.b64decode(v)) for k, v in cursor.fetchall()}


def test_the_fallback_table_is_made_by_a_migration(db):
    from importlib import import_module

    migration = import_module("ksbb.migrations.0001_failover_cache_table")
    assert migration.TABLE == failover_cache.TABLE
    assert failover_cache.TABLE in connection.introspection.table_names()


def test_the_counters_in_the_database_are_never_read_from_a_replica():
    from django.core.cache.backends.db import DatabaseCache

    from ksbb.db_routers import REPLICA, PrimaryReplicaRouter, replica_reads

    counters = failover_cache.SharedCounters(failover_cache.TABLE, {}).cache_model_class
    other = DatabaseCache("some_other_cache", {}).cache_model_class
    # As for an anonymous GET of a public page, with a replica in step.
    with replica_reads(), mock.patch("ksbb.db_routers.replica_fit", return_value=True):
        assert PrimaryReplicaRouter().db_for_read(counters) == "default"
        assert PrimaryReplicaRouter().db_for_read(other) == REPLICA


def test_with_redis_down_donors_still_pledge_and_the_limits_count_across_servers(need, settings):
    settings.KSBB_PLEDGE_RATE_PER_ADDRESS = "3/h"
    one, two = _two_servers_with_redis_down()
    answers = []
    for i, server in enumerate([one, two, one, two]):
        with serving(server):
            answers.append(_pledge(i, need).status_code)
    with serving(one):
        assert Client().get("/transparansi/").status_code == 200
        assert Client().get(f"/kebutuhan/{need.pk}/").status_code == 200
    with serving(two):
        api = Client().post(
            "/api/v1/pledges/",
            {
                "need": need.pk,
                "public_name": "API",
                "kind": "company",
                "email": "api@x.test",
                "quantity": 1,
            },
            content_type="application/json",
        )
    assert answers == [302, 302, 302, 429]  # the fourth from one address, on whichever server
    assert api.status_code == 429  # the API shares the address limit, counted the same way
    assert one.redis_is_failing and two.redis_is_failing
    # The counters are in the database, hashed; the figures stayed in memory.
    counted = _database_fallback()
    (per_address,) = [k for k in counted if ":ratelimit:pledge-ip:" in k]
    assert counted[per_address] == 5  # four through the form, one through the API
    assert any(":throttle_pledges_" in k for k in counted)  # DRF's throttle, shared as well
    assert not any("@" in k for k in counted)
    assert not any("127.0.0.1" in k for k in counted if ":ratelimit:" in k)
    assert not any("transparency" in k or "snapshot" in k for k in counted)


def test_with_redis_down_the_snapshots_are_kept_in_each_servers_memory(need, settings):
    settings.KSBB_PUBLIC_SNAPSHOT_SECONDS = 60
    down = _down_server()
    with mock.patch.object(layer, "build", wraps=layer.build) as build, serving(down):
        first = Client().get("/api/v1/needs/layer/")
        again = Client().get("/api/v1/needs/layer/")
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    assert build.call_count == 1  # the second from this server's memory
    assert down.redis_is_failing
    assert any(":snapshot:needs-layer:" in k for k in down.local._cache)
    assert _database_fallback() == {}  # no layer written into the database


def _count_concurrently(work, threads: int):
    """`work(cache)` in `threads` threads at once, each an app server of its own (its own cache
    client and database connection, one Redis for all of them, down); what each returned."""
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    start = threading.Barrier(threads)

    def server(_):
        cache = app_server_cache(url)
        try:
            start.wait()
            return work(cache)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(server, range(threads)))


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_concurrent_increments_on_many_servers_are_exact():
    key = "ratelimit:test:concurrent"

    def increments(cache):
        cache.add(key, 0, timeout=60)
        return [cache.incr(key) for _ in range(25)]

    try:
        counts = _count_concurrently(increments, threads=8)
        seen = sorted(n for each in counts for n in each)
        assert seen == list(range(1, 201))  # every increment counted, each value seen once
        assert app_server_cache(f"redis://127.0.0.1:{_closed_port()}/0").get(key) == 200
    finally:
        failover_cache.SharedCounters(failover_cache.TABLE, {}).clear()


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_a_limit_refuses_at_its_count_under_concurrency():
    def attempts(cache):
        with serving(cache):
            return [ratelimit.allow("pledge-ip", "10.0.0.9", "50/h") for _ in range(15)]

    try:
        allowed = [ok for each in _count_concurrently(attempts, threads=8) for ok in each]
        assert allowed.count(True) == 50 and len(allowed) == 120
    finally:
        failover_cache.SharedCounters(failover_cache.TABLE, {}).clear()


def test_a_redis_that_comes_back_is_used_again(redis_url, redis_port, monkeypatch, db):
    cache = app_server_cache(redis_url)
    cache._down_until = 0.0
    cache.set("k", "shared")
    cache.set("ratelimit:k", 7)
    assert redis.Redis(port=redis_port).keys("*k*")
    # A failure: the next calls go to local memory, or the database for a counter, until the retry
    # time has passed.
    cache._failed(redis.exceptions.ConnectionError("gone"))
    cache.set("k", "local")
    cache.set("ratelimit:k", 1)
    assert cache.incr("ratelimit:k") == 2
    assert cache.get("k") == "local"
    assert cache.get_many(["k", "ratelimit:k"]) == {"k": "local", "ratelimit:k": 2}
    assert list(_database_fallback().values()) == [2]
    monkeypatch.setattr(failover_cache.time, "monotonic", lambda: cache._down_until + 1)
    assert cache.get("k") == "shared"
    assert cache.incr("ratelimit:k") == 8


def test_each_app_server_keeps_one_redis_client_for_every_call(redis_url):
    """Django's client builds a redis.Redis on every call (0.06 ms of CPU on every cached page);
    this one keeps it, on the same connection pool, for reads and writes alike."""
    cache = app_server_cache(redis_url)
    client = cache._cache.get_client()
    assert cache._cache.get_client(write=True) is client
    with mock.patch.object(redis.Redis, "__init__", side_effect=AssertionError("a new client")):
        cache.set("k", "v")
        assert cache.get("k") == "v"
        assert cache.get_many(["k"]) == {"k": "v"}
    assert client.connection_pool is cache._cache._get_connection_pool(False)
