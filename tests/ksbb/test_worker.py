"""The background worker, for real: jobs written with the change that asks for them, run by
procrastinate's worker on its own connections, never inside a request."""

import datetime
import re
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.test import override_settings
from django.urls import reverse
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob

from donations.models import OutboundMail, Pledge

pytestmark = pytest.mark.django_db(transaction=True)
SENT = []


class CountingBackend:
    """A mail backend that records who called it: a request must never be among them."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        SENT.extend(messages)
        return len(messages)


def run_worker():
    """One pass of the worker as `manage.py procrastinate worker` runs it, until the queue is
    empty. Its threads close their database connections after each job here (a real worker keeps
    them CONN_MAX_AGE seconds), so none is left open when the test database is dropped."""
    database = connections.settings[DEFAULT_DB_ALIAS]
    age, database["CONN_MAX_AGE"] = database["CONN_MAX_AGE"], 0
    failures = []

    def work():
        try:
            with app.replace_connector(app.connector.get_worker_connector()):
                app.run_worker(wait=False, install_signal_handlers=False, listen_notify=False)
        except BaseException as e:  # raised again in the test's own thread
            failures.append(e)

    # In a thread of its own: the worker runs its own event loop (asyncio.run), which a thread
    # already running one refuses, as this process's does once a browser test has used Playwright.
    thread = threading.Thread(target=work)
    try:
        thread.start()
        thread.join()
    finally:
        database["CONN_MAX_AGE"] = age
    if failures:
        raise failures[0]


def jobs(task: str):
    return ProcrastinateJob.objects.filter(task_name=task)


@pytest.fixture
def real_queue(settings):
    settings.KSBB_JOBS_EAGER = False
    settings.EMAIL_BACKEND = "tests.ksbb.test_worker.CountingBackend"
    SENT.clear()
    yield
    SENT.clear()


def pledge_form(need, email="sari@example.test"):
    return {
        "public_name": "Ibu Sari",
        "kind": "individual",
        "email": email,
        "quantity": "5",
        "message": "",
        "show_name": "on",
        "website": "",
    }


def test_a_pledge_defers_its_mail_and_the_worker_sends_it(client, need, real_queue):
    response = client.post(reverse("donations:pledge_create", args=[need.pk]), pledge_form(need))
    assert response.status_code == 302
    assert SENT == []  # the request wrote the mail and its job, and sent nothing
    queued = OutboundMail.objects.get(to="sari@example.test")
    job = jobs("donations.send_mail").get(args={"mail_id": queued.pk})
    assert job.status == "todo" and job.queue_name == "mail"

    run_worker()

    assert [m.to for m in SENT] == [["sari@example.test"]]
    queued.refresh_from_db()
    assert queued.sent_at is not None and queued.attempts == 1
    assert not jobs("donations.send_mail").exists()  # done jobs are not kept

    run_worker()  # nothing left to do: nothing is sent twice
    assert len(SENT) == 1


def test_a_rolled_back_change_leaves_no_job(need, real_queue):
    from django.db import transaction

    from donations import services

    details = services.DonorDetails(
        public_name="Ibu Sari", kind="individual", email="sari@example.test"
    )
    with pytest.raises(RuntimeError), transaction.atomic():
        services.pledge_from_donor(need, details=details, quantity=5)
        raise RuntimeError("the request failed after the pledge")
    assert not Pledge.objects.exists() and not OutboundMail.objects.exists()
    assert not jobs("donations.send_mail").exists()


def test_a_job_whose_worker_died_is_run_again_once(need, real_queue):
    from donations import services
    from ksbb import tasks

    details = services.DonorDetails(
        public_name="Ibu Sari", kind="individual", email="sari@example.test"
    )
    services.pledge_from_donor(need, details=details, quantity=5)
    job = jobs("donations.send_mail").get()
    # A worker took the job, then was killed: its heartbeat stopped two minutes ago.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - interval '2 min') "
            "RETURNING id"
        )
        (worker_id,) = cursor.fetchone()
        cursor.execute(
            "UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s WHERE id = %s",
            [worker_id, job.pk],
        )
    run_worker()
    assert SENT == []  # a job in 'doing' is not taken by another worker

    tasks.retry_stalled_jobs.defer(timestamp=0)
    run_worker()  # puts the job back in the queue
    run_worker()

    assert [m.to for m in SENT] == [["sari@example.test"]]
    assert OutboundMail.objects.get().sent_at is not None


def _send_queued_mail_soon(tasks) -> None:
    """Queue the periodic job, unless the worker's periodic deferrer already did when a minute
    began during the test (its queueing lock allows one waiting job)."""
    if not jobs("donations.send_queued_mail").filter(status="todo").exists():
        tasks.send_queued_mail.defer(timestamp=0)


def test_a_mail_that_failed_is_retried_by_the_periodic_job_when_due(need, real_queue, settings):
    from donations import services, tasks

    settings.EMAIL_BACKEND = "tests.donations.broken_mail.Backend"
    details = services.DonorDetails(
        public_name="Ibu Sari", kind="individual", email="sari@example.test"
    )
    services.pledge_from_donor(need, details=details, quantity=5)
    run_worker()
    queued = OutboundMail.objects.get()
    assert queued.sent_at is None and queued.attempts == 1 and queued.next_attempt_at

    settings.EMAIL_BACKEND = "tests.ksbb.test_worker.CountingBackend"
    _send_queued_mail_soon(tasks)
    run_worker()
    assert SENT == []  # its retry is not due yet

    OutboundMail.objects.update(
        next_attempt_at=queued.next_attempt_at - datetime.timedelta(hours=1)
    )
    _send_queued_mail_soon(tasks)
    run_worker()
    assert len(SENT) == 1
    queued.refresh_from_db()
    assert queued.sent_at is not None and queued.attempts == 2


def test_the_jobs_cron_ran_are_periodic_tasks():
    """What docs/deploy.md's cron lines did, the worker now does on its own."""
    periodic = {task.task.name: task.cron for task in app.periodic_registry.periodic_tasks.values()}
    assert periodic["donations.send_queued_mail"] == "* * * * *"
    assert periodic["donations.run_holds"] == "* * * * *"
    assert periodic["ksbb.retry_stalled_jobs"] == "* * * * *"


