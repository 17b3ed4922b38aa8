"""The public aggregates every visitor reads and every pledge changes (the map layer, the
transparency figures, the home page's counts), rebuilt in the background and served from their last
complete version: no reader waits for a rebuild, and no two workers build the same thing.

Each aggregate is registered once (`register`) with what builds it from its parts (the request's
filters, a date) and a cheap version of the data it reads. A reader gets the stored version
(`snapshot`). At most once every KSBB_PUBLIC_SNAPSHOT_SECONDS per aggregate and parts, a read asks
the background worker to check it: the job (one per key at a time, a procrastinate lock) compares
the data's version with the one the stored value was built from, and builds again only when they
differ. So a change shows within those seconds plus one build, and quiet data costs nothing.

Two stores: the default cache (Redis, shared by every server) and a database cache (the "snapshots"
cache alias), which keeps every built value across a Redis outage and a restart. A value missing
from both is built once in the request that asks for it, unless the aggregate is `expensive`
(minutes of SQL at a million pledges): then the request gets `NotReady`, says so to the reader, and
the worker builds it.

What a donor acts on never comes from here: the need page, its popup in the API, the pledge form and
the pledge itself read the database, so a lagging marker can never let a pledge overlap.
KSBB_PUBLIC_SNAPSHOT_SECONDS = 0 (the test suite) builds on every read.
"""

import dataclasses
import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from procrastinate.contrib.django import app

from ksbb.lib import jobs

log = logging.getLogger(__name__)
STORE = "snapshots"
# How long a built value is kept after its last build (a key nobody asks for again expires).
KEEP_SECONDS = 7 * 24 * 3600
# The period of the public aggregates (the map layer, the transparency and home figures), in
# KSBB_PUBLIC_SNAPSHOT_SECONDS (30 s by default): nearly every pledge changes them, so nearly every
# check is a rebuild (0.5–1.8 s of a core each at 50,000 needs, docs/benchmarks.md), and a figure or
# a marker 30 s old misleads no reader; what a donor acts on is never from here.
PUBLIC_PERIOD = 3


class NotReady(Exception):
    """An expensive aggregate not built yet: the worker is building it."""


@dataclasses.dataclass(frozen=True)
class Aggregate:
    name: str
    build: Callable[[Any], Any]
    version: Callable[[], str]
    expensive: bool = False
    # Bumped when what `build` returns changes shape: values of an older shape are never read.
    revision: int = 1
    # How often a read asks for a check, in KSBB_PUBLIC_SNAPSHOT_SECONDS.
    period: int = 1


@dataclasses.dataclass(frozen=True)
class Entry:
    value: Any
    version: str


REGISTRY: dict[str, Aggregate] = {}


def register(
    name: str,
    build: Callable[[Any], Any],
    *,
    version: Callable[[], str],
    expensive: bool = False,
    revision: int = 1,
    period: int = 1,
) -> None:
    """Make `name` an aggregate: `build(parts)` computes it, `version()` says cheaply whether the
    data it reads changed. `parts` arrive as JSON gives them back (lists, strings, numbers).
    `period`: a read asks for a check at most once per `period` × KSBB_PUBLIC_SNAPSHOT_SECONDS,
    for an aggregate with many `parts` that are dear to rebuild together."""
    REGISTRY[name] = Aggregate(name, build, version, expensive, revision, period)


def normalized(parts) -> Any:
    """`parts` as the worker will receive them (through JSON): a tuple becomes a list, a date
    its ISO string. The key and the build both use this form, so they always agree."""
    return json.loads(json.dumps(parts, default=str))


def key(name: str, parts) -> str:
    """A cache key for `name` and the request's `parts` (hashed: they may come from a visitor)."""
    aggregate = REGISTRY.get(name)
    revision = aggregate.revision if aggregate else 0
    digest = hashlib.sha256(json.dumps(normalized(parts)).encode()).hexdigest()[:32]
    return f"snapshot:{name}:r{revision}:{digest}"


def snapshot(name: str, parts) -> Any:
    """The last complete value of aggregate `name` for `parts`."""
    aggregate = REGISTRY[name]
    parts = normalized(parts)
    seconds = settings.KSBB_PUBLIC_SNAPSHOT_SECONDS * aggregate.period
    if seconds <= 0:
        return aggregate.build(parts)
    cache_key = key(name, parts)
    entry = _read(cache_key)
    if entry is None:
        if aggregate.expensive:
            _ask_for_rebuild(name, parts, cache_key, seconds)
            raise NotReady(name)
        entry = Entry(aggregate.build(parts), "")  # a version that never matches: checked soon
        _write(cache_key, entry)
    _ask_for_rebuild(name, parts, cache_key, seconds)
    return entry.value


def rebuild(name: str, parts) -> bool:
    """Build `name` for `parts` again if its data changed since the stored value was built (the
    worker's job). Returns whether it built."""
    return _refreshed(name, parts)[1]


def current(name: str, parts) -> Any:
    """The value of `name` for `parts` as of now, built first if its data changed: for the worker,
    when an aggregate is made from another one (the home page's figures from today's)."""
    if settings.KSBB_PUBLIC_SNAPSHOT_SECONDS <= 0:
        return REGISTRY[name].build(normalized(parts))
    return _refreshed(name, parts)[0].value


def _refreshed(name: str, parts) -> tuple[Entry, bool]:
    aggregate = REGISTRY[name]
    cache_key = key(name, parts)
    version = aggregate.version()  # before the build: a change during it shows next time
    stored = _read(cache_key)
    if stored is not None and stored.version == version:
        return stored, False
    entry = Entry(aggregate.build(normalized(parts)), version)
    _write(cache_key, entry)
    return entry, True


@app.task(name="ksbb.rebuild_snapshot", queue="figures")
def rebuild_snapshot(name: str, parts) -> None:
    if name in REGISTRY:  # an aggregate removed since the job was queued: nothing to do
        rebuild(name, parts)


def _ask_for_rebuild(name: str, parts, cache_key: str, seconds: int) -> None:
    """At most once per `seconds` per key, queue a check (`rebuild`) for the worker."""
    try:
        if not cache.add(f"{cache_key}:asked", 1, seconds):
            return
    except Exception:
        log.warning("cache unreachable; asking for %s anyway", cache_key, exc_info=True)
    lock = f"snapshot:{cache_key}"
    jobs.defer_once(rebuild_snapshot, key=lock, lock=lock, name=name, parts=parts)


def _read(cache_key: str) -> Entry | None:
    """The stored entry: from the shared cache, else from the database (then copied back)."""
    try:
        entry = cache.get(cache_key)
    except Exception:  # the cache backend's own errors (a Redis outage) have no common base class
        log.warning("cache unreachable; reading %s from the database", cache_key, exc_info=True)
        entry = None
    if isinstance(entry, Entry):
        return entry
    entry = caches[STORE].get(cache_key)
    if isinstance(entry, Entry):
        _set(cache, cache_key, entry)
        return entry
    return None


def _write(cache_key: str, entry: Entry) -> None:
    _set(caches[STORE], cache_key, entry)
    _set(cache, cache_key, entry)


def _set(store, cache_key: str, entry: Entry) -> None:
    try:
        store.set(cache_key, entry, KEEP_SECONDS)
    except Exception:
        log.warning("could not keep %s", cache_key, exc_info=True)
