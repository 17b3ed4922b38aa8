"""A shared Redis cache whose outage neither fails a request nor multiplies the pledge limits.

What the portal keeps in its cache is of two kinds:

- counters: the pledge rate limits (donations.ratelimit, keys "ratelimit:…", shared by the pledge
  form and API) and DRF's throttles (keys "throttle_…", the API's pledge throttle). Small, and
  worth something only when every app server counts together;
- everything else: public figures and snapshots (the gzipped map layers, the transparency figures,
  the home page's counts). Recomputable from the database, some of them megabytes.

Django's RedisCache raises when Redis is down, so the pledge form and API used to fail with it. Here
any Redis error sends the calls elsewhere for RETRY_SECONDS, each kind to where it belongs:

- counters to PostgreSQL, which every app server shares already: Django's DatabaseCache on the
  table TABLE (created by the migration ksbb 0001, as `createcachetable` would). A limit then still
  counts every server's requests, and a refusal comes at the configured count whichever server
  answers. Its `incr` is made atomic (SharedCounters): Django's is a get and then a set, so two
  servers could both read 2 and write 3; here the row is locked (SELECT … FOR UPDATE) for the read
  and the write, so a concurrent incr waits and reads the new value, and none is lost. (An UPDATE
  … SET value = value + 1 would need a table of its own: DatabaseCache keeps values pickled, and
  DRF's throttles keep lists of times there.) `add` is an INSERT on the primary key, so of two
  servers adding one counter, one wins.
- everything else to this process's memory, as before: rebuilding a snapshot once per process is
  cheap, while writing megabytes of gzipped layers into the database on every miss would load the
  one service left carrying everything. The snapshots are served as ever, each built per process.

The split is by key prefix (COUNTER_PREFIXES), inside this one cache, rather than by a second cache
alias for counters: the callers (donations.ratelimit, DRF's throttles) keep Django's one `cache`, a
new DRF throttle scope is covered by itself, and which store serves an outage stays the cache's own
business. A new counter must use one of the prefixes (tests/ksbb/test_shared_cache.py checks the
keys of those in use).

Short socket timeouts (settings) keep a Redis that hangs from holding a request; after a failure
Redis is left alone for RETRY_SECONDS, so an outage costs one timeout per app server, not one per
call, and then Redis is used again (what was counted in the database meanwhile is left to expire
there: the limits count afresh in Redis, as after a restart of Redis).
"""

import base64
import logging
import pickle
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.db import connections, router, transaction
from django.utils.timezone import now as tz_now
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
RETRY_SECONDS = 30
# The database table of the counters while Redis fails (migration ksbb 0001 creates it).
TABLE = "ksbb_failover_cache"
# The keys whose values must be shared by every app server: donations.ratelimit's, DRF's throttles'.
COUNTER_PREFIXES = ("ratelimit:", "throttle_")
# Rows in TABLE before Django culls it (expired rows first, then a third of the rest): far more than
# an hour's live counters (three per pledging visitor), few enough that its COUNT(*) on each write
# stays cheap.
MAX_DATABASE_ENTRIES = 20_000
# Until when each Redis location is left alone: per process, not per cache object (Django makes one
# per thread), so a process pays one timeout. (The local fallback's name is per location too, so a
# process's threads share their snapshots.)
_DOWN_UNTIL: dict[str, float] = {}
_LOCK = threading.Lock()
# The calls on one key, each sent to Redis, or to the key's fallback while Redis is failing.
_KEY_CALLS = ("add", "get", "set", "touch", "delete", "has_key", "incr")
_FAILING = object()  # what FailoverRedisCache._shared answers instead of Redis


