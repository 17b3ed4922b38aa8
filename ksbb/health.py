"""Health endpoints for load balancers and monitors (docs/deploy.md, "Health, metrics and logs").

- /health/live/: the process answers. No database, no cache: a restart is the only cure for a
  failure here.
- /health/serving/: this app server can serve pages: the primary database answers and the cache
  works. What a load balancer probes: everything it checks belongs to this server.
- /health/ready/: the whole portal is healthy: the above, plus a background worker's heartbeat is
  recent and the oldest unsent mail or message, in every outbox, is young enough. What monitoring probes. A dead worker or a
  stuck outbox fails every app server alike, so a load balancer must not take servers out on it.

The checks are django-health-check's (HealthCheckView with a `checks` list). Every check runs on
the request's own thread and database connection (sync_to_async), never on a pool thread that would
open a connection of its own; readiness costs a SELECT 1, the heartbeat's query and one small
indexed query per outbox.
The answer is JSON: 200 when every check passes, 503 naming the failing checks otherwise, never a
500 and never a traceback or personal data (the reasons are the checks' own short sentences; the
details go to the log).
"""

import asyncio
import dataclasses
import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, DatabaseError
from django.db.models import (
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    Func,
    Max,
    Min,
    Q,
)
from django.http import HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from health_check import checks as health_checks
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable, ServiceWarning
from health_check.views import HealthCheckView
from procrastinate.contrib.django.models import ProcrastinateWorker

from alerts.models import AlertMail
from donations.mail import MAX_ATTEMPTS
from donations.models import OutboundMail
from recipients.models import OutboundMessage

log = logging.getLogger(__name__)


class StatementTime(Func):
    """The database's clock at this statement (worker heartbeats are written with its NOW())."""

    template = "statement_timestamp()"
    output_field = DateTimeField()


def _age(moment) -> ExpressionWrapper:
    """How long ago `moment` (an aggregate of a date) was, by the database's clock."""
    return ExpressionWrapper(StatementTime() - moment, output_field=DurationField())


def _seconds(age) -> float | None:
    return None if age is None else max(0.0, age.total_seconds())


def worker_heartbeat_age() -> float | None:
    """Seconds since the newest heartbeat of any procrastinate worker; None when none is registered.

    One query on the primary (procrastinate_workers is a handful of rows, indexed by heartbeat)."""
    row = ProcrastinateWorker.objects.using(DEFAULT_DB_ALIAS).aggregate(
        age=_age(Max("last_heartbeat"))
    )
    return _seconds(row["age"])


def outbox_state(model=OutboundMail) -> dict:
    """An outbox (the donors' mail, or the contact persons' messages) on the primary, in one query
    over its partial index on unsent rows: `unsent` (still to be tried), `oldest_age` (seconds,
    None when nothing waits) and `given_up` (unsent after MAX_ATTEMPTS tries, never tried again)."""
    waiting = Q(attempts__lt=MAX_ATTEMPTS)
    row = (
        model.objects.using(DEFAULT_DB_ALIAS)
        .filter(sent_at=None)
        .aggregate(
            unsent=Count("pk", filter=waiting),
            given_up=Count("pk", filter=~waiting),
            oldest_age=_age(Min("created_at", filter=waiting)),
        )
    )
    return {
        "unsent": row["unsent"],
        "given_up": row["given_up"],
        "oldest_age": _seconds(row["oldest_age"]),
    }


def _database_unreachable(error: Exception) -> ServiceUnavailable:
    # The driver's message can name hosts and roles: it goes to the log, not into the answer.
    log.warning("Health check: database error (%s: %s)", type(error).__name__, error)
    return ServiceUnavailable("database unreachable")


@dataclasses.dataclass
class Database(health_checks.Database):
    """SELECT 1 on the primary, over the request's own connection."""

    async def run(self):
        try:
            await sync_to_async(super().run)()
        except ServiceUnavailable as error:
            log.warning("Health check: database check failed (%s)", error)
            raise ServiceUnavailable("database unreachable") from error