@override_settings(KSBB_JOBS_EAGER=True)
def test_eager_jobs_run_after_the_commit_only(need):
    """The suite's mode (tests/settings.py): the job's function runs after the commit, not
    before, and not at all when the change is rolled back."""
    from django.db import transaction

    from ksbb.lib import jobs as deferred

    calls = []

    def task(value):
        calls.append(value)

    with transaction.atomic():
        deferred.defer(task, value=1)
        assert calls == []
    assert calls == [1]
    with pytest.raises(RuntimeError), transaction.atomic():
        deferred.defer(task, value=2)
        raise RuntimeError
    assert calls == [1]
    assert mail.outbox == []


def test_mail_kept_in_the_outbox_waits_for_an_operator(need, real_queue):
    """The demo's mails (donations.mail.kept_in_outbox): no job, and no periodic retry either."""
    from donations import mail as outbox
    from donations import services, tasks

    details = services.DonorDetails(
        public_name="Ibu Sari", kind="individual", email="sari@example.test"
    )
    with outbox.kept_in_outbox():
        services.pledge_from_donor(need, details=details, quantity=5)
    assert not jobs("donations.send_mail").exists()
    tasks.send_queued_mail.defer(timestamp=0)
    run_worker()
    assert SENT == [] and OutboundMail.objects.get().attempts == 0


def test_a_mail_job_the_database_failed_is_tried_again():
    """A mail server's refusal is kept on the mail (send_queued_mail retries it); a database
    failure reaches the job, which procrastinate runs again, sooner each time than a human would."""
    from types import SimpleNamespace

    from django.db import OperationalError

    from donations import tasks

    strategy = tasks.send_mail.retry_strategy
    failure = OperationalError("the database restarts")
    decisions = [
        strategy.get_retry_decision(exception=failure, job=SimpleNamespace(attempts=n))
        for n in range(12)
    ]
    assert all(decisions[:5]) and decisions[-1] is None  # a few times, then left failed
    assert decisions[0].retry_at < decisions[1].retry_at < decisions[2].retry_at


def test_docs_list_every_job_the_worker_runs():
    """docs/deploy.md's table of jobs names each task of the worker's, and no other."""
    text = (Path(settings.BASE_DIR) / "docs" / "deploy.md").read_text()
    section = text.split("What the worker runs:", 1)[1].split("\n\n", 2)[1]
    listed = set(re.findall(r"^\| `([\w.]+)` \|", section, re.MULTILINE))
    # procrastinate's own (remove_old_jobs) runs as ksbb.remove_old_jobs, which is listed.
    ours = {name for name in app.tasks if "procrastinate.builtin_tasks" not in name}
    assert listed == ours
