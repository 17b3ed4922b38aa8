"""Gunicorn settings for `make serve` and production (docs/deploy.md); each can be overridden from the environment.

Sync workers: every request is short and database-bound, and a stuck worker is killed by `timeout`
instead of stalling a shared event loop. `max_requests` recycles workers so a slow leak can't grow forever.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:" + os.environ.get("PORT", "8000"))
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 20
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 2000))
max_requests_jitter = max_requests // 10
# Empty turns the access log off (gunicorn itself would try to open a file named "").
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
errorlog = "-"
# The proxy in front (docs/deploy.md) sets X-Forwarded-Proto; gunicorn trusts it only from these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
wsgi_app = "ksbb.wsgi:application"