@dataclasses.dataclass
class Cache(health_checks.Cache):
    """A key written and read back in CACHES["default"]. While a shared Redis is down and the
    failover cache answers from this process's memory (ksbb.lib.failover_cache), pages still work:
    a warning, not a failure (taking every app server out for it would stop the whole portal)."""

    async def run(self):
        await super().run()
        if getattr(caches[self.alias], "redis_is_failing", False):
            raise ServiceWarning("shared cache unreachable; this server uses its own memory")


@dataclasses.dataclass
class WorkerHeartbeat(HealthCheck):
    """Some background worker sent a heartbeat within KSBB_WORKER_HEARTBEAT_MAX_SECONDS."""

    async def run(self):
        try:
            age = await sync_to_async(worker_heartbeat_age)()
        except DatabaseError as error:
            raise _database_unreachable(error) from error
        limit = settings.KSBB_WORKER_HEARTBEAT_MAX_SECONDS
        if age is None:
            raise ServiceUnavailable("no background worker is registered")
        if age > limit:
            raise ServiceUnavailable(f"last worker heartbeat {age:.0f} s ago (limit {limit} s)")


# Every outbox of the portal, with what its rows are called in a failing check's reason (a test
# checks that each OutboxRow model is here).
OUTBOXES = [(OutboundMail, "mail"), (OutboundMessage, "message"), (AlertMail, "alert mail")]


@dataclasses.dataclass
class Outbox(HealthCheck):
    """Nothing still to be sent, in any outbox (the donors' mail, the contact persons' messages,
    the alert subscribers' mail), is older than KSBB_OUTBOX_MAX_AGE_SECONDS."""

    async def run(self):
        limit = settings.KSBB_OUTBOX_MAX_AGE_SECONDS
        for model, what in OUTBOXES:
            try:
                state = await sync_to_async(outbox_state)(model)
            except DatabaseError as error:
                raise _database_unreachable(error) from error
            age = state["oldest_age"]
            if age is not None and age > limit:
                raise ServiceUnavailable(
                    f"oldest unsent {what} waits {age:.0f} s "
                    f"(limit {limit} s; {state['unsent']} unsent)"
                )


SERVING_CHECKS = [Database, Cache]
READY_CHECKS = [Database, Cache, WorkerHeartbeat, Outbox]


class HealthView(HealthCheckView):
    """django-health-check's view, answering JSON only: 200 or 503 (never 500), never cached."""

    checks = READY_CHECKS

    async def dispatch(self, request, *args, **kwargs):
        try:
            response = await super().dispatch(request, *args, **kwargs)
        except Exception:
            log.exception("Health check view failed")
            response = JsonResponse({"status": "failing", "failing": ["health check"]}, status=503)
            add_never_cache_headers(response)
        return response

    async def get(self, request, *args, **kwargs):
        with self.get_executor() as executor:
            self.results = await asyncio.gather(
                *(check.get_result(executor) for check in self.get_checks())
            )
        answers, failing = {}, []
        for result in self.results:
            name = result.check.labels["check"]
            error = result.error
            if error is None:
                answers[name] = "ok"
            elif isinstance(error, ServiceWarning):
                answers[name] = f"warning: {error.message}"
            else:
                failing.append(name)
                answers[name] = f"failing: {error.message}"
        body = {"status": "failing" if failing else "ok", "checks": answers}
        if failing:
            body["failing"] = failing
        response = JsonResponse(body, status=503 if failing else 200)
        # Each failing check has logged a warning already; no "Service Unavailable" error line from
        # django.request on top of it for every probe.
        response._has_been_logged = True
        return response


@never_cache
def live(request):
    """The process is up and answers; touches neither the database nor the cache."""
    return HttpResponse("ok\n", content_type="text/plain; charset=utf-8")


serving = HealthView.as_view(checks=SERVING_CHECKS)
ready = HealthView.as_view(checks=READY_CHECKS)
