"""/metrics (ksbb.metrics): only for the monitoring's addresses or token; request latency by view
from django-prometheus; the portal's own figures read from the database when scraped; and, under
gunicorn with several workers, the requests of every worker process in one scrape."""

import http.client
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.db import OperationalError, connection
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from donations import services
from donations.mail import MAX_ATTEMPTS
from donations.models import OutboundMail
from ksbb import metrics
from tests import factories
from tests.ksbb.test_health import _mail
from tests.ksbb.test_serve import _free_port, production_env, serving

ROOT = Path(settings.BASE_DIR)
OUTSIDE = "203.0.113.7"  # an address on the internet (TEST-NET-3)


def _samples(content: bytes) -> dict:
    """{(name, frozenset(labels)): value} of a scrape."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(content.decode())
        for sample in family.samples
    }


def _value(samples: dict, name: str, **labels) -> float:
    return samples[(name, frozenset(labels.items()))]


class TestWhoMayScrape:
    def test_loopback_may_by_default(self, client, db):
        response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain; version=")
        assert "no-store" in response["Cache-Control"]

    def test_an_outside_address_may_not(self, client, db):
        response = client.get("/metrics", REMOTE_ADDR=OUTSIDE)
        assert response.status_code == 403
        assert b"ksbb_" not in response.content

    def test_a_request_through_an_untrusted_proxy_may_not(self, client, db):
        # nginx on the same machine, KSBB_TRUSTED_PROXY_COUNT left at 0: REMOTE_ADDR is nginx's.
        response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=OUTSIDE)
        assert response.status_code == 403

    def test_behind_a_trusted_proxy_the_client_address_decides(self, client, db, settings):
        settings.KSBB_TRUSTED_PROXY_COUNT = 1
        settings.KSBB_METRICS_ALLOWED_ADDRESSES = ["10.0.0.0/24"]
        forged = client.get(
            "/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=f"10.0.0.9, {OUTSIDE}"
        )
        assert forged.status_code == 403
        inside = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.0.0.9")
        assert inside.status_code == 200

    def test_the_bearer_token_opens_it_from_anywhere(self, client, db, settings):
        settings.KSBB_METRICS_TOKEN = "s3cret-token-for-prometheus"
        ok = client.get(
            "/metrics",
            REMOTE_ADDR=OUTSIDE,
            HTTP_AUTHORIZATION="Bearer s3cret-token-for-prometheus",
        )
        assert ok.status_code == 200
        for wrong in ("Bearer s3cret", "Basic s3cret-token-for-prometheus", ""):
            response = client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=wrong)
            assert response.status_code == 403, wrong

    def test_no_token_configured_means_no_token_accepted(self, client, db, settings):
        settings.KSBB_METRICS_TOKEN = ""
        response = client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer ")
        assert response.status_code == 403

    def test_not_sent_to_https(self, client, db, settings):
        settings.SECURE_SSL_REDIRECT = True
        assert client.get("/metrics").status_code == 200


def _failed_job():
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, status) VALUES"
            " ('default', 'donations.send_mail', 'failed'),"
            " ('default', 'donations.send_mail', 'todo'),"
            " ('default', 'donations.send_mail', 'todo')"
        )


def test_the_portal_figures_and_view_latency(client, need, donor):
    # The jobs counted below are this test's only (a server another test started may have queued some).
    factories.delete_jobs()
    services.pledge(need=need, collaborator=donor, quantity=3)
    _mail(minutes_ago=5)
    _mail(minutes_ago=2)
    _mail(minutes_ago=60, attempts=MAX_ATTEMPTS)
    unsent = OutboundMail.objects.filter(sent_at=None, attempts__lt=MAX_ATTEMPTS).count()
    _failed_job()
    assert client.get("/health/live/").status_code == 200

    response = client.get("/metrics")
    assert response.status_code == 200
    samples = _samples(response.content)
    assert _value(samples, "ksbb_database_up") == 1
    assert _value(samples, "ksbb_outbox_unsent") == unsent
    assert 290 <= _value(samples, "ksbb_outbox_oldest_unsent_age_seconds") <= 600
    assert _value(samples, "ksbb_outbox_given_up") == 1
    assert _value(samples, "ksbb_messages_unsent") == 0
    assert _value(samples, "ksbb_messages_oldest_unsent_age_seconds") == 0
    assert _value(samples, "ksbb_alert_mail_unsent") == 0
    assert _value(samples, "ksbb_alert_mail_given_up") == 0
    assert _value(samples, "ksbb_pledges_created_last_minute") == 1
    assert _value(samples, "ksbb_jobs", status="failed") == 1
    assert _value(samples, "ksbb_jobs", status="todo") == 2
    assert _value(samples, "ksbb_jobs", status="doing") == 0
    assert _value(samples, "ksbb_worker_heartbeat_age_seconds") == float("inf")
    # django-prometheus's middleware: latency by view name and method.
    assert (
        _value(
            samples,
            "django_http_requests_latency_seconds_by_view_method_count",
            view="health_live",
            method="GET",
        )
        >= 1
    )
    assert b"budi" not in response.content


def test_a_database_error_leaves_the_request_metrics(client, db, monkeypatch):
    def lost():
        raise OperationalError("connection to server at 10.0.0.21 failed")

    monkeypatch.setattr(metrics, "outbox_state", lost)
    response = client.get("/metrics")
    assert response.status_code == 200
    samples = _samples(response.content)
    assert _value(samples, "ksbb_database_up") == 0
    assert not any(name == "ksbb_outbox_unsent" for name, _ in samples)
    assert b"10.0.0.21" not in response.content


# gunicorn, several worker processes: prometheus_client's multiprocess mode (ksbb/gunicorn.conf.py).


def _get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers={"Connection": "close"})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, body


@pytest.fixture(scope="module")
def gunicorn(django_db_setup, tmp_path_factory):
    """gunicorn with three workers and the production settings, its metrics directory chosen here
    with a stale file from "an earlier run" in it."""
    tmp = tmp_path_factory.mktemp("metrics")
    metrics_dir = tmp / "prometheus"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"stale")
    port = _free_port()
    env = production_env(tmp, port, GUNICORN_WORKERS="3", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    log_path = tmp / "gunicorn.log"
    with serving(env, port, log_path) as proc:
        yield {"port": port, "dir": metrics_dir, "log": log_path, "pid": proc.pid}


def _live_count(port: int) -> float:
    status, body = _get(port, "/metrics")
    assert status == 200, body[:300]
    key = (
        "django_http_requests_latency_seconds_by_view_method_count",
        frozenset({"view": "health_live", "method": "GET"}.items()),
    )
    return _samples(body).get(key, 0)


def _live_count_per_process(metrics_dir: Path) -> dict[str, float]:
    """What each worker process wrote to its own file (prometheus_client's merge, file by file)."""
    counts = {}
    for path in metrics_dir.glob("histogram_*.db"):
        for family in MultiProcessCollector.merge([str(path)]):
            for sample in family.samples:
                if sample.name.endswith("_count") and sample.labels == {
                    "view": "health_live",
                    "method": "GET",
                }:
                    counts[path.name] = sample.value
    return counts


def test_one_scrape_counts_the_requests_of_every_worker(gunicorn):
    port, metrics_dir = gunicorn["port"], gunicorn["dir"]
    assert not (metrics_dir / "counter_999999.db").exists()  # cleaned at the start
    before = _live_count(port)
    # Six at a time, so that the three workers share them.
    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(lambda _: _get(port, "/health/live/")[0], range(60)))
    assert statuses == [200] * 60
    per_process = _live_count_per_process(metrics_dir)
    assert len([n for n in per_process.values() if n]) >= 2, per_process
    # Whichever worker answers the scrape, it counts the requests of all of them.
    for _ in range(6):
        assert _live_count(port) == before + 60 == sum(per_process.values())
    status, body = _get(port, "/metrics")
    assert b"ksbb_outbox_unsent" in body and b"ksbb_database_up 1.0" in body


def test_the_access_log_carries_the_request_id(gunicorn):
    conn = http.client.HTTPConnection("127.0.0.1", gunicorn["port"], timeout=30)
    conn.request("GET", "/health/live/")
    response = conn.getresponse()
    response.read()
    conn.close()
    request_id = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    for _ in range(50):
        if request_id in gunicorn["log"].read_text():
            break
        time.sleep(0.1)
    line = next(line for line in gunicorn["log"].read_text().splitlines() if request_id in line)
    assert '"GET /health/live/ HTTP/1.1" 200' in line


def test_a_worker_that_ends_is_marked_dead(tmp_path, monkeypatch):
    """child_exit removes the live gauges of a worker that ended (prometheus_client's rule)."""
    import runpy

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    hooks = runpy.run_path(str(ROOT / "ksbb" / "gunicorn.conf.py"))
    (tmp_path / "gauge_livesum_4242.db").write_bytes(b"")
    (tmp_path / "counter_4242.db").write_bytes(b"")

    class Worker:
        pid = 4242

    hooks["child_exit"](None, Worker())
    assert not (tmp_path / "gauge_livesum_4242.db").exists()
    assert (tmp_path / "counter_4242.db").exists()  # counts of a worker that ended still count
