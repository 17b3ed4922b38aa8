"""A shared Redis cache (CACHE_URL=redis://…): app servers behind one proxy share what the portal
keeps in its cache, so a limit counts every server's requests and a figure is computed once.

A real redis-server on a free port (no persistence), started here and stopped afterwards. Each
"app server" is its own cache client built from CACHE_URL as settings.py builds it, so nothing is
shared through this process's memory.
"""

import socket
from contextlib import contextmanager
from unittest import mock

import environ
import pytest
import redis
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.test import Client
from django.utils.module_loading import import_string

from bench.server import redis_server
from donations import ratelimit, services
from ksbb.settings import _cache
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
    redis_url, redis_port, need, donor
):
    one, two = app_server_cache(redis_url), app_server_cache(redis_url)
    with mock.patch.object(public_figures, "compute", wraps=public_figures.compute) as compute:
        with serving(one):
            first = Client().get("/transparansi/")
        with serving(two):
            second = Client().get("/transparansi/")
        assert first.status_code == second.status_code == 200
        assert compute.call_count == 1  # the second server used the first one's figures
        assert len(redis.Redis(port=redis_port).keys("*transparency*")) == 1

        services.pledge(need=need, collaborator=donor, quantity=5)  # a new version of the data
        with serving(two):
            assert Client().get("/transparansi/").status_code == 200
        with serving(one):
            assert Client().get("/transparansi/").status_code == 200
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


def test_with_redis_down_donors_still_pledge_and_the_limits_count_per_server(need, settings):
    settings.KSBB_PLEDGE_RATE_PER_ADDRESS = "3/h"
    down = app_server_cache(f"redis://127.0.0.1:{_closed_port()}/0")
    with serving(down):
        answers = [_pledge(i, need).status_code for i in range(4)]
        assert Client().get("/transparansi/").status_code == 200
        assert Client().get(f"/kebutuhan/{need.pk}/").status_code == 200
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
    assert answers == [302, 302, 302, 429]  # counted in this server's memory meanwhile
    assert api.status_code == 429  # the API shares the address limit, counted the same way
    assert down.redis_is_failing


def test_a_redis_that_comes_back_is_used_again(redis_url, redis_port, monkeypatch):
    from ksbb.lib import failover_cache

    cache = app_server_cache(redis_url)
    cache._down_until = 0.0
    cache.set("k", "shared")
    assert redis.Redis(port=redis_port).keys("*k*")
    # A failure: the next calls go to local memory, until the retry time has passed.
    cache._failed(redis.exceptions.ConnectionError("gone"))
    cache.set("k", "local")
    assert cache.get("k") == "local"
    monkeypatch.setattr(failover_cache.time, "monotonic", lambda: cache._down_until + 1)
    assert cache.get("k") == "shared"
