"""A shared Redis cache whose outage no visitor notices.

What the portal keeps in its cache (pledge rate limits, DRF throttles, public figures and snapshots)
is worth sharing between app servers, but none of it is worth failing a request for. Django's
RedisCache raises when Redis is down, so the pledge form and the pledge API failed with it. Here
any Redis error sends the call to this process's own memory instead: limits then count per app
server, figures are computed per app server, and no request fails. Short socket timeouts (settings)
keep a Redis that hangs from holding a request; after a failure Redis is left alone for
RETRY_SECONDS, so an outage costs one timeout per app server, not one per call.
"""

import logging
import threading
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
RETRY_SECONDS = 30
# Until when each Redis location is left alone, and its fallback store's name: per process, not per
# cache object (Django makes one per thread), so a process pays one timeout and its threads count
# rate limits together.
_DOWN_UNTIL: dict[str, float] = {}
_LOCK = threading.Lock()
# The calls a cache offers, each sent to Redis, or to local memory while Redis is failing.
_CALLS = (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "has_key",
    "incr",
    "set_many",
    "delete_many",
    "clear",
)


class FailoverRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._location = server if isinstance(server, str) else ",".join(server)
        self.local = LocMemCache(f"failover:{self._location}", params)

    @property
    def _down_until(self) -> float:
        return _DOWN_UNTIL.get(self._location, 0.0)

    @_down_until.setter
    def _down_until(self, until: float) -> None:
        _DOWN_UNTIL[self._location] = until

    @property
    def redis_is_failing(self) -> bool:
        return time.monotonic() < self._down_until

    def _failed(self, error: Exception) -> None:
        with _LOCK:
            if not self.redis_is_failing:
                log.warning(
                    "The shared cache (Redis) failed (%s: %s); this app server uses its own memory "
                    "for %s s.",
                    type(error).__name__,
                    error,
                    RETRY_SECONDS,
                )
            self._down_until = time.monotonic() + RETRY_SECONDS


def _failover(name: str):
    shared = getattr(RedisCache, name)

    def call(self, *args, **kwargs):
        if not self.redis_is_failing:
            try:
                return shared(self, *args, **kwargs)
            except RedisError as e:
                self._failed(e)
        return getattr(self.local, name)(*args, **kwargs)

    call.__name__ = name
    call.__doc__ = f"RedisCache.{name}, or this process's memory while Redis is failing."
    return call


for _name in _CALLS:
    setattr(FailoverRedisCache, _name, _failover(_name))
