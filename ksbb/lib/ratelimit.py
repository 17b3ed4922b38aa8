"""Fixed-window rate limits kept in Django's cache (shared across app servers when CACHE_URL is Redis):
the pledge form's and API's (donations.ratelimit), the alert subscription form's (alerts.views)."""

import hashlib
import re
import time

from django.conf import settings
from django.core.cache import cache

RATE = re.compile(r"^(\d+)/(s|m|h|d)$")
SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'10/h' → (10, 3600)."""
    match = RATE.match(rate)
    if not match:
        raise ValueError(f"A rate is a count per s, m, h or d, e.g. 10/h; got {rate!r}.")
    return int(match[1]), SECONDS[match[2]]


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, or the proxy-reported one when a trusted proxy sets it."""
    if settings.KSBB_TRUSTED_PROXY_COUNT:
        forwarded = [
            a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()
        ]
        if len(forwarded) >= settings.KSBB_TRUSTED_PROXY_COUNT:
            return forwarded[-settings.KSBB_TRUSTED_PROXY_COUNT]
    return request.META.get("REMOTE_ADDR", "")


def allow(scope: str, key: str, rate: str) -> bool:
    """Count one attempt of `key` in `scope`; False once the rate's count is exceeded in its window."""
    limit, window = parse_rate(rate)
    cache_key = _key(scope, key, window)
    cache.add(cache_key, 0, timeout=window + 1)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window + 1)
        count = 1
    return count <= limit


def exceeded(scope: str, key: str, rate: str) -> bool:
    """Whether `key` has used up all of `scope`'s rate in this window, without counting a try."""
    limit, window = parse_rate(rate)
    return (cache.get(_key(scope, key, window)) or 0) >= limit


def _key(scope: str, key: str, window: int) -> str:
    # Hashed: an e-mail address must not sit in the cache in clear.
    digest = hashlib.sha256(f"{scope}|{key}".encode()).hexdigest()[:32]
    return f"ratelimit:{scope}:{digest}:{int(time.time() // window)}"
