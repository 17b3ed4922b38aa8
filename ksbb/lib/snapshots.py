"""Short-lived snapshots of the public aggregates every visitor reads and every pledge changes.

The map layer, the transparency figures and the home page's counts are read on most visits and
change with every pledge. Kept until the data changes, under a stream of pledges they would be built
again on nearly every request (`make loadtest`: two thirds of the portal's work). A snapshot is
kept for KSBB_PUBLIC_SNAPSHOT_SECONDS instead, in the cache (shared by every worker and server when
CACHE_URL is Redis), so these figures may lag the database by that long.

What a donor acts on never comes from a snapshot: the need page, its popup in the API, the pledge
form and the pledge itself read the database, so a lagging marker can never let a pledge overlap.
"""

import hashlib
import json
import logging
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)
T = TypeVar("T")


def key(name: str, *parts) -> str:
    """A cache key for `name` and the request's `parts` (hashed: they may come from a visitor)."""
    digest = hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:32]
    return f"snapshot:{name}:{digest}"


def snapshot(name: str, parts: tuple, build: Callable[[], T]) -> T:
    """`build()`, or what it returned less than KSBB_PUBLIC_SNAPSHOT_SECONDS ago for the same
    `name` and `parts`. 0 seconds builds every time."""
    seconds = settings.KSBB_PUBLIC_SNAPSHOT_SECONDS
    if seconds <= 0:
        return build()
    return cached(key(name, *parts), seconds, build)


def cached(cache_key: str, seconds: int, build: Callable[[], T]) -> T:
    """What the cache holds under `cache_key`, else `build()`, kept there for `seconds`.

    An unreachable cache costs the speed, not the page: the value is built and served anyway."""
    try:
        value = cache.get(cache_key)
    except Exception:  # the cache backend's own errors (a Redis outage) have no common base class
        log.warning("cache unreachable; building %s", cache_key, exc_info=True)
        return build()
    if value is None:
        value = build()
        try:
            cache.set(cache_key, value, seconds)
        except Exception:
            log.warning("cache unreachable; %s not kept", cache_key, exc_info=True)
    return value
