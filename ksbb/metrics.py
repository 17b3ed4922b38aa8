"""/metrics in Prometheus' text format (docs/deploy.md, "Health, metrics and logs").

Request counts and latencies by view come from django-prometheus's middleware, in every gunicorn
worker process; with PROMETHEUS_MULTIPROC_DIR set (ksbb/gunicorn.conf.py sets it) each process writes
its figures to files there and this view adds them up, so a scrape answered by any one worker counts
the requests of all of them. The portal's own figures are read from the database at scrape time (a few
small queries on the primary), so they are the same whichever process or app server answers.

Only for monitoring: the view answers the addresses in KSBB_METRICS_ALLOWED_ADDRESSES (the client's
address as the pledge limits read it: donations.ratelimit, KSBB_TRUSTED_PROXY_COUNT) or a request
carrying `Authorization: Bearer <KSBB_METRICS_TOKEN>`; anyone else gets a 403.
"""

import hmac
import ipaddress
import logging
import os
from datetime import timedelta

import prometheus_client
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError
from django.db.models import Count, Q
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from procrastinate.contrib.django.models import ProcrastinateJob
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily

from alerts.models import AlertMail
from donations.models import Pledge, PledgeStatus
from donations.ratelimit import client_address
from ksbb.health import outbox_state, worker_heartbeat_age
from recipients.models import OutboundMessage

log = logging.getLogger(__name__)
JOB_STATUSES = ("todo", "doing", "failed")


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


class PortalCollector:
    """The portal's figures, computed when Prometheus scrapes (one query each, on the primary)."""

    def collect(self):
        try:
            metrics = list(self._collect())
        except DatabaseError as error:
            log.warning("Metrics: database error (%s: %s)", type(error).__name__, error)
            yield _gauge("ksbb_database_up", "1 if the portal's figures could be read.", 0)
            return
        yield _gauge("ksbb_database_up", "1 if the portal's figures could be read.", 1)
        yield from metrics

    def _collect(self):
        outbox = outbox_state()
        yield _gauge(
            "ksbb_outbox_unsent",
            "Mails waiting in the outbox that will still be tried.",
            outbox["unsent"],
        )
        yield _gauge(
            "ksbb_outbox_oldest_unsent_age_seconds",
            "Age of the oldest mail still to be sent (0 when none waits).",
            outbox["oldest_age"] or 0,
        )
        yield _gauge(
            "ksbb_outbox_given_up",
            "Mails never sent after their last attempt.",
            outbox["given_up"],
        )
        messages = outbox_state(OutboundMessage)
        yield _gauge(
            "ksbb_messages_unsent",
            "Messages to contact persons (WhatsApp, SMS, e-mail) that will still be tried.",
            messages["unsent"],
        )
        yield _gauge(
            "ksbb_messages_oldest_unsent_age_seconds",
            "Age of the oldest message to a contact person still to be sent (0 when none waits).",
            messages["oldest_age"] or 0,
        )
        yield _gauge(
            "ksbb_messages_given_up",
            "Messages to contact persons never sent after their last attempt.",
            messages["given_up"],
        )
        alert_mail = outbox_state(AlertMail)
        yield _gauge(
            "ksbb_alert_mail_unsent",
            "Mails to alert subscribers that will still be tried.",
            alert_mail["unsent"],
        )
        yield _gauge(
            "ksbb_alert_mail_oldest_unsent_age_seconds",
            "Age of the oldest mail to an alert subscriber still to be sent (0 when none waits).",
            alert_mail["oldest_age"] or 0,
        )
        yield _gauge(
            "ksbb_alert_mail_given_up",
            "Mails to alert subscribers never sent after their last attempt.",
            alert_mail["given_up"],
        )
        # Every status listed, so the (status, created_at) index serves the time range.
        since = timezone.now() - timedelta(minutes=1)
        yield _gauge(
            "ksbb_pledges_created_last_minute",
            "Pledges created in the last 60 seconds.",
            Pledge.objects.using(DEFAULT_DB_ALIAS)
            .filter(status__in=PledgeStatus.values, created_at__gte=since)
            .count(),
        )
        counts = (
            ProcrastinateJob.objects.using(DEFAULT_DB_ALIAS)
            .filter(status__in=JOB_STATUSES)
            .aggregate(**{status: Count("pk", filter=Q(status=status)) for status in JOB_STATUSES})
        )
        jobs = GaugeMetricFamily(
            "ksbb_jobs",
            "Background jobs by status: todo is the queue, failed the jobs that gave up.",
            labels=["status"],
        )
        for status in JOB_STATUSES:
            jobs.add_metric([status], counts[status])
        yield jobs
        age = worker_heartbeat_age()
        yield _gauge(
            "ksbb_worker_heartbeat_age_seconds",
            "Seconds since the newest background worker heartbeat (+Inf when no worker).",
            float("inf") if age is None else age,
        )


class _ThisProcess:
    """The default registry's metrics (one process: development, tests, runserver)."""

    def collect(self):
        return prometheus_client.REGISTRY.collect()


def registry() -> prometheus_client.CollectorRegistry:
    """A registry for one scrape: every process's request metrics, and the portal's figures."""
    scrape = prometheus_client.CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(scrape)
    else:
        scrape.register(_ThisProcess())
    scrape.register(PortalCollector())
    return scrape


def allowed(request) -> bool:
    """A scraper on an allowed address, or one with the bearer token."""
    token = settings.KSBB_METRICS_TOKEN
    if token:
        kind, _, given = request.headers.get("Authorization", "").partition(" ")
        if kind.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return True
    if not settings.KSBB_TRUSTED_PROXY_COUNT and "HTTP_X_FORWARDED_FOR" in request.META:
        # A proxy passed this on, but none is trusted: REMOTE_ADDR is the proxy (nginx on the same
        # machine is 127.0.0.1), not the client. Only the token opens the door then.
        return False
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(network, strict=False)
        for network in settings.KSBB_METRICS_ALLOWED_ADDRESSES
    )


@never_cache
def metrics(request):
    if not allowed(request):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain; charset=utf-8")
    return HttpResponse(
        prometheus_client.generate_latest(registry()),
        content_type=prometheus_client.CONTENT_TYPE_LATEST,
    )
