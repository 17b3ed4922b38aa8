"""Public reads on a PostgreSQL streaming replica, everything else on the primary (docs/deploy.md).

A replica lags the primary by a little (usually milliseconds, more under load), so only reads that
may be that stale go there: the ones made while `replica_reads()` is active, which the middleware
(ksbb.replica_middleware) turns on for anonymous GETs of public pages. Unmarked reads, reads inside
`transaction.atomic()` and every write use the primary; after a write the rest of the request reads
the primary too, so it sees its own write.

And only while the replica is fit (`replica_fit`): reachable, and behind the primary by at most
KSBB_REPLICA_MAX_LAG_SECONDS. Each process asks it every few seconds; a replica that stopped or
fell behind sends every read to the primary until it has caught up.
"""

import logging
import time
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from ksbb.lib import failover_cache

REPLICA = "replica"
# Sessions: written by a request and read by the next, a stale one is a lost login. Axes: a lockout
# must count the failure recorded a moment ago.
PRIMARY_ONLY_APPS = {"sessions", "axes"}
# Likewise the rate limits counted in the database while Redis is down (a database cache's table).
PRIMARY_ONLY_TABLES = {failover_cache.TABLE}

_replica_ok: ContextVar[bool] = ContextVar("ksbb_replica_reads", default=False)
log = logging.getLogger(__name__)
# How often a process asks the replica how far behind it is; less often while it is unfit (a
# stopped server may cost a connect timeout).
CHECK_SECONDS, RECHECK_UNFIT_SECONDS = 2.0, 5.0
# Seconds since the last replayed commit, or 0 when everything received is replayed (an idle
# primary sends nothing to replay) or when the server is not a standby at all.
LAG_SQL = """SELECT CASE WHEN NOT pg_is_in_recovery()
                           OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                         ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)
                    END"""


class _Fitness:
    checked_at = float("-inf")
    fit = False


_fitness = _Fitness()


def replica_fit() -> bool:
    """Whether reads may go to the replica now: it answered, and lags at most
    KSBB_REPLICA_MAX_LAG_SECONDS. Asked at most every CHECK_SECONDS per process."""
    now = time.monotonic()
    wait = CHECK_SECONDS if _fitness.fit else RECHECK_UNFIT_SECONDS
    if now - _fitness.checked_at < wait:
        return _fitness.fit
    _fitness.checked_at = now
    was = _fitness.fit
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(LAG_SQL)
            (lag,) = cursor.fetchone()
        _fitness.fit = float(lag) <= settings.KSBB_REPLICA_MAX_LAG_SECONDS
        if not _fitness.fit and was:
            log.warning("replica %.1f s behind: public reads go to the primary", float(lag))
    except Exception:  # stopped, unreachable, restarting: the primary answers meanwhile
        connections[REPLICA].close()
        _fitness.fit = False
        if was:
            log.warning("replica unreachable: public reads go to the primary", exc_info=True)
    return _fitness.fit


@contextmanager
def replica_reads(allowed: bool = True):
    """Within the block (and this thread or task only), reads may use the replica."""
    token = _replica_ok.set(allowed)
    try:
        yield
    finally:
        _replica_ok.reset(token)


def replica_reads_allowed() -> bool:
    return _replica_ok.get()


class PrimaryReplicaRouter:
    """Installed (settings.DATABASE_ROUTERS) only when REPLICA_DATABASE_URL is set."""

    def db_for_read(self, model, **hints):
        if (
            _replica_ok.get()
            and model._meta.app_label not in PRIMARY_ONLY_APPS
            and model._meta.db_table not in PRIMARY_ONLY_TABLES
            # A read inside a transaction belongs with that transaction's writes and locks.
            and not connections[DEFAULT_DB_ALIAS].in_atomic_block
            and replica_fit()
        ):
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        # Read your own writes: from here on this request reads the primary.
        _replica_ok.set(False)
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # Both aliases hold the same data: a row read from the replica may point at one from the primary.
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica is read-only and follows the primary's schema by itself.
        return db == DEFAULT_DB_ALIAS
