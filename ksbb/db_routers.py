"""Public reads on a PostgreSQL streaming replica, everything else on the primary (docs/deploy.md).

A replica lags the primary by a little (usually milliseconds, more under load), so only reads that
may be that stale go there: the ones made while `replica_reads()` is active, which the middleware
(ksbb.replica_middleware) turns on for anonymous GETs of public pages. Unmarked reads, reads inside
`transaction.atomic()` and every write use the primary; after a write the rest of the request reads
the primary too, so it sees its own write.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS, connections

from ksbb.lib import failover_cache

REPLICA = "replica"
# Sessions: written by a request and read by the next, a stale one is a lost login. Axes: a lockout
# must count the failure recorded a moment ago.
PRIMARY_ONLY_APPS = {"sessions", "axes"}
# Likewise the rate limits counted in the database while Redis is down (a database cache's table).
PRIMARY_ONLY_TABLES = {failover_cache.TABLE}

_replica_ok: ContextVar[bool] = ContextVar("ksbb_replica_reads", default=False)


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
