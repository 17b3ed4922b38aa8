"""The alerts through the real worker and on real connections: a need published in a subscribed
kelurahan reaches the subscriber once and only once, however often the jobs run, and even when two
sweeps race on two connections."""

import pytest
from procrastinate.contrib.django import app

from alerts import services
from alerts.models import AlertMail, NeedAlert
from needs import services as need_services
from tests.alerts.conftest import GAMBIR, publish, site_in, subscribe
from tests.concurrency import Worker
from tests.ksbb.test_worker import SENT, jobs, real_queue, run_worker  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def test_publishing_defers_the_sweep_and_the_worker_alerts_once(jakarta, real_queue):  # noqa: F811
    subscribe(email="warga@example.test")
    run_worker()  # the confirmation mail
    SENT.clear()
    need = publish(site_in(GAMBIR))
    assert jobs("alerts.send_alerts").exists()  # written at the commit, nothing sent yet
    assert SENT == []

    run_worker()  # the sweep, which queues the mail with its own job
    assert AlertMail.objects.filter(kind="alert").count() == 1
    # That job, unless the same pass took it already (one pass ends once the queue is empty; a
    # periodic job falling due in it can keep it going).
    run_worker()

    assert [m.to for m in SENT] == [["warga@example.test"]]
    assert f"/kebutuhan/{need.pk}/" in SENT[0].body
    assert SENT[0].extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    need_services.publish(need)  # published again: the signal again, the sweep again
    run_worker()
    assert services.send_alerts() == 0
    assert len(SENT) == 1 and NeedAlert.objects.count() == 1


def test_two_sweeps_racing_on_two_connections_alert_once(jakarta, settings):
    settings.KSBB_JOBS_EAGER = False  # no sweep at the commit: the two below race for the needs
    subscription = subscribe()
    for n in range(3):
        publish(site_in(GAMBIR), title=f"Kebutuhan {n}")
    racers = [Worker(services.send_alerts) for _ in range(2)]
    for racer in racers:
        racer.start()
    results = sorted(racer.finish().result for racer in racers)
    assert results == [0, 1]
    assert AlertMail.objects.filter(subscription=subscription, kind="alert").count() == 1
    assert NeedAlert.objects.filter(subscription=subscription).count() == 3


def test_the_alert_jobs_are_periodic():
    periodic = {task.task.name: task.cron for task in app.periodic_registry.periodic_tasks.values()}
    assert periodic["alerts.sweep"] == "*/5 * * * *"
    assert periodic["alerts.send_digests"] == "17 * * * *"
    assert periodic["alerts.forget_unconfirmed"] == "41 * * * *"
    assert periodic["alerts.send_queued_mail"] == "* * * * *"
