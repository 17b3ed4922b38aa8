"""The health endpoints (ksbb.health): liveness without the database, the load balancer's
/health/serving/, and monitoring's /health/ready/ with the worker's heartbeat and the outbox. A
failing check is a 503 naming it, never a 500, a traceback or anything about a person."""

import json
from datetime import timedelta

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.db import OperationalError, connection
from django.utils import timezone
from health_check import checks as health_checks
from health_check.exceptions import ServiceUnavailable

from donations.mail import MAX_ATTEMPTS
from donations.models import OutboundMail
from ksbb import health

READY = "/health/ready/"
SERVING = "/health/serving/"


def _heartbeat(seconds_ago: int) -> None:
    """A procrastinate worker (its Django model is read-only) whose last heartbeat was then."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - %s * interval '1 second')",
            [seconds_ago],
        )


def _mail(minutes_ago: int, **fields) -> OutboundMail:
    mail = OutboundMail.objects.create(
        to="budi@example.test", subject="Komitmen Anda", body="Terima kasih", **fields
    )
    OutboundMail.objects.filter(pk=mail.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return mail


@pytest.fixture
def worker(db):
    """A background worker that sent its heartbeat a moment ago."""
    _heartbeat(2)


def _answer(response) -> dict:
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    assert "Traceback" not in body
    return json.loads(body)


def test_liveness_answers_without_the_database(client):
    # No django_db mark: any query would raise here.
    response = client.get("/health/live/")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert "no-store" in response["Cache-Control"]


def test_liveness_and_health_are_not_sent_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/health/live/").status_code == 200
    assert client.get("/").status_code == 301


def test_ready_when_all_is_well(client, worker, django_assert_max_num_queries):
    _mail(minutes_ago=1)  # a young unsent mail is normal
    # database, heartbeat, and one per outbox
    with django_assert_max_num_queries(2 + len(health.OUTBOXES)):
        response = client.get(READY)
    assert response.status_code == 200
    assert _answer(response) == {
        "status": "ok",
        "checks": {"Database": "ok", "Cache": "ok", "WorkerHeartbeat": "ok", "Outbox": "ok"},
    }


def test_head_works_for_probes_that_use_it(client, worker):
    assert client.head(READY).status_code == 200


def test_a_stale_heartbeat_fails_readiness_only(client, db, settings):
    settings.KSBB_WORKER_HEARTBEAT_MAX_SECONDS = 60
    _heartbeat(300)
    response = client.get(READY)
    assert response.status_code == 503
    body = _answer(response)
    assert body["status"] == "failing"
    assert body["failing"] == ["WorkerHeartbeat"]
    assert body["checks"]["WorkerHeartbeat"].startswith("failing: last worker heartbeat 30")
    assert body["checks"]["Database"] == "ok"
    # The web side still serves: the load balancer's probe stays green.
    assert client.get(SERVING).status_code == 200


def test_no_worker_at_all_fails_readiness(client, db):
    response = client.get(READY)
    assert response.status_code == 503
    assert _answer(response)["checks"]["WorkerHeartbeat"] == (
        "failing: no background worker is registered"
    )


def test_an_old_unsent_mail_fails_readiness_without_saying_to_whom(client, worker, settings):
    settings.KSBB_OUTBOX_MAX_AGE_SECONDS = 600
    _mail(minutes_ago=11)
    response = client.get(READY)
    assert response.status_code == 503
    body = _answer(response)
    assert body["failing"] == ["Outbox"]
    assert "budi" not in response.content.decode()
    assert "Komitmen" not in response.content.decode()


def test_an_old_unsent_message_to_a_contact_person_fails_readiness(client, worker, settings):
    from recipients.models import OutboundMessage

    settings.KSBB_OUTBOX_MAX_AGE_SECONDS = 600
    message = OutboundMessage.objects.create(
        channel="whatsapp", to="+6281211112222", body="KSBB: Halo Pak Darto"
    )
    OutboundMessage.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - timedelta(minutes=11)
    )
    response = client.get(READY)
    assert response.status_code == 503
    assert _answer(response)["checks"]["Outbox"].startswith("failing: oldest unsent message")
    assert "+62812" not in response.content.decode() and "Darto" not in response.content.decode()


def test_an_old_unsent_alert_mail_fails_readiness_without_saying_to_whom(client, worker, settings):
    from alerts import services as alert_services
    from alerts.models import AlertMail

    settings.KSBB_OUTBOX_MAX_AGE_SECONDS = 600
    alert_services.subscribe(
        email="warga@example.test", language="id", frequency="weekly", regions=[], categories=[]
    )
    AlertMail.objects.update(created_at=timezone.now() - timedelta(minutes=11))
    response = client.get(READY)
    assert response.status_code == 503
    assert _answer(response)["checks"]["Outbox"].startswith("failing: oldest unsent alert mail")
    assert "warga@" not in response.content.decode()


def test_every_outbox_is_watched():
    """Every outbox model (ksbb.lib.outbox.OutboxRow) is in the readiness check: a new one cannot
    pile up unseen."""
    from django.apps import apps

    from ksbb.lib.outbox import OutboxRow

    outboxes = {m for m in apps.get_models() if issubclass(m, OutboxRow)}
    assert len(outboxes) >= 3
    assert outboxes == {model for model, _what in health.OUTBOXES}


def test_mail_given_up_or_sent_does_not_count(client, worker):
    _mail(minutes_ago=60, attempts=MAX_ATTEMPTS)
    _mail(minutes_ago=60, sent_at=timezone.now())
    assert client.get(READY).status_code == 200


def test_a_failing_cache_fails_readiness_and_serving(client, worker, monkeypatch):
    def broken(self, *args, **kwargs):
        raise ConnectionError("redis://:hunter2@10.0.0.5:6379 refused")

    monkeypatch.setattr(LocMemCache, "set", broken)
    for url in (READY, SERVING):
        response = client.get(url)
        assert response.status_code == 503
        body = _answer(response)
        assert body["failing"] == ["Cache"]
        assert "hunter2" not in response.content.decode()


def test_a_cache_that_raises_anything_else_still_is_a_503(client, worker, monkeypatch):
    def broken(self, *args, **kwargs):
        raise RuntimeError("surprise")

    monkeypatch.setattr(LocMemCache, "get", broken)
    response = client.get(READY)
    assert response.status_code == 503
    assert _answer(response)["checks"]["Cache"] == "failing: unknown error"


def test_a_shared_cache_in_failover_is_a_warning_not_a_failure(client, worker, monkeypatch):
    monkeypatch.setattr(LocMemCache, "redis_is_failing", True, raising=False)
    response = client.get(SERVING)
    assert response.status_code == 200
    assert _answer(response)["checks"]["Cache"].startswith("warning: shared cache unreachable")


def test_an_unreachable_database_names_no_host(client, db, monkeypatch):
    secret = 'connection to server at "10.0.0.21", port 5432 failed: password for "ksbb"'

    def refused(self):
        raise ServiceUnavailable(secret)

    def lost():
        raise OperationalError(secret)

    monkeypatch.setattr(health_checks.Database, "run", refused)
    monkeypatch.setattr(health, "worker_heartbeat_age", lost)
    monkeypatch.setattr(health, "outbox_state", lost)
    response = client.get(READY)
    assert response.status_code == 503
    body = _answer(response)
    assert body["failing"] == ["Database", "WorkerHeartbeat", "Outbox"]
    assert set(body["checks"].values()) >= {"failing: database unreachable"}
    assert "10.0.0.21" not in response.content.decode()


def test_an_error_in_the_view_itself_is_a_503_not_a_500(client, db, monkeypatch):
    def broken(self):
        raise RuntimeError("bug")

    monkeypatch.setattr(health.HealthView, "get_checks", broken)
    response = client.get(READY)
    assert response.status_code == 503
    assert _answer(response) == {"status": "failing", "failing": ["health check"]}
