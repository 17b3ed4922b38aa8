"""Racing two transactions on real connections (one per thread), for the concurrency tests: a worker
thread, a pause inside a service while it holds its locks, and a wait for a session blocked on one."""

import threading
import time

from django.db import connection, connections
from django.utils import translation

from donations import services
from needs import services as needs_services

WAIT = 20  # seconds a thread may wait for another before the test fails rather than hangs
REFUSALS = (services.PledgeError, needs_services.NeedError)


class Worker(threading.Thread):
    """Runs `fn` on its own connection, in English; keeps its result or the refusal it raised
    (any other error is raised again by finish())."""

    def __init__(self, fn):
        super().__init__()
        self.fn, self.result, self.error, self.crash = fn, None, None, None

    def run(self):
        try:
            with translation.override("en"):
                self.result = self.fn()
        except REFUSALS as e:
            self.error = e
        except Exception as e:  # handed to the test thread by finish()
            self.crash = e
        finally:
            connections.close_all()

    def finish(self):
        self.join(WAIT)
        assert not self.is_alive(), "a worker hung"
        if self.crash is not None:
            raise self.crash
        return self


class Pause:
    """Stops `worker`'s first call of `module.name` (made while it holds its row locks) until
    released, so another transaction can be started against those locks."""

    def __init__(self, monkeypatch, module, name):
        self.reached, self.release, self.worker = threading.Event(), threading.Event(), None
        real = getattr(module, name)

        def paused(*args, **kwargs):
            if threading.current_thread() is self.worker and not self.reached.is_set():
                self.reached.set()
                assert self.release.wait(WAIT)
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, paused)

    def start(self, worker: Worker) -> Worker:
        self.worker = worker
        worker.start()
        assert self.reached.wait(WAIT), "the worker never took its locks"
        return worker


def wait_until_someone_waits_for_a_lock():
    """Poll PostgreSQL until another session is blocked on a row lock (so both really overlap)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.02)
    raise AssertionError("no session ever waited for the lock")
