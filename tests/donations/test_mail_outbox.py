"""Mails queued with the change they report; a failed one is retried by send_queued_mail, with a
growing delay between tries."""

import datetime
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from donations import services
from donations.mail import MAX_ATTEMPTS, retry_delay
from donations.models import OutboundMail


def test_queued_mail_is_retried_until_it_goes(need, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "tests.donations.broken_mail.Backend"
    details = services.DonorDetails(
        public_name="Ibu Sari", kind="individual", email="sari@example.test"
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.pledge_from_donor(need, details=details, quantity=5)
    queued = OutboundMail.objects.get()
    assert queued.sent_at is None and queued.attempts == 1

    out = StringIO()
    call_command("send_queued_mail", stdout=out)
    assert out.getvalue().strip() == "0 sent, 0 still failing."  # not due yet: a minute later

    call_command("send_queued_mail", "--all", stdout=out)
    assert out.getvalue().strip().endswith("0 sent, 1 still failing.")
    queued.refresh_from_db()
    assert queued.next_attempt_at - timezone.now() > datetime.timedelta(seconds=100)  # 2 min

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    OutboundMail.objects.update(next_attempt_at=timezone.now())  # time passes
    call_command("send_queued_mail", stdout=out)
    queued.refresh_from_db()
    assert queued.sent_at is not None and queued.attempts == 3 and queued.last_error == ""
    assert [m.to for m in mail.outbox] == [["sari@example.test"]]


def test_a_mail_is_given_up_after_its_attempts(need, settings):
    settings.EMAIL_BACKEND = "tests.donations.broken_mail.Backend"
    details = services.DonorDetails(
        public_name="Ibu Sari", kind="individual", email="sari@example.test"
    )
    services.pledge_from_donor(need, details=details, quantity=5)
    for _ in range(MAX_ATTEMPTS + 2):
        call_command("send_queued_mail", "--all", stdout=StringIO())
    assert OutboundMail.objects.get().attempts == MAX_ATTEMPTS


def test_retries_wait_longer_each_time_up_to_an_hour():
    delays = [retry_delay(n) for n in range(1, MAX_ATTEMPTS + 1)]
    assert delays[:3] == [datetime.timedelta(minutes=m) for m in (1, 2, 4)]
    assert delays == sorted(delays) and max(delays) == datetime.timedelta(hours=1)
    assert sum(delays[:-1], datetime.timedelta()) > datetime.timedelta(hours=4)


@pytest.mark.parametrize("language, written", [("id", "1.200 paket"), ("en", "1,200 paket")])
def test_a_mail_writes_numbers_as_its_reader_does(site, donor, language, written):
    from donations import mail as outbox
    from tests import factories

    big = factories.NeedFactory(site=site, quantity_needed=5000)
    pledge = services.pledge(need=big, collaborator=donor, quantity=1200)
    pledge.language = language
    sent = outbox.queue(donor.email, "pledge_created", {"pledge": pledge}, pledge=pledge)
    assert written in sent.body
    assert f"/komitmen/{pledge.token}/" in sent.body  # links and tokens untouched


def test_a_mail_sent_as_the_database_went_away_is_recorded_once_it_is_back(
    need, settings, monkeypatch
):
    """The mail server took it, the database failed before the mail was marked sent: recording
    it is tried again, never the sending (the donor gets one mail, not two)."""
    from django.db import OperationalError
    from django.db.models.query import QuerySet

    from donations import mail as mail_outbox
    from ksbb.lib import outbox

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    details = services.DonorDetails(
        public_name="Ibu Sari", kind="individual", email="sari@example.test"
    )
    services.pledge_from_donor(need, details=details, quantity=5)
    queued = OutboundMail.objects.get()
    monkeypatch.setattr(outbox, "MARK_SENT_WAITS", (0, 0))
    real_update, failures = QuerySet.update, iter([True])

    def update(self, **kwargs):
        if self.model is OutboundMail and "sent_at" in kwargs and next(failures, False):
            raise OperationalError("server closed the connection unexpectedly")
        return real_update(self, **kwargs)

    monkeypatch.setattr(QuerySet, "update", update)
    assert mail_outbox.deliver(queued.pk) is True
    queued.refresh_from_db()
    assert queued.sent_at is not None and queued.attempts == 1
    assert [m.to for m in mail.outbox] == [["sari@example.test"]]
    assert mail_outbox.deliver(queued.pk) is False  # nothing left to send
    assert len(mail.outbox) == 1


def test_a_mail_whose_record_cannot_be_saved_fails_its_job(need, settings, monkeypatch):
    from django.db import DatabaseError, OperationalError
    from django.db.models.query import QuerySet

    from donations import mail as mail_outbox
    from ksbb.lib import outbox

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    details = services.DonorDetails(
        public_name="Ibu Sari", kind="individual", email="sari@example.test"
    )
    services.pledge_from_donor(need, details=details, quantity=5)
    monkeypatch.setattr(outbox, "MARK_SENT_WAITS", (0, 0))
    real_update = QuerySet.update

    def update(self, **kwargs):
        if self.model is OutboundMail and "sent_at" in kwargs:
            raise OperationalError("the database is gone")
        return real_update(self, **kwargs)

    monkeypatch.setattr(QuerySet, "update", update)
    with pytest.raises(DatabaseError):  # the job fails and procrastinate tries it again
        mail_outbox.deliver(OutboundMail.objects.get().pk)
