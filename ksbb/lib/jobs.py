"""Deferring work to the background worker (procrastinate, on PostgreSQL; docs/deploy.md).

A job is written to the database in the caller's transaction: it exists exactly when the change
that asked for it was committed, and the worker, woken by PostgreSQL's NOTIFY at commit, starts it
within a second. A request never runs it.

KSBB_JOBS_EAGER (the test suite's setting) runs a job's function after the commit instead, in the
same process, as Django's tests already do with `on_commit`: tests see its effect without a worker.
The worker itself is tested apart, against real jobs (tests/ksbb/test_worker.py).
"""

import logging

from django.conf import settings
from django.db import transaction
from procrastinate import exceptions
from procrastinate.tasks import Task

log = logging.getLogger(__name__)


def defer(task: Task, **kwargs) -> None:
    """Run `task(**kwargs)` in the background once the current transaction commits."""
    if settings.KSBB_JOBS_EAGER:
        transaction.on_commit(lambda: task(**kwargs))
        return
    task.defer(**kwargs)


def defer_once(
    task: Task, *, key: str, lock: str | None = None, delay_seconds: int = 0, **kwargs
) -> None:
    """Like `defer`, but at most one such job waits at a time: while one with the same `key` is
    queued and not yet started, asking again changes nothing (a burst of changes, one rebuild).
    Jobs with the same `lock` never run at the same time, on any worker.

    Run after the commit: a refused duplicate is a failed INSERT, which would abort the caller's
    transaction."""
    if settings.KSBB_JOBS_EAGER:
        transaction.on_commit(lambda: task(**kwargs))
        return

    def enqueue():
        options = {"queueing_lock": key, "lock": lock}
        if delay_seconds:
            options["schedule_in"] = {"seconds": delay_seconds}
        try:
            task.configure(**options).defer(**kwargs)
        except exceptions.AlreadyEnqueued:
            pass  # the waiting job will see this change too
        except Exception:  # a queue that cannot be reached costs freshness, never the request
            log.warning("could not queue %s", key, exc_info=True)

    transaction.on_commit(enqueue)
