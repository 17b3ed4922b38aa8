"""Gunicorn settings for `make serve` and production (docs/deploy.md); each can be overridden from the environment.

Sync workers: every request is short and database-bound, and a stuck worker is killed by `timeout`
instead of stalling a shared event loop. `max_requests` recycles workers so a slow leak can't grow forever;
each new worker loads the portal (about a second of CPU), so recycling stays rare (docs/benchmarks.md,
load test run 9) and is spread out by a wide jitter, and a worker loads its URLs and templates before
its first request (`post_worker_init`, ksbb.warmup).
"""

import glob
import multiprocessing
import os
import shutil
import tempfile

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:" + os.environ.get("PORT", "8000"))
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 20
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 20000))
# Workers started together get about the same share of requests: a narrow jitter recycles them all
# within seconds of one another.
max_requests_jitter = max_requests // 2
# Empty turns the access log off (gunicorn itself would try to open a file named "").
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
# gunicorn's default line, then the response time (µs) and the request id the portal answered with
# (X-Request-ID, ksbb.lib.request_id), to find a request's log lines from its access line.
access_log_format = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)s %({x-request-id}o)s'
)
errorlog = "-"
# The proxy in front (docs/deploy.md) sets X-Forwarded-Proto; gunicorn trusts it only from these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
wsgi_app = "ksbb.wsgi:application"

# Prometheus metrics from every worker process (prometheus_client's multiprocess mode, ksbb.metrics):
# each worker writes its counters to files in this directory, read when /metrics is scraped. Set
# before any worker imports prometheus_client. Without PROMETHEUS_MULTIPROC_DIR in the environment,
# a fresh temporary directory, removed when gunicorn stops; a reload (HUP) keeps it.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="ksbb-metrics-")
    os.environ["KSBB_METRICS_DIR_IS_TEMPORARY"] = "1"


def on_starting(server):
    """Counts start from zero with the server: left-overs of an earlier run would add to them."""
    metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(metrics_dir, exist_ok=True)
    for stale in glob.glob(os.path.join(metrics_dir, "*.db")):
        os.remove(stale)
    server.log.info("Metrics of all workers in %s", metrics_dir)


def post_worker_init(worker):
    """Before the worker's first request: its URLs, templates and release digest (ksbb.warmup).
    Only for the portal: the load test's bare view runs under these settings too."""
    if worker.app.app_uri != wsgi_app:
        return
    from ksbb.warmup import warm_up

    loaded = warm_up()
    worker.log.info("Worker %s warmed up: %s templates", worker.pid, loaded["templates"])


def child_exit(server, worker):
    """A worker ended (recycled by max_requests, killed by timeout): its live gauges go; its
    counters and histograms stay in the totals."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if os.environ.get("KSBB_METRICS_DIR_IS_TEMPORARY"):
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