class SharedCounters(DatabaseCache):
    """Django's DatabaseCache, with an `incr` no concurrent `incr` can undo (module docstring)."""

    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        table = connection.ops.quote_name(self._table)
        now = connection.ops.adapt_datetimefield_value(tz_now())
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT value FROM {table} WHERE cache_key = %s AND expires > %s FOR UPDATE",
                [key, now],
            )
            row = cursor.fetchone()
            if row is None:
                raise ValueError(f"Key '{key}' not found.")
            value = pickle.loads(base64.b64decode(connection.ops.process_clob(row[0]).encode()))
            value += delta
            pickled = pickle.dumps(value, self.pickle_protocol)
            cursor.execute(
                f"UPDATE {table} SET value = %s WHERE cache_key = %s",
                [base64.b64encode(pickled).decode("latin1"), key],
            )
        return value


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's client, keeping one redis.Redis per connection pool: Django's makes a new one on every
    call, and building its reply callbacks cost 0.06 ms, 40 % of a cache.get. A redis.Redis is
    safe to share between threads; its pool hands each command its own connection."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class FailoverRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
        self._location = server if isinstance(server, str) else ",".join(server)
        self.local = LocMemCache(f"failover:{self._location}", params)
        # Redis's OPTIONS (socket timeouts) mean nothing to the database; its own replace them.
        options = {"MAX_ENTRIES": MAX_DATABASE_ENTRIES, "CULL_FREQUENCY": 3}
        self.database = SharedCounters(TABLE, {**params, "OPTIONS": options})

    @property
    def _down_until(self) -> float:
        return _DOWN_UNTIL.get(self._location, 0.0)

    @_down_until.setter
    def _down_until(self, until: float) -> None:
        _DOWN_UNTIL[self._location] = until

    @property
    def redis_is_failing(self) -> bool:
        return time.monotonic() < self._down_until

    def fallback(self, key: str) -> BaseCache:
        """Where `key` is kept while Redis fails: the database for a counter, else local memory."""
        return self.database if key.startswith(COUNTER_PREFIXES) else self.local

    def _failed(self, error: Exception) -> None:
        with _LOCK:
            if not self.redis_is_failing:
                log.warning(
                    "The shared cache (Redis) failed (%s: %s); for %s s this app server keeps rate "
                    "limits in the database and everything else in its own memory.",
                    type(error).__name__,
                    error,
                    RETRY_SECONDS,
                )
            self._down_until = time.monotonic() + RETRY_SECONDS

    def _shared(self, name: str, *args, **kwargs):
        """RedisCache's `name`, or _FAILING once Redis fails (or while it is failing)."""
        if not self.redis_is_failing:
            try:
                return getattr(RedisCache, name)(self, *args, **kwargs)
            except RedisError as e:
                self._failed(e)
        return _FAILING

    def _split(self, keys) -> list[tuple[BaseCache, list]]:
        stores = (self.database, self.local)
        return [(s, [k for k in keys if self.fallback(k) is s]) for s in stores]

    def get_many(self, keys, version=None):
        found = self._shared("get_many", keys, version=version)
        if found is _FAILING:
            found = {}
            for store, some in self._split(keys):
                found.update(store.get_many(some, version=version) if some else {})
        return found

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        failed = self._shared("set_many", data, timeout, version=version)
        if failed is _FAILING:
            failed = []
            for store, some in self._split(data):
                if some:
                    failed += store.set_many({k: data[k] for k in some}, timeout, version=version)
        return failed

    def delete_many(self, keys, version=None):
        if self._shared("delete_many", keys, version=version) is _FAILING:
            for store, some in self._split(keys):
                if some:
                    store.delete_many(some, version=version)

    def clear(self):
        if self._shared("clear") is _FAILING:
            self.local.clear()
            self.database.clear()


def _failover(name: str):
    def call(self, key, *args, **kwargs):
        answer = self._shared(name, key, *args, **kwargs)
        if answer is _FAILING:
            answer = getattr(self.fallback(key), name)(key, *args, **kwargs)
        return answer

    call.__name__ = name
    call.__doc__ = f"RedisCache.{name}, or the key's fallback (`fallback`) while Redis is failing."
    return call


for _name in _KEY_CALLS:
    setattr(FailoverRedisCache, _name, _failover(_name))
